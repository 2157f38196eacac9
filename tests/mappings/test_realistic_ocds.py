"""OCDS as platforms write it (``tests/mappings/realistic/ocds``, written by us): every release gives an
XSD-valid eForms CN and a valid Peppol T004 with the procedure and CPV it states; the complete releases
give Schematron-valid notices (subtypes 16 and 19); without the organisation profiles every output is
still XSD-valid and the findings name what to add.

Before (the same 31 releases, pre-merged, on the code before the profiles): CN XSD-valid 21/31 (awards
written into the CN, amounts without currencyID), complete releases Schematron-valid 0/2, a T004 at all
13/31 (18 stopped at the missing Peppol id or the buyer id), procedure code and CPV right 1/31; record
packages and packages with several releases of one ocid were refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from mappings.ocds_merge import compile_releases
from mappings.ocds_prepare import UUID_V4, country_code, prepare, stable_uuid
from mappings.org_schemes import party_peppol_ids, peppol_id
from mappings.profiles import Directory, apply_profiles, missing
from tests.mappings.realistic.ocds.measure import (
    HERE,
    cases,
    run,
    schematron_failures,
    t004_content,
    xsd_errors,
)
from ubl.artifacts import ArtifactStore

CASES = cases()


@pytest.mark.corpus
def test_every_release_gives_valid_cn_and_t004_with_profiles(corpus: Path) -> None:
    assert len(CASES) >= 30
    problems = []
    for case in CASES:
        cn = run(case, "eforms-cn", with_profiles=True)
        t004 = run(case, "peppol-t004", with_profiles=True)
        if xsd_errors(corpus, "eforms-cn", cn.data):
            problems.append(f"{case.name}: CN not XSD-valid")
        if b"NoticeResult" in cn.data:
            problems.append(f"{case.name}: results in a CN")
        can = run(case, "eforms-can", with_profiles=True)
        if xsd_errors(corpus, "eforms-can", can.data):
            problems.append(f"{case.name}: CAN not XSD-valid")
        if xsd_errors(corpus, "peppol-t004", t004.data) or schematron_failures(
            corpus, "peppol-t004", t004.data
        ):
            problems.append(f"{case.name}: T004 not valid")
        if t004_content(t004.data) != (case.procedure, case.cpv):
            problems.append(f"{case.name}: T004 says {t004_content(t004.data)}")
        if not (case.release.get("language") or "").startswith("uk") and any(
            f.path == "language" for f in cn.findings
        ):
            problems.append(f"{case.name}: language guessed")
    assert problems == []


@pytest.mark.corpus
@pytest.mark.parametrize("subtype", ["16", "19"])
def test_complete_release_gives_schematron_valid_notice(corpus: Path, subtype: str) -> None:
    (case,) = [c for c in CASES if c.complete and c.subtype == subtype]
    cn = run(case, "eforms-cn", with_profiles=True)
    assert cn.findings == []
    assert schematron_failures(corpus, "eforms-cn", cn.data, subtype) == []


@pytest.mark.corpus
def test_without_profiles_outputs_stay_xsd_valid_and_findings_name_what_to_add(corpus: Path) -> None:
    problems = []
    for case in CASES:
        for target in ("eforms-cn", "peppol-t004"):
            result = run(case, target, with_profiles=False)
            if xsd_errors(corpus, target, result.data):
                problems.append(f"{case.name} {target}: not XSD-valid")
            if not all(f.path and "add" in f.message for f in result.findings):
                problems.append(f"{case.name} {target}: {[str(f) for f in result.findings]}")
            # no finding only where nothing is missing: a T004 whose buyer has a SIRET needs no profile
            valid_t004 = target == "peppol-t004" and not schematron_failures(corpus, target, result.data)
            if not result.findings and not valid_t004:
                problems.append(f"{case.name} {target}: no finding")
    assert problems == []


@pytest.mark.corpus
def test_cli_validate_exits_1_and_names_the_profile_key(artifact_store: ArtifactStore) -> None:
    """``ap convert --validate`` of a release whose buyer the platform does not know: the T004 is
    written, the run fails, and the first line says which profile key to add."""
    result = CliRunner().invoke(
        app,
        [
            "convert",
            str(HERE / "fr_noid_0.json"),
            "--from",
            "ocds",
            "--to",
            "peppol-t004",
            "--validate",
            "--store",
            str(artifact_store.root),
        ],
    )
    assert result.exit_code == 1, result.stderr
    assert 'input: organisations["Commune de Saint-Malo"].peppol: add the Peppol participant id' in (
        " ".join(result.stderr.split())
    )
    with_profiles = CliRunner().invoke(
        app,
        [
            "convert",
            str(HERE / "fr_noid_0.json"),
            "--from",
            "ocds",
            "--to",
            "peppol-t004",
            "--validate",
            "--enrich",
            str(HERE / "profiles.json"),
            "--store",
            str(artifact_store.root),
        ],
    )
    assert with_profiles.exit_code == 0, with_profiles.stderr


def test_releases_of_one_ocid_merge_as_ocds_defines() -> None:
    first = {
        "ocid": "o",
        "id": "1",
        "date": "2025-01-01T00:00:00Z",
        "tag": ["tender"],
        "tender": {
            "title": "A",
            "description": "D",
            "lots": [{"id": "1", "title": "x"}],
            "submissionMethod": ["electronicSubmission", "written"],
        },
    }
    later = {
        "ocid": "o",
        "id": "2",
        "date": "2025-02-01T00:00:00Z",
        "tag": ["tenderAmendment"],
        "tender": {
            "title": "B",
            "description": None,
            "lots": [{"id": "1", "status": "active"}, {"id": "2"}],
            "submissionMethod": ["electronicSubmission"],
        },
    }
    merged = compile_releases([later, first])  # applied by date, not file order
    assert merged["tender"] == {
        "title": "B",
        "lots": [{"id": "1", "title": "x", "status": "active"}, {"id": "2"}],  # merged by id
        "submissionMethod": ["electronicSubmission"],  # other arrays replaced
    }
    assert merged["tag"] == ["compiled"] and merged["id"] == "o-2025-02-01T00:00:00Z"


def test_identifier_schemes_map_to_peppol_icds_of_the_code_list() -> None:
    assert peppol_id("FR-SIRET", "21350238800019") == ("0009", "21350238800019")
    assert peppol_id("FR-SIREN", "213502388") == ("0002", "213502388")
    assert peppol_id("DE-VAT", "122268496") == ("9930", "DE122268496")
    assert peppol_id("IT-VAT", "IT01199250158") == ("0211", "IT01199250158")  # IT:IVA, not removed IT:VAT
    assert peppol_id("VAT", "EL123456789") == ("9933", "EL123456789")
    assert peppol_id("GB-COH", "01234567") is None
    # a VAT number is an endpoint only: a party identifier needs an ICD 0003-0213 (PEPPOL-T004-R011)
    assert party_peppol_ids({"identifier": {"scheme": "DE-VAT", "id": "DE122268496"}}) == {
        "endpoint": {"scheme": "9930", "id": "DE122268496"}
    }


def test_profiles_complete_parties_and_accept_the_decp_enrichment_format() -> None:
    legacy = Directory.load({"organisations": {"21350238800019": {"name": "Rennes Métropole"}}})
    assert legacy.find("FR-SIRET", "21350238800019") is not None
    directory = Directory.load(json.loads((HERE / "profiles.json").read_text("utf-8")))
    party = {
        "id": "p",
        "identifier": {"scheme": "FR-SIREN", "id": "x"},
        "roles": ["buyer"],
        "additionalIdentifiers": [{"scheme": "FR-SIRET", "id": "21290019700014"}],
        "address": {"region": "Finistère"},
    }
    done = apply_profiles({"parties": [party]}, directory)
    (got,) = done["parties"]
    assert got["name"] == "Brest Métropole" and got["address"]["region"] == "FRH02"  # NUTS from the profile
    assert {"scheme": "eu-buyer-legal-type", "id": "la"} in got["details"]["classifications"]
    assert missing(done, "eforms-cn", directory) == []
    findings = missing({"parties": [party]}, "eforms-cn", Directory())
    assert 'organisations["FR-SIREN:x"].buyerLegalType' in [f.path for f in findings]


def test_prepare_reads_publishers_shapes() -> None:
    release = {
        "ocid": "ocds-x-1",
        "id": "r-1",
        "language": "de",
        "buyer": {"name": "Stadt"},
        "parties": [
            {"id": "s", "name": "Winner", "roles": ["supplier"], "address": {"countryName": "Deutschland"}}
        ],
        "tender": {
            "id": "T-1",
            "procurementMethod": "selective",
            "items": [
                {
                    "id": "9",
                    "classification": {"scheme": "UNSPSC", "id": "44121600"},
                    "additionalClassifications": [{"scheme": "CPV", "id": "30192000-1"}],
                }
            ],
            "value": {"amount": 5},
        },
        "awards": [{"id": "a", "suppliers": [{"id": "s"}]}],
    }
    out, findings = prepare(release, "eforms-cn")
    tender = out["tender"]
    assert [lot["id"] for lot in tender["lots"]] == ["LOT-0001"]  # implied from the tender
    assert tender["items"][0] == {
        "id": "9",
        "relatedLot": "LOT-0001",
        "classification": {"scheme": "CPV", "id": "30192000"},
    }
    assert tender["procurementMethodDetails"] == "Restricted procedure"
    assert "awards" not in out and [p["roles"] for p in out["parties"]] == [["buyer"]]  # no results in a CN
    assert (
        UUID_V4.fullmatch(tender["id"]) and tender["id"] == prepare(release, "eforms-cn")[0]["tender"]["id"]
    )
    assert "value" not in tender and [f.path for f in findings] == ["tender.value.currency"]
    assert country_code("Deutschland") == "DE" and country_code("Royaume-Uni") == "GB"
    assert UUID_V4.fullmatch(stable_uuid("a")) and stable_uuid("a") == stable_uuid("a")
