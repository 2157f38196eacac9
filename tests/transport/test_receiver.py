"""Receiver core (``transport.receiver.receive``) called directly: flow, hook order, HTTP mapping."""

from __future__ import annotations

import base64
import io
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.transport.test_receiver_support import (
    Recorder,
    body_of,
    build_message,
    make_sbd,
    receiver_config,
    transform_envelope,
    ubl_invoice,
)
from transport.as4 import parse_signal, verify_receipt
from transport.receiver import (
    ReceiverResponse,
    Verdict,
    receive,
)


def post(
    pki: Any, work: Path, message: Any, recorder: Recorder, body: bytes | None = None, **kw: Any
) -> ReceiverResponse:
    config = kw.pop("config", None) or receiver_config(pki, work, recorder=recorder, **kw)
    data = body if body is not None else body_of(message)
    return receive({"Content-Type": message.content_type}, io.BytesIO(data), config, recorder.hooks())


def error_of(response: ReceiverResponse) -> tuple[str, str]:
    assert response.status == 200
    signal = parse_signal(response.body, response.content_type)
    assert signal.kind == "error" and signal.signed
    return signal.errors[0].code, signal.errors[0].detail


def test_accepted_message_gets_signed_receipt_after_the_ledger_stored_it(
    test_pki: Any, tmp_path: Path
) -> None:
    sbd = make_sbd()
    message = build_message(test_pki, sbd)
    recorder = Recorder()
    response = post(test_pki, tmp_path, message, recorder)
    assert response.status == 200
    assert response.content_type.startswith("application/soap+xml")
    assert response.decision.verdict is Verdict.ACCEPTED
    receipt = verify_receipt(response.body, sent=message, receiver_certificate=test_pki.aps[1].certificate())
    assert receipt.ref_to_message_id == message.message_id
    assert recorder.payloads == [sbd]
    persisted = recorder.persisted[0]
    assert persisted.message_id == message.message_id
    assert persisted.from_party == test_pki.aps[0].seat_id
    assert persisted.to_party == test_pki.aps[1].seat_id
    assert persisted.country_c1 == "FR"
    assert recorder.receipts == [response.body]
    # the per-request working directory is gone once receive() returns
    with pytest.raises(FileNotFoundError):
        persisted.sbd_path  # noqa: B018


def test_duplicate_message_id_gets_the_same_receipt_and_is_delivered_once(
    test_pki: Any, tmp_path: Path
) -> None:
    message = build_message(test_pki)
    recorder = Recorder()
    config = receiver_config(test_pki, tmp_path)
    first = post(test_pki, tmp_path, message, recorder, config=config)
    second = post(test_pki, tmp_path, message, recorder, config=config)
    assert first.decision.verdict is Verdict.ACCEPTED
    assert second.decision.verdict is Verdict.DUPLICATE
    assert second.body == first.body
    assert len(recorder.persisted) == 1


def test_concurrent_duplicates_are_delivered_once(test_pki: Any, tmp_path: Path) -> None:
    message = build_message(test_pki)
    recorder = Recorder()
    validator = test_pki.ap_validator()
    # Warm the validator first: concurrent first use of a fresh CertificateValidator races inside
    # asn1crypto's lazy parsing (reported to the PKI owner); this test is about duplicate handling.
    validator.validate(test_pki.aps[0].certificate())
    config = receiver_config(test_pki, tmp_path, validator=validator)
    results: list[ReceiverResponse] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(post(test_pki, tmp_path, message, recorder, config=config))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(recorder.persisted) == 1
    decisions = [(r.decision.verdict, str(r.decision.error)) for r in results]
    assert len({r.body for r in results}) == 1, decisions
    assert sorted(r.decision.verdict for r in results).count(Verdict.ACCEPTED) == 1


def test_not_served_is_ebms_0004_peppol_not_serviced(test_pki: Any, tmp_path: Path) -> None:
    recorder = Recorder(served=False)
    response = post(test_pki, tmp_path, build_message(test_pki), recorder)
    assert error_of(response) == ("EBMS:0004", "PEPPOL:NOT_SERVICED")
    assert recorder.persisted == []


def test_ledger_failure_is_0202_and_nothing_acknowledged(test_pki: Any, tmp_path: Path) -> None:
    message = build_message(test_pki)
    recorder = Recorder(fail=True)
    config = receiver_config(test_pki, tmp_path, recorder=recorder)
    response = post(test_pki, tmp_path, message, recorder, config=config)
    code, _ = error_of(response)
    assert code == "EBMS:0202"
    assert recorder.ledger.find(message.message_id) is None
    assert recorder.receipts == []
    # the sender retries once storage is back: now accepted
    recorder.fail = False
    retry = post(test_pki, tmp_path, message, recorder, config=config)
    assert retry.decision.verdict is Verdict.ACCEPTED
    assert len(recorder.persisted) == 1


def test_sbdh_inconsistent_with_ebms_header_is_0004_with_sbdh_code(test_pki: Any, tmp_path: Path) -> None:
    message = build_message(test_pki, header_overrides={"final_recipient": "0088:9999999999999"})
    recorder = Recorder()
    response = post(test_pki, tmp_path, message, recorder)
    code, detail = error_of(response)
    assert code == "EBMS:0004"
    assert detail.startswith("as4-final-recipient-mismatch:"), detail
    assert "0088:9999999999999" in detail
    assert recorder.persisted == []


def test_payload_that_is_not_an_sbd_is_0004(test_pki: Any, tmp_path: Path) -> None:
    message = build_message(test_pki, b"<NotAnSbd/>")
    recorder = Recorder()
    code, detail = error_of(post(test_pki, tmp_path, message, recorder))
    assert code == "EBMS:0004"
    assert detail.startswith("invalid-sbd-xml:") and "NotAnSbd" in detail, detail
    assert recorder.persisted == []


