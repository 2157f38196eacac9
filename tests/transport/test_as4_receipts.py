"""Receipts (as4.md §6.1) and error signals (§6.2): building, parsing, sender-side verification."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
from lxml import etree

from peppol.xml import exc_c14n
from tests.transport.test_as4_roundtrip import build, receive
from transport.as4 import (
    build_error_signal,
    build_receipt,
    parse_signal,
    verify_receipt,
    verify_signal,
)
from transport.as4.constants import NS_DS, NS_EB, NS_EBBP
from transport.errors import InvalidReceipt, NotServiced, ProcessingModeMismatch


@pytest.fixture(scope="module")
def exchange(test_pki, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One sent message, its inbound processing and the receiver's signed receipt."""
    msg = build(test_pki)
    inbound = receive(test_pki, msg, tmp_path_factory.mktemp("recv"))
    receipt = build_receipt(inbound, signer=test_pki.aps[1].identity())
    return msg, inbound, receipt


def test_receipt_nrr_copies_received_references_verbatim(exchange) -> None:  # type: ignore[no-untyped-def]
    msg, inbound, receipt = exchange
    root = etree.fromstring(receipt)
    ns = {"eb": NS_EB, "ebbp": NS_EBBP, "ds": NS_DS}
    refs = root.findall(
        ".//eb:Receipt/ebbp:NonRepudiationInformation/ebbp:MessagePartNRInformation/ds:Reference", ns
    )
    assert len(refs) == 3
    sent_root = etree.fromstring(inbound.envelope)
    originals = sent_root.findall(".//ds:SignedInfo/ds:Reference", ns)
    assert [exc_c14n(r) for r in refs] == [exc_c14n(r) for r in originals]
    assert root.find(".//eb:MessagePartIdentifier", ns) is None
    assert root.findtext(".//eb:RefToMessageId", namespaces=ns) == msg.message_id


