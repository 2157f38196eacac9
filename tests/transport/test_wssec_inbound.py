"""Inbound WS-Security defences of ``process_inbound`` (conformance.md §12 items 1–6, 9, 10), each
rejected with its ebMS code. Bad messages are made by post-processing our builder's output and, where
the point is that a *valid* signature is not enough, re-signing them with the sender's real key."""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from peppol.pki import Identity
from tests.transport.as4_split import split_outbound
from tests.transport.test_as4_roundtrip import SBD, build, make_header
from transport.as4 import (
    InboundAttachment,
    SecurityPolicy,
    build_user_message,
    message_id_of,
    process_inbound,
)
from transport.as4.constants import (
    ALG_AES128_CBC,
    ALG_RSA_1_5,
    ALG_RSA_SHA1,
    ALG_SHA1,
    NS_DS,
    NS_EB,
    NS_S12,
    NS_WSSE,
    NS_WSU,
    NS_XENC,
    NS_XENC11,
)
from transport.as4.dsig import Reference, add_signature, attachment_reference, sha256_b64, xml_reference
from transport.as4.inbound import normalise_cid
from transport.as4.streams import gcm_encrypt_stream, unwrap_key
from transport.errors import (
    DecompressionFailure,
    EbmsError,
    FailedAuthentication,
    FailedDecryption,
    InvalidHeader,
    MimeInconsistency,
    PolicyNoncompliance,
    ProcessingModeMismatch,
)

DS = f"{{{NS_DS}}}"
EB = f"{{{NS_EB}}}"
XENC = f"{{{NS_XENC}}}"
WSSE = f"{{{NS_WSSE}}}"
S12 = f"{{{NS_S12}}}"
WSU_ID = f"{{{NS_WSU}}}Id"


class Tampered:
    """A built message opened up for modification: envelope tree, attachment files, content key."""

    def __init__(self, test_pki, work: Path, *, payload: bytes = SBD, **build_kw) -> None:  # type: ignore[no-untyped-def]
        self.pki = test_pki
        self.work = work
        self.sender: Identity = test_pki.aps[0].identity()
        self.receiver: Identity = test_pki.aps[1].identity()
        self.msg = build(test_pki, payload, **build_kw)
        envelope, self.parts = split_outbound(self.msg, work)
        self.root = etree.fromstring(envelope)
        self.security = self.root.find(f"{S12}Header/{WSSE}Security")
        self.messaging = self.root.find(f"{S12}Header/{EB}Messaging")
        self.body = self.root.find(f"{S12}Body")
        assert self.security is not None and self.messaging is not None and self.body is not None
        cv = self.security.findtext(f"{XENC}EncryptedKey/{XENC}CipherData/{XENC}CipherValue")
        self.key = unwrap_key(base64.b64decode(cv or ""), self.receiver.private_key)

    @property
    def signature(self) -> etree._Element:
        sig = self.security.find(f"{DS}Signature")  # type: ignore[union-attr]
        assert sig is not None
        return sig

    def gzip_plaintext(self) -> bytes:
        from transport.as4.streams import gcm_decrypt_file

        out = io.BytesIO()
        gcm_decrypt_file(self.key, self.parts[0].path, out)
        return out.getvalue()

    def set_attachment_plaintext(self, data: bytes, *, encrypt: bool = True) -> None:
        with self.parts[0].path.open("wb") as fh:
            if encrypt:
                gcm_encrypt_stream(self.key, io.BytesIO(data), fh)
            else:
                fh.write(data)

    def references(self, *, cid_digest: str | None = None) -> list[Reference]:
        cid = self.msg.payload_content_id
        digest = cid_digest or sha256_b64(self.gzip_plaintext())
        return [xml_reference(self.messaging), xml_reference(self.body), attachment_reference(cid, digest)]  # type: ignore[arg-type]

    def resign(
        self,
        refs: list[Reference] | None = None,
        *,
        identity: Identity | None = None,
        signature_method: tuple[str, hashes.HashAlgorithm] | None = None,
    ) -> None:
        """Replace ds:Signature by a valid one (sender key by default) over ``refs``."""
        identity = identity or self.sender
        old = self.signature
        token_ref = old.find(f"{DS}KeyInfo/{WSSE}SecurityTokenReference/{WSSE}Reference")
        assert token_ref is not None
        token_id = token_ref.get("URI", "")[1:]
        if identity is not self.sender:
            bst = self.root.xpath(f"//*[@wsu:Id='{token_id}']", namespaces={"wsu": NS_WSU})[0]  # type: ignore[index]
            from cryptography.hazmat.primitives.serialization import Encoding

            bst.text = base64.b64encode(identity.certificate.public_bytes(Encoding.DER)).decode()
        self.security.remove(old)  # type: ignore[union-attr]
        sig = add_signature(
            self.security,  # type: ignore[arg-type]
            refs if refs is not None else self.references(),
            identity.private_key,
            token_id=token_id,
            signature_id="SIG-resigned",
        )
        if signature_method is not None:
            uri, alg = signature_method
            si = sig.find(f"{DS}SignedInfo")
            assert si is not None
            si.find(f"{DS}SignatureMethod").set("Algorithm", uri)  # type: ignore[union-attr]
            value = identity.private_key.sign(
                etree.tostring(si, method="c14n", exclusive=True), padding.PKCS1v15(), alg
            )
            sig.find(f"{DS}SignatureValue").text = base64.b64encode(value).decode()  # type: ignore[union-attr]

    def envelope(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")

    def process(self, policy: SecurityPolicy | None = None, *, validate: Callable | None = None):  # type: ignore[no-untyped-def,type-arg]
        validator = self.pki.ap_validator()
        out = self.work / "out"
        out.mkdir(exist_ok=True)
        return process_inbound(
            self.envelope(),
            self.parts,
            identity=self.receiver,
            validate_signer=validate or (lambda c: validator.validate(c)),
            policy=policy or SecurityPolicy(),
            work_dir=out,
        )


@pytest.fixture
def t(test_pki, tmp_path: Path) -> Tampered:  # type: ignore[no-untyped-def]
    return Tampered(test_pki, tmp_path)


def rejects(t: Tampered, exc: type[EbmsError], match: str, **kw) -> EbmsError:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match) as info:
        t.process(**kw)
    # nothing but the input parts is left behind
    assert not list((t.work / "out").iterdir())
    return info.value


