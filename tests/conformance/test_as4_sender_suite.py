"""The sending-side AS4 suite (``ap conformance as4-sender``) fed by our own sender over TLS on loopback:
``exchange.prepare`` + ``attempt`` for the profile message, ``As4Sender.send`` (small attempts and
interval) for the faults. Our sender conforms and its retry behaviour is reported per fault; messages
re-signed with RSA-SHA1 or stripped of their BinarySecurityToken are reported with reasons naming the
deviation."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conformance.as4.build import sign_signed_info
from conformance.as4_sender import FAULTS, SenderSuite, SenderSuiteConfig, start_endpoint, tls_context
from conformance.model import Run
from conformance.reports import write_reports
from exchange import FixedEndpoint, OutboundRequest, PreparedMessage, attempt, prepare
from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2, Endpoint
from peppol.identifiers import ParticipantId
from tests.transport.test_receiver_support import RECEIVER, SENDER, ubl_invoice
from transport.as4 import OutboundMessage
from transport.as4.constants import ALG_RSA_SHA1, NS_DS, NS_WSSE, NS_WSU
from transport.sender import As4Sender

DS, WSSE = f"{{{NS_DS}}}", f"{{{NS_WSSE}}}"
#: Small timings: the sender times out after 1 s on a held connection and retries after 0.1 s (a retry is
#: waited for 5 s: generous on a loaded machine; a sender that never retries costs that wait).
FAST = {"timeout": 30.0, "retry_wait": 5.0, "quiet": 0.5, "hold": 15.0}


def message(test_pki: Any, url: str) -> PreparedMessage:
    request = OutboundRequest(
        ubl_invoice(f"doc {uuid.uuid4()}"), ParticipantId.parse(SENDER), ParticipantId.parse(RECEIVER), "FR"
    )
    endpoint = Endpoint(url, TRANSPORT_PROFILE_AS4_V2, test_pki.aps[1].certificate())
    return prepare(
        request, validator=None, resolver=FixedEndpoint(endpoint), identity=test_pki.aps[0].identity()
    )


def run_suite(
    test_pki: Any, send: Callable[[str], None], *, faults: tuple[str, ...] = (), **timings: float
) -> Run:
    """Start the suite (TLS, port 0), let ``send(url)`` feed it, return its run."""
    config = SenderSuiteConfig(
        identity=test_pki.aps[1].identity(),
        validate_signer=test_pki.ap_validator().validate,
        faults=[f for f in FAULTS if f.name in faults],
        **(FAST | timings),
    )
    suite = SenderSuite(config)
    tls = tls_context(test_pki.tls_server_chain, test_pki.tls_server.key)
    endpoint = start_endpoint(suite.dispatch, tls=tls)
    try:
        feeder = threading.Thread(target=send, args=(endpoint.url,), daemon=True)
        feeder.start()
        run = suite.run(endpoint.url)
        feeder.join(timeout=30)
    finally:
        endpoint.stop()
    return run


@pytest.fixture
def sender(test_pki: Any) -> Iterator[As4Sender]:
    with As4Sender(
        ca_bundle=test_pki.tls_truststore, validate_signer=test_pki.ap_validator().validate, read_timeout=1.0
    ) as client:
        yield client


def cases(run: Run) -> dict[str, Any]:
    return {c.id: c for c in run.cases}


def test_our_sender_conforms_and_its_retries_are_reported_per_fault(
    test_pki: Any, sender: As4Sender, tmp_path: Path
) -> None:
    outcomes: dict[str, Any] = {}

    def send(url: str) -> None:
        first = message(test_pki, url)
        outcomes["profile"] = attempt(first, first.endpoint, sender=sender)
        for fault in FAULTS:
            built = message(test_pki, url)
            outcomes[fault.name] = sender.send(
                built.message, url, built.receiver_certificate, attempts=3, retry_interval=0.1
            )

    run = run_suite(test_pki, send, faults=tuple(f.name for f in FAULTS))
    assert outcomes["profile"].delivered, outcomes["profile"]
    by_id = cases(run)
    not_passed = {k: c.reason for k, c in by_id.items() if c.outcome.value != "passed"}
    assert not_passed == {}
    assert run.exit_code == 0 and run.verdict == "SUCCESS"
    assert len([c for c in run.cases if c.group == "profile"]) >= 20
    assert by_id["as4s.profile.later-messages"].reason == "All 5 later message(s) pass every profile check."
    # What our sender did, per fault (attempts counted on our side and on the suite's side agree).
    assert outcomes["ebms-0004"].attempts == 1 and not outcomes["ebms-0004"].delivered
    for name in ("http-500", "ebms-0005", "no-answer-close", "late-receipt"):
        assert outcomes[name].delivered and outcomes[name].attempts == 2, (name, outcomes[name])
        case = by_id[f"as4s.fault.{name}"]
        assert case.actual.startswith("2 attempt(s), same MessageId, identical bytes, time between attempts")
        assert "stopped at the receipt; the document was delivered once" in case.reason
    assert by_id["as4s.fault.ebms-0004"].actual == "1 attempt(s), same MessageId, identical bytes"
    assert by_id["as4s.fault.ebms-0004"].reason.startswith(
        "The sender did not retry after the permanent error"
    )
    assert "the sender hung up" in by_id["as4s.fault.late-receipt"].details[0]
    assert "stored receipt (duplicate)" in by_id["as4s.fault.late-receipt"].details[1]
    paths = write_reports(run, tmp_path / "report")
    report = json.loads(paths.json.read_text())
    assert report["header"]["result"] == "SUCCESS"
    fault = next(c for c in report["cases"] if c["id"] == "as4s.fault.http-500")
    assert fault["public_id"] == "eSENS_TA10" and fault["http_status"] == 500
    assert {"attempt-1.request.mime", "attempt-2.response.http"} <= {
        p.rsplit("/", 1)[-1] for p in fault["evidence"]
    }


def _retries_nothing(test_pki: Any, sender: As4Sender) -> Callable[[str], None]:
    """A sender without retries whose third message is signed with RSA-SHA1."""

    def send(url: str) -> None:
        first = message(test_pki, url)
        attempt(first, first.endpoint, sender=sender)
        for number in (2, 3):  # one attempt each: a sender without retries
            built = message(test_pki, url).message
            if number == 3:
                built = _rework(built, resign_rsa_sha1(test_pki))
            sender.send(built, url, test_pki.aps[1].certificate(), attempts=1)

    return send


def test_a_sender_that_never_retries_fails_the_retry_cases_and_keeps_the_permanent_one(
    test_pki: Any, sender: As4Sender
) -> None:
    run = run_suite(
        test_pki, _retries_nothing(test_pki, sender), faults=("http-500", "ebms-0004"), retry_wait=1.0
    )
    by_id = cases(run)
    assert by_id["as4s.fault.http-500"].outcome.value == "failed"
    assert by_id["as4s.fault.http-500"].reason.startswith(
        "The sender did not retry after HTTP 500 without a signal"
    )
    assert by_id["as4s.fault.ebms-0004"].outcome.value == "passed"
    later = by_id["as4s.profile.later-messages"]
    assert later.outcome.value == "failed"
    assert later.reason.startswith("1 deviation(s) in later messages, first: message 3 (")
    assert (
        "as4s.sig.algorithm: The signature method is http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        in later.reason
    )
    assert by_id["as4s.sig.algorithm"].outcome.value == "passed"  # message 1 was fine
    assert run.exit_code == 1


# --- deviations: our message re-worked after building -----------------------------------------------


def _rework(message: OutboundMessage, edit: Callable[[etree._Element], None]) -> OutboundMessage:
    """``message`` with its SOAP part edited (the MIME around it unchanged)."""
    root = etree.fromstring(message.envelope)
    edit(root)
    envelope = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert message.body is not None and message.envelope in message.body
    return replace(message, body=message.body.replace(message.envelope, envelope), envelope=envelope)


def resign_rsa_sha1(test_pki: Any) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        signature = root.find(f".//{DS}Signature")
        assert signature is not None
        signature.find(f"{DS}SignedInfo/{DS}SignatureMethod").set("Algorithm", ALG_RSA_SHA1)  # type: ignore[union-attr]
        sign_signed_info(signature, test_pki.aps[0].identity().private_key, ALG_RSA_SHA1)

    return edit


def drop_signing_token(root: etree._Element) -> None:
    """The signer's BST removed, the signature's KeyInfo carrying the certificate as ds:X509Data."""
    key_info = root.find(f".//{DS}Signature/{DS}KeyInfo")
    assert key_info is not None
    token_id = key_info.find(f"{WSSE}SecurityTokenReference/{WSSE}Reference").get("URI")[1:]  # type: ignore[union-attr]
    token = next(t for t in root.iter(f"{WSSE}BinarySecurityToken") if t.get(f"{{{NS_WSU}}}Id") == token_id)
    der = token.text
    token.getparent().remove(token)  # type: ignore[union-attr]
    for child in list(key_info):
        key_info.remove(child)
    etree.SubElement(etree.SubElement(key_info, f"{DS}X509Data"), f"{DS}X509Certificate").text = der
    assert der and base64.b64decode(der)


@pytest.mark.parametrize(
    ("edit_name", "case_id", "reason_part"),
    [
        ("rsa-sha1", "as4s.sig.algorithm", "rsa-sha1 (RSA-SHA1), not RSA-SHA256"),
        (
            "no-bst",
            "as4s.sig.bst",
            "not a direct reference to a wsse:BinarySecurityToken (ds:KeyInfo holds: X509",
        ),
    ],
)
def test_a_deviating_message_is_reported_with_a_reason_naming_it(
    test_pki: Any, sender: As4Sender, edit_name: str, case_id: str, reason_part: str
) -> None:
    edit = resign_rsa_sha1(test_pki) if edit_name == "rsa-sha1" else drop_signing_token
    answers: list[Any] = []

    def send(url: str) -> None:
        built = message(test_pki, url)
        answers.append(sender.post(_rework(built.message, edit), url, built.receiver_certificate))

    run = run_suite(test_pki, send)
    by_id = cases(run)
    failed = {k for k, c in by_id.items() if c.outcome.value != "passed"}
    # Only the deviation and the strict receiver's refusal (EBMS:0103) fail; everything else still holds.
    assert failed == {case_id, "as4s.receiver.accepted"}, {k: by_id[k].reason for k in failed}
    assert reason_part in by_id[case_id].reason
    assert by_id["as4s.receiver.accepted"].ebms_code == "EBMS:0103"
    assert answers[0].code == "EBMS:0103" and not answers[0].delivered
    assert run.exit_code == 1


def test_cli_reports_and_exit_code(test_pki: Any, sender: As4Sender, tmp_path: Path) -> None:
    report_dir = tmp_path / "report"
    args = [
        sys.executable, "-m", "access_point.cli", "conformance", "as4-sender", "--port", "0",
        "--key", str(test_pki.aps[1].key), "--cert", str(test_pki.aps[1].cert),
        "--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl),
        "--tls-cert", str(test_pki.tls_server_chain), "--tls-key", str(test_pki.tls_server.key),
        "--faults", "ebms-0004", "--quiet", "0.3", "--timeout", "30", "--report-dir", str(report_dir),
        "--no-progress",
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        found = re.search(r"listening on (https://127\.0\.0\.1:\d+/as4): send 2 message", line)
        assert found, line + process.stderr.read().decode()
        url = found.group(1)
        first = message(test_pki, url)
        assert attempt(first, first.endpoint, sender=sender).delivered
        second = message(test_pki, url)
        assert sender.send(second.message, url, second.receiver_certificate, attempts=2).code == "EBMS:0004"
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out.decode() + err.decode()
    assert out.decode().startswith("SUCCESS: 24 passed, 0 failed")
    report = json.loads((report_dir / "report.json").read_text())
    assert report["header"]["suite"] == "as4-sender" and report["header"]["exit_code"] == 0
    assert (report_dir / "junit.xml").is_file() and (report_dir / "report.html").is_file()


# --- the fault verdicts on recorded attempts (no network) --------------------------------------------


def recorded(*answers: tuple[str, bytes], hung_up: bool = True) -> list[Any]:
    """Attempts of one message 0.5 s apart, each (answer label, body)."""
    from conformance.as4_sender.endpoint import Action, Attempt

    out = []
    for i, (label, body) in enumerate(answers):
        kind = "hold" if label.startswith("held") else "answer"
        attempt_ = Attempt(i + 1, 1000.0 + i / 2, 50.0 + i / 2, {}, body, "127.0.0.1:1", message_id="m@x")
        attempt_.action = Action(kind, label=label)  # type: ignore[arg-type]
        attempt_.client_hung_up, attempt_.held, attempt_.finished = hung_up, 1.0, 50.1 + i / 2
        out.append(attempt_)
    return out


def verdict(fault_name: str, attempts: list[Any], receipts: list[bool], **kw: Any) -> Any:
    from conformance.as4_sender.faults import judge

    fault = next(f for f in FAULTS if f.name == fault_name)
    args: dict[str, Any] = {"deliveries": 1, "other_ids_same_document": [], "waited": 2.0} | kw
    return judge(fault, attempts, envelopes=[None] * len(attempts), receipt_given=receipts, **args)


def test_fault_verdicts_name_what_the_sender_did_wrong() -> None:
    after_receipt = verdict("http-500", recorded(("HTTP 500", b"a"), ("receipt", b"a"), ("receipt", b"a")),
                            [False, True, True])  # fmt: skip
    assert after_receipt.reason == "The sender kept sending after the receipt (1 more attempt(s))"
    changed = verdict("no-answer-close", recorded(("closed", b"a"), ("receipt", b"b")), [False, True])
    assert changed.reason == "The sender re-sent m@x with different signed content"
    assert changed.actual.startswith("2 attempt(s), same MessageId, DIFFERENT signed content")
    resent_as_new = verdict("http-500", recorded(("HTTP 500", b"a"), ("receipt", b"a")), [False, True],
                            other_ids_same_document=["n@x"])  # fmt: skip
    assert resent_as_new.reason.startswith("The document was delivered 2 times")
    retried_permanent = verdict("ebms-0004", recorded(("0004", b"a"), ("0004", b"a")), [False, False])
    assert (
        retried_permanent.reason == "The sender retried after a permanent EBMS:0004 error (1 more attempt(s))"
    )
    outwaited = verdict("late-receipt", recorded(("held receipt", b"a"), hung_up=False), [True])
    assert (outwaited.outcome.value, outwaited.reason[:40]) == (
        "error",
        "The sender waited the whole hold (1 s) f",
    )
    assert {v.outcome.value for v in (after_receipt, changed, resent_as_new, retried_permanent)} == {"failed"}