def test_receipt_is_signed_over_messaging_and_body(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    _, _, receipt = exchange
    signal, signer = verify_signal(receipt, certificate=test_pki.aps[1].identity().certificate)
    assert signal.kind == "receipt" and signal.signed
    assert signer == test_pki.aps[1].identity().certificate
    root = etree.fromstring(receipt)
    si_refs = root.findall(f".//{{{NS_DS}}}SignedInfo/{{{NS_DS}}}Reference")
    assert len(si_refs) == 2 and all(r.get("URI", "").startswith("#") for r in si_refs)


def test_verify_receipt_accepts_matching_receipt(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    validator = test_pki.ap_validator()
    signal = verify_receipt(
        receipt,
        sent=msg,
        receiver_certificate=test_pki.aps[1].identity().certificate,
        validate_signer=lambda c: validator.validate(c),
    )
    assert signal.ref_to_message_id == msg.message_id and len(signal.references) == 3


def test_receipt_for_other_message_id_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    other = dataclasses.replace(msg, message_id="someone-else@x")
    with pytest.raises(InvalidReceipt, match="refers to"):
        verify_receipt(receipt, sent=other, receiver_certificate=test_pki.aps[1].identity().certificate)


def test_receipt_nrr_digest_mismatch_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    bad_refs = list(msg.signed_references)
    bad_refs[2] = dataclasses.replace(bad_refs[2], digest_value=base64.b64encode(b"\0" * 32).decode())
    other = dataclasses.replace(msg, signed_references=tuple(bad_refs))
    with pytest.raises(InvalidReceipt, match="does not echo"):
        verify_receipt(receipt, sent=other, receiver_certificate=test_pki.aps[1].identity().certificate)


def test_receipt_signed_by_other_certificate_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    with pytest.raises(InvalidReceipt, match="another certificate"):
        verify_receipt(receipt, sent=msg, receiver_certificate=test_pki.aps[0].identity().certificate)


def test_receipt_signer_validation_failure_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange

    def refuse(cert):  # type: ignore[no-untyped-def]
        raise ValueError("revoked")

    with pytest.raises(InvalidReceipt, match="revoked"):
        verify_receipt(receipt, sent=msg, receiver_certificate=None, validate_signer=refuse)


def test_tampered_receipt_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    tampered = receipt.replace(msg.message_id.encode(), b"x" + msg.message_id.encode()[1:])
    with pytest.raises(InvalidReceipt, match="digest mismatch"):
        verify_receipt(tampered, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)


def test_unsigned_receipt_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    root = etree.fromstring(receipt)
    sec = root.find(
        ".//{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"
    )
    assert sec is not None
    sec.getparent().remove(sec)  # type: ignore[union-attr]
    unsigned = etree.tostring(root)
    assert parse_signal(unsigned).signed is False
    with pytest.raises(InvalidReceipt, match="not signed"):
        verify_receipt(unsigned, sent=msg, receiver_certificate=None)


def test_receipt_nrr_compared_semantically(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    """A receiver that re-prefixes the echoed references and adds whitespace still matches."""
    msg, inbound, _ = exchange
    refs = parse_signal(build_receipt(inbound, signer=test_pki.aps[1].identity())).references
    spaced = [
        dataclasses.replace(r, digest_value=r.digest_value[:10] + "\n " + r.digest_value[10:]) for r in refs
    ]
    assert all(a.matches(b) for a, b in zip(spaced, msg.signed_references, strict=True))


def test_error_signal_signed_with_protocol_fields(test_pki) -> None:  # type: ignore[no-untyped-def]
    body = build_error_signal(NotServiced(), ref_to_message_id="m1@x", signer=test_pki.aps[1].identity())
    signal, _ = verify_signal(body)
    assert signal.kind == "error" and signal.signed and signal.ref_to_message_id == "m1@x"
    (err,) = signal.errors
    assert (err.code, err.severity, err.short_description, err.detail) == (
        "EBMS:0004",
        "failure",
        "Other",
        "PEPPOL:NOT_SERVICED",
    )
    assert err.ref_to_message_in_error == "m1@x" and err.category == "Content" and err.description


def test_error_signal_unsigned_when_no_signer() -> None:
    body = build_error_signal(ProcessingModeMismatch("bad role"), ref_to_message_id=None, signer=None)
    signal = parse_signal(body)
    assert signal.kind == "error" and not signal.signed and signal.errors[0].code == "EBMS:0010"
    assert signal.errors[0].description == "bad role"


def test_verify_receipt_rejects_error_signal(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, _ = exchange
    body = build_error_signal(
        NotServiced(), ref_to_message_id=msg.message_id, signer=test_pki.aps[1].identity()
    )
    with pytest.raises(InvalidReceipt, match="error signal"):
        verify_receipt(body, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)


SOAP_FAULT = b"""<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">
<env:Header><eb:Messaging xmlns:eb="http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/">
<eb:SignalMessage><eb:MessageInfo><eb:Timestamp>2026-01-01T00:00:00Z</eb:Timestamp><eb:MessageId>e1@oxalis</eb:MessageId>
</eb:MessageInfo><eb:Error errorCode="EBMS:0101" severity="failure" shortDescription="FailedAuthentication"
refToMessageInError="m9@x"><eb:Description xml:lang="en">bad sig</eb:Description></eb:Error>
</eb:SignalMessage>
</eb:Messaging></env:Header><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code>
<env:Reason><env:Text xml:lang="en">bad sig</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>"""

FAULT_ONLY = b"""<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>
<env:Code><env:Value>env:Receiver</env:Value></env:Code>
<env:Reason><env:Text xml:lang="en">x</env:Text></env:Reason>
<env:Detail><eb:Error xmlns:eb="http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
errorCode="EBMS:0004" severity="failure" shortDescription="Other" refToMessageInError="m8@x">
<eb:ErrorDetail>PEPPOL:NOT_SERVICED</eb:ErrorDetail>
</eb:Error></env:Detail></env:Fault></env:Body></env:Envelope>"""


def test_parse_soap_fault_with_eb_error_in_header() -> None:
    signal = parse_signal(SOAP_FAULT, "application/soap+xml; charset=UTF-8")
    assert signal.kind == "error" and signal.errors[0].code == "EBMS:0101"
    assert signal.errors[0].description == "bad sig" and signal.ref_to_message_id == "m9@x"


@pytest.mark.parametrize("attribute", [b'errorCode="EBMS:0004" ', b'errorCode=" " '])
def test_eb_error_without_error_code_is_not_a_signal(attribute: bytes) -> None:
    """Found by strengthening the sender fuzz test: an eb:Error without errorCode (required by the ebMS
    schema) was read as an error with code '' and turned into a permanent failure without a code."""
    body = FAULT_ONLY.replace(b'errorCode="EBMS:0004" ', attribute.replace(b"EBMS:0004", b""), 1)
    assert body != FAULT_ONLY
    with pytest.raises(InvalidReceipt, match="eb:Error without an errorCode"):
        parse_signal(body)


def test_parse_soap_fault_with_eb_error_in_detail() -> None:
    signal = parse_signal(FAULT_ONLY)
    assert signal.kind == "error" and signal.errors[0].detail == "PEPPOL:NOT_SERVICED"
    assert signal.ref_to_message_id == "m8@x"


def test_parse_signal_mime_wrapped(exchange) -> None:  # type: ignore[no-untyped-def]
    _, _, receipt = exchange
    body = (
        b"--b1\r\nContent-Type: application/soap+xml\r\nContent-ID: <root@x>\r\n\r\n"
        + receipt
        + b"\r\n--b1--\r\n"
    )
    signal = parse_signal(
        body, 'multipart/related; boundary="b1"; type="application/soap+xml"; start="<root@x>"'
    )
    assert signal.kind == "receipt" and len(signal.references) == 3


_S12_ENV = '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope">{}<e:Body/></e:Envelope>'
_EB_NS = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not xml", "response is not acceptable XML"),
        (b"<a/>", r"response is not a SOAP 1\.2 envelope \(a\)"),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>',
            r"response is not a SOAP 1\.2 envelope",
        ),
        (_S12_ENV.format("").encode(), "neither an eb:SignalMessage nor a SOAP Fault with eb:Error"),
        (
            _S12_ENV.format(
                f'<e:Header><eb:Messaging xmlns:eb="{_EB_NS}"><eb:SignalMessage><eb:MessageInfo>'
                "<eb:MessageId>x@y</eb:MessageId></eb:MessageInfo></eb:SignalMessage></eb:Messaging></e:Header>"
            ).encode(),
            "eb:SignalMessage holds neither eb:Receipt nor eb:Error",
        ),
    ],
    ids=["not-xml", "not-soap", "soap11", "no-signal", "empty-signal"],
)
def test_parse_signal_rejects_non_signals(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidReceipt, match=reason) as info:
        parse_signal(body)
    assert info.value.code == "EBMS:0302"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"just text", "multipart response without parts"),
        (b"--b1--\r\n", "multipart response without parts"),
        (
            b"--b1\r\nContent-Type: multipart/mixed; boundary=b2\r\n\r\n"
            b"--b2\r\n\r\nx\r\n--b2--\r\n--b1--\r\n",
            "multipart response root part is empty",
        ),
    ],
    ids=["no-parts", "closing-delimiter-only", "nested-multipart-root"],
)
def test_parse_signal_broken_multipart_response(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidReceipt, match=reason):
        parse_signal(body, 'multipart/related; boundary="b1"; type="application/soap+xml"')