def test_untampered_message_accepted(t: Tampered) -> None:
    assert t.process().payload_path.read_bytes() == SBD


def test_resign_helper_keeps_message_valid(t: Tampered) -> None:
    t.resign()
    assert t.process().payload_path.read_bytes() == SBD


# --- 1. unsigned / unencrypted ---------------------------------------------------------------------


def test_unsigned_message_rejected_0103(t: Tampered) -> None:
    t.security.remove(t.signature)  # type: ignore[union-attr]
    assert rejects(t, PolicyNoncompliance, "not signed").code == "EBMS:0103"


def test_no_security_header_rejected_0103(t: Tampered) -> None:
    t.security.getparent().remove(t.security)  # type: ignore[union-attr]
    rejects(t, PolicyNoncompliance, "no wsse:Security")


def _strip_encryption(t: Tampered) -> None:
    t.set_attachment_plaintext(t.gzip_plaintext(), encrypt=False)
    for el in list(t.security):  # type: ignore[union-attr]
        if el.tag in (f"{XENC}EncryptedKey", f"{XENC}EncryptedData"):
            t.security.remove(el)  # type: ignore[union-attr]
    t.parts[0] = InboundAttachment(
        t.parts[0].content_id, {"Content-Type": "application/gzip"}, t.parts[0].path
    )


def test_signed_but_unencrypted_rejected_0103(t: Tampered) -> None:
    _strip_encryption(t)
    rejects(t, PolicyNoncompliance, "not encrypted")


def test_unencrypted_accepted_only_with_explicit_flag(t: Tampered) -> None:
    _strip_encryption(t)
    assert t.process(SecurityPolicy(require_encryption=False)).payload_path.read_bytes() == SBD


# --- 2. signature wrapping -------------------------------------------------------------------------


def test_xsw_moved_messaging_rejected_0101(t: Tampered) -> None:
    """The signed Messaging moved into a wrapper; an evil Messaging with a fresh id in the header."""
    header = t.messaging.getparent()  # type: ignore[union-attr]
    wrapper = etree.SubElement(t.security, "{urn:evil}Wrapper")  # type: ignore[arg-type]
    header.remove(t.messaging)  # type: ignore[union-attr,arg-type]
    wrapper.append(t.messaging)  # type: ignore[arg-type]
    evil = etree.fromstring(etree.tostring(t.messaging))
    evil.set(WSU_ID, "evil-id")
    evil.find(f".//{EB}Property[@name='finalRecipient']").text = "0088:evil"  # type: ignore[union-attr]
    header.append(evil)  # type: ignore[union-attr]
    rejects(t, FailedAuthentication, "does not cover the eb:Messaging")


def test_xsw_duplicate_id_rejected_0101(t: Tampered) -> None:
    copy = etree.fromstring(etree.tostring(t.messaging))
    t.body.append(copy)  # type: ignore[union-attr]
    rejects(t, FailedAuthentication, "duplicate id")


def test_xsw_second_security_header_rejected_0101(t: Tampered) -> None:
    header = t.messaging.getparent()  # type: ignore[union-attr]
    header.append(etree.fromstring(etree.tostring(t.security)))  # type: ignore[union-attr,arg-type]
    rejects(t, FailedAuthentication, "more than one wsse:Security")


def test_xsw_second_messaging_in_header_rejected_0009(t: Tampered) -> None:
    header = t.messaging.getparent()  # type: ignore[union-attr]
    evil = etree.fromstring(etree.tostring(t.messaging))
    evil.set(WSU_ID, "other")
    header.append(evil)  # type: ignore[union-attr]
    rejects(t, InvalidHeader, "exactly one eb:Messaging")


def test_signed_body_but_unsigned_attachment_rejected_0101(t: Tampered) -> None:
    t.resign(t.references()[:2])
    rejects(t, FailedAuthentication, "does not cover attachment")


def test_signature_without_messaging_rejected_0101(t: Tampered) -> None:
    refs = t.references()
    t.resign([refs[1], refs[2]])
    rejects(t, FailedAuthentication, "does not cover the eb:Messaging")


