"""Fault scenarios: how the suite answers the attempts of one message, and what the sender under test
must do about it (``conformance.md`` §2 eSENS_TA10/11/17, §9; ``as4.md`` §6.3, §7.1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Literal

from conformance.model import Level, Outcome

from .endpoint import Attempt

FaultKind = Literal["http-500", "ebms-0004", "ebms-0005", "close", "hold"]


@dataclass(frozen=True)
class Fault:
    """``first`` is how the first attempt is answered; later attempts get the receipt (``retry``) or the
    same permanent error again (``permanent``)."""

    id: str
    title: str
    level: Level
    spec: str
    first: FaultKind
    permanent: bool
    public_id: str | None = None

    @property
    def name(self) -> str:
        return self.id.rsplit(".", 1)[-1]


FAULTS: Final[tuple[Fault, ...]] = (
    Fault("as4s.fault.http-500", "HTTP 500 without a signal: retry the same message, stop at the receipt",
          Level.MUST, "as4.md §6.3, §7.1; conformance.md §9", "http-500", False, "eSENS_TA10"),
    Fault("as4s.fault.ebms-0004", "Signed EBMS:0004 error (failure): permanent, no retry", Level.MUST,
          "as4.md §6.2, §6.3", "ebms-0004", True),
    Fault("as4s.fault.ebms-0005", "Signed EBMS:0005 ConnectionFailure: retryable", Level.SHOULD,
          "as4.md §6.2, §6.3 (0005/0202 retryable)", "ebms-0005", False),
    Fault("as4s.fault.no-answer-close", "Connection closed without an answer: retry with identical bytes",
          Level.MUST, "conformance.md §2 eSENS_TA10; as4.md §7.1", "close", False, "eSENS_TA10"),
    Fault("as4s.fault.late-receipt",
          "Answer held past the sender's timeout (message stored): the retry gets the stored receipt, "
          "exactly one delivery", Level.MUST, "conformance.md §2 eSENS_TA11/17, §9; as4.md §7.1", "hold",
          False, "eSENS_TA11"),
)  # fmt: skip


def select_faults(pattern: str | None) -> list[Fault]:
    """Faults by comma-separated names or ids (``http-500,late-receipt``); all when ``None``."""
    if not pattern:
        return list(FAULTS)
    wanted = [p.strip() for p in pattern.split(",") if p.strip()]
    return [f for w in wanted for f in FAULTS if w in (f.id, f.name)]


@dataclass
class Behaviour:
    outcome: Outcome
    reason: str
    actual: str
    details: list[str]


def _digests(envelope: bytes | None) -> tuple[str, ...]:
    """The signed digests of a SOAP part (a re-serialised resend may differ in bytes, not in these)."""
    if not envelope:
        return ()
    try:
        from peppol.xml import parse_bytes

        root = parse_bytes(envelope).getroot()
    except Exception:
        return ()
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    values = root.xpath("//ds:SignedInfo/ds:Reference/ds:DigestValue/text()", namespaces=ns)
    return tuple(sorted(str(v).strip() for v in values)) if isinstance(values, list) else ()


def _label(attempt: Attempt) -> str:
    action = attempt.action
    label = action.label if action is not None else "?"
    if action is not None and action.kind == "hold":
        hung = "the sender hung up" if attempt.client_hung_up else "the sender still waited"
        label += f" (held {attempt.held:.1f} s, {hung})"
    return label


def judge(
    fault: Fault,
    attempts: list[Attempt],
    *,
    envelopes: list[bytes | None],
    receipt_given: list[bool],
    deliveries: int,
    other_ids_same_document: list[str],
    waited: float,
) -> Behaviour:
    """What the sender did with the attempts of one message, against what ``fault`` requires."""
    first = attempts[0]
    details = []
    for i, a in enumerate(attempts):
        since = a.monotonic - first.monotonic
        gap = "" if i == 0 else f" (+{a.monotonic - attempts[i - 1].monotonic:.2f} s)"
        sha = hashlib.sha256(a.body).hexdigest()[:16]
        details.append(
            f"attempt {i + 1} at +{since:.2f} s{gap}: MessageId {a.message_id}, {len(a.body)} bytes "
            f"sha256 {sha}…, answered: {_label(a)}"
        )
    ids = {a.message_id for a in attempts}
    bodies = {a.body for a in attempts}
    gaps = [f"{attempts[i].monotonic - attempts[i - 1].monotonic:.2f} s" for i in range(1, len(attempts))]
    if len(bodies) == 1:
        same = "identical bytes"
    elif len({_digests(e) for e in envelopes}) == 1 and _digests(envelopes[0]):
        same = "re-serialised bytes with the same signed digests"
    else:
        same = "DIFFERENT signed content"
    actual = f"{len(attempts)} attempt(s), same MessageId, {same}" + (
        f", time between attempts {', '.join(gaps)}" if gaps else ""
    )
    if other_ids_same_document:
        details.append(f"the same SBDH document came again under MessageIds {other_ids_same_document}")

    def result(outcome: Outcome, reason: str) -> Behaviour:
        return Behaviour(outcome, reason, actual, details)

    if len(ids) != 1:  # cannot happen: attempts are grouped by MessageId
        return result(Outcome.ERROR, "Attempts of one scenario carry several MessageIds")
    if same == "DIFFERENT signed content":
        return result(Outcome.FAILED, f"The sender re-sent {first.message_id} with different signed content")
    if fault.first == "hold" and not first.client_hung_up:
        return result(
            Outcome.ERROR,
            f"The sender waited the whole hold ({first.held:.0f} s) for the answer: --hold must exceed its "
            "response timeout for this scenario to test anything",
        )
    if fault.permanent:
        if len(attempts) > 1:
            return result(
                Outcome.FAILED,
                f"The sender retried after a permanent {fault.first.upper().replace('EBMS-', 'EBMS:')} error "
                f"({len(attempts) - 1} more attempt(s))",
            )
        return result(
            Outcome.PASSED, f"The sender did not retry after the permanent error (waited {waited:.0f} s)"
        )
    if len(attempts) == 1:
        return result(
            Outcome.FAILED,
            f"The sender did not retry after {_label(first)} (waited {waited:.0f} s for a retry)",
        )
    receipt_at = next((i for i, given in enumerate(receipt_given) if given), None)
    if receipt_at is None:
        return result(Outcome.FAILED, "No attempt could be answered with a receipt (see details)")
    if receipt_at + 1 < len(attempts):
        extra = len(attempts) - receipt_at - 1
        return result(Outcome.FAILED, f"The sender kept sending after the receipt ({extra} more attempt(s))")
    if deliveries != 1 or other_ids_same_document:
        return result(
            Outcome.FAILED,
            f"The document was delivered {deliveries + len(other_ids_same_document)} times "
            "(a new MessageId for the same document defeats duplicate elimination)",
        )
    return result(
        Outcome.PASSED,
        f"The sender retried with {same} and the same MessageId ({len(attempts)} attempts) and stopped "
        "at the receipt; the document was delivered once",
    )


__all__ = ["FAULTS", "Behaviour", "Fault", "judge", "select_faults"]