def test_content_type_that_is_not_soap_is_plain_415(test_pki: Any, tmp_path: Path) -> None:
    config = receiver_config(test_pki, tmp_path)
    response = receive({"Content-Type": "text/plain"}, io.BytesIO(b"hello"), config, Recorder().hooks())
    assert response.status == 415
    assert response.content_type.startswith("text/plain")
    assert response.decision.verdict is Verdict.MALFORMED


def test_soap_part_that_is_not_xml_is_plain_400(test_pki: Any, tmp_path: Path) -> None:
    config = receiver_config(test_pki, tmp_path)
    response = receive(
        {"content-type": "application/soap+xml"}, io.BytesIO(b"not xml"), config, Recorder().hooks()
    )
    assert response.status == 400
    assert response.decision.verdict is Verdict.MALFORMED


def test_soap_envelope_without_messaging_is_signed_0009(test_pki: Any, tmp_path: Path) -> None:
    config = receiver_config(test_pki, tmp_path)
    env = b'<S12:Envelope xmlns:S12="http://www.w3.org/2003/05/soap-envelope"><S12:Body/></S12:Envelope>'
    response = receive({"content-type": "application/soap+xml"}, io.BytesIO(env), config, Recorder().hooks())
    code, _ = error_of(response)
    assert code == "EBMS:0009"


def test_user_message_without_its_attachment_is_rejected(test_pki: Any, tmp_path: Path) -> None:
    message = build_message(test_pki)
    recorder = Recorder()
    config = receiver_config(test_pki, tmp_path)
    hooks = recorder.hooks()
    response = receive({"content-type": "application/soap+xml"}, io.BytesIO(message.envelope), config, hooks)
    code, _ = error_of(response)
    assert code == "EBMS:0007"
    assert recorder.persisted == []


def test_base64_attachment_start_parameter_and_bom_are_accepted(test_pki: Any, tmp_path: Path) -> None:
    """The same message re-wrapped the way Axis2/CXF stacks send it: start=, Content-ID on the root,
    a base64 attachment, a BOM before the envelope."""
    from transport.mime import parse_content_type, read_message

    message = build_message(test_pki)
    parsed = read_message(message.content_type, io.BytesIO(body_of(message)), tmp_path)
    att = parsed.attachments[0]
    boundary = "=_alt_boundary_42"
    body = (
        f"--{boundary}\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n"
        "Content-ID: <root.part@x>\r\n\r\n"
    ).encode()
    body += b"\xef\xbb\xbf" + parsed.envelope
    body += (
        f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-ID: {att.content_id}\r\n\r\n"
    ).encode()
    body += base64.encodebytes(att.path.read_bytes()) + f"\r\n--{boundary}--\r\n".encode()
    content_type = (
        f'multipart/related; type="application/soap+xml"; boundary="{boundary}"; start="<root.part@x>"'
    )
    assert parse_content_type(content_type)[1]["boundary"] == boundary
    recorder = Recorder()
    config = receiver_config(test_pki, tmp_path / "w")
    (tmp_path / "w").mkdir()
    response = receive({"Content-Type": content_type}, io.BytesIO(body), config, recorder.hooks())
    assert response.decision.verdict is Verdict.ACCEPTED, response.decision
    assert len(recorder.persisted) == 1


def test_transform_envelope_identity_keeps_message_valid(test_pki: Any, tmp_path: Path) -> None:
    """Control for the helper the security tests use: splitting and re-joining the body changes nothing."""
    message = build_message(test_pki)
    body = transform_envelope(body_of(message), lambda env: env, message.content_type)
    recorder = Recorder()
    assert post(test_pki, tmp_path, message, recorder, body=body).decision.verdict is Verdict.ACCEPTED
    assert len(recorder.persisted) == 1


def test_tampered_envelope_via_helper_is_rejected_0101(test_pki: Any, tmp_path: Path) -> None:
    """One character more in the signed eb:ConversationId: the eb:Messaging digest no longer matches."""
    message = build_message(test_pki)
    body = transform_envelope(
        body_of(message),
        lambda env: env.replace(b"<eb:ConversationId>", b"<eb:ConversationId>x", 1),
        message.content_type,
    )
    assert body != body_of(message)
    recorder = Recorder()
    code, detail = error_of(post(test_pki, tmp_path, message, recorder, body=body))
    assert code == "EBMS:0101"
    assert "digest mismatch for reference '#msg-" in detail
    assert recorder.persisted == []


def test_spooling_failure_is_plain_503_not_a_crash(test_pki: Any, tmp_path: Path) -> None:
    class FailingBody(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise OSError("disk unplugged")

    message = build_message(test_pki)
    config = receiver_config(test_pki, tmp_path)
    response = receive({"Content-Type": message.content_type}, FailingBody(), config, Recorder().hooks())  # type: ignore[arg-type]
    assert response.status == 503
    assert response.decision.verdict is Verdict.MALFORMED


def test_message_id_reused_for_another_message_is_0004_and_not_delivered(
    test_pki: Any, tmp_path: Path
) -> None:
    """Another message (other content) under a stored MessageId gets neither the first receipt nor a
    delivery."""
    recorder = Recorder()
    config = receiver_config(test_pki, tmp_path, recorder=recorder)
    first = build_message(test_pki, make_sbd(), message_id="same-id@test")
    other = build_message(test_pki, make_sbd(ubl_invoice("other")), message_id="same-id@test")
    assert post(test_pki, tmp_path, first, recorder, config=config).decision.verdict is Verdict.ACCEPTED
    code, _ = error_of(post(test_pki, tmp_path, other, recorder, config=config))
    assert code == "EBMS:0004"
    assert len(recorder.persisted) == 1