def test_extra_unsigned_attachment_rejected_0101(t: Tampered) -> None:
    extra = t.work / "extra.bin"
    extra.write_bytes(b"evil")
    t.parts.append(InboundAttachment("<extra@evil>", {"Content-Type": "application/octet-stream"}, extra))
    rejects(t, FailedAuthentication, "not announced")


def test_reference_to_missing_id_rejected_0101(t: Tampered) -> None:
    refs = t.references()
    refs.append(Reference("#nowhere", refs[0].digest_method, refs[0].digest_value, refs[0].transforms))
    t.resign(refs)
    rejects(t, FailedAuthentication, "does not resolve")


def test_signed_reference_to_a_missing_part_rejected_0101(t: Tampered) -> None:
    """The signature also covers a cid: part that is not in the message."""
    from transport.as4.dsig import attachment_reference

    t.resign([*t.references(), attachment_reference("ghost@x", sha256_b64(b"ghost"))])
    rejects(t, FailedAuthentication, "signed attachment cid:ghost@x is missing")


def test_reference_with_external_uri_rejected_0101(t: Tampered) -> None:
    refs = t.references()
    refs.append(Reference("http://evil/x", refs[0].digest_method, refs[0].digest_value, refs[0].transforms))
    t.resign(refs)
    rejects(t, FailedAuthentication, "neither #id nor cid")


def test_missing_payload_part_rejected_0007(t: Tampered) -> None:
    t.parts.clear()
    rejects(t, MimeInconsistency, "has no MIME part")


# --- 3. tampering ----------------------------------------------------------------------------------


def test_tampered_attachment_ciphertext_rejected_0102(t: Tampered) -> None:
    data = bytearray(t.parts[0].path.read_bytes())
    data[40] ^= 1
    t.parts[0].path.write_bytes(bytes(data))
    assert rejects(t, FailedDecryption, "tag").code == "EBMS:0102"


def test_payload_changed_after_signing_rejected_0101(t: Tampered) -> None:
    t.set_attachment_plaintext(gzip.compress(SBD.replace(b"hello", b"HELLO")))
    assert rejects(t, FailedAuthentication, "digest mismatch for reference 'cid:").code == "EBMS:0101"


def test_tampered_header_rejected_0101(t: Tampered) -> None:
    prop = t.messaging.find(f".//{EB}Property[@name='finalRecipient']")  # type: ignore[union-attr]
    prop.text = "0088:someone-else"  # type: ignore[union-attr]
    rejects(t, FailedAuthentication, "digest mismatch for reference '#msg-")


def test_tampered_signature_value_rejected_0101(t: Tampered) -> None:
    sv = t.signature.find(f"{DS}SignatureValue")
    raw = bytearray(base64.b64decode(sv.text or ""))  # type: ignore[union-attr]
    raw[5] ^= 1
    sv.text = base64.b64encode(bytes(raw)).decode()  # type: ignore[union-attr]
    rejects(t, FailedAuthentication, "SignatureValue does not verify")


@pytest.mark.parametrize("text", ["", "%%% not base64 %%%"])
def test_missing_or_garbled_signature_value_rejected_0101(t: Tampered, text: str) -> None:
    sv = t.signature.find(f"{DS}SignatureValue")
    assert sv is not None
    sv.text = text
    rejects(t, FailedAuthentication, "ds:SignatureValue is missing or not base64")


def test_wrong_attachment_content_id_rejected(t: Tampered) -> None:
    t.parts[0] = InboundAttachment("<other@x>", t.parts[0].headers, t.parts[0].path)
    rejects(t, MimeInconsistency, "has no MIME part")


def test_content_id_brackets_and_percent_encoding_tolerated(t: Tampered) -> None:
    assert normalise_cid("cid:a%40b") == "a@b" == normalise_cid(" <a@b> ")
    t.parts[0] = InboundAttachment(f" <{t.msg.payload_content_id}> ", t.parts[0].headers, t.parts[0].path)
    assert t.process().payload_path.read_bytes() == SBD


# --- 4. algorithm downgrades -----------------------------------------------------------------------


def test_rsa_sha1_signature_rejected_0103(t: Tampered) -> None:
    t.resign(signature_method=(ALG_RSA_SHA1, hashes.SHA1()))
    rejects(t, PolicyNoncompliance, "signature method .*rsa-sha1")


def test_hmac_signature_rejected_0103(t: Tampered) -> None:
    t.resign(signature_method=("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", hashes.SHA256()))
    rejects(t, PolicyNoncompliance, "hmac-sha256")


def test_sha1_digest_rejected_0103(t: Tampered) -> None:
    import hashlib

    from peppol.xml import exc_c14n

    refs = t.references()
    refs[0] = Reference(
        refs[0].uri,
        ALG_SHA1,
        base64.b64encode(hashlib.sha1(exc_c14n(t.messaging)).digest()).decode(),  # type: ignore[arg-type]
        refs[0].transforms,
    )
    t.resign(refs)
    rejects(t, PolicyNoncompliance, "digest method .*sha1")


