"""The AS4 suite against deliberately broken builds of our own receiver (in-process, loopback HTTP): each
build fails exactly the cases its defect lets through, with reasons naming the defect; the correctly
configured build passes them all.

The builds are broken through the receiver's own configuration where it has a switch (any signer
accepted, a ledger that forgets, every participant served) and otherwise by test-only patches of the one
function that carries the protection (signature value and digests not checked; the receipt left unsigned;
signed header values read up to the first comment, the defect F1 fixed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conformance.as4.cases import select
from conformance.as4.context import Context, DeliveryObserver, TestSigners
from conformance.as4.runner import run_as4
from conformance.model import Outcome
from transport.as4 import dsig, signals
from transport.receiver import (
    CallbackHooks,
    InMemoryLedger,
    LedgerEntry,
    LedgerResult,
    LedgerStatus,
    ReceivedMessage,
    ReceiverConfig,
    serve_everything,
)
from transport.receiver import core as receiver_core
from transport.server import create_app, start_server

BASE = "as4.valid.receipt,as4.cert.*,as4.routing.not-served,as4.reliability.duplicate"
CERT_CASES = {"as4.cert.expired", "as4.cert.revoked", "as4.cert.smp", "as4.cert.untrusted-ca"}
#: The modules reading signed header values through ``peppol.xml.simple_text`` (the F1 fix).
SIGNED_TEXT_READERS = (
    "transport.as4.header",
    "transport.as4.inbound",
    "transport.as4.signals",
    "transport.as4.dsig",
    "transport.sbdh.xmlparsers",
)


class ForgetfulLedger(InMemoryLedger):
    """A ledger that keeps every message but never recognises a resend (the 'accept duplicates' defect)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[ReceivedMessage] = []

    def find(self, message_id: str) -> LedgerEntry | None:
        return None

    def accept(self, message: ReceivedMessage, receipt: bytes) -> LedgerResult:
        self.accepted.append(message)
        return LedgerResult(LedgerStatus.ACCEPTED, message.message_id, receipt)


class LedgerObserver(DeliveryObserver):
    """What the in-memory ledger stored, the header values read from signed XML included (so a value read
    up to a comment shows)."""

    def __init__(self, ledger: InMemoryLedger) -> None:
        self.ledger = ledger

    def deliveries(self) -> list[dict[str, object]]:
        if isinstance(self.ledger, ForgetfulLedger):
            messages = list(self.ledger.accepted)
        else:
            messages = [s.message for s in self.ledger.messages()]
        return [
            {
                "message_id": m.message_id,
                "conversation_id": m.conversation_id,
                "from_party": m.from_party,
                "receiver": str(m.receiver),
                "instance_id": m.instance_id,
            }
            for m in messages
        ]


@dataclass
class Build:
    accept_any_signer: bool = False
    accept_duplicates: bool = False
    serve_everyone: bool = False


def _run(pki: Any, work: Path, build: Build, cases: str = BASE) -> dict[str, tuple[Outcome, str]]:
    ledger = ForgetfulLedger() if build.accept_duplicates else InMemoryLedger()
    context = Context(
        url="",
        target_certificate=pki.aps[1].certificate(),
        identity=pki.aps[0].identity(),
        signers=TestSigners(
            expired=pki.expired_ap.identity(), revoked=pki.revoked_ap.identity(), smp=pki.smp.identity()
        ),
        observer=LedgerObserver(ledger),
    )
    served = context.receiver
    hooks = CallbackHooks(
        is_served_fn=serve_everything if build.serve_everyone else (lambda r, d, p: r == served)
    )
    config = ReceiverConfig(
        identity=pki.aps[1].identity(),
        validate_signer=(lambda cert: None) if build.accept_any_signer else pki.ap_validator().validate,
        ledger=ledger,
        work_dir=work,
    )
    server = start_server(create_app(config, hooks))
    try:
        context.url = server.url
        run = run_as4(context, select(cases))
    finally:
        server.stop()
    return {c.id: (c.outcome, c.reason) for c in run.cases}


def _failed(results: dict[str, tuple[Outcome, str]]) -> set[str]:
    return {k for k, (outcome, _) in results.items() if outcome is not Outcome.PASSED}


def test_correct_build_passes_every_case(test_pki: Any, tmp_path: Path) -> None:
    results = _run(test_pki, tmp_path, Build())
    assert _failed(results) == set(), results
    assert results["as4.routing.not-served"][1] == (
        "The target rejected a message for a participant it does not serve with EBMS:0004."
    )


def test_build_accepting_any_signer_fails_exactly_the_certificate_cases(
    test_pki: Any, tmp_path: Path
) -> None:
    results = _run(test_pki, tmp_path, Build(accept_any_signer=True))
    assert _failed(results) == CERT_CASES
    assert results["as4.cert.revoked"][1] == (
        "The target accepted a revoked signer certificate, returned a receipt and delivered it to its inbox."
    )


