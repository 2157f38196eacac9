"""Adversarial review of the inbound AS4 path (``transport.receiver.receive`` called directly).

The attacker can POST any body to ``/as4``, knows every partner certificate, and may hold a valid
Peppol AP key of its own (another seat: here ``aps[0]`` or ``aps[1]`` of the session test PKI). Each
test is named after the requirement it checks; the gaps it found are fixed in ``transport.receiver``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from peppol.xml import exc_c14n
from tests.transport.test_receiver_support import (
    Recorder,
    body_of,
    build_message,
    make_sbd,
    receiver_config,
    transform_envelope,
    ubl_invoice,
)
from transport.as4 import parse_signal
from transport.as4.dsig import b64, digest_element
from transport.receiver import (
    ReceiverConfig,
    ReceiverResponse,
    Verdict,
    receive,
)


def post(
    config: ReceiverConfig, message: Any, recorder: Recorder, body: bytes | None = None
) -> ReceiverResponse:
    data = body if body is not None else body_of(message)
    return receive({"Content-Type": message.content_type}, io.BytesIO(data), config, recorder.hooks())


def error_code(response: ReceiverResponse) -> str:
    """The code of the signed ebMS error signal in ``response`` (fails on a receipt)."""
    assert response.status == 200
    signal = parse_signal(response.body, response.content_type)
    assert signal.kind == "error" and signal.signed, signal
    return signal.errors[0].code


# --- as4.md §3.2 / §7.3 item 6: To/PartyId is the receiver's seat ------------------------------------


def test_to_party_must_be_our_own_seat_0004(test_pki: Any, tmp_path: Path) -> None:
    """A message encrypted for us but addressed (signed eb:To/PartyId) to another AP's seat is refused
    with EBMS:0004 (as4.md §7.3 item 6) and never delivered."""
    message = build_message(test_pki, header_overrides={"to_party": "PFR999999"})
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder)
    assert error_code(response) == "EBMS:0004"
    assert "PFR999999" in (response.decision.reason or "")
    assert recorder.persisted == []


def test_to_party_of_our_seat_is_accepted(test_pki: Any, tmp_path: Path) -> None:
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), build_message(test_pki), recorder)
    assert response.decision.verdict is Verdict.ACCEPTED
    assert len(recorder.persisted) == 1


# --- as4.md §7.1 / conformance.md §12 item 7: duplicates ----------------------------------------------


def test_reused_message_id_from_another_seat_does_not_get_the_stored_receipt(
    test_pki: Any, tmp_path: Path
) -> None:
    """Duplicate detection keys on eb:MessageId, but the stored receipt is only an answer to a *resend*
    of the same message. Another AP (own valid key, other seat) posting a different message under a
    MessageId it has learnt must not receive the first sender's NRR receipt (its digests describe the
    first sender's payload) nor be counted as delivered: EBMS:0004, nothing persisted."""
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    original = build_message(test_pki, message_id="shared-id@victim")
    first = post(config, original, recorder)
    assert first.decision.verdict is Verdict.ACCEPTED
    intruder = build_message(
        test_pki,
        make_sbd(ubl_invoice("forged")),
        signer=test_pki.aps[1].identity(),
        message_id="shared-id@victim",
    )
    second = post(config, intruder, recorder)
    assert second.body != first.body
    assert error_code(second) == "EBMS:0004"
    assert second.decision.verdict is Verdict.REJECTED
    assert len(recorder.persisted) == 1


def test_reused_message_id_with_different_content_same_sender_is_refused(
    test_pki: Any, tmp_path: Path
) -> None:
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    assert (
        post(config, build_message(test_pki, message_id="m@x"), recorder).decision.verdict is Verdict.ACCEPTED
    )
    other = build_message(test_pki, make_sbd(ubl_invoice("other")), message_id="m@x")
    response = post(config, other, recorder)
    assert error_code(response) == "EBMS:0004"
    assert len(recorder.persisted) == 1


def test_identical_resend_still_gets_the_stored_receipt(test_pki: Any, tmp_path: Path) -> None:
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    message = build_message(test_pki)
    first = post(config, message, recorder)
    again = post(config, message, recorder)
    assert again.decision.verdict is Verdict.DUPLICATE and again.body == first.body
    assert len(recorder.persisted) == 1


# --- as4.md §3.2: Service/@type = SBDH PROCESSID scheme -------------------------------------------------


def test_service_type_must_equal_sbdh_process_scheme_0004(test_pki: Any, tmp_path: Path) -> None:
    """The signed eb:Service/@type must be the SBDH process scheme (as4.md §3.2); a mismatch is 0004."""
    message = build_message(test_pki, header_overrides={"service_type": "urn:attacker:scheme"})
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder)
    assert error_code(response) == "EBMS:0004"
    assert recorder.persisted == []


