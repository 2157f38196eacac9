"""The sending-side suite: play the receiving AP, wait for the sender under test, check its first
message against the profile, answer its next messages with faults and judge what it did.

Message *k* (by first appearance of its MessageId) goes to scenario *k*: scenario 1 is the profile
check (answered as a strict Peppol receiver answers: the real receiver core, :func:`transport.receiver.
receive`, with an in-memory ledger), scenarios 2… are the selected faults. Attempts are grouped by
MessageId, so retries land in their scenario whenever they come.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conformance.model import CaseResult, Level, Outcome, Run, RunHeader, one_sentence
from peppol.pki import Identity
from transport.as4 import build_error_signal, message_id_of
from transport.errors import ConnectionFailure, EbmsError, NotServiced
from transport.mime import MimeError, read_message
from transport.receiver import CallbackHooks, InMemoryLedger, ReceiverConfig, Verdict, receive

from .endpoint import Action, Attempt
from .faults import Fault, judge
from .message import open_message
from .profile import CHECKS, Facts

SUITE_NAME: Final = "as4-sender"
PROFILE: Final = "Peppol AS4 profile 2.0 (sending side)"
#: Seconds to wait for each new message of the sender under test.
DEFAULT_TIMEOUT: Final = 300.0
#: Seconds to wait for a retry after a retryable fault (phase4 Peppol: 1 retry after 10 s).
DEFAULT_RETRY_WAIT: Final = 120.0
#: Seconds to watch for unwanted attempts after a final answer (receipt or permanent error).
DEFAULT_QUIET: Final = 15.0
#: Longest a connection is held without an answer (above the usual 120 s sender timeout).
DEFAULT_HOLD: Final = 150.0
#: Request and response bytes kept as evidence per attempt.
EVIDENCE_LIMIT: Final = 1024 * 1024
_POLL: Final = 0.1
#: Case id of the profile checks on messages 2….
LATER_ID: Final = "as4s.profile.later-messages"
HTTP_500_BODY: Final = b"Internal Server Error (conformance fault)\n"


@dataclass
class SenderSuiteConfig:
    identity: Identity
    validate_signer: Callable[[x509.Certificate], object] | None = None
    faults: list[Fault] = field(default_factory=list)
    #: Messages the sender under test will send (default: 1 + number of faults).
    expect: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    retry_wait: float = DEFAULT_RETRY_WAIT
    quiet: float = DEFAULT_QUIET
    hold: float = DEFAULT_HOLD

    @property
    def messages(self) -> int:
        return self.expect if self.expect is not None else 1 + len(self.faults)


@dataclass
class _Slot:
    """One scenario: ``fault`` is ``None`` for the profile check (message 1)."""

    fault: Fault | None
    message_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    receipts: dict[int, bool] = field(default_factory=dict)
    envelopes: list[bytes | None] = field(default_factory=list)
    core_error: EbmsError | None = None
    core_plain: str | None = None
    settled: bool = False


def _accept_any(cert: x509.Certificate) -> None:
    """Without ``--trust`` the core accepts any signer (the certificate case is then skipped)."""


class SenderSuite:
    """Thread-safe dispatcher for :func:`conformance.as4_sender.endpoint.start_endpoint` plus the wait
    and the verdicts. Use: ``start_endpoint(suite.dispatch, …)``, then :meth:`run`."""

    def __init__(self, config: SenderSuiteConfig) -> None:
        self.config = config
        self._cond = threading.Condition()
        self._slots = [_Slot(None)] + [_Slot(f) for f in config.faults[: max(0, config.messages - 1)]]
        self._by_id: dict[str, _Slot] = {}
        self.extra: list[Attempt] = []
        self.deliveries: dict[tuple[str, str], list[str]] = {}
        self._last_activity = time.monotonic()
        self._receiver = ReceiverConfig(
            identity=config.identity,
            validate_signer=config.validate_signer or _accept_any,
            ledger=InMemoryLedger(),
        )

    # --- answering ------------------------------------------------------------------------------

    def dispatch(self, attempt: Attempt) -> Action:
        envelope = _envelope(attempt)
        attempt.message_id = message_id_of(envelope) if envelope is not None else None
        with self._cond:
            self._last_activity = time.monotonic()
            slot = self._slot_for(attempt)
            if slot is not None:
                slot.attempts.append(attempt)
                slot.envelopes.append(envelope)
            number = len(slot.attempts) if slot is not None else 0
        action = self._action(slot, number, attempt)
        with self._cond:
            self._cond.notify_all()
        return action

    def _slot_for(self, attempt: Attempt) -> _Slot | None:
        mid = attempt.message_id
        if mid is None:
            self.extra.append(attempt)
            return None
        if mid in self._by_id:
            return self._by_id[mid]
        free = next((s for s in self._slots if s.message_id is None), None)
        if free is None:
            self.extra.append(attempt)
            return None
        free.message_id = mid
        self._by_id[mid] = free
        return free

    def _action(self, slot: _Slot | None, number: int, attempt: Attempt) -> Action:
        fault = slot.fault if slot is not None else None
        mid = attempt.message_id
        if fault is not None and fault.first == "ebms-0004":
            return self._signal(NotServiced("conformance fault: permanent error, do not resend"), mid)
        if fault is not None and number == 1:
            if fault.first == "http-500":
                return Action(
                    "answer",
                    500,
                    "text/plain; charset=UTF-8",
                    HTTP_500_BODY,
                    label="HTTP 500 without a signal",
                )
            if fault.first == "ebms-0005":
                return self._signal(ConnectionFailure("conformance fault: temporary failure, try again"), mid)
            if fault.first == "close":
                return Action("close", label="connection closed without an answer")
        action, accepted = self._core(attempt, slot)
        if slot is not None:
            with self._cond:
                slot.receipts[attempt.index] = accepted
        if fault is not None and fault.first == "hold" and number == 1:
            return Action("hold", action.status, action.content_type, action.body, self.config.hold,
                          label=f"message stored, {action.label} held")  # fmt: skip
        return action

    def _signal(self, error: EbmsError, message_id: str | None) -> Action:
        body = build_error_signal(error, ref_to_message_id=message_id, signer=self.config.identity)
        return Action("answer", 200, "application/soap+xml; charset=UTF-8", body,
                      label=f"signed {error.code} error")  # fmt: skip

    def _core(self, attempt: Attempt, slot: _Slot | None) -> tuple[Action, bool]:
        """The answer of a strict Peppol receiver (our receiver core)."""
        response = receive(attempt.headers, io.BytesIO(attempt.body), self._receiver, CallbackHooks())
        decision = response.decision
        accepted = decision.verdict in (Verdict.ACCEPTED, Verdict.DUPLICATE)
        if decision.verdict is Verdict.ACCEPTED and decision.message is not None:
            key = (str(decision.message.sender), decision.message.instance_id or "")
            with self._cond:
                self.deliveries.setdefault(key, []).append(decision.message.message_id)
        if slot is not None and slot.fault is None and len(slot.attempts) == 1 and not accepted:
            slot.core_error = decision.error
            slot.core_plain = decision.reason
        if accepted:
            label = (
                "stored receipt (duplicate)" if decision.verdict is Verdict.DUPLICATE else "signed receipt"
            )
        elif decision.error is not None:
            label = f"signed {decision.error.code} error (the message was refused)"
        else:
            label = f"HTTP {response.status} ({decision.reason})"
        return Action("answer", response.status, response.content_type, response.body, label=label), accepted

    # --- waiting ----------------------------------------------------------------------------------

    def _settled(self, slot: _Slot, now: float) -> bool:
        if not slot.attempts:
            return False
        last = slot.attempts[-1]
        if not last.finished:
            return False
        if slot.fault is None:
            return True
        final = slot.fault.permanent or self._receipt_given(slot, last)
        wait = self.config.quiet if final else self.config.retry_wait
        return now - last.finished >= wait

    def _receipt_given(self, slot: _Slot, attempt: Attempt) -> bool:
        if not slot.receipts.get(attempt.index, False):
            return False
        action = attempt.action
        return not (action is not None and action.kind == "hold" and attempt.client_hung_up)

    def wait(self, tick: Callable[[str], None] | None = None, *, stop: threading.Event | None = None) -> None:
        """Block until every scenario settled, or no new message came for ``timeout`` seconds."""
        with self._cond:
            while True:
                now = time.monotonic()
                for slot in self._slots:
                    if not slot.settled and self._settled(slot, now):
                        slot.settled = True
                        if tick is not None:
                            tick(slot.fault.id if slot.fault else "profile")
                pending = [s for s in self._slots if not s.settled]
                if not pending or (stop is not None and stop.is_set()):
                    return
                waiting_for_new = all(not s.attempts for s in pending)
                if waiting_for_new and now - self._last_activity > self.config.timeout:
                    return
                self._cond.wait(_POLL)

    # --- verdicts ---------------------------------------------------------------------------------

    def results(self, url: str) -> Run:
        with self._cond:
            slots = list(self._slots)
        first = slots[0].attempts[0] if slots[0].attempts else None
        agent = (
            next((v for k, v in first.headers.items() if k.lower() == "user-agent"), "?") if first else "?"
        )
        run = Run(
            RunHeader(
                suite=SUITE_NAME,
                system_under_test=f"{first.peer if first else 'no sender seen'} (User-Agent: {agent})",
                profile=PROFILE,
            )
        )
        run.header.environment = {
            "endpoint": url,
            "our certificate": self.config.identity.certificate.subject.rfc4514_string(),
            "signer validation": "AP trust store" if self.config.validate_signer else "none (no --trust)",
            "messages expected": str(self.config.messages),
            "messages seen": str(sum(1 for s in slots if s.attempts)),
            "unassigned requests": str(len(self.extra)),
        }
        run.cases.extend(self._profile_cases(slots[0]))
        later = [s.attempts[0] for s in slots[1:] if s.attempts]
        if later:
            run.cases.append(self._later_messages_case(later))
        for slot in slots[1:]:
            run.cases.append(self._fault_case(slot))
        run_faults = {s.fault.id for s in slots[1:] if s.fault is not None}
        for fault in self.config.faults:
            if fault.id not in run_faults:
                reason = f"Not run: only {self.config.messages} message(s) expected (--expect)"
                run.cases.append(
                    _case(fault.id, fault.title, fault.level, fault.spec, fault.public_id, "fault",
                          Outcome.SKIPPED, reason)
                )  # fmt: skip
        run.finish()
        return run

    def _profile_cases(self, slot: _Slot) -> list[CaseResult]:
        if not slot.attempts:
            reason = f"No message arrived within {self.config.timeout:.0f} s"
            return [
                _case(c.id, c.title, c.level, c.spec, c.public_id, "profile", Outcome.SKIPPED, reason)
                for c in CHECKS
            ]
        attempt = slot.attempts[0]
        opened = open_message(attempt.content_type, attempt.body, self.config.identity)
        error = slot.core_error
        facts = Facts(
            identity=self.config.identity,
            validate_signer=self.config.validate_signer,
            core_error=(error.description if error else slot.core_plain)
            if (error or slot.core_plain)
            else None,
            core_code=error.code if error else "HTTP 4xx",
        )
        out = []
        for check in CHECKS:
            started, clock = time.time(), time.perf_counter()
            try:
                verdict = check.judge(opened, facts)
                outcome, reason, details = verdict.outcome, verdict.reason, verdict.details
            except Exception as exc:  # a check must never take the run down
                outcome, reason, details = Outcome.ERROR, f"The check failed: {type(exc).__name__}: {exc}", []
            case = _case(
                check.id, check.title, check.level, check.spec, check.public_id, "profile", outcome, reason
            )
            case.started, case.duration = started, time.perf_counter() - clock
            case.details = [f"MessageId: {attempt.message_id}", *details]
            case.expected = check.title
            case.actual = case.reason
            out.append(case)
        accepted = next(c for c in out if c.id == "as4s.receiver.accepted")
        accepted.evidence.update(_attempt_evidence(1, attempt))
        accepted.http_status = attempt.action.status if attempt.action else None
        accepted.signal = "error" if error else "receipt" if facts.core_error is None else "http"
        accepted.ebms_code = error.code if error else None
        cert = next(c for c in out if c.id == "as4s.sig.certificate")
        cert.evidence["our-certificate.pem"] = self.config.identity.certificate.public_bytes(
            serialization.Encoding.PEM
        )
        return out

    def _later_messages_case(self, attempts: list[Attempt]) -> CaseResult:
        """Messages 2… (the fault scenarios' first attempts) against the same profile checks."""
        case = _case(LATER_ID, "Messages 2… conform to the profile like message 1", Level.MUST,
                     "as4.md §2–§5", None, "profile", Outcome.PASSED, "")  # fmt: skip
        facts = Facts(identity=self.config.identity, validate_signer=self.config.validate_signer)
        deviations = []
        for number, attempt in enumerate(attempts, 2):
            opened = open_message(attempt.content_type, attempt.body, self.config.identity)
            for check in CHECKS:
                if check.id == "as4s.receiver.accepted":  # answered by the fault, not by the core
                    continue
                try:
                    verdict = check.judge(opened, facts)
                except Exception as exc:
                    deviations.append(f"message {number} ({attempt.message_id}): {check.id}: {exc}")
                    continue
                if verdict.outcome in (Outcome.FAILED, Outcome.ERROR):
                    deviations.append(
                        f"message {number} ({attempt.message_id}): {check.id}: {verdict.reason}"
                    )
        case.expected = "every profile check of message 1 also holds for every later message"
        case.details = deviations or [f"message {n}: {a.message_id}" for n, a in enumerate(attempts, 2)]
        if deviations:
            case.outcome = Outcome.FAILED
            case.reason = one_sentence(
                f"{len(deviations)} deviation(s) in later messages, first: {deviations[0]}"
            )
        else:
            case.reason = one_sentence(f"All {len(attempts)} later message(s) pass every profile check")
        case.actual = case.reason
        return case

    def _fault_case(self, slot: _Slot) -> CaseResult:
        fault = slot.fault
        assert fault is not None
        base = _case(
            fault.id, fault.title, fault.level, fault.spec, fault.public_id, "fault", Outcome.SKIPPED, ""
        )
        base.expected = (
            "exactly one attempt (no retry after a permanent error)"
            if fault.permanent
            else "a retry with the same MessageId and bytes, nothing after the receipt, one delivery"
        )
        if not slot.attempts:
            base.reason = one_sentence(
                f"No message arrived for this scenario within {self.config.timeout:.0f} s (the sender must "
                f"send {self.config.messages} messages)"
            )
            return base
        receipts = [self._receipt_given(slot, a) for a in slot.attempts]
        deliveries, others = self._deliveries(slot)
        last = slot.attempts[-1]
        waited = time.monotonic() - last.finished if last.finished else 0.0
        behaviour = judge(
            fault, slot.attempts, envelopes=slot.envelopes, receipt_given=receipts,
            deliveries=deliveries, other_ids_same_document=others, waited=waited,
        )  # fmt: skip
        base.outcome, base.reason = behaviour.outcome, one_sentence(behaviour.reason)
        base.actual, base.details = behaviour.actual, behaviour.details
        base.started = slot.attempts[0].received
        base.duration = last.finished - slot.attempts[0].monotonic if last.finished else 0.0
        action = slot.attempts[0].action
        base.http_status = action.status if action is not None and action.kind != "close" else None
        base.signal = {"ebms-0004": "error", "ebms-0005": "error", "http-500": "http"}.get(
            fault.first, "none"
        )
        base.ebms_code = {"ebms-0004": "EBMS:0004", "ebms-0005": "EBMS:0005"}.get(fault.first)
        for i, attempt in enumerate(slot.attempts, 1):
            base.evidence.update(_attempt_evidence(i, attempt))
        return base

    def _deliveries(self, slot: _Slot) -> tuple[int, list[str]]:
        """How often the slot's document was accepted, and other MessageIds that carried it."""
        with self._cond:
            for ids in self.deliveries.values():
                if slot.message_id in ids:
                    return ids.count(slot.message_id), sorted(set(ids) - {slot.message_id})
        return 0, []

    def run(self, url: str, tick: Callable[[str], None] | None = None) -> Run:
        self.wait(tick)
        return self.results(url)

    @property
    def total(self) -> int:
        """Scenarios to settle (the progress bar's total)."""
        return len(self._slots)


def _envelope(attempt: Attempt) -> bytes | None:
    try:
        with tempfile.TemporaryDirectory(prefix="as4s-id-") as work:
            mime = read_message(
                attempt.content_type, io.BytesIO(attempt.body), Path(work), memory_bytes=len(attempt.body) + 1
            )
        return mime.envelope
    except (MimeError, OSError):
        return None


def _case(
    case_id: str, title: str, level: Level, spec: str, public_id: str | None, group: str, outcome: Outcome,
    reason: str,
) -> CaseResult:  # fmt: skip
    return CaseResult(
        id=case_id, title=title, level=level, outcome=outcome, reason=one_sentence(reason),
        public_id=public_id, spec=spec, group=group, started=time.time(),
    )  # fmt: skip


def _kept(data: bytes) -> bytes:
    if len(data) <= EVIDENCE_LIMIT:
        return data
    return data[:EVIDENCE_LIMIT] + f"\r\n[... {len(data) - EVIDENCE_LIMIT} more bytes not kept]".encode()


def _attempt_evidence(number: int, attempt: Attempt) -> dict[str, bytes]:
    head = "".join(f"{k}: {v}\r\n" for k, v in attempt.headers.items()).encode()
    out = {f"attempt-{number}.request.mime": head + b"\r\n" + _kept(attempt.body)}
    action = attempt.action
    if action is not None:
        if action.kind == "close":
            out[f"attempt-{number}.response.txt"] = b"(connection closed without an answer)\n"
        else:
            out[f"attempt-{number}.response.http"] = (
                f"HTTP {action.status}\r\nContent-Type: {action.content_type}\r\n\r\n".encode() + action.body
            )
    return out


__all__ = ["PROFILE", "SUITE_NAME", "SenderSuite", "SenderSuiteConfig"]
