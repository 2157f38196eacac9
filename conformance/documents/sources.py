"""Where rule unit tests come from: VEFA ``testSet`` (or single ``test``) files, a simple YAML file
(document → expected rule ids and flags) and a folder of official SVRL reports (one per document).

Every loader returns :class:`UnitTest` objects; :mod:`conformance.documents.runner` runs them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from lxml import etree

from peppol.xml import XmlError, parse_bytes, parse_file
from ubl.schematron import parse_svrl

from .expectations import EXPECTED_KINDS, Expectation, RuleExpectation, SvrlExpectation

VEFA_NS: Final = "http://difi.no/xsd/vefa/validator/1.0"
_V: Final = "{" + VEFA_NS + "}"
#: YAML keys naming expected firings (plural forms accepted too).
_YAML_KINDS: Final = {
    "fatal": "fatal",
    "fatals": "fatal",
    "error": "error",
    "errors": "error",
    "warning": "warning",
    "warnings": "warning",
}


class TestSourceError(ValueError):
    """A test file cannot be read as a testSet, a test or an expectation YAML (one-line message)."""

    code = "conformance-test-source"


@dataclass(slots=True)
class UnitTest:
    """One rule unit test: a document (fragment) and what the Schematron must say about it.

    ``ruleset``/``schematron``/``phase`` are hints from the test file (a testSet's ``configuration``
    naming one of our registry keys, or YAML keys); command-line options override them.
    """

    __test__ = False  # not a pytest class

    id: str
    title: str
    group: str
    document: bytes
    expectation: Expectation
    ruleset: str | None = None
    schematron: Path | None = None
    phase: str | None = None


def _texts(parent: etree._Element, name: str) -> list[str]:
    return [" ".join((el.text or "").split()) for el in parent.findall(_V + name) if (el.text or "").strip()]


def _rule_expectation(assert_el: etree._Element | None, scope: tuple[str, ...]) -> RuleExpectation:
    expectation = RuleExpectation(scope=scope)
    if assert_el is None:
        return expectation
    expectation.scope = tuple(dict.fromkeys([*scope, *_texts(assert_el, "scope")]))
    expectation.success.update(_texts(assert_el, "success"))
    for kind in EXPECTED_KINDS:
        for el in assert_el.findall(_V + kind):
            rule = " ".join((el.text or "").split())
            if not rule:
                continue
            number = el.get("number", "1")
            if not number.isdigit() or int(number) < 1:
                raise TestSourceError(
                    f"<{kind}>{rule}</{kind}>: number must be a positive integer, not {number!r}"
                )
            expectation.expect(kind, rule, int(number))
    return expectation


def _description(assert_el: etree._Element | None) -> str:
    if assert_el is None:
        return ""
    found = _texts(assert_el, "description")
    return found[0] if found else ""


def _fragment(test: etree._Element, where: str) -> bytes:
    documents = [child for child in test if isinstance(child.tag, str) and not child.tag.startswith(_V)]
    if len(documents) != 1:
        raise TestSourceError(f"{where}: expected one document element, found {len(documents)}")
    fragment = copy.deepcopy(documents[0])
    fragment.tail = None
    out: bytes = etree.tostring(etree.ElementTree(fragment), xml_declaration=True, encoding="UTF-8")
    return out


def load_testset(path: Path) -> list[UnitTest]:
    """The tests of a VEFA ``testSet`` file (or of a single ``test`` file)."""
    try:
        root = parse_file(path).getroot()
    except (OSError, XmlError) as exc:
        raise TestSourceError(f"{path}: cannot read: {exc}") from exc
    group = path.name
    ruleset = root.get("configuration")
    set_scope: tuple[str, ...] = ()
    set_title = ""
    if root.tag == _V + "test":
        tests = [root]
    elif root.tag == _V + "testSet":
        set_assert = root.find(_V + "assert")
        if set_assert is not None:
            set_scope = tuple(_texts(set_assert, "scope"))
        set_title = _description(set_assert)
        tests = root.findall(_V + "test")
    else:
        raise TestSourceError(f"{path}: root element {root.tag} is not a VEFA testSet or test")
    out: list[UnitTest] = []
    for number, test in enumerate(tests, 1):
        where = f"{path.name} test {number}"
        assert_el = test.find(_V + "assert")
        test_id = test.get("id") or f"{path.stem}#{number}"
        title = _description(assert_el) or set_title or test_id
        out.append(
            UnitTest(
                id=test_id,
                title=title,
                group=group,
                document=_fragment(test, where),
                expectation=_rule_expectation(assert_el, set_scope),
                ruleset=test.get("configuration") or ruleset,
            )
        )
    return out


def _yaml_rules(value: Any, where: str) -> dict[str, int]:
    """``[ID, ID]``, ``{ID: 2}`` or ``[ID, {ID: 2}]`` → rule → count."""
    items = value if isinstance(value, list) else [value]
    out: dict[str, int] = {}
    for item in items:
        pairs = item.items() if isinstance(item, dict) else [(item, 1)]
        for rule, count in pairs:
            if not isinstance(rule, str) or not isinstance(count, int) or count < 1:
                raise TestSourceError(f"{where}: expected rule ids (or rule: count), got {item!r}")
            out[rule] = out.get(rule, 0) + count
    return out


def load_yaml(path: Path) -> list[UnitTest]:
    """Tests of a YAML expectation file::

        schematron: rules/PEPPOL-T003.sch     # or ruleset: peppol-t003 (optional defaults)
        documents:
          examples/ok.xml: {success: [PEPPOL-T003-R001], exact: true}
          examples/bad.xml: {errors: [PEPPOL-T003-R001, {PEPPOL-T003-R018: 2}], scope: [...]}

    Document paths are relative to the YAML file.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TestSourceError(f"{path}: cannot read the expectation YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("documents"), dict):
        raise TestSourceError(f"{path}: expected a mapping with a 'documents' mapping (file → expectations)")
    base = path.parent
    default_sch = Path(data["schematron"]) if data.get("schematron") else None
    out: list[UnitTest] = []
    for name, spec in data["documents"].items():
        where = f"{path.name}: {name}"
        spec = spec or {}
        if not isinstance(spec, dict):
            raise TestSourceError(f"{where}: expected a mapping of expectations")
        expectation = RuleExpectation(
            scope=tuple(spec.get("scope", ())), exact=bool(spec.get("exact", False))
        )
        expectation.success.update(_yaml_rules(spec.get("success", []), where))
        for key, kind in _YAML_KINDS.items():
            for rule, count in _yaml_rules(spec.get(key, []), where).items():
                expectation.expect(kind, rule, count)
        document = base / str(name)
        sch = spec.get("schematron")
        out.append(
            UnitTest(
                id=str(name),
                title=str(spec.get("title", name)),
                group=path.name,
                document=_read(document),
                expectation=expectation,
                ruleset=spec.get("ruleset", data.get("ruleset")),
                schematron=_relative(base, Path(sch)) if sch else _relative(base, default_sch),
                phase=spec.get("phase", data.get("phase")),
            )
        )
    return out


def _relative(base: Path, path: Path | None) -> Path | None:
    return None if path is None else (path if path.is_absolute() else base / path)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TestSourceError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def load_with_svrl(documents: list[Path], reports: Path) -> list[UnitTest]:
    """One test per document whose official report ``<reports>/<stem>.svrl`` exists."""
    out: list[UnitTest] = []
    for document in documents:
        report = reports / f"{document.stem}.svrl"
        if not report.is_file():
            raise TestSourceError(f"{document.name}: no official report {report}")
        out.append(
            UnitTest(
                id=document.name,
                title=f"{document.name} reproduces the official SVRL",
                group=reports.name,
                document=_read(document),
                expectation=SvrlExpectation(report.name, parse_svrl(_read(report))),
            )
        )
    return out


def is_vefa(path: Path) -> bool:
    """True when ``path`` is an XML file whose root is a VEFA ``testSet``/``test``."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return False
    return VEFA_NS.encode() in head


def check_document(data: bytes, label: str) -> None:
    """Refuse unsafe or malformed XML before it reaches Saxon (one-line error)."""
    try:
        parse_bytes(data)
    except XmlError as exc:
        raise TestSourceError(f"{label}: {exc}") from exc
