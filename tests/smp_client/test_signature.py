"""XMLDSig shape and algorithm allow-list checks on SMP responses (before any cryptography)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from lxml import etree

from peppol.testpki import TestPki
from smp_client.errors import SmpSignatureError, SmpSignerUntrusted, SmpXmlError
from smp_client.signature import verify_smp_signature
from tests.smp_client.smp_docs import Ep, sign, v1_metadata

DS = "{http://www.w3.org/2000/09/xmldsig#}"


def _ok(_cert: x509.Certificate, _when: object) -> str:
    return "trusted for the test"


@pytest.fixture(scope="module")
def signed(test_pki: TestPki) -> bytes:
    ident = test_pki.smp.identity()
    doc = v1_metadata(
        "a::0088:1", "d::x", "p::y", [Ep("https://ap.example/as4", test_pki.aps[0].certificate())]
    )
    return sign(doc, ident.private_key, ident.certificate)


def _find(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path)
    assert found is not None, path
    return found


def _mutate(data: bytes, change: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(data)
    change(root)
    return etree.tostring(root)


def test_smp_signature_valid_baseline(signed: bytes) -> None:
    verified = verify_smp_signature(signed, signer_check=_ok)
    assert verified.signature_method.endswith("rsa-sha256")
    assert verified.root.find(f"{DS}Signature") is None  # only signed content is handed out


def test_smp_signature_missing(signed: bytes) -> None:
    data = _mutate(signed, lambda r: r.remove(_find(r, f"{DS}Signature")))
    with pytest.raises(SmpSignatureError, match="not signed"):
        verify_smp_signature(data, signer_check=_ok)


def test_smp_signature_must_be_last_child(signed: bytes) -> None:
    def move(root: etree._Element) -> None:
        sig = _find(root, f"{DS}Signature")
        root.remove(sig)
        root.insert(0, sig)

    with pytest.raises(SmpSignatureError, match="last child"):
        verify_smp_signature(_mutate(signed, move), signer_check=_ok)


def test_smp_signature_exactly_one(signed: bytes) -> None:
    def duplicate(root: etree._Element) -> None:
        root[0].append(etree.fromstring(etree.tostring(_find(root, f"{DS}Signature"))))

    with pytest.raises(SmpSignatureError, match="2 signatures"):
        verify_smp_signature(_mutate(signed, duplicate), signer_check=_ok)


@pytest.mark.parametrize(
    ("path", "attr", "value", "message"),
    [
        ("SignedInfo/CanonicalizationMethod", "Algorithm", "http://www.w3.org/2006/12/xml-c14n11#WithComments",
         "canonicalisation"),
        ("SignedInfo/SignatureMethod", "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1", "legacy"),
        ("SignedInfo/SignatureMethod", "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
         "not allowed"),
        ("SignedInfo/Reference/DigestMethod", "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#md5",
         "digest"),
        ("SignedInfo/Reference", "URI", "#other", "Reference URI"),
        ("SignedInfo/Reference/Transforms/Transform", "Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116",
         "enveloped"),
    ],
)  # fmt: skip
def test_smp_signature_allow_list(signed: bytes, path: str, attr: str, value: str, message: str) -> None:
    xpath = "/".join(f"{DS}{p}" for p in ["Signature", *path.split("/")])
    data = _mutate(signed, lambda r: _find(r, xpath).set(attr, value))
    with pytest.raises(SmpSignatureError, match=message):
        verify_smp_signature(data, signer_check=_ok)


def test_smp_signature_no_certificate(signed: bytes) -> None:
    data = _mutate(
        signed, lambda r: _find(r, f"{DS}Signature").remove(_find(r, f"{DS}Signature/{DS}KeyInfo"))
    )
    with pytest.raises(SmpSignatureError, match="X509Certificate"):
        verify_smp_signature(data, signer_check=_ok)


def test_smp_signer_check_runs_before_signature_math(signed: bytes) -> None:
    def refuse(cert: x509.Certificate, _when: object) -> str:
        raise SmpSignerUntrusted(f"refused {cert.subject.rfc4514_string()}")

    with pytest.raises(SmpSignerUntrusted, match="PFR000501"):
        verify_smp_signature(signed.replace(b"ap.example", b"ev.example"), signer_check=refuse)


def test_smp_signature_comment_does_not_reach_caller(signed: bytes) -> None:
    # A comment is not covered by C14N-without-comments: the signature stays valid, but the text
    # the caller sees must be the signed text, not the part before the comment.
    data = signed.replace(b"https://ap.example/as4", b"https://ap.example<!-- x -->/as4")
    verified = verify_smp_signature(data, signer_check=_ok)
    address = verified.root.find(".//{http://www.w3.org/2005/08/addressing}Address")
    assert address is not None and address.text == "https://ap.example/as4"


def test_smp_response_not_xml_or_with_doctype() -> None:
    with pytest.raises(SmpXmlError, match="not acceptable XML: Premature end"):
        verify_smp_signature(b"<html>oops", signer_check=_ok)
    with pytest.raises(SmpXmlError, match="DOCTYPE declarations are not allowed"):
        verify_smp_signature(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', signer_check=_ok)


@pytest.mark.parametrize("what", ["SignedInfo", "Reference", "SignatureMethod"])
def test_smp_signature_parts_exactly_once(signed: bytes, what: str) -> None:
    """A second SignedInfo / Reference / SignatureMethod: which one would the verifier use? Refused."""

    def duplicate(root: etree._Element) -> None:
        el = next(root.iter(f"{DS}{what}"))
        el.addnext(etree.fromstring(etree.tostring(el)))

    with pytest.raises(SmpSignatureError, match=f"exactly one {what} \\(found 2\\)"):
        verify_smp_signature(_mutate(signed, duplicate), signer_check=_ok)


def test_smp_signature_extra_transform_off_the_allow_list(signed: bytes) -> None:
    """After enveloped-signature only one c14n transform may follow (no XSLT/XPath filtering)."""

    def add_xslt(root: etree._Element) -> None:
        transform = next(root.iter(f"{DS}Transform"))
        extra = etree.fromstring(etree.tostring(transform))
        extra.set("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116")
        transform.addnext(extra)

    with pytest.raises(SmpSignatureError, match="unexpected reference transforms"):
        verify_smp_signature(_mutate(signed, add_xslt), signer_check=_ok)
