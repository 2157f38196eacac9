"""The document suite runs rule unit tests on the Schematron layer alone and judges each with its
reason: our own testSets for the Peppol pre-award rules, deliberately wrong expectations, YAML
expectations on the corpus examples, the ``ap conformance documents`` command, and the official
eForms SVRL reports (91/91, one slow test)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from access_point.cli import app
from conformance.documents import (
    Choice,
    RuleExpectation,
    builtin_testsets,
    collect,
    load_testset,
    load_with_svrl,
    run_documents,
)
from conformance.model import Outcome
from ubl.artifacts import ArtifactStore

VEFA = "http://difi.no/xsd/vefa/validator/1.0"
T003 = "urn:oasis:names:specification:ubl:schema:xsd:TenderStatusRequest-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schc-conformance")


def test_our_testsets_hold_a_positive_and_a_negative_test_per_rule() -> None:
    files = sorted(builtin_testsets().glob("*.xml"))
    assert len(files) >= 70
    transactions = set()
    for file in files:
        tests = load_testset(file)
        rule = file.stem
        transactions.add(rule.split("-")[1])
        expectations = [t.expectation for t in tests]
        assert all(isinstance(e, RuleExpectation) and e.scope == (rule,) for e in expectations)
        kinds = {"success" if e.success == {rule} else "fired" for e in expectations}  # type: ignore[attr-defined]
        assert kinds == {"success", "fired"}, f"{file.name} needs a positive and a negative test"
        assert all(t.ruleset and t.ruleset.startswith("peppol-t") for t in tests)
    assert len(transactions) >= 10


def test_our_testsets_reproduce_their_expected_verdicts(
    artifact_store: ArtifactStore, cache_dir: Path
) -> None:
    tests = collect([builtin_testsets()])
    run = run_documents(tests, Choice(cache_dir=cache_dir), store=artifact_store)
    not_passed = [f"{c.id}: {c.reason}" for c in run.cases if c.outcome is not Outcome.PASSED]
    assert not_passed == []
    assert len(run.cases) >= 180
    negative = next(c for c in run.cases if c.id == "PEPPOL-T003-R014#3")
    assert negative.reason == "PEPPOL-T003-R014 fired once as fatal, as expected."
    assert negative.evidence["document.xml"].startswith(b"<?xml")
    assert b"PEPPOL-T003-R014" in negative.evidence["svrl.xml"]
    assert run.exit_code == 0 and run.verdict == "SUCCESS"


def _testset(path: Path, tests: list[tuple[str, str]], scope: str | None = "PEPPOL-T003-R024") -> Path:
    """A testSet for T003 with (assert XML, fragment body) pairs."""
    scope_xml = f"<assert><scope>{scope}</scope></assert>" if scope else ""
    body = "".join(
        f"<test><assert>{expect}</assert><TenderStatusRequest xmlns='{T003}' xmlns:cbc='{CBC}'>{fragment}"
        "</TenderStatusRequest></test>"
        for expect, fragment in tests
    )
    path.write_text(f"<testSet xmlns='{VEFA}' configuration='peppol-t003'>{scope_xml}{body}</testSet>")
    return path


def test_wrong_expectations_fail_with_a_reason_naming_the_rule(
    tmp_path: Path, artifact_store: ArtifactStore, cache_dir: Path
) -> None:
    no_version = "<cbc:Note>x</cbc:Note>"
    path = _testset(
        tmp_path / "wrong.xml",
        [
            ("<success>PEPPOL-T003-R024</success>", no_version),
            ("<error number='2'>PEPPOL-T003-R024</error>", no_version),
            ("<warning>PEPPOL-T003-R024</warning>", no_version),
            ("<error>PEPPOL-T003-R024</error>", "<cbc:UBLVersionID>2.2</cbc:UBLVersionID>"),
        ],
    )
    run = run_documents(load_testset(path), Choice(cache_dir=cache_dir), store=artifact_store)
    assert [c.outcome for c in run.cases] == [Outcome.FAILED] * 4
    reasons = [c.reason for c in run.cases]
    assert reasons[0].startswith("PEPPOL-T003-R024 fired once (fatal: [PEPPOL-T003-R024] A Tender Status")
    assert reasons[0].endswith("but was expected not to fire.")
    assert reasons[1] == "PEPPOL-T003-R024 fired once as error, expected 2 times."
    assert reasons[2] == "PEPPOL-T003-R024 fired as fatal, expected as warning."
    assert reasons[3] == "PEPPOL-T003-R024 did not fire but was expected to fire once as error."
    assert run.exit_code == 1 and run.verdict == "FAILURE"


def test_scope_decides_whether_other_rules_count(
    tmp_path: Path, artifact_store: ArtifactStore, cache_dir: Path
) -> None:
    """The same fragment (it fires R001 etc. too) passes with the scope and fails without it."""
    case = [("<success>PEPPOL-T003-R024</success>", "<cbc:UBLVersionID>2.2</cbc:UBLVersionID>")]
    scoped = run_documents(
        load_testset(_testset(tmp_path / "a.xml", case)), Choice(cache_dir=cache_dir), store=artifact_store
    )
    unscoped = run_documents(
        load_testset(_testset(tmp_path / "b.xml", case, scope=None)),
        Choice(cache_dir=cache_dir),
        store=artifact_store,
    )
    assert scoped.cases[0].outcome is Outcome.PASSED
    assert "other rules fired, out of scope" in scoped.cases[0].actual
    assert unscoped.cases[0].outcome is Outcome.FAILED
    assert "although no expectation names it" in unscoped.cases[0].reason
    assert "more expectations broken" in unscoped.cases[0].reason


def test_yaml_expectations_on_the_corpus_examples(
    tmp_path: Path, corpus: Path, artifact_store: ArtifactStore, cache_dir: Path
) -> None:
    expected = json.loads((corpus / "peppol-preaward" / "expected-results.json").read_text())
    lines = ["documents:"]
    for case in expected["schematron_expected_failures"]:
        sch = corpus / "peppol-preaward" / case["schematron"]
        lines.append(f"  {corpus / 'peppol-preaward' / case['document']}:")
        lines.append(f"    schematron: {sch}")
        lines.append(f"    errors: [{', '.join(case['failed_assert_ids'])}]")
    good = expected["schematron_zero_failures"][0]
    lines += [
        f"  {corpus / 'peppol-preaward' / good['document']}:",
        f"    schematron: {corpus / 'peppol-preaward' / good['schematron']}",
        "    errors: [PEPPOL-T999-R001]",
    ]
    yaml_file = tmp_path / "expect.yaml"
    yaml_file.write_text("\n".join(lines) + "\n")
    run = run_documents(collect([yaml_file]), Choice(cache_dir=cache_dir), store=artifact_store)
    assert [c.outcome for c in run.cases] == [Outcome.PASSED, Outcome.PASSED, Outcome.FAILED]
    assert run.cases[2].reason == "PEPPOL-T999-R001 did not fire but was expected to fire once as error."


def test_cli_documents_writes_reports_and_exit_codes(tmp_path: Path, artifact_store: ArtifactStore) -> None:
    runner = CliRunner()
    store = ["--store", str(artifact_store.root), "--no-progress"]
    ok = runner.invoke(
        app,
        [
            "conformance",
            "documents",
            str(builtin_testsets() / "PEPPOL-T003-R019.xml"),
            *store,
            "--report-dir",
            str(tmp_path / "ok"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "SUCCESS: 4 passed, 0 failed" in ok.output
    junit = etree.parse(str(tmp_path / "ok" / "junit.xml")).getroot()
    assert len(junit.findall(".//testcase")) == 4 and not junit.findall(".//failure")
    wrong = _testset(
        tmp_path / "wrong.xml", [("<success>PEPPOL-T003-R024</success>", "<cbc:Note>x</cbc:Note>")]
    )
    bad = runner.invoke(
        app, ["conformance", "documents", str(wrong), *store, "--report-dir", str(tmp_path / "bad")]
    )
    assert bad.exit_code == 1, bad.output
    failure = etree.parse(str(tmp_path / "bad" / "junit.xml")).getroot().find(".//failure")
    assert failure is not None and "expected not to fire" in failure.get("message", "")
    usage = runner.invoke(app, ["conformance", "documents", *store])
    assert usage.exit_code == 2 and "nothing to run" in usage.output
    unknown = runner.invoke(
        app,
        [
            "conformance",
            "documents",
            str(wrong),
            "--ruleset",
            "nope",
            *store,
            "--report-dir",
            str(tmp_path / "nope"),
        ],
    )
    assert unknown.exit_code == 1
    report = json.loads((tmp_path / "nope" / "report.json").read_text())
    assert report["cases"][0]["outcome"] == "error"
    assert report["cases"][0]["reason"].startswith("unknown ruleset 'nope'")


@pytest.mark.slow
def test_eforms_official_svrl_reports_are_reproduced_91_of_91(corpus: Path, tmp_path: Path) -> None:
    """ONE test: the 91 notices need ~40 phases of complete-validation.sch (bundled into one
    stylesheet, ~2.5 GB resident while it runs)."""
    eforms = corpus / "eforms-sdk-1.14.2"
    reports = eforms / "examples" / "reports"
    notices = [eforms / "examples" / "notices" / f"{r.stem}.xml" for r in sorted(reports.glob("*.svrl"))]
    assert len(notices) == 91
    tests = load_with_svrl(notices, reports)
    choice = Choice(
        schematron=eforms / "schematrons" / "static" / "complete-validation.sch", cache_dir=tmp_path
    )
    try:
        run = run_documents(tests, choice, store=ArtifactStore(tmp_path / "store"))
    finally:
        from ubl.schematron import runtime

        forget = getattr(runtime, "forget_compiled", None)  # frees the bundle (~2.5 GB) for later tests
        if forget is not None:
            forget()
    by_outcome: dict[str, list[str]] = defaultdict(list)
    for case in run.cases:
        by_outcome[case.outcome.value].append(f"{case.id}: {case.reason}")
    assert by_outcome.get("passed", []) and len(by_outcome["passed"]) == 91, dict(by_outcome)
    assert all(c.reason.startswith("All ") or "reproduced exactly" in c.reason for c in run.cases)
