"""Expectations of a rule unit test and how they are judged against the Schematron's findings.

Semantics (VEFA validator ``testSet``, as its ``AbstractExpectation`` applies them):

* **scope** — when given, findings of rules outside the scope are ignored;
* **success** ``ID`` — rule ``ID`` must not fire;
* **fatal / error / warning** ``ID`` (``number`` N, default 1) — rule ``ID`` must fire exactly N times
  with that flag (``error`` and ``fatal`` both accept a fatal or error finding: Peppol BIS rules are
  ``flag="fatal"`` and their unit tests say ``<error>``);
* an in-scope rule that fires although no expectation names it breaks the test when it is an error
  (fatal/error); an unexpected *warning* breaks it only when the scope names that rule explicitly or
  the test is ``exact``.

:class:`SvrlExpectation` is the other kind: an official SVRL report, reproduced when our failed
asserts equal its failed asserts as a multiset of (rule id, flag/role, location).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final, Protocol

from ubl.result import Item, Severity

EXPECTED_KINDS: Final = ("fatal", "error", "warning")
_ACCEPTS: Final[dict[str, frozenset[Severity]]] = {
    "fatal": frozenset({Severity.FATAL, Severity.ERROR}),
    "error": frozenset({Severity.FATAL, Severity.ERROR}),
    "warning": frozenset({Severity.WARNING}),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One expectation held or broken, with its reason in one sentence."""

    held: bool
    text: str


class Expectation(Protocol):
    def judge(self, items: list[Item]) -> list[Check]: ...

    def relevant(self, items: list[Item]) -> list[Item]: ...

    def describe(self) -> str: ...


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


@dataclass(slots=True)
class RuleExpectation:
    scope: tuple[str, ...] = ()
    success: set[str] = field(default_factory=set)
    fired: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> rule -> count
    exact: bool = False

    def expect(self, kind: str, rule: str, count: int = 1) -> None:
        bucket = self.fired.setdefault(kind, {})
        bucket[rule] = bucket.get(rule, 0) + count

    def in_scope(self, rule: str) -> bool:
        return not self.scope or rule in self.scope

    def named(self) -> set[str]:
        return set(self.success) | {rule for bucket in self.fired.values() for rule in bucket}

    def describe(self) -> str:
        parts = [f"{rule} not to fire" for rule in sorted(self.success)]
        for kind in EXPECTED_KINDS:
            parts += [
                f"{rule} to fire {_times(n)} as {kind}"
                for rule, n in sorted(self.fired.get(kind, {}).items())
            ]
        if self.exact:
            parts.append("no other rule to fire")
        scope = f" (scope: {', '.join(self.scope)})" if self.scope else ""
        return ("; ".join(parts) or "no rule to fire with an error") + scope

    def relevant(self, items: list[Item]) -> list[Item]:
        """The findings this expectation looks at (those of rules in the scope)."""
        return [item for item in items if self.in_scope(item.rule_id)]

    def judge(self, items: list[Item]) -> list[Check]:
        relevant = self.relevant(items)
        by_rule: dict[str, list[Item]] = {}
        for item in relevant:
            by_rule.setdefault(item.rule_id, []).append(item)
        checks: list[Check] = []
        for rule in sorted(self.success):
            found = by_rule.get(rule, [])
            if found:
                checks.append(
                    Check(
                        False,
                        f"{rule} fired {_times(len(found))} ({found[0].severity.value}: "
                        f"{found[0].text[:160]}) but was expected not to fire.",
                    )
                )
            else:
                checks.append(Check(True, f"{rule} did not fire, as expected."))
        for kind in EXPECTED_KINDS:
            for rule, want in sorted(self.fired.get(kind, {}).items()):
                checks.append(self._judge_fired(kind, rule, want, by_rule.get(rule, [])))
        named = self.named()
        for rule, found in sorted(by_rule.items()):
            if rule in named:
                continue
            failures = [i for i in found if i.severity.is_failure]
            strict = self.exact or rule in self.scope
            if failures or strict:
                first = failures[0] if failures else found[0]
                checks.append(
                    Check(
                        False,
                        f"{rule} fired {_times(len(found))} as {first.severity.value} although no "
                        f"expectation names it ({first.text[:160]}).",
                    )
                )
        return checks

    @staticmethod
    def _judge_fired(kind: str, rule: str, want: int, found: list[Item]) -> Check:
        accepted = [i for i in found if i.severity in _ACCEPTS[kind]]
        if not found:
            return Check(False, f"{rule} did not fire but was expected to fire {_times(want)} as {kind}.")
        if not accepted:
            return Check(False, f"{rule} fired as {found[0].severity.value}, expected as {kind}.")
        if len(accepted) != want:
            return Check(False, f"{rule} fired {_times(len(accepted))} as {kind}, expected {_times(want)}.")
        return Check(True, f"{rule} fired {_times(want)} as {accepted[0].severity.value}, as expected.")


def _key(item: Item) -> tuple[str, str, str]:
    return (item.rule_id, item.flag or item.role or "", item.location)


@dataclass(slots=True)
class SvrlExpectation:
    """The failed asserts of an official SVRL report (``source`` names the report file)."""

    source: str
    items: list[Item]

    def relevant(self, items: list[Item]) -> list[Item]:
        return items

    def describe(self) -> str:
        return f"the {len(self.items)} failed asserts/reports of the official SVRL {self.source}"

    def judge(self, items: list[Item]) -> list[Check]:
        ours, official = Counter(map(_key, items)), Counter(map(_key, self.items))
        extra, missing = ours - official, official - ours
        checks = [
            Check(False, f"{rule} ({flag}) fired at {loc} but not in the official report.")
            for (rule, flag, loc) in sorted(extra.elements())
        ]
        checks += [
            Check(False, f"{rule} ({flag}) at {loc} is in the official report but did not fire.")
            for (rule, flag, loc) in sorted(missing.elements())
        ]
        if not checks:
            checks.append(
                Check(
                    True, f"all {sum(official.values())} failed asserts of {self.source} reproduced exactly."
                )
            )
        return checks
