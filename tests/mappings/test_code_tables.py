"""The OCP code-list mapping tables (``mapping-tables/*.csv``) are facts our specs must carry.

Every row of every table the eForms spec uses must map the same eForms code to the same OCDS value in
``mappings/specs/eforms.yaml`` (our own tables may hold more codes: SDK 1.14 additions). A row whose
OCDS column is empty (e.g. ``t-no-verif``) has no OCDS value to carry.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from mappings.spec import load_spec

TABLES = Path("ocds-eforms-mapping/output/mapping/eforms/mapping-tables")
#: CSV file -> (our table, CSV column of the OCDS value)
SAME_NAME = (
    "buyer-contracting-type",
    "dps-usage",
    "environmental-impact",
    "framework-agreement-method",
    "gpp-criteria",
    "innovative-acquisition",
    "number-fixed",
    "number-threshold",
    "number-weight",
    "organisation-role",
    "received-submission-type",
    "selection-criterion",
    "social-objective",
    "strategic-procurement",
)
CARRIED: dict[str, list[tuple[str, str]]] = {
    **{name: [(name, "OCDS code")] for name in SAME_NAME},
    "procurement-procedure-type": [("procedure-method", "OCDS code")],
    "form-type": [("form-type-tag", "Release tag"), ("form-type-status", "Tender status")],
}


def _ocds_value(cell: str) -> Any:
    """``'open'`` -> ``open``; ``'award', 'contract'`` -> ``[award, contract]``."""
    items = [part.strip().strip("'") for part in cell.split(",") if part.strip()]
    return items if len(items) > 1 else (items[0] if items else None)


def _rows(corpus: Path, name: str) -> list[dict[str, str]]:
    with (corpus / TABLES / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.corpus
def test_every_mapping_table_is_carried(corpus: Path) -> None:
    on_disk = {p.stem for p in (corpus / TABLES).glob("*.csv")}
    assert on_disk == set(CARRIED), "a new OCP mapping table: carry it into specs/eforms.yaml"


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CARRIED))
def test_mapping_table_facts_are_in_our_spec(corpus: Path, name: str) -> None:
    tables = load_spec("eforms").tables
    differences = []
    for table, column in CARRIED[name]:
        ours = tables[table]
        for row in _rows(corpus, name):
            expected = _ocds_value(row[column])
            if expected is None:
                continue
            code = row["eForms code"]
            if ours.get(code) != expected:
                differences.append(f"{table}[{code}]: ours {ours.get(code)!r}, OCP {expected!r}")
    assert differences == []


@pytest.mark.corpus
def test_strategic_procurement_none_is_carried_without_sustainability(corpus: Path) -> None:
    """strategic-procurement.csv maps ``none`` to ``none``; the guidance sets ``hasSustainability``
    only for another code. Before, ``none`` had no OCDS value (only a kept lexical form)."""
    from mappings.eforms import build_notice, read_notice

    release = read_notice((corpus / "eforms-sdk-1.14.2/examples/notices/cn_24_minimal.xml").read_bytes())
    release.pop("platform")
    lot = release["tender"]["lots"][0]
    lot["sustainability"] = [{"goal": "none"}]
    back = read_notice(build_notice(release, "cn"))["tender"]["lots"][0]
    assert back["sustainability"] == [{"goal": "none"}]
    assert "hasSustainability" not in back
    lot["sustainability"] = [{"goal": "social"}]
    lot["hasSustainability"] = True
    back = read_notice(build_notice(release, "cn"))["tender"]["lots"][0]
    assert back["hasSustainability"] is True
    assert back["sustainability"][0]["goal"] == "social"