def test_build_accepting_duplicates_fails_exactly_the_duplicate_case(test_pki: Any, tmp_path: Path) -> None:
    results = _run(test_pki, tmp_path, Build(accept_duplicates=True))
    assert _failed(results) == {"as4.reliability.duplicate"}
    assert results["as4.reliability.duplicate"][1].startswith("The resend got ")


def test_build_serving_everyone_fails_exactly_the_not_served_case(test_pki: Any, tmp_path: Path) -> None:
    results = _run(test_pki, tmp_path, Build(serve_everyone=True))
    assert _failed(results) == {"as4.routing.not-served"}
    assert results["as4.routing.not-served"][1] == (
        "The target accepted a message for a participant it does not serve, returned a receipt and "
        "delivered it to its inbox."
    )


SIGNATURE_CASES = "as4.valid.receipt,as4.security.unsigned,as4.tamper.*,as4.xsw.*"
#: What only the signature value and digests protect (a tampered encrypted attachment still fails to
#: decrypt, the wrapping variants are refused by the coverage and structure checks).
UNVERIFIED_SIGNATURE_CASES = {
    "as4.tamper.payload-replaced",
    "as4.tamper.header",
    "as4.tamper.body",
    "as4.xsw.missing-reference",
}


def test_build_skipping_signature_verification_fails_exactly_the_tampering_cases(
    test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signature value and reference digests not checked (the algorithm allow-list and coverage still are)."""

    def unverified_value(signature: etree._Element, certificate: object) -> tuple[dsig.Reference, ...]:
        return dsig._checked_signed_info(signature)[1]

    def unverified_references(
        signature: etree._Element, ids: object, cid_digest: object = None
    ) -> tuple[dsig.Reference, ...]:
        refs = signature.iterfind(f"{dsig.DS}SignedInfo/{dsig.DS}Reference")
        return tuple(dsig.parse_reference(r) for r in refs)

    monkeypatch.setattr("transport.as4.inbound.verify_signature_value", unverified_value)
    monkeypatch.setattr("transport.as4.inbound.verify_references", unverified_references)
    results = _run(test_pki, tmp_path, Build(), SIGNATURE_CASES)
    assert _failed(results) == UNVERIFIED_SIGNATURE_CASES, results
    assert results["as4.tamper.header"][1] == (
        "The target accepted a header changed after signing, returned a receipt and delivered it to its "
        "inbox."
    )
    assert results["as4.xsw.missing-reference"][1].startswith(
        "The target accepted a signature referencing a missing element"
    )


RECEIPT_CASES = (
    "as4.valid.receipt,as4.valid.compressed,as4.valid.uncompressed,as4.security.unsigned,"
    "as4.reliability.duplicate"
)


def test_build_leaving_the_receipt_unsigned_fails_exactly_the_cases_expecting_a_receipt(
    test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = signals.build_receipt

    def unsigned(inbound: Any, *, signer: Any, message_id: str | None = None) -> bytes:
        return signed(inbound, signer=None, message_id=message_id)  # type: ignore[arg-type]

    monkeypatch.setattr(receiver_core, "build_receipt", unsigned)
    results = _run(test_pki, tmp_path, Build(), RECEIPT_CASES)
    expecting_a_receipt = set(RECEIPT_CASES.split(",")) - {"as4.security.unsigned"}
    assert _failed(results) == expecting_a_receipt, results
    assert results["as4.valid.receipt"][1] == (
        "The receipt does not verify: EBMS:0302 InvalidReceipt: the signal is not signed."
    )
    assert "the signal is not signed" in results["as4.reliability.duplicate"][1]


def test_build_reading_header_text_up_to_the_first_comment_fails_exactly_the_comment_cases(
    test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1 undone: every reader of signed header values takes ``el.text`` (the text before a comment)."""
    for module in SIGNED_TEXT_READERS:
        monkeypatch.setattr(f"{module}.simple_text", lambda el: el.text or "")
    results = _run(test_pki, tmp_path, Build(), "as4.valid.receipt,as4.comment.*")
    assert _failed(results) == {
        "as4.comment.message-id",
        "as4.comment.conversation-id",
        "as4.comment.final-recipient",
        "as4.comment.party-id",
    }, results
    assert "the MessageId cut at the comment" in results["as4.comment.message-id"][1]
    assert results["as4.comment.conversation-id"][1].startswith(
        "The target stored a ConversationId split by a comment truncated at the comment (conversation_id="
    )
    assert "only up to the comment" in results["as4.comment.final-recipient"][1]
    assert "only up to the comment" in results["as4.comment.party-id"][1]
