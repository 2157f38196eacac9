"""Acceptance: the Peppol pre-award Schematrons, compiled by our compiler, reproduce the upstream
harness's expected results (``peppol-preaward/expected-results.json``), and mutations fire the rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from peppol.xml import parse_file
from ubl.result import LayerStatus, Severity
from ubl.schematron import CompiledSchematron, compile_schematron

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _expected(section: str) -> list[dict[str, Any]]:
    from tests.conftest import CORPUS_DIR

    path = CORPUS_DIR / "peppol-preaward" / "expected-results.json"
    if not path.is_file():
        return []
    data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))
    return data[section]


def _case_id(case: dict[str, Any]) -> str:
    return Path(case["schematron"]).stem + ":" + Path(case["document"]).name


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schc-preaward")


@pytest.fixture(scope="module")
def preaward(corpus: Path) -> Path:
    return corpus / "peppol-preaward"


def _compile(preaward: Path, schematron: str, cache_dir: Path) -> CompiledSchematron:
    return compile_schematron(preaward / schematron, cache_dir=cache_dir)


@pytest.mark.parametrize("case", _expected("schematron_zero_failures"), ids=_case_id)
def test_preaward_example_has_zero_failed_asserts(
    case: dict[str, Any], preaward: Path, cache_dir: Path
) -> None:
    layer = _compile(preaward, case["schematron"], cache_dir).validate(preaward / case["document"])
    assert [i.rule_id for i in layer.failures] == []
    assert layer.status is LayerStatus.VALID
    assert layer.svrl is not None and b"svrl:fired-rule" in layer.svrl


def test_preaward_expected_results_cover_26_zero_and_2_negative_cases(corpus: Path) -> None:
    assert len(_expected("schematron_zero_failures")) == 26
    assert len(_expected("schematron_expected_failures")) == 2


@pytest.mark.parametrize("case", _expected("schematron_expected_failures"), ids=_case_id)
def test_preaward_negative_case_fires_exactly_the_listed_rules(
    case: dict[str, Any], preaward: Path, cache_dir: Path
) -> None:
    layer = _compile(preaward, case["schematron"], cache_dir).validate(preaward / case["document"])
    assert sorted(i.rule_id for i in layer.failures) == sorted(case["failed_assert_ids"])
    assert all(i.severity is Severity.FATAL for i in layer.failures)
    assert layer.status is LayerStatus.INVALID


def _mutate(document: Path, xpath: str, action: str, value: str = "") -> bytes:
    tree = parse_file(document)
    nodes = tree.xpath(xpath, namespaces={"cbc": CBC})
    assert isinstance(nodes, list) and nodes, f"mutation target {xpath} not found"
    for node in nodes:
        if action == "delete":
            assert isinstance(node, etree._Element)
            parent = node.getparent()
            assert parent is not None
            parent.remove(node)
        elif action == "set-attribute":
            assert isinstance(node, etree._Element)
            name, _, new = value.partition("=")
            node.set(name, new)
        elif action == "set-text":
            assert isinstance(node, etree._Element)
            node.text = value
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize(
    ("schematron", "document", "xpath", "action", "value", "expected"),
    [
        (
            "rules/peppol-call-for-tender/PEPPOL-T004.sch",
            "guides/transactions/T004/files/call-for-tenders-instance.xml",
            "/*/cbc:IssueTime",
            "delete",
            "",
            {"PEPPOL-T004-R007"},
        ),
        (
            "rules/peppol-call-for-tender/PEPPOL-T004.sch",
            "guides/transactions/T004/files/call-for-tenders-instance.xml",
            "(//cbc:EndpointID)[1]",
            "set-attribute",
            "schemeID=9999",
            {"PEPPOL-T004-R013"},
        ),
        (
            "rules/peppol-publish-notice/PEPPOL-T016.sch",
            "guides/transactions/T016/files/ExampleNoticePublicationResponse.xml",
            "/*/cbc:CustomizationID",
            "delete",
            "",
            {"PEPPOL-T016-R004"},
        ),
        (
            "rules/peppol-publish-notice/PEPPOL-T016.sch",
            "guides/transactions/T016/files/ExampleNoticePublicationResponse.xml",
            "/*/cbc:CustomizationID",
            "set-text",
            "urn:fdc:peppol.eu:prac:trns:t016:9.9",
            {"PEPPOL-T016-R011"},
        ),
    ],
    ids=[
        "T004-delete-IssueTime",
        "T004-bad-EAS-code",
        "T016-delete-CustomizationID",
        "T016-wrong-CustomizationID",
    ],
)
def test_preaward_mutation_fires_the_expected_rule(
    schematron: str,
    document: str,
    xpath: str,
    action: str,
    value: str,
    expected: set[str],
    preaward: Path,
    cache_dir: Path,
) -> None:
    compiled = _compile(preaward, schematron, cache_dir)
    assert compiled.validate(preaward / document).failures == []
    layer = compiled.validate(_mutate(preaward / document, xpath, action, value))
    assert {i.rule_id for i in layer.failures} == expected
    assert layer.status is LayerStatus.INVALID