def test_rsa15_key_transport_rejected_0103(t: Tampered) -> None:
    ek = t.security.find(f"{XENC}EncryptedKey")  # type: ignore[union-attr]
    method = ek.find(f"{XENC}EncryptionMethod")  # type: ignore[union-attr]
    method.set("Algorithm", ALG_RSA_1_5)  # type: ignore[union-attr]
    for child in list(method):  # type: ignore[arg-type]
        method.remove(child)  # type: ignore[union-attr]
    wrapped = t.receiver.certificate.public_key().encrypt(t.key, padding.PKCS1v15())  # type: ignore[union-attr]
    ek.find(f"{XENC}CipherData/{XENC}CipherValue").text = base64.b64encode(wrapped).decode()  # type: ignore[union-attr]
    rejects(t, PolicyNoncompliance, "key transport .*rsa-1_5")


def test_oaep_without_mgf_means_mgf1_sha1_rejected_0103(t: Tampered) -> None:
    ek = t.security.find(f"{XENC}EncryptedKey")  # type: ignore[union-attr]
    method = ek.find(f"{XENC}EncryptionMethod")  # type: ignore[union-attr]
    method.remove(method.find(f"{{{NS_XENC11}}}MGF"))  # type: ignore[union-attr,arg-type]
    oaep_sha1_mgf = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None)
    wrapped = t.receiver.certificate.public_key().encrypt(t.key, oaep_sha1_mgf)  # type: ignore[union-attr,call-arg]
    ek.find(f"{XENC}CipherData/{XENC}CipherValue").text = base64.b64encode(wrapped).decode()  # type: ignore[union-attr]
    rejects(t, PolicyNoncompliance, "MGF1-SHA256")


def test_aes_cbc_data_encryption_rejected_0103(t: Tampered) -> None:
    ed = t.security.find(f"{XENC}EncryptedData")  # type: ignore[union-attr]
    ed.find(f"{XENC}EncryptionMethod").set("Algorithm", ALG_AES128_CBC)  # type: ignore[union-attr]
    rejects(t, PolicyNoncompliance, "data encryption .*aes128-cbc")


def test_key_identifier_instead_of_bst_reference_rejected_0103(t: Tampered) -> None:
    str_el = t.signature.find(f"{DS}KeyInfo/{WSSE}SecurityTokenReference")
    for child in list(str_el):  # type: ignore[arg-type]
        str_el.remove(child)  # type: ignore[union-attr]
    ki = etree.SubElement(str_el, f"{WSSE}KeyIdentifier", ValueType="...#X509SubjectKeyIdentifier")  # type: ignore[arg-type]
    ki.text = "AAAA"
    rejects(t, PolicyNoncompliance, "direct reference")


# --- 4b. encryption structure (xenc is not covered by the signature: each check stands alone) --------


def _ek(t: Tampered) -> etree._Element:
    ek = t.security.find(f"{XENC}EncryptedKey")  # type: ignore[union-attr]
    assert ek is not None
    return ek


def _ed(t: Tampered) -> etree._Element:
    ed = t.security.find(f"{XENC}EncryptedData")  # type: ignore[union-attr]
    assert ed is not None
    return ed


def _copy_without_id(el: etree._Element) -> etree._Element:
    dup = etree.fromstring(etree.tostring(el))
    dup.attrib.pop("Id", None)
    return dup


def test_oaep_with_sha1_digest_rejected_0103(t: Tampered) -> None:
    digest = _ek(t).find(f"{XENC}EncryptionMethod/{DS}DigestMethod")
    assert digest is not None
    digest.set("Algorithm", ALG_SHA1)
    assert rejects(t, PolicyNoncompliance, "RSA-OAEP digest must be SHA-256").code == "EBMS:0103"


def test_xenc_outside_the_security_header_rejected_0103(t: Tampered) -> None:
    t.messaging.getparent().append(_copy_without_id(_ed(t)))  # type: ignore[union-attr]
    rejects(t, PolicyNoncompliance, "xenc elements outside wsse:Security")


def test_second_encrypted_key_rejected_0103(t: Tampered) -> None:
    _ek(t).addnext(_copy_without_id(_ek(t)))
    rejects(t, PolicyNoncompliance, "more than one xenc:EncryptedKey")


def test_encrypted_key_without_cipher_value_rejected_0102(t: Tampered) -> None:
    value = _ek(t).find(f"{XENC}CipherData/{XENC}CipherValue")
    assert value is not None
    value.text = ""
    assert rejects(t, FailedDecryption, "has no CipherValue").code == "EBMS:0102"


def test_encrypted_key_without_data_reference_rejected_0102(t: Tampered) -> None:
    refs = _ek(t).find(f"{XENC}ReferenceList")
    assert refs is not None
    _ek(t).remove(refs)
    rejects(t, FailedDecryption, "lists no xenc:DataReference")


def test_data_reference_to_something_else_rejected_0102(t: Tampered) -> None:
    """A DataReference pointing at the (signed) eb:Messaging instead of an xenc:EncryptedData."""
    ref = _ek(t).find(f"{XENC}ReferenceList/{XENC}DataReference")
    assert ref is not None
    ref.set("URI", "#" + (t.messaging.get(WSU_ID) or ""))  # type: ignore[union-attr]
    rejects(t, FailedDecryption, "does not resolve to an xenc:EncryptedData")


def test_encrypted_data_of_another_type_rejected_0103(t: Tampered) -> None:
    _ed(t).set("Type", "http://www.w3.org/2001/04/xmlenc#Content")
    rejects(t, PolicyNoncompliance, "xenc:EncryptedData Type .* is not supported")


