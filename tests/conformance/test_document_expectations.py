"""VEFA testSet semantics, judged on findings alone (no Schematron run): scope, success, counted
error/warning expectations, unexpected firings, and the official-SVRL comparison."""

from __future__ import annotations

from conformance.documents import RuleExpectation, SvrlExpectation
from ubl.result import Item, Severity


def _item(rule: str, severity: Severity = Severity.FATAL, location: str = "/a") -> Item:
    return Item(
        rule_id=rule, severity=severity, text=f"[{rule}] text", location=location, flag=severity.value
    )


def _broken(expectation: RuleExpectation, items: list[Item]) -> list[str]:
    return [c.text for c in expectation.judge(items) if not c.held]


def test_success_expectation_is_broken_when_the_rule_fires() -> None:
    exp = RuleExpectation(scope=("R1",), success={"R1"})
    assert _broken(exp, []) == []
    assert _broken(exp, [_item("R1")]) == ["R1 fired once (fatal: [R1] text) but was expected not to fire."]


def test_rules_outside_the_scope_are_ignored() -> None:
    exp = RuleExpectation(scope=("R1",), success={"R1"})
    assert _broken(exp, [_item("R2"), _item("R3", Severity.ERROR)]) == []
    assert exp.relevant([_item("R2"), _item("R1")]) == [_item("R1")]


def test_without_scope_an_unexpected_error_breaks_the_test_but_an_unexpected_warning_does_not() -> None:
    exp = RuleExpectation(success={"R1"})
    assert _broken(exp, [_item("R9", Severity.WARNING)]) == []
    assert _broken(exp, [_item("R9")]) == [
        "R9 fired once as fatal although no expectation names it ([R9] text)."
    ]


def test_an_unexpected_warning_of_a_rule_in_the_scope_breaks_the_test() -> None:
    exp = RuleExpectation(scope=("R1", "W1"), success={"R1"})
    assert len(_broken(exp, [_item("W1", Severity.WARNING)])) == 1


def test_error_expectation_counts_and_severity() -> None:
    exp = RuleExpectation(scope=("R1",))
    exp.expect("error", "R1", 2)
    assert _broken(exp, [_item("R1"), _item("R1")]) == []
    assert _broken(exp, [_item("R1")]) == ["R1 fired once as error, expected 2 times."]
    assert _broken(exp, []) == ["R1 did not fire but was expected to fire 2 times as error."]
    assert _broken(exp, [_item("R1", Severity.WARNING)]) == ["R1 fired as warning, expected as error."]


def test_error_expectation_accepts_a_fatal_finding_and_warning_needs_a_warning() -> None:
    exp = RuleExpectation()
    exp.expect("error", "R1")
    exp.expect("warning", "W1")
    assert _broken(exp, [_item("R1", Severity.FATAL), _item("W1", Severity.WARNING)]) == []
    assert _broken(exp, [_item("R1", Severity.ERROR), _item("W1", Severity.FATAL)]) == [
        "W1 fired as fatal, expected as warning."
    ]


def test_exact_yaml_expectation_refuses_any_other_finding() -> None:
    exp = RuleExpectation(exact=True)
    assert len(_broken(exp, [_item("W1", Severity.WARNING)])) == 1


def test_svrl_expectation_compares_rule_flag_and_location_as_a_multiset() -> None:
    official = [_item("R1", location="/x"), _item("R1", location="/x")]
    exp = SvrlExpectation("n.svrl", official)
    assert [c.held for c in exp.judge(list(official))] == [True]
    broken = [c.text for c in exp.judge([_item("R1", location="/x"), _item("R2", location="/y")])]
    assert broken == [
        "R2 (fatal) fired at /y but not in the official report.",
        "R1 (fatal) at /x is in the official report but did not fire.",
    ]
