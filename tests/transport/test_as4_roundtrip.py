"""Build → (loopback split) → process_inbound round trips with the generated test PKI."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from tests.transport.as4_split import split_outbound
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


def build(test_pki, payload: bytes | Path = SBD, header=None, **kw) -> OutboundMessage:  # type: ignore[no-untyped-def]
    return build_user_message(
        header or make_header(test_pki),
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


def test_wss11_security_header_layout_and_algorithms(test_pki) -> None:  # type: ignore[no-untyped-def]
    """as4.md §5: children in WSS4J order, exact algorithm URIs, direct BST references, sign then encrypt."""
    from transport.as4.constants import (
        ALG_AES128_GCM,
        ALG_EXC_C14N,
        ALG_MGF1_SHA256,
        ALG_RSA_OAEP_11,
        ALG_RSA_SHA256,
        ALG_SHA256,
        ALG_SWA_CIPHERTEXT,
        ALG_SWA_CONTENT_SIGNATURE,
        BST_VALUE_TYPE_X509V3,
        NS_DS,
        NS_S12,
        NS_WSSE,
        NS_WSU,
        NS_XENC,
        NS_XENC11,
        TOKEN_TYPE_ENCRYPTED_KEY,
        TYPE_ATTACHMENT_CONTENT_ONLY,
    )

    msg = build(test_pki)
    root = etree.fromstring(msg.envelope)
    ns = {"ds": NS_DS, "xenc": NS_XENC, "wsse": NS_WSSE, "S12": NS_S12, "xenc11": NS_XENC11, "wsu": NS_WSU}
    sec = root.find("S12:Header/wsse:Security", ns)
    assert sec is not None and sec.get(f"{{{NS_S12}}}mustUnderstand") == "true"
    assert [etree.QName(c).localname for c in sec] == [
        "BinarySecurityToken",
        "EncryptedKey",
        "EncryptedData",
        "BinarySecurityToken",
        "Signature",
    ]
    recv_bst, ek, ed, send_bst, sig = list(sec)
    assert recv_bst.get("ValueType") == send_bst.get("ValueType") == BST_VALUE_TYPE_X509V3
    # key transport: xmlenc11 RSA-OAEP, SHA-256, explicit MGF1-SHA256, direct reference to the receiver BST
    assert ek.find("xenc:EncryptionMethod", ns).get("Algorithm") == ALG_RSA_OAEP_11  # type: ignore[union-attr]
    assert ek.find("xenc:EncryptionMethod/ds:DigestMethod", ns).get("Algorithm") == ALG_SHA256  # type: ignore[union-attr]
    assert ek.find("xenc:EncryptionMethod/xenc11:MGF", ns).get("Algorithm") == ALG_MGF1_SHA256  # type: ignore[union-attr]
    ek_ref = ek.find("ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference", ns)
    assert ek_ref is not None and ek_ref.get("URI") == f"#{recv_bst.get(f'{{{NS_WSU}}}Id')}"
    assert ek.find("xenc:ReferenceList/xenc:DataReference", ns).get("URI") == f"#{ed.get('Id')}"  # type: ignore[union-attr]
    # data: AES-128-GCM, attachment content only, gzip type, cid: with the ciphertext transform
    assert ed.get("MimeType") == "application/gzip" and ed.get("Type") == TYPE_ATTACHMENT_CONTENT_ONLY
    assert ed.find("xenc:EncryptionMethod", ns).get("Algorithm") == ALG_AES128_GCM  # type: ignore[union-attr]
    str_el = ed.find("ds:KeyInfo/wsse:SecurityTokenReference", ns)
    assert str_el is not None
    assert str_el.get("{http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd}TokenType") == (
        TOKEN_TYPE_ENCRYPTED_KEY
    )
    cref = ed.find("xenc:CipherData/xenc:CipherReference", ns)
    assert cref is not None and cref.get("URI") == f"cid:{msg.payload_content_id}"
    assert cref.find("xenc:Transforms/ds:Transform", ns).get("Algorithm") == ALG_SWA_CIPHERTEXT  # type: ignore[union-attr]
    # signature: exc-c14n + RSA-SHA256, three SHA-256 references, key by direct reference to the sender BST
    si = sig.find("ds:SignedInfo", ns)
    assert si.find("ds:CanonicalizationMethod", ns).get("Algorithm") == ALG_EXC_C14N  # type: ignore[union-attr]
    assert si.find("ds:SignatureMethod", ns).get("Algorithm") == ALG_RSA_SHA256  # type: ignore[union-attr]
    refs = si.findall("ds:Reference", ns)  # type: ignore[union-attr]
    messaging = root.find(
        "S12:Header/{http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/}Messaging", ns
    )
    body = root.find("S12:Body", ns)
    assert [r.get("URI") for r in refs] == [
        f"#{messaging.get(f'{{{NS_WSU}}}Id')}",  # type: ignore[union-attr]
        f"#{body.get(f'{{{NS_WSU}}}Id')}",  # type: ignore[union-attr]
        f"cid:{msg.payload_content_id}",
    ]
    assert [r.find("ds:Transforms/ds:Transform", ns).get("Algorithm") for r in refs] == [  # type: ignore[union-attr]
        ALG_EXC_C14N,
        ALG_EXC_C14N,
        ALG_SWA_CONTENT_SIGNATURE,
    ]
    assert {r.find("ds:DigestMethod", ns).get("Algorithm") for r in refs} == {ALG_SHA256}  # type: ignore[union-attr]
    sig_ref = sig.find("ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference", ns)
    assert sig_ref is not None and sig_ref.get("URI") == f"#{send_bst.get(f'{{{NS_WSU}}}Id')}"
    assert sig_ref.get("ValueType") == BST_VALUE_TYPE_X509V3
    assert messaging.get(f"{{{NS_S12}}}mustUnderstand") == "true"  # type: ignore[union-attr]
    assert len(body) == 0  # type: ignore[arg-type]
    assert root.find(".//wsu:Timestamp", ns) is None
    # sign THEN encrypt: the cid digest is over the plaintext gzip, not over the ciphertext on the wire
    import base64
    import hashlib

    from transport.as4.streams import gcm_decrypt_bytes, unwrap_key

    cid_digest = base64.b64decode(refs[2].findtext("ds:DigestValue", namespaces=ns) or "")
    assert msg.body is not None
    key = unwrap_key(
        base64.b64decode(ek.findtext("xenc:CipherData/xenc:CipherValue", namespaces=ns) or ""),
        test_pki.aps[1].identity().private_key,
    )
    boundary = msg.content_type.split('boundary="')[1].split('"')[0]
    wire = msg.body.split(f"<{msg.payload_content_id}>\r\n\r\n".encode())[1].split(
        f"\r\n--{boundary}--".encode()
    )[0]
    plain_gzip = gcm_decrypt_bytes(key, wire)
    assert gzip.decompress(plain_gzip) == SBD
    assert hashlib.sha256(plain_gzip).digest() == cid_digest != hashlib.sha256(wire).digest()


def test_header_values_with_markup_characters_are_signed_as_sent(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The envelope is written as text (issue 11): values needing escapes must verify and read back.
    header = make_header(test_pki, message_id="m<&>\"'@test", conversation_id="c &amp; <x/>\t\n")
    got = receive(test_pki, build(test_pki, header=header), tmp_path).header
    assert got.message_id == "m<&>\"'@test" and got.conversation_id == "c &amp; <x/>"


def test_header_value_xml_cannot_carry_is_a_value_error(test_pki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="XML cannot carry"):
        build(test_pki, header=make_header(test_pki, conversation_id="a\x01b"))


def test_bytes_payload_above_the_spool_threshold_goes_through_files(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msg = build(test_pki, SBD, spool_dir=tmp_path, spool_threshold=64)
    assert msg.body is None and msg.body_path is not None and msg.body_path.parent == tmp_path
    recv_dir = tmp_path / "recv"
    recv_dir.mkdir()
    assert receive(test_pki, msg, recv_dir).payload_path.read_bytes() == SBD