# --- attacks verified to be refused already (regression guards) ----------------------------------------


def test_signal_message_posted_as_user_message_is_refused_0009(test_pki: Any, tmp_path: Path) -> None:
    """A receipt (eb:SignalMessage, signed by us) POSTed back to our endpoint is not a UserMessage."""
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    message = build_message(test_pki)
    receipt = post(config, message, recorder).body
    response = receive(
        {"Content-Type": "application/soap+xml; charset=UTF-8"}, io.BytesIO(receipt), config, recorder.hooks()
    )
    assert error_code(response) == "EBMS:0009"
    assert len(recorder.persisted) == 1


def test_soap11_envelope_is_refused(test_pki: Any, tmp_path: Path) -> None:
    message = build_message(test_pki)
    body = transform_envelope(
        body_of(message),
        lambda env: env.replace(
            b"http://www.w3.org/2003/05/soap-envelope", b"http://schemas.xmlsoap.org/soap/envelope/"
        ),
        message.content_type,
    )
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder, body)
    assert response.status == 400
    assert response.decision.verdict is Verdict.MALFORMED
    assert "SOAP 1.2" in (response.decision.reason or "")
    assert recorder.persisted == []


def test_xpointer_reference_uri_is_refused_0101(test_pki: Any, tmp_path: Path) -> None:
    """``#xpointer(id('x'))`` is not resolved by a different lookup than the coverage check: refused.
    SignedInfo is re-signed with the sender's own key, so only the reference itself can be the reason."""
    message = build_message(test_pki)
    key = test_pki.aps[0].identity().private_key

    def xpointer(env: bytes) -> bytes:
        ref = rb'<ds:Reference URI="#([^"]*)"'
        assert re.search(ref, env)
        edited = re.sub(
            ref, lambda m: b"<ds:Reference URI=\"#xpointer(id('" + m.group(1) + b"'))\"", env, count=1
        )
        return resigned_signed_info(edited, key)

    body = transform_envelope(body_of(message), xpointer, message.content_type)
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder, body)
    assert error_code(response) == "EBMS:0101"
    reason = response.decision.reason or ""
    assert "SignatureValue" not in reason and "digest mismatch" not in reason, reason
    assert re.search("does not cover the eb:Messaging|does not resolve|xpointer", reason), reason
    assert recorder.persisted == []


def test_double_cid_scheme_in_part_href_delivers_the_signed_part(test_pki: Any, tmp_path: Path) -> None:
    """``cid:cid:x`` must not make the signed part and the delivered part differ. The edited (validly
    re-signed) href resolves, like the signature's ``cid:`` reference, to the one signed attachment:
    what is delivered is byte for byte the SBD that was signed."""
    sbd = make_sbd(ubl_invoice("double cid"))
    message = build_message(test_pki, sbd)
    key = test_pki.aps[0].identity().private_key

    def double(root: etree._Element) -> None:
        parts = root.findall(".//eb:PartInfo", NS)
        assert len(parts) == 1
        parts[0].set("href", "cid:" + (parts[0].get("href") or ""))

    body = transform_envelope(body_of(message), lambda env: resigned(env, double, key), message.content_type)
    assert b'href="cid:cid:' in body
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder, body)
    assert response.decision.verdict is Verdict.ACCEPTED, response.decision
    assert recorder.payloads == [sbd]


def test_double_cid_href_edited_without_resigning_is_refused_0101(test_pki: Any, tmp_path: Path) -> None:
    """The same edit by someone without the sender's key breaks the signed eb:Messaging digest."""
    message = build_message(test_pki)
    body = transform_envelope(
        body_of(message), lambda env: env.replace(b'href="cid:', b'href="cid:cid:'), message.content_type
    )
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder, body)
    assert error_code(response) == "EBMS:0101"
    assert "digest mismatch for reference '#msg-" in (response.decision.reason or "")
    assert recorder.persisted == []


# --- helpers that re-sign an edited envelope with a real AP key (the attacker's own seat) -------------