def test_cipher_reference_that_is_not_cid_rejected_0103(t: Tampered) -> None:
    cref = _ed(t).find(f"{XENC}CipherData/{XENC}CipherReference")
    assert cref is not None
    cref.set("URI", "http://attacker.example/ciphertext")
    rejects(t, PolicyNoncompliance, "must reference its attachment with cid:")


def test_cipher_reference_without_ciphertext_transform_rejected_0103(t: Tampered) -> None:
    cref = _ed(t).find(f"{XENC}CipherData/{XENC}CipherReference")
    transforms = None if cref is None else cref.find(f"{XENC}Transforms")
    assert cref is not None and transforms is not None
    cref.remove(transforms)
    rejects(t, PolicyNoncompliance, "needs the Attachment-Ciphertext-Transform")


def test_cipher_reference_to_a_missing_part_rejected_0102(t: Tampered) -> None:
    cref = _ed(t).find(f"{XENC}CipherData/{XENC}CipherReference")
    assert cref is not None
    cref.set("URI", "cid:not-in-this-message@x")
    rejects(t, FailedDecryption, "encrypted attachment cid:not-in-this-message@x is missing")


def test_attachment_encrypted_twice_rejected_0102(t: Tampered) -> None:
    """Two EncryptedData for one part (two keys' worth of plaintext for one signed digest)."""
    twin = _copy_without_id(_ed(t))
    twin.set("Id", "ED-twin")
    _ed(t).addnext(twin)
    ref_list = _ek(t).find(f"{XENC}ReferenceList")
    assert ref_list is not None
    etree.SubElement(ref_list, f"{XENC}DataReference", URI="#ED-twin")
    rejects(t, FailedDecryption, "is encrypted twice")


def test_content_key_of_another_length_rejected_0102(t: Tampered) -> None:
    """A 32-byte key would make the declared AES-128-GCM an AES-256 decryption: refused."""
    import os

    from transport.as4.streams import wrap_key

    value = _ek(t).find(f"{XENC}CipherData/{XENC}CipherValue")
    assert value is not None
    value.text = base64.b64encode(wrap_key(os.urandom(32), t.receiver.certificate.public_key())).decode()  # type: ignore[arg-type]
    rejects(t, FailedDecryption, "unwrapped content key has 32 bytes, expected 16")


@pytest.mark.parametrize("from_disk", [False, True])
def test_attachment_shorter_than_iv_and_tag_rejected_0102(
    t: Tampered, monkeypatch: pytest.MonkeyPatch, from_disk: bool
) -> None:
    import transport.as4.inbound as inbound_mod

    if from_disk:  # the streaming path reads IV and tag from the file
        monkeypatch.setattr(inbound_mod, "IN_MEMORY_ATTACHMENT_BYTES", 0)
    t.parts[0].path.write_bytes(b"too short")
    rejects(t, FailedDecryption, "shorter than IV \\+ tag")


def test_two_mime_parts_with_one_content_id_rejected_0007(t: Tampered) -> None:
    t.parts.append(InboundAttachment(t.parts[0].content_id, t.parts[0].headers, t.parts[0].path))
    assert rejects(t, MimeInconsistency, "two MIME parts with Content-ID").code == "EBMS:0007"


# --- 4c. signing token and SignedInfo shape (checked before any signature math) --------------------


def _signing_token(t: Tampered) -> etree._Element:
    ref = t.signature.find(f"{DS}KeyInfo/{WSSE}SecurityTokenReference/{WSSE}Reference")
    assert ref is not None
    found = t.root.xpath("//*[@wsu:Id=$i]", namespaces={"wsu": NS_WSU}, i=(ref.get("URI") or "")[1:])
    assert isinstance(found, list) and len(found) == 1 and isinstance(found[0], etree._Element)
    return found[0]


def test_token_reference_to_something_other_than_a_bst_rejected_0103(t: Tampered) -> None:
    ref = t.signature.find(f"{DS}KeyInfo/{WSSE}SecurityTokenReference/{WSSE}Reference")
    assert ref is not None
    ref.set("URI", "#" + (t.messaging.get(WSU_ID) or ""))  # type: ignore[union-attr]
    rejects(t, PolicyNoncompliance, "does not point to a BinarySecurityToken")


@pytest.mark.parametrize(
    ("attribute", "value", "match"),
    [
        (
            "ValueType",
            "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509PKIPathv1",
            "ValueType must be X509v3",
        ),
        (
            "EncodingType",
            "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#HexBinary",
            "must be Base64Binary",
        ),
    ],
)
def test_bst_of_another_token_type_rejected_0103(t: Tampered, attribute: str, value: str, match: str) -> None:
    _signing_token(t).set(attribute, value)
    rejects(t, PolicyNoncompliance, match)


def test_bst_that_is_not_base64_rejected_0103(t: Tampered) -> None:
    _signing_token(t).text = "!!! not base64 !!!"
    rejects(t, PolicyNoncompliance, "BinarySecurityToken is not valid base64")


def test_second_signed_info_rejected_0101(t: Tampered) -> None:
    signed_info = t.signature.find(f"{DS}SignedInfo")
    assert signed_info is not None
    signed_info.addnext(etree.fromstring(etree.tostring(signed_info)))
    rejects(t, FailedAuthentication, "exactly one ds:SignedInfo")


