"""What every conformance suite produces: one :class:`Run` (a header and one :class:`CaseResult` per
case or rule unit test). The report writers (:mod:`conformance.reports`) only read these objects.

The run's verdict follows the requirement levels: the run passes (exit code 0) only when every MUST
case *passed*. A MUST case that could not be run (skipped: a missing precondition) keeps the run from
passing too, so a green run never hides an untested requirement.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

#: Bumped when a suite's cases or their verdict logic change (reported in every run header).
SUITE_VERSION: Final = "1.0.0"
EXIT_PASSED: Final = 0
EXIT_FAILED: Final = 1


class Level(enum.StrEnum):
    """Requirement level of a case (RFC 2119 words)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Outcome(enum.StrEnum):
    """What happened to a case. ``error`` = the suite itself could not judge (e.g. the target vanished)."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(slots=True)
class CaseResult:
    """One case: its identity, what was expected, what happened and why (one sentence).

    ``evidence`` maps a file name to raw bytes (request/response MIME, SVRL, certificates); the report
    writer stores it under ``evidence/<case id>/`` and lists the paths in every report format.
    """

    id: str
    title: str
    level: Level
    outcome: Outcome
    reason: str
    expected: str = ""
    actual: str = ""
    public_id: str | None = None
    spec: str = ""
    group: str = ""
    http_status: int | None = None
    signal: str | None = None
    ebms_code: str | None = None
    details: list[str] = field(default_factory=list)
    evidence: dict[str, bytes] = field(default_factory=dict)
    started: float = 0.0
    duration: float = 0.0

    @property
    def blocking(self) -> bool:
        """True when this case keeps the run from passing (a MUST case that did not pass)."""
        return self.level is Level.MUST and self.outcome is not Outcome.PASSED


@dataclass(slots=True)
class RunHeader:
    """The run header of every report (system under test, profile, suite version, times)."""

    suite: str
    system_under_test: str
    profile: str
    suite_version: str = SUITE_VERSION
    started: float = field(default_factory=time.time)
    ended: float = 0.0
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Run:
    header: RunHeader
    cases: list[CaseResult] = field(default_factory=list)

    def counters(self) -> dict[str, int]:
        counts = Counter(case.outcome.value for case in self.cases)
        out = {outcome.value: counts.get(outcome.value, 0) for outcome in Outcome}
        out["total"] = len(self.cases)
        out["must_not_passed"] = sum(1 for case in self.cases if case.blocking)
        return out

    @property
    def passed(self) -> bool:
        return not any(case.blocking for case in self.cases)

    @property
    def verdict(self) -> str:
        """SUCCESS, FAILURE (a MUST case did not pass) or WARNING (only SHOULD/MAY cases failed)."""
        if not self.passed:
            return "FAILURE"
        if any(case.outcome in (Outcome.FAILED, Outcome.ERROR) for case in self.cases):
            return "WARNING"
        return "SUCCESS"

    @property
    def exit_code(self) -> int:
        return EXIT_PASSED if self.passed else EXIT_FAILED

    def finish(self) -> None:
        self.header.ended = time.time()

    def summary(self) -> str:
        """One line for the terminal."""
        c = self.counters()
        return (
            f"{self.verdict}: {c['passed']} passed, {c['failed']} failed, {c['error']} errors, "
            f"{c['skipped']} skipped of {c['total']} ({c['must_not_passed']} MUST cases not passed)"
        )


def one_sentence(text: str) -> str:
    """``text`` squeezed onto one line and ended by a full stop (reasons are single sentences)."""
    squeezed = " ".join(text.split())
    if squeezed and squeezed[-1] not in ".!?":
        squeezed += "."
    return squeezed


def as_dict(case: CaseResult, evidence_paths: list[str]) -> dict[str, Any]:
    """The JSON form of one case (also what the HTML page shows)."""
    return {
        "id": case.id,
        "public_id": case.public_id,
        "title": case.title,
        "level": case.level.value,
        "spec": case.spec,
        "group": case.group,
        "outcome": case.outcome.value,
        "reason": case.reason,
        "expected": case.expected,
        "actual": case.actual,
        "http_status": case.http_status,
        "signal": case.signal,
        "ebms_code": case.ebms_code,
        "details": list(case.details),
        "evidence": evidence_paths,
        "started": case.started,
        "duration_seconds": round(case.duration, 6),
    }
