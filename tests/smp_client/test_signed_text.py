"""F1 for SMP responses: what is read is exactly what was signed (docs/as4.md, "What is read from
signed XML"). signxml hands back the signed content re-parsed from its canonical form, so comments are
already gone; processing instructions and elements survive c14n and must not truncate a value."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from lxml import etree

from smp_client.documents import parse_service_metadata
from smp_client.errors import SmpXmlError
from smp_client.signature import verify_smp_signature
from tests.smp_client.smp_docs import NS_WSA, Ep, sign, v1_metadata


def _ok(_cert: x509.Certificate, _when: object) -> str:
    return "trusted for the test"


def _doc(test_pki: Any) -> etree._Element:
    return v1_metadata(
        "iso6523-actorid-upis::0088:123456",
        "busdox-docid-qns::d",
        "cenbii-procid-ubl::p",
        [Ep("https://ap.example/as4", test_pki.aps[0].certificate())],
    )


def test_pi_inside_a_signed_endpoint_url_is_refused(test_pki: Any) -> None:
    """Signed by the SMP itself: the signature is valid, the URL's string-value is the full one, and
    ``el.text`` used to hand out ``https://ap.example/`` instead."""
    doc = _doc(test_pki)
    address = doc.find(f".//{{{NS_WSA}}}Address")
    assert address is not None
    address.text = "https://ap.example/"
    pi = etree.ProcessingInstruction("x")
    pi.tail = "as4"
    address.append(pi)
    ident = test_pki.smp.identity()
    verified = verify_smp_signature(sign(doc, ident.private_key, ident.certificate), signer_check=_ok)
    with pytest.raises(SmpXmlError, match="text only"):
        parse_service_metadata(verified.root)


def test_comment_inserted_into_a_signed_participant_id_is_not_a_truncation(test_pki: Any) -> None:
    """A comment inserted after signing keeps the signature valid (c14n drops it); the value read is the
    signed one, never the prefix before the comment."""
    ident = test_pki.smp.identity()
    root = etree.fromstring(sign(_doc(test_pki), ident.private_key, ident.certificate))
    pid = root.find(".//{http://busdox.org/transport/identifiers/1.0/}ParticipantIdentifier")
    assert pid is not None and pid.text == "0088:123456"
    comment = etree.Comment("x")
    comment.tail = "456"
    pid.text = "0088:123"
    pid.append(comment)
    verified = verify_smp_signature(etree.tostring(root), signer_check=_ok)
    assert parse_service_metadata(verified.root).participant.value == "0088:123456"