def test_inclusive_c14n_of_signed_info_rejected_0103(t: Tampered) -> None:
    """The SignedInfo canonicalisation is on the allow-list too (exc-c14n only), checked before the RSA
    verification so the rejection names the algorithm."""
    c14n = t.signature.find(f"{DS}SignedInfo/{DS}CanonicalizationMethod")
    assert c14n is not None
    c14n.set("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    rejects(t, PolicyNoncompliance, "canonicalization .*REC-xml-c14n-20010315.* is not allowed")


def test_signed_info_without_references_rejected_0101(t: Tampered) -> None:
    signed_info = t.signature.find(f"{DS}SignedInfo")
    assert signed_info is not None
    for ref in signed_info.findall(f"{DS}Reference"):
        signed_info.remove(ref)
    rejects(t, FailedAuthentication, "ds:SignedInfo has no ds:Reference")


@pytest.mark.parametrize(
    ("which", "algorithm"),
    [
        (0, "http://www.w3.org/TR/1999/REC-xslt-19991116"),  # an XSLT transform on eb:Messaging
        (2, "http://www.w3.org/2001/10/xml-exc-c14n#"),  # an XML transform on the attachment
    ],
)
def test_reference_transform_off_the_allow_list_rejected_0103(
    t: Tampered, which: int, algorithm: str
) -> None:
    ref = t.signature.findall(f"{DS}SignedInfo/{DS}Reference")[which]
    transform = ref.find(f"{DS}Transforms/{DS}Transform")
    assert transform is not None
    transform.set("Algorithm", algorithm)
    rejects(t, PolicyNoncompliance, "transforms .* are not allowed")


def test_signing_certificate_without_an_rsa_key_rejected_0103(t: Tampered) -> None:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PFR000001")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    _signing_token(t).text = base64.b64encode(cert.public_bytes(Encoding.DER)).decode()
    rejects(t, PolicyNoncompliance, "does not hold an RSA key")


# --- 5. certificates -------------------------------------------------------------------------------


def test_signer_validator_failure_rejected_0101(t: Tampered) -> None:
    def refuse(cert):  # type: ignore[no-untyped-def]
        raise ValueError("untrusted CA")

    rejects(t, FailedAuthentication, "untrusted CA", validate=refuse)


@pytest.mark.parametrize("who", ["revoked_ap", "expired_ap", "smp"])
def test_invalid_signer_certificate_rejected_0101(test_pki, tmp_path: Path, who: str) -> None:  # type: ignore[no-untyped-def]
    t = Tampered(test_pki, tmp_path)
    signer = getattr(test_pki, who).identity()
    # make the header name the bad signer's seat so only the certificate check can fail
    t.messaging.find(f".//{EB}From/{EB}PartyId").text = signer.seat_id  # type: ignore[union-attr]
    t.resign(identity=signer)
    rejects(t, FailedAuthentication, "signer certificate rejected")


def test_signer_cn_must_match_from_party_0101(t: Tampered) -> None:
    t.messaging.find(f".//{EB}From/{EB}PartyId").text = "PFR000777"  # type: ignore[union-attr]
    t.resign()
    rejects(t, FailedAuthentication, "does not match eb:From")


def test_bst_certificate_not_matching_signing_key_rejected_0101(t: Tampered, test_pki) -> None:  # type: ignore[no-untyped-def]
    """The BST carries aps[0]'s cert but the signature is made with aps[1]'s key."""
    other = test_pki.aps[1].identity()
    t.resign(identity=Identity(other.private_key, t.sender.certificate))
    rejects(t, FailedAuthentication, "SignatureValue does not verify")


# --- 6. wrong recipient ----------------------------------------------------------------------------


def test_encrypted_for_another_certificate_rejected_0102(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msg = build_user_message(
        make_header(test_pki),
        SBD,
        signer=test_pki.aps[0].identity(),
        recipient_certificate=test_pki.aps[0].identity().certificate,
    )
    envelope, parts = split_outbound(msg, tmp_path)
    with pytest.raises(FailedDecryption, match="another certificate"):
        process_inbound(
            envelope,
            parts,
            identity=test_pki.aps[1].identity(),
            validate_signer=lambda c: None,
            work_dir=tmp_path,
        )


# --- 9./10. hostile XML and decompression ---------------------------------------------------------


def test_soap11_envelope_rejected_0009(t: Tampered) -> None:
    """process_inbound's own envelope check (the receiver refuses SOAP 1.1 before calling it)."""
    env = t.envelope().replace(NS_S12.encode(), b"http://schemas.xmlsoap.org/soap/envelope/")
    with pytest.raises(InvalidHeader, match=r"root element must be a SOAP 1\.2 Envelope") as info:
        process_inbound(env, t.parts, identity=t.receiver, validate_signer=lambda c: None, work_dir=t.work)
    assert info.value.code == "EBMS:0009"


def test_second_soap_body_rejected_0009(t: Tampered) -> None:
    """A second S12:Body (a place to hide an unsigned payload) is refused before any signature work."""
    t.root.append(etree.Element(f"{S12}Body"))
    with pytest.raises(InvalidHeader, match="exactly one Header and one Body"):
        t.process()


def test_doctype_in_envelope_rejected_0009(t: Tampered) -> None:
    env = t.envelope().replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
    with pytest.raises(InvalidHeader, match="DOCTYPE"):
        process_inbound(env, t.parts, identity=t.receiver, validate_signer=lambda c: None, work_dir=t.work)


def test_gzip_bomb_size_cap_rejected_0303(t: Tampered) -> None:
    rejects(t, DecompressionFailure, "exceeds the cap", policy=SecurityPolicy(max_decompressed_bytes=100))


def test_gzip_bomb_ratio_cap_rejected_0303(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    t = Tampered(test_pki, tmp_path, payload=b"\0" * (8 * 1024 * 1024))
    rejects(t, DecompressionFailure, "ratio", policy=SecurityPolicy(max_compression_ratio=50))


def test_unsupported_compression_type_rejected_0303(t: Tampered) -> None:
    """A (validly re-signed) PartProperties CompressionType other than gzip is not guessed at."""
    prop = t.messaging.find(f".//{EB}PartProperties/{EB}Property[@name='CompressionType']")  # type: ignore[union-attr]
    assert prop is not None
    prop.text = "application/x-bzip2"
    t.resign()
    assert rejects(t, DecompressionFailure, "unsupported CompressionType 'application/x-bzip2'").code == (
        "EBMS:0303"
    )


def test_corrupt_gzip_rejected_0303(t: Tampered) -> None:
    bad = gzip.compress(SBD)[:-12]  # truncated member
    t.set_attachment_plaintext(bad)
    t.resign(t.references(cid_digest=sha256_b64(bad)))
    rejects(t, DecompressionFailure, "truncated|not valid gzip")


def test_not_gzip_at_all_rejected_0303(t: Tampered) -> None:
    t.set_attachment_plaintext(b"plain text, not gzip")
    t.resign(t.references(cid_digest=sha256_b64(b"plain text, not gzip")))
    rejects(t, DecompressionFailure, "not valid gzip")


# --- header structure and P-Mode ------------------------------------------------------------------


def _set(t: Tampered, path: str, text: str | None = None, **attrs: str) -> None:
    el = t.messaging.find(path, {"eb": NS_EB})  # type: ignore[union-attr]
    assert el is not None
    if text is not None:
        el.text = text
    for k, v in attrs.items():
        el.set(k, v)


@pytest.mark.parametrize(
    ("path", "text", "attrs", "exc", "match"),
    [
        (".//eb:AgreementRef", "urn:other", {}, ProcessingModeMismatch, "AgreementRef"),
        (".//eb:From/eb:Role", "urn:role:x", {}, ProcessingModeMismatch, "Role"),
        (
            ".//eb:To/eb:PartyId",
            None,
            {"type": "urn:oasis:names:tc:ebcore:partyid-type:unregistered"},
            ProcessingModeMismatch,
            "PartyId/@type",
        ),
        (".//eb:MessageId", "", {}, InvalidHeader, "MessageId is empty"),
        (".//eb:Timestamp", "yesterday", {}, InvalidHeader, "xs:dateTime"),
        (
            ".//eb:MessageProperties/eb:Property[@name='originalSender']",
            None,
            {"type": ""},
            InvalidHeader,
            "originalSender",
        ),
    ],
)
def test_header_values_checked(t: Tampered, path, text, attrs, exc, match) -> None:  # type: ignore[no-untyped-def]
    _set(t, path, text, **attrs)
    t.resign()
    rejects(t, exc, match)


def _duplicate(el: etree._Element | None, text: str | None = None) -> None:
    assert el is not None
    twin = etree.fromstring(etree.tostring(el))
    if text is not None:
        twin.text = text
    el.addnext(twin)


def test_two_message_ids_rejected_0009(t: Tampered) -> None:
    """Which of two MessageIds would duplicate detection key on? Neither: the header is refused."""
    _duplicate(t.messaging.find(f".//{EB}MessageInfo/{EB}MessageId"), "other-id@attacker")  # type: ignore[union-attr]
    t.resign()
    assert rejects(t, InvalidHeader, "exactly one eb:MessageId").code == "EBMS:0009"


def test_two_payload_infos_rejected_0009(t: Tampered) -> None:
    _duplicate(t.messaging.find(f".//{EB}PayloadInfo"))  # type: ignore[union-attr]
    t.resign()
    rejects(t, InvalidHeader, "at most one eb:PayloadInfo")


def test_external_payload_href_rejected_0009(t: Tampered) -> None:
    """Peppol payloads are MIME parts: a PartInfo pointing at a URL is never fetched."""
    part = t.messaging.find(f".//{EB}PartInfo")  # type: ignore[union-attr]
    assert part is not None
    part.set("href", "http://attacker.example/payload.xml")
    t.resign()
    rejects(t, InvalidHeader, "must be a cid: reference")


def test_part_property_without_name_rejected_0009(t: Tampered) -> None:
    prop = t.messaging.find(f".//{EB}PartProperties/{EB}Property")  # type: ignore[union-attr]
    assert prop is not None
    del prop.attrib["name"]
    t.resign()
    rejects(t, InvalidHeader, "eb:Property without @name")


@pytest.mark.parametrize("length", [998, 999])
def test_message_id_over_998_characters_rejected_0009(t: Tampered, length: int) -> None:
    """RFC 2822 msg-id line limit, checked by process_inbound itself (the receiver checks it earlier)."""
    message_id = t.messaging.find(f".//{EB}MessageInfo/{EB}MessageId")  # type: ignore[union-attr]
    assert message_id is not None
    message_id.text = "x" * (length - 3) + "@ab"
    t.resign()
    if length == 998:
        assert t.process().header.message_id == message_id.text
    else:
        rejects(t, InvalidHeader, r"eb:MessageId has 999 characters \(at most 998\)")


def test_two_user_messages_rejected_0009(t: Tampered) -> None:
    _duplicate(t.messaging.find(f"{EB}UserMessage"))  # type: ignore[union-attr]
    t.resign()
    rejects(t, InvalidHeader, "exactly one eb:UserMessage")


def test_signal_bundled_with_the_user_message_rejected_0009(t: Tampered) -> None:
    signal = etree.Element(f"{EB}SignalMessage")
    info = etree.SubElement(signal, f"{EB}MessageInfo")
    etree.SubElement(info, f"{EB}MessageId").text = "decoy@attacker"
    t.messaging.insert(0, signal)  # type: ignore[union-attr]
    t.resign()
    rejects(t, InvalidHeader, "must not bundle an eb:SignalMessage")


def test_message_property_twice_rejected_0009(t: Tampered) -> None:
    """Two finalRecipient values: the routing and the SBDH check could each pick a different one."""
    _duplicate(
        t.messaging.find(f".//{EB}MessageProperties/{EB}Property[@name='finalRecipient']"),  # type: ignore[union-attr]
        "0088:7300010000001",
    )
    t.resign()
    rejects(t, InvalidHeader, "has property 'finalRecipient' twice")


def test_two_payload_parts_rejected_0009(t: Tampered) -> None:
    payload_info = t.messaging.find(f".//{EB}PayloadInfo")  # type: ignore[union-attr]
    payload_info.append(etree.fromstring(etree.tostring(payload_info[0])))  # type: ignore[union-attr,index]
    rejects(t, InvalidHeader, "exactly one eb:PartInfo")


def test_message_id_of_best_effort(t: Tampered) -> None:
    assert message_id_of(t.envelope()) == t.msg.message_id
    assert message_id_of(t.envelope()[:-40]) == t.msg.message_id  # broken XML: regex fallback
    assert message_id_of(b"garbage") is None


@pytest.mark.parametrize("tamper", [False, True])
def test_streaming_decrypt_path_from_disk(t: Tampered, monkeypatch, tamper: bool) -> None:  # type: ignore[no-untyped-def]
    """Attachments above the in-memory limit are decrypted from disk with the tag read from the end."""
    import transport.as4.inbound as inbound_mod

    monkeypatch.setattr(inbound_mod, "IN_MEMORY_ATTACHMENT_BYTES", 0)
    if tamper:
        data = bytearray(t.parts[0].path.read_bytes())
        data[-1] ^= 1  # last tag byte
        t.parts[0].path.write_bytes(bytes(data))
        rejects(t, FailedDecryption, "tag")
    else:
        assert t.process().payload_path.read_bytes() == SBD
        assert [p.name for p in (t.work / "out").iterdir()] and len(list((t.work / "out").iterdir())) == 1


def test_utf8_bom_before_envelope_tolerated(t: Tampered) -> None:
    """CEF: receivers MUST tolerate a UTF-8 BOM; the signature is over the parsed tree, so it still holds."""
    out = t.work / "out"
    out.mkdir()
    inbound = process_inbound(
        b"\xef\xbb\xbf" + t.msg.envelope,
        t.parts,
        identity=t.receiver,
        validate_signer=lambda c: None,
        work_dir=out,
    )
    assert inbound.payload_path.read_bytes() == SBD


def test_messaging_with_wsu_id_and_plain_id_accepted(t: Tampered) -> None:
    """Domibus puts the same value in wsu:Id and id on eb:Messaging: not a duplicate."""
    t.messaging.set("id", t.messaging.get(WSU_ID) or "")  # type: ignore[union-attr]
    t.resign()
    assert t.process().payload_path.read_bytes() == SBD


def test_reference_by_plain_id_attribute_covers_messaging(t: Tampered) -> None:
    """A signature that references eb:Messaging through its ``id`` attribute still covers it."""
    t.messaging.set("id", "plain-id")  # type: ignore[union-attr]
    refs = t.references()
    refs[0] = Reference("#plain-id", refs[0].digest_method, refs[0].digest_value, refs[0].transforms)
    t.resign(refs)
    assert t.process().payload_path.read_bytes() == SBD


def test_same_reference_twice_rejected_0101(t: Tampered) -> None:
    refs = t.references()
    t.resign([*refs, refs[2]])
    rejects(t, FailedAuthentication, "same URI twice")


def test_too_many_references_rejected_0103(t: Tampered) -> None:
    refs = t.references()
    extra = [
        Reference(f"#x{i}", refs[0].digest_method, refs[0].digest_value, refs[0].transforms)
        for i in range(40)
    ]
    t.resign(refs + extra)
    rejects(t, PolicyNoncompliance, "at most")