def test_receipt_roundtrip_file(tmp_path: Path, exchange) -> None:  # type: ignore[no-untyped-def]
    """The receipt bytes verify again after a store/load cycle (evidence kept on disk)."""
    msg, _, receipt = exchange
    path = tmp_path / "receipt.xml"
    path.write_bytes(receipt)
    assert verify_receipt(path.read_bytes(), sent=msg, receiver_certificate=None).kind == "receipt"


def test_error_signal_text_made_xml_safe_and_capped(test_pki) -> None:  # type: ignore[no-untyped-def]
    from transport.errors import InvalidHeader

    err = InvalidHeader("bad \x00\x1b header " + "x" * 5000, detail="ctl\x07")
    signal = parse_signal(build_error_signal(err, ref_to_message_id="m@x", signer=test_pki.aps[1].identity()))
    (got,) = signal.errors
    assert "\x00" not in got.description and "\ufffd" in got.description and len(got.description) <= 2000
    assert got.detail == "ctl\ufffd" and got.code == "EBMS:0009"


def test_receipt_references_need_the_received_security_header(exchange) -> None:  # type: ignore[no-untyped-def]
    """No receipt can echo the references of a message without a signature (NRR would be empty)."""
    from transport.as4.signals import received_reference_elements
    from transport.errors import FailedAuthentication

    _, inbound, _ = exchange
    assert len(received_reference_elements(inbound.envelope)) == 3
    root = etree.fromstring(inbound.envelope)
    security = root.find(
        ".//{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"
    )
    assert security is not None
    security.getparent().remove(security)  # type: ignore[union-attr]
    with pytest.raises(FailedAuthentication, match="carries no wsse:Security header"):
        received_reference_elements(etree.tostring(root))


