"""Converts the realistic OCDS corpus and measures the results (used by the tests and as a report).

    .venv/bin/python -m tests.mappings.realistic.ocds.measure [CORPUS_DIR]

prints, for every release of the corpus, with and without the organisation profiles: eForms CN
XSD-valid, eForms Schematron (phase of its subtype) for the complete releases, T004 XSD + PEPPOL-T004
valid, the T004 procedure code and CPV as expected, and the findings the conversion reports.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from mappings.convert import Conversion, convert, load_releases
from mappings.xmlns import NS

HERE = Path(__file__).parent
EFORMS_SDK = Path("eforms-sdk-1.14.2")
T004_RULES = Path("peppol-preaward/rules/peppol-call-for-tender/PEPPOL-T004.sch")


def expected() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text("utf-8"))
    return loaded


def profiles() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / "profiles.json").read_text("utf-8"))
    return loaded


@dataclass(frozen=True)
class Case:
    """One release of the corpus: its file, position and what its documents must say."""

    file: str
    index: int
    release: dict[str, Any]
    procedure: str
    cpv: str
    subtype: str = "16"
    complete: bool = False

    @property
    def name(self) -> str:
        return f"{self.file}[{self.index}]"


def cases() -> list[Case]:
    out = []
    for name, exp in expected().items():
        releases = load_releases((HERE / name).read_bytes(), "ocds")
        assert len(releases) == exp["releases"], name
        for i, release in enumerate(releases):
            procedure = exp["procedure"][i] if isinstance(exp["procedure"], list) else exp["procedure"]
            cpv = exp["cpv"][i] if isinstance(exp["cpv"], list) else exp["cpv"]
            out.append(
                Case(name, i, release, procedure, cpv, exp.get("subtype", "16"), bool(exp.get("complete")))
            )
    return out


def run(case: Case, target: str, *, with_profiles: bool) -> Conversion:
    data = json.dumps(case.release, ensure_ascii=False).encode()
    return convert(data, source="ocds", target=target, enrich=profiles() if with_profiles else None)


@cache
def _xsd(corpus: Path, target: str) -> etree.XMLSchema:
    path = {
        "eforms-cn": corpus / EFORMS_SDK / "schemas/maindoc/UBL-ContractNotice-2.3.xsd",
        "eforms-can": corpus / EFORMS_SDK / "schemas/maindoc/UBL-ContractAwardNotice-2.3.xsd",
        "peppol-t004": corpus / "ubl-2.2/xsdrt/maindoc/UBL-CallForTenders-2.2.xsd",
    }[target]
    return etree.XMLSchema(etree.parse(str(path)))


def xsd_errors(corpus: Path, target: str, data: bytes) -> list[str]:
    schema = _xsd(corpus, target)
    if schema.validate(etree.fromstring(data)):
        return []
    return [str(e) for e in schema.error_log]  # type: ignore[attr-defined]  # stub lacks it


def schematron_failures(corpus: Path, target: str, data: bytes, subtype: str = "16") -> list[str]:
    """Failed asserts (errors; warnings left out) of the target's rules."""
    from ubl.schematron import compile_schematron

    if target == "eforms-cn":
        sch = compile_schematron(
            corpus / EFORMS_SDK / "schematrons/static/complete-validation.sch", phase=f"eforms-{subtype}"
        )
    else:
        sch = compile_schematron(corpus / T004_RULES)
    return [
        f"{i.rule_id} {i.location or ''}"
        for i in sch.validate(data).failures
        if i.flag == "fatal" or i.severity.value != "warning"
    ]


def t004_content(data: bytes) -> tuple[str, str]:
    """``(ProcedureCode, main CPV)`` of a T004."""
    root = etree.fromstring(data)
    code = root.findtext("cac:TenderingProcess/cbc:ProcedureCode", namespaces=NS) or ""
    cpv = (
        root.findtext(
            "cac:ProcurementProject/cac:MainCommodityClassification/cbc:ItemClassificationCode", namespaces=NS
        )
        or ""
    )
    return code, cpv


@dataclass
class Figures:
    """x/N per measure."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)

    def add(self, measure: str, ok: bool, case: Case, why: str = "") -> None:
        passed, total = self.counts.setdefault(measure, [0, 0])
        self.counts[measure] = [passed + ok, total + 1]
        if not ok:
            self.failures.setdefault(measure, []).append(f"{case.name}: {why}"[:300])


def measure(corpus: Path) -> Figures:
    figures = Figures()
    for case in cases():
        for with_profiles in (True, False):
            tag = "with profiles" if with_profiles else "without profiles"
            cn = run(case, "eforms-cn", with_profiles=with_profiles)
            figures.add(f"CN XSD-valid ({tag})", not xsd_errors(corpus, "eforms-cn", cn.data), case)
            t004 = run(case, "peppol-t004", with_profiles=with_profiles)
            figures.add(f"T004 XSD-valid ({tag})", not xsd_errors(corpus, "peppol-t004", t004.data), case)
            rules = schematron_failures(corpus, "peppol-t004", t004.data)
            if with_profiles:
                figures.add("T004 PEPPOL-T004-valid (with profiles)", not rules, case, " ".join(rules))
                got = t004_content(t004.data)
                figures.add(
                    "T004 procedure code and CPV right", got == (case.procedure, case.cpv), case, str(got)
                )
                if case.complete:
                    failed = schematron_failures(corpus, "eforms-cn", cn.data, case.subtype)
                    figures.add(
                        f"CN Schematron-valid (complete, {case.subtype})", not failed, case, str(failed)
                    )
                    figures.add("no finding (complete)", not cn.findings, case, str(cn.findings))
            else:
                figures.add(
                    "findings name what to add (without profiles)",
                    bool(cn.findings) and all(f.path and "add" in f.message for f in cn.findings),
                    case,
                )
    return figures


def main() -> None:
    from tests.conftest import CORPUS_DIR

    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR
    figures = measure(corpus)
    for name, (passed, total) in figures.counts.items():
        print(f"{passed:3d}/{total:<3d} {name}")
    for name, lines in figures.failures.items():
        print(f"\n{name}:")
        for line in lines[:8]:
            print(f"  {line}")


def iter_cases() -> Iterator[Case]:
    yield from cases()


if __name__ == "__main__":
    main()
