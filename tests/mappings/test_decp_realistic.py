"""DECP as publishers write it: the realistic corpus (``realistic/decp``, written by us) through every
conversion. Many contracts per file, concessions, several modifications per contract, groupings,
subcontracting, every procedure label, SIRET/TVA/HORS-UE/TAHITI/RIDET holders, organisation profiles.

Schematron runs are kept to one notice per subtype (29, 32) with profiles and one without (module-
scoped); XSD, OCDS and DECP schema checks run over every contract.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

import jsonschema
import pytest
from lxml import etree
from typer.testing import CliRunner

from access_point.cli import app
from mappings.convert import convert, convert_all
from mappings.decp import export_decp, import_decp
from mappings.errors import MappingError
from mappings.findings import Finding, field_name, field_of, xml_findings
from tests.mappings.realistic.decp.generate import build

HERE: Final = Path(__file__).resolve().parent / "realistic" / "decp"
FILES: Final = sorted(p for p in HERE.glob("*.json") if p.name != "profiles.json")
PROFILES: Final[dict[str, Any]] = json.loads((HERE / "profiles.json").read_text(encoding="utf-8"))


def _doc(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_corpus_is_what_the_generator_writes_and_valid_against_the_decp_schema(corpus: Path) -> None:
    built = build()
    assert sorted(built) == sorted([p.name for p in FILES] + ["profiles.json"])
    assert all(built[p.name] == _doc(p) for p in FILES)
    validator = jsonschema.Draft7Validator(
        json.loads((corpus / "decp-v2" / "schema_decp_v2.0.3.json").read_text(encoding="utf-8"))
    )
    contracts = concessions = modified = 0
    for path in FILES:
        doc = _doc(path)
        assert not list(validator.iter_errors(doc)), path.name
        marches = doc["marches"]
        contracts += len(marches.get("marche", [])) + len(marches.get("contrat-concession", []))
        concessions += len(marches.get("contrat-concession", []))
        modified += sum(len(m.get("modifications", [])) > 1 for v in marches.values() for m in v)
    assert len(FILES) >= 10
    assert (contracts, concessions, modified) >= (100, 6, 5)


@pytest.mark.parametrize("profiles", [False, True], ids=["decp-only", "profiles"])
def test_decp_to_ocds_is_valid_against_the_official_release_schema_and_back_lossless(
    corpus: Path, profiles: bool
) -> None:
    schema = json.loads((corpus / "ocds-1.1" / "release-schema.json").read_text(encoding="utf-8"))
    official = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    for path in FILES:
        doc = _doc(path)
        releases = import_decp(doc, enrich=PROFILES if profiles else None)
        for release in releases:
            assert [e.message for e in official.iter_errors(release)] == [], (path.name, release["id"])
        assert export_decp(releases) == doc, path.name
        # through the OCDS JSON text too (what `ap convert --to ocds` then `--from ocds --to decp` do)
        again = convert(
            convert(json.dumps(doc).encode(), source="decp", target="ocds").data, source="ocds", target="decp"
        )
        assert json.loads(again.data) == doc, path.name


def test_modifications_are_contract_amendments() -> None:
    doc = _doc(HERE / "departement-avenants.json")
    marche = next(m for m in doc["marches"]["marche"] if len(m.get("modifications", [])) >= 3)
    (release,) = import_decp({"marches": {"marche": [marche]}})
    amendments = release["contracts"][0]["amendments"]
    assert [a["id"] for a in amendments] == [str(m["modification"]["id"]) for m in marche["modifications"]]
    first = marche["modifications"][0]["modification"]
    assert amendments[0]["date"] == f"{first['dateNotificationModification']}T00:00:00Z"
    assert amendments[0]["value"] == {"amount": first["montant"], "currency": "EUR"}
    with_holders = next(a for a in amendments if "suppliers" in a)
    party_ids = {p["id"] for p in release["parties"]}
    assert {s["id"] for s in with_holders["suppliers"]} <= party_ids  # a new holder is a party
    # an edited amendment is exported from OCDS
    release["contracts"][0]["amendments"][0]["value"]["amount"] = 123456
    assert (
        export_decp([release])["marches"]["marche"][0]["modifications"][0]["modification"]["montant"]
        == 123456
    )


def test_electronic_auction_and_award_parties_for_the_notice() -> None:
    """BT-767 from the DECP techniques; a holder that came with a modification is no organisation of
    the award notice (it would have no role there: OPT-200, BT-165 rules)."""
    from mappings.decp import eforms_release

    doc = _doc(HERE / "departement-avenants.json")
    marche = next(
        m
        for m in doc["marches"]["marche"]
        if any("titulaires" in x["modification"] for x in m.get("modifications", []))
    )
    (release,) = import_decp({"marches": {"marche": [marche]}})
    assert release["tender"]["lots"][0]["techniques"] == {
        "hasElectronicAuction": "Enchère électronique" in marche["techniques"]["technique"]
    }
    written, subtype = eforms_release(release, "can")
    assert subtype is None and len(written["parties"]) < len(release["parties"])
    winners = {s["id"] for s in release["awards"][0]["suppliers"]}
    assert {p["id"] for p in written["parties"]} == {release["buyer"]["id"], *winners}
    assert written["tender"]["procurementMethodDetails"] != release["tender"]["procurementMethodDetails"]


def test_concession_maps_holders_value_dates_and_subsidy() -> None:
    doc = _doc(HERE / "agglo-concessions.json")
    concession = doc["marches"]["contrat-concession"][0]
    (release,) = import_decp({"marches": {"contrat-concession": [concession]}})
    contract = release["contracts"][0]
    assert contract["awardID"] == release["awards"][0]["id"]
    assert contract["value"]["amount"] == concession["valeurGlobale"]
    assert contract["dateSigned"] == f"{concession['dateSignature']}T00:00:00Z"
    assert contract["period"]["startDate"] == f"{concession['dateDebutExecution']}T00:00:00Z"
    holders = [c["concessionnaire"]["id"] for c in concession["concessionnaires"]]
    assert [s["id"] for s in release["awards"][0]["suppliers"]] == holders
    assert release["language"] == "fr"


def test_every_contract_is_an_xsd_valid_can_concessions_subtype_32(
    eforms_schemas: dict[str, etree.XMLSchema],
) -> None:
    counts = {"29": 0, "32": 0}
    for path in FILES:
        for profiles in (None, PROFILES):
            for conversion in convert_all(
                path.read_bytes(), source="decp", target="eforms-can", enrich=profiles
            ):
                root = etree.fromstring(conversion.data)
                assert eforms_schemas["can"].validate(root), (
                    path.name,
                    eforms_schemas["can"].error_log.last_error,
                )
                subtype = root.findtext(".//{*}SubTypeCode")
                counts[str(subtype)] += 1
                assert root.findtext("{*}RegulatoryDomain") == (
                    "32014L0023" if subtype == "32" else "32014L0024"
                )
                assert set(root.xpath("//@languageID")) == {"FRA"}
    assert counts["32"] >= 12 and counts["29"] >= 180


def test_one_contract_is_picked_by_id_and_many_are_refused_without() -> None:
    data = (HERE / "syndicat-eau-dsp.json").read_bytes()
    picked = convert(data, source="decp", target="eforms-can", contract="DSP-EAU-2024")
    assert b"DSP-EAU-2024" in picked.data and b'listName="notice-subtype">32<' in picked.data
    with pytest.raises(
        MappingError, match=r"holds 3 \(SIE-2024-T1, DSP-EAU-2024, DSP-ASST-2022\).*--contract"
    ):
        convert(data, source="decp", target="eforms-can")
    with pytest.raises(MappingError, match="names no contract"):
        convert(data, source="decp", target="eforms-can", contract="NOPE")


def test_field_of_a_rule_from_its_diagnostics_or_id() -> None:
    assert (
        field_of("BR-BT-00514-0022", ["ND-Company_BT-514-Organization-Company"])
        == "BT-514-Organization-Company"
    )
    assert field_of("BR-BT-00001-0001", ["BT-01_c_-Procedure"]) == "BT-01(c)-Procedure"
    assert field_of("BR-BT-00010-0031", []) == "BT-10"
    assert field_of("ND-AwardingTerms-29", []) == "ND-AwardingTerms"
    assert field_name("BT-514-Organization-Company").endswith("Country")
    assert "cac:AwardingTerms" in field_name("ND-AwardingTerms")
    # a generic rule names only the element: its node from the location
    assert (
        field_of("element-not-empty", [], "/cn:ContractNotice/cac:ContractingParty/cac:Party") == "ND-Buyer"
    )


@pytest.mark.corpus
def test_with_complete_profiles_every_contract_is_an_xsd_and_schematron_valid_can(
    artifact_store: Any,
) -> None:
    """Every marché (29) and concession (32) of the corpus, with the complete profiles file
    (organisations, platform defaults, the platform's contract records): XSD- and Schematron-valid.
    Validated as ``ap convert --validate`` does (``ubl.validate``, the artifact store): the eForms
    Schematron is compiled once for both subtypes (one phase group, the XSLT cached on disk) and shared
    with the other findings tests of this module."""
    from ubl.validate import validate_document

    failing: dict[str, list[str]] = {}
    counts = {"29": 0, "32": 0}
    for path in FILES:
        for conversion in convert_all(path.read_bytes(), source="decp", target="eforms-can", enrich=PROFILES):
            result = validate_document(conversion.data, store=artifact_store)
            phase = result.layers[-1].name
            counts[phase[-2:]] += 1
            assert [layer.status.value for layer in result.layers] == ["valid", "valid"], (path.name, phase)
            rules = [f.rule_id for layer in result.layers for f in layer.failures]
            if rules:
                failing[f"{path.name}: {conversion.origin}"] = rules
    assert failing == {}
    assert counts["29"] >= 100 and counts["32"] >= 6


@pytest.fixture(scope="module")
def bare_findings(artifact_store: Any) -> dict[str, list[Finding]]:
    """Findings of one marché (29) and one concession (32) without profiles."""
    data = (HERE / "syndicat-eau-dsp.json").read_bytes()
    return {
        key: xml_findings(
            convert(data, source="decp", target="eforms-can", trace=True, contract=contract),
            artifact_store.root,
        )
        for key, contract in (("29", "SIE-2024-T1"), ("32", "DSP-EAU-2024"))
    }


@pytest.mark.corpus
@pytest.mark.parametrize("key", ["29", "32"])
def test_without_profiles_every_finding_names_field_name_and_input(
    bare_findings: dict[str, list[Finding]], key: str
) -> None:
    findings = bare_findings[key]
    assert findings and all(f.layer.startswith("Schematron") for f in findings)  # XSD-valid
    terms = {f.field.split("-")[0] + "-" + f.field.split("-")[1] for f in findings}
    assert terms >= {"BT-500", "BT-11", "BT-165", "ND-AwardingTerms", "ND-LotReviewTerms"}
    origin = "marches.marche[0]" if key == "29" else "marches.contrat-concession[0]"
    for f in findings:
        assert f.field and f.field_name and f.input.startswith(f"{origin} (OCDS "), f.line()
        # each names where to add it: the DECP field, the organisation profile or the contract record
        assert re.search(r"; (DECP: |profile: |platform record: contracts\[)", f.input), f.line()
    by_field = {f.field.split("-Procedure")[0].split("-Organization")[0]: f.input for f in findings}
    assert re.search(r'profile: organisations\["\d{14}"\]\.buyerLegalType', by_field["BT-11"])
    assert "reviewBody or defaults.reviewBody" in by_field["ND-LotReviewTerms"]
    contract = "SIE-2024-T1" if key == "29" else "DSP-EAU-2024"
    assert (
        f'platform record: contracts["{contract}"].tender.lots[0].awardCriteria'
        in by_field["ND-AwardingTerms"]
    )
    if key == "32":
        assert "contractingEntity" in by_field["BT-740"]
        assert f'contracts["{contract}"].tender.items[id=1].classification' in by_field["BT-262"]


runner = CliRunner()


@pytest.mark.corpus
def test_cli_writes_one_file_per_contract_and_lists_every_finding_as_json(
    artifact_store: Any, tmp_path: Path
) -> None:
    out = tmp_path / "cans"
    result = runner.invoke(
        app,
        [
            "convert",
            str(HERE / "agglo-concessions.json"),
            "--from",
            "decp",
            "--to",
            "eforms-can",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "CONC-FOUR-02.xml",
        "CONC-PARK-01.xml",
        "CSP-TRANS-03.xml",
    ]
    one = tmp_path / "one.xml"
    result = runner.invoke(
        app,
        [
            "convert", str(HERE / "hlm-sous-traitance.json"), "--from", "decp", "--to", "eforms-can",
            "--contract", "OPH-2", "-o", str(one), "--validate", "--store", str(artifact_store.root),
            "--format", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    findings = report["documents"][0]["findings"]
    assert len(findings) > 20  # all of them, not the first 20
    assert all({"rule", "field", "field_name", "input"} <= set(f) for f in findings)


def test_cli_to_ocds_validates_against_the_official_release_schema(corpus: Path, tmp_path: Path) -> None:
    schema = corpus / "ocds-1.1" / "release-schema.json"
    out = tmp_path / "r.json"
    args = ["convert", str(HERE / "agglo-concessions.json"), "--from", "decp", "--to", "ocds", "-o", str(out)]
    result = runner.invoke(app, [*args, "--validate", "--ocds-schema", str(schema)])
    assert result.exit_code == 0, result.output
    package = json.loads(out.read_text(encoding="utf-8"))
    del package["releases"][1]["contracts"][0]["awardID"]  # what concessions lacked before
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(package), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "convert",
            str(broken),
            "--from",
            "ocds",
            "--to",
            "ocds",
            "--validate",
            "--ocds-schema",
            str(schema),
        ],
    )
    assert result.exit_code == 1
    assert (
        "OCDS 1.1 release schema: releases[1].contracts[0]: 'awardID' is a required property" in result.stderr
    )
