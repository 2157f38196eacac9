"""Build → (loopback split) → process_inbound round trips with the generated test PKI."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from transport.as4 import (
    InboundUserMessage,
    OutboundMessage,
    UserMessageHeader,
    build_user_message,
    new_user_message_header,
    process_inbound,
)
from transport.as4.constants import (
    AGREEMENT_REF,
    NS_EB,
    PARTY_ID_TYPE,
    ROLE_INITIATOR,
    ROLE_RESPONDER,
)
from transport.as4.testing import split_outbound

SBD = (
    b'<?xml version="1.0" encoding="UTF-8"?><StandardBusinessDocument>'
    + b"<x>hello</x>" * 50
    + (b"</StandardBusinessDocument>")
)
DOCTYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2::CallForTenders"
    "##urn:fdc:peppol.eu:prac:trns:t002:1.1::2.2"
)


def make_header(test_pki, **kw) -> UserMessageHeader:  # type: ignore[no-untyped-def]
    return new_user_message_header(
        from_party=test_pki.aps[0].identity().seat_id,
        to_party=test_pki.aps[1].identity().seat_id,
        sender=ParticipantId.parse("iso6523-actorid-upis::0088:5798000000001"),
        receiver=ParticipantId.parse("iso6523-actorid-upis::0088:5798000000002"),
        document_type=DocumentTypeId.of(DOCTYPE),
        process=ProcessId.of("urn:fdc:peppol.eu:prac:bis:p006:1.1"),
        **kw,
    )


def build(test_pki, payload: bytes | Path = SBD, **kw) -> OutboundMessage:  # type: ignore[no-untyped-def]
    return build_user_message(
        make_header(test_pki),
        payload,
        signer=test_pki.aps[0].identity(),
        recipient_certificate=test_pki.aps[1].identity().certificate,
        **kw,
    )


def receive(test_pki, msg: OutboundMessage, tmp_path: Path, **kw) -> InboundUserMessage:  # type: ignore[no-untyped-def]
    envelope, parts = split_outbound(msg, tmp_path)
    validator = test_pki.ap_validator()
    return process_inbound(
        envelope,
        parts,
        identity=test_pki.aps[1].identity(),
        validate_signer=lambda cert: validator.validate(cert),
        work_dir=tmp_path,
        **kw,
    )


def test_peppol_user_message_exact_header_values(test_pki) -> None:  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    root = etree.fromstring(msg.envelope)
    eb = {"eb": NS_EB}
    frm = root.find(".//eb:From/eb:PartyId", eb)
    assert frm is not None and frm.get("type") == PARTY_ID_TYPE and frm.text == "PFR000001"
    assert root.findtext(".//eb:From/eb:Role", namespaces=eb) == ROLE_INITIATOR
    assert root.findtext(".//eb:To/eb:Role", namespaces=eb) == ROLE_RESPONDER
    agreement = root.find(".//eb:AgreementRef", eb)
    assert agreement is not None and agreement.text == AGREEMENT_REF and not agreement.attrib
    service = root.find(".//eb:Service", eb)
    assert service is not None and service.get("type") == "cenbii-procid-ubl"
    assert service.text == "urn:fdc:peppol.eu:prac:bis:p006:1.1"
    assert root.findtext(".//eb:Action", namespaces=eb) == f"busdox-docid-qns::{DOCTYPE}"
    props = {
        p.get("name"): (p.get("type"), p.text)
        for p in root.iterfind(".//eb:MessageProperties/eb:Property", eb)
    }
    assert props == {
        "originalSender": ("iso6523-actorid-upis", "0088:5798000000001"),
        "finalRecipient": ("iso6523-actorid-upis", "0088:5798000000002"),
    }
    part_props = {p.get("name"): p.text for p in root.iterfind(".//eb:PartProperties/eb:Property", eb)}
    assert part_props == {"MimeType": "application/xml", "CompressionType": "application/gzip"}
    assert root.find(".//eb:PartInfo", eb).get("href") == f"cid:{msg.payload_content_id}"  # type: ignore[union-attr]
    assert root.find(".//eb:RefToMessageId", eb) is None


def test_mime_multipart_related_with_octet_stream_attachment(test_pki) -> None:  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    assert msg.content_type.startswith("multipart/related; boundary=")
    assert 'type="application/soap+xml"' in msg.content_type and 'start="<' in msg.content_type
    assert msg.headers["MIME-Version"] == "1.0"
    assert msg.body is not None and msg.body_path is None
    assert b"Content-Type: application/octet-stream\r\n" in msg.body
    assert f"Content-ID: <{msg.payload_content_id}>".encode() in msg.body
    assert b"filename" not in msg.body
    # the attachment is ciphertext: the plaintext and its gzip are nowhere in the body
    assert b"hello" not in msg.body and gzip.compress(SBD, mtime=0)[:10] not in msg.body


def test_roundtrip_small_payload(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    inbound = receive(test_pki, msg, tmp_path)
    assert inbound.payload_path.read_bytes() == SBD
    assert inbound.header.message_id == msg.message_id
    assert inbound.header.from_party == "PFR000001" and inbound.header.to_party == "PFR000002"
    assert inbound.signer_certificate == test_pki.aps[0].identity().certificate
    assert [r.uri for r in inbound.references] == [r.uri for r in msg.signed_references]
    assert all(a.matches(b) for a, b in zip(inbound.references, msg.signed_references, strict=True))
    assert inbound.envelope == msg.envelope
    # intermediate files are gone; only the payload stays
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("as4-in-")) == [
        inbound.payload_path.name
    ]


def test_roundtrip_payload_from_file_spooled(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "sbd.xml"
    data = SBD + b"<!-- " + bytes(range(256)) * 0 + b"padding -->"
    src.write_bytes(data)
    spool = tmp_path / "spool"
    spool.mkdir()
    msg = build(test_pki, src, spool_dir=spool, spool_threshold=64)
    assert msg.body is None and msg.body_path is not None and msg.body_path.parent == spool
    recv_dir = tmp_path / "recv"
    recv_dir.mkdir()
    inbound = receive(test_pki, msg, recv_dir)
    assert inbound.payload_path.read_bytes() == data
    with msg.open_body() as a, msg.open_body() as b:
        assert a.read() == b.read()  # re-postable identical bytes


def test_header_round_trips_through_parse(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header = make_header(test_pki, message_id="abc@test", conversation_id="conv-1")
    msg = build_user_message(
        header,
        SBD,
        signer=test_pki.aps[0].identity(),
        recipient_certificate=test_pki.aps[1].identity().certificate,
    )
    got = receive(test_pki, msg, tmp_path).header
    assert got.message_id == "abc@test" and got.conversation_id == "conv-1"
    for name in (
        "service",
        "service_type",
        "action",
        "agreement_ref",
        "original_sender",
        "original_sender_type",
        "final_recipient",
        "final_recipient_type",
    ):
        assert getattr(got, name) == getattr(header, name), name
    assert abs((got.timestamp - header.timestamp).total_seconds()) < 0.001
    assert got.payload_properties["CompressionType"] == "application/gzip"


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024 + 17])
def test_roundtrip_sizes(test_pki, tmp_path: Path, size: int) -> None:  # type: ignore[no-untyped-def]
    import os

    data = os.urandom(size)
    msg = build(test_pki, data, payload_mime_type="application/octet-stream")
    assert receive(test_pki, msg, tmp_path).payload_path.read_bytes() == data