NS = {
    "S12": "http://www.w3.org/2003/05/soap-envelope",
    "eb": "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}


def resigned(env: bytes, edit: Callable[[etree._Element], None], key: rsa.RSAPrivateKey) -> bytes:
    """``env`` edited by ``edit``, then every ``#id`` digest and the SignatureValue recomputed with
    ``key`` (what a holder of a valid AP key can do to its own messages)."""
    root = etree.fromstring(env)
    edit(root)
    sig = root.find("S12:Header/wsse:Security/ds:Signature", NS)
    assert sig is not None
    signed_info = sig.find("ds:SignedInfo", NS)
    assert signed_info is not None
    for ref in signed_info.iterfind("ds:Reference", NS):
        uri = ref.get("URI") or ""
        if uri.startswith("#"):
            found = root.xpath("//*[@wsu:Id=$i or @Id=$i or @id=$i]", namespaces=NS, i=uri[1:])
            assert isinstance(found, list) and len(found) == 1
            target = found[0]
            assert isinstance(target, etree._Element)
            digest = ref.find("ds:DigestValue", NS)
            assert digest is not None
            digest.text = digest_element(target)
    value = sig.find("ds:SignatureValue", NS)
    assert value is not None
    value.text = b64(key.sign(exc_c14n(signed_info), padding.PKCS1v15(), hashes.SHA256()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def resigned_signed_info(env: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """``env`` with only its SignatureValue recomputed over the (edited) SignedInfo with ``key``."""
    root = etree.fromstring(env)
    signed_info = root.find("S12:Header/wsse:Security/ds:Signature/ds:SignedInfo", NS)
    value = root.find("S12:Header/wsse:Security/ds:Signature/ds:SignatureValue", NS)
    assert signed_info is not None and value is not None
    value.text = b64(key.sign(exc_c14n(signed_info), padding.PKCS1v15(), hashes.SHA256()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_resign_helper_keeps_message_valid(test_pki: Any, tmp_path: Path) -> None:
    message = build_message(test_pki)
    key = test_pki.aps[0].identity().private_key
    body = transform_envelope(
        body_of(message), lambda env: resigned(env, lambda r: None, key), message.content_type
    )
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder, body)
    assert response.decision.verdict is Verdict.ACCEPTED


# --- ebMS bundling: the duplicate key must be the delivered UserMessage's MessageId -------------------


def test_signal_bundled_before_user_message_is_refused_0009(test_pki: Any, tmp_path: Path) -> None:
    """An eb:SignalMessage bundled in front of the UserMessage made the receiver key duplicate
    detection (and the persisted message id) on the *signal's* MessageId while delivering the
    UserMessage: a sender could re-deliver one UserMessage at will (or squat another MessageId). Peppol
    One-Way/Push carries exactly one UserMessage: EBMS:0009, nothing delivered."""
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    message = build_message(test_pki)
    assert post(config, message, recorder).decision.verdict is Verdict.ACCEPTED
    key = test_pki.aps[0].identity().private_key

    def bundle(root: etree._Element) -> None:
        messaging = root.find("S12:Header/eb:Messaging", NS)
        assert messaging is not None
        signal = etree.Element(f"{{{NS['eb']}}}SignalMessage")
        info = etree.SubElement(signal, f"{{{NS['eb']}}}MessageInfo")
        etree.SubElement(info, f"{{{NS['eb']}}}Timestamp").text = "2026-01-01T00:00:00Z"
        etree.SubElement(info, f"{{{NS['eb']}}}MessageId").text = "decoy@attacker"
        messaging.insert(0, signal)

    body = transform_envelope(body_of(message), lambda env: resigned(env, bundle, key), message.content_type)
    response = post(config, message, recorder, body)
    assert error_code(response) == "EBMS:0009"
    assert "must not bundle an eb:SignalMessage" in (response.decision.reason or "")
    assert len(recorder.persisted) == 1


# --- size of what an accepted message makes us keep (duplicate store, receipt) ---------------------


def test_oversized_message_id_is_refused_0009(test_pki: Any, tmp_path: Path) -> None:
    """eb:MessageId is an RFC 2822 msg-id (a line of at most 998 characters). A multi-megabyte id from
    a valid AP would be kept twice per message (duplicate key and receipt RefToMessageId)."""
    message = build_message(test_pki, message_id="x" * 200_000 + "@big")
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    response = post(config, message, recorder)
    assert error_code(response) == "EBMS:0009"
    assert "eb:MessageId has 200004 characters (at most 998)" in (response.decision.reason or "")
    assert recorder.persisted == [] and len(response.body) < 20_000


def test_oversized_signed_info_is_refused_0103(test_pki: Any, tmp_path: Path) -> None:
    """Our receipt echoes every ds:Reference as received, so a bloated SignedInfo (here a 150 KB
    InclusiveNamespaces PrefixList, validly signed by the sender's own key) would be signed by us and
    kept per MessageId. SignedInfo is capped (a real one is ~2 KB)."""
    message = build_message(test_pki)
    key = test_pki.aps[0].identity().private_key

    def bloat(root: etree._Element) -> None:
        transform = root.find(".//ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform", NS)
        assert transform is not None
        inc = etree.SubElement(transform, "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces")
        inc.set("PrefixList", " ".join(f"p{i}" for i in range(20_000)))

    body = transform_envelope(body_of(message), lambda env: resigned(env, bloat, key), message.content_type)
    recorder = Recorder()
    response = post(receiver_config(test_pki, tmp_path), message, recorder, body)
    assert error_code(response) == "EBMS:0103"
    assert recorder.persisted == []