# --- receipts re-signed by the receiver's own key: only the property named can fail -----------------

_WSSE = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
_EB = f"{{{NS_EB}}}"
_DS = f"{{{NS_DS}}}"


def _resigned(receipt: bytes, signer, *, edit=None, cover=("messaging", "body")) -> bytes:  # type: ignore[no-untyped-def]
    """``receipt`` edited by ``edit``, then signed again by ``signer`` over the elements in ``cover``."""
    from transport.as4.dsig import add_signature, xml_reference

    root = etree.fromstring(receipt)
    if edit is not None:
        edit(root)
    security = root.find(f".//{_WSSE}Security")
    assert security is not None
    old = security.find(f"{_DS}Signature")
    assert old is not None
    token_ref = old.find(f".//{_WSSE}Reference")
    assert token_ref is not None
    security.remove(old)
    targets = {
        "messaging": root.find(f".//{_EB}Messaging"),
        "body": root.find("{http://www.w3.org/2003/05/soap-envelope}Body"),
    }
    refs = [xml_reference(targets[name]) for name in cover]  # type: ignore[arg-type]
    add_signature(
        security,
        refs,
        signer.private_key,
        token_id=(token_ref.get("URI") or "")[1:],
        signature_id="SIG-resigned",
    )
    return etree.tostring(root)


def test_resigned_receipt_control_verifies(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    again = _resigned(receipt, test_pki.aps[1].identity())
    assert again != receipt
    verify_receipt(again, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)


def test_receipt_signature_not_covering_messaging_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    """A valid signature over the Body only says nothing about RefToMessageId or the NRR."""
    msg, _, receipt = exchange
    body_only = _resigned(receipt, test_pki.aps[1].identity(), cover=("body",))
    with pytest.raises(InvalidReceipt, match="does not cover the eb:Messaging"):
        verify_receipt(body_only, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)


def test_receipt_signature_not_covering_body_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    messaging_only = _resigned(receipt, test_pki.aps[1].identity(), cover=("messaging",))
    with pytest.raises(InvalidReceipt, match="does not cover the S12:Body"):
        verify_receipt(messaging_only, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)


def test_receipt_with_two_signatures_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, _, receipt = exchange
    root = etree.fromstring(receipt)
    security = root.find(f".//{_WSSE}Security")
    signature = None if security is None else security.find(f"{_DS}Signature")
    assert security is not None and signature is not None
    twin = etree.fromstring(etree.tostring(signature))
    twin.set("Id", "SIG-twin")
    security.append(twin)
    with pytest.raises(InvalidReceipt, match="exactly one ds:Signature"):
        verify_receipt(
            etree.tostring(root), sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate
        )


def test_receipt_echoing_an_extra_reference_rejected(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    """NRR must list exactly what we signed: one more (validly signed) reference is refused."""
    msg, _, receipt = exchange

    def add_reference(root: etree._Element) -> None:
        part = root.find(
            f".//{_EB}Receipt/{{{NS_EBBP}}}NonRepudiationInformation/{{{NS_EBBP}}}MessagePartNRInformation"
        )
        assert part is not None
        extra = etree.fromstring(etree.tostring(part))
        reference = extra.find(f"{_DS}Reference")
        assert reference is not None
        reference.set("URI", "#extra-part")
        part.addnext(extra)

    padded = _resigned(receipt, test_pki.aps[1].identity(), edit=add_reference)
    with pytest.raises(InvalidReceipt, match="receipt echoes 4 references, we signed 3"):
        verify_receipt(padded, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)
