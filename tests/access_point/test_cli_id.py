"""``ap id check``: parts, ICD facts, SML names; exit 2 with a one-line reason on invalid input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from access_point.cli import app

runner = CliRunner()

NAPTR_0088_123ABC = "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq.iso6523-actorid-upis"
CFT = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2::CallForTenders##"
    "urn:fdc:peppol.eu:prac:trns:t004:1.2::2.2"
)


@pytest.mark.parametrize(
    ("args", "zone"),
    [
        ([], "participant.sml.prod.tech.peppol.org"),
        (["--zone", "prod"], "participant.sml.prod.tech.peppol.org"),
        (["--zone", "test"], "participant.sml.test.tech.peppol.org"),
        (["--zone", "sml.example.org"], "sml.example.org"),
    ],
)
def test_acceptance_participant_prints_naptr_name(args: list[str], zone: str) -> None:
    result = runner.invoke(app, ["id", "check", "iso6523-actorid-upis::0088:123ABC", *args])
    assert result.exit_code == 0, result.output
    assert f"{NAPTR_0088_123ABC}.{zone}" in result.output
    assert f"B-f5e78500450d37de5aabe6648ac3bb70.iso6523-actorid-upis.{zone}" in result.output
    assert "GLN" in result.output
    assert "active" in result.output
    assert "0088:123abc" in result.output  # normalised value


def test_acceptance_unknown_icd_exits_2_naming_it() -> None:
    result = runner.invoke(app, ["id", "check", "iso6523-actorid-upis::9999:x"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "unknown-icd" in lines[0]
    assert "9999" in lines[0]


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ("iso6523-actorid-upis::0037:123", "removed-icd"),
        ("0088:123", "bad-syntax"),
        ("foo-bar-baz::x", "bad-scheme"),
        ("ISO6523-ACTORID-UPIS::0088:1", "bad-scheme"),
        ("busdox-docid-qns::not-structured", "bad-value"),
        ("cenbii-procid-ubl::a b", "bad-value"),
        ("iso6523-actorid-upis::0088:" + "1" * 131, "too-long"),
    ],
)
def test_invalid_identifiers_exit_2_with_code(identifier: str, code: str) -> None:
    result = runner.invoke(app, ["id", "check", identifier])
    assert result.exit_code == 2
    assert code in result.output
    assert "Traceback" not in result.output


def test_bad_zone_exits_2() -> None:
    result = runner.invoke(app, ["id", "check", "iso6523-actorid-upis::0088:1", "--zone", "prd"])
    assert result.exit_code == 2
    assert "bad-zone" in result.output


def test_json_output_for_participant() -> None:
    result = runner.invoke(
        app, ["id", "check", "--json", "--zone", "test", "iso6523-actorid-upis::9915:test"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert data["kind"] == "participant"
    assert data["icd"] == "9915"
    assert data["icd_scheme"]["scheme_id"] == "AT:GOV"
    assert data["icd_scheme"]["state"] == "active"
    assert data["sml"]["naptr"] == (
        "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a.iso6523-actorid-upis."
        "participant.sml.test.tech.peppol.org"
    )
    assert data["url_encoded"] == "iso6523-actorid-upis%3A%3A9915%3Atest"


def test_json_output_for_invalid_identifier() -> None:
    result = runner.invoke(app, ["id", "check", "--json", "iso6523-actorid-upis::9999:x"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data == {
        "valid": False,
        "error": {"code": "unknown-icd", "message": data["error"]["message"]},
    }
    assert "9999" in data["error"]["message"]


def test_deprecated_icd_warns() -> None:
    result = runner.invoke(app, ["id", "check", "--json", "iso6523-actorid-upis::9912:EU123"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["icd_scheme"]["state"] == "deprecated"
    assert any("deprecated" in w for w in data["warnings"])


def test_doctype_is_guessed_and_explained() -> None:
    result = runner.invoke(app, ["id", "check", "--json", CFT])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "doctype"
    assert data["local_name"] == "CallForTenders"
    assert data["version"] == "2.2"
    assert data["known"]["transaction"] == "T004"
    assert data["known"]["processes"] == ["cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p002:1.2"]
    assert data["warnings"] == []
    text = runner.invoke(app, ["id", "check", CFT])
    assert text.exit_code == 0
    assert "T004 1.2: Call for tenders" in text.output


def test_process_is_guessed_and_lists_document_types() -> None:
    result = runner.invoke(app, ["id", "check", "--json", "cenbii-procid-ubl::urn:peppol:edec:mls"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "process"
    assert data["known"]["state"] == "active"
    assert len(data["document_types"]) == 1
    assert "urn:peppol:edec:mls:1.0::2.1" in data["document_types"][0]


def test_kind_can_be_forced() -> None:
    result = runner.invoke(app, ["id", "check", "--kind", "process", "iso6523-actorid-upis::0088:1"])
    assert result.exit_code == 2
    assert "bad-scheme" in result.output
    ok = runner.invoke(app, ["id", "check", "--kind", "participant", "iso6523-actorid-upis::0088:1"])
    assert ok.exit_code == 0


def test_lax_accepts_unknown_icd_with_warning() -> None:
    result = runner.invoke(app, ["id", "check", "--lax", "--json", "iso6523-actorid-upis::9999:x"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any("9999" in w for w in data["warnings"])
    assert data["sml"]["naptr"].endswith(".iso6523-actorid-upis.participant.sml.prod.tech.peppol.org")


def test_unknown_doctype_warns_but_is_valid() -> None:
    result = runner.invoke(app, ["id", "check", "busdox-docid-qns::urn:x:X-2::X##urn:x:cust::2.1"])
    assert result.exit_code == 0, result.output
    assert "not one of the document types" in result.output


def test_doctypes_lists_preaward_transactions_as_json() -> None:
    result = runner.invoke(app, ["id", "doctypes", "--area", "pre-award", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["transaction"] for r in rows} == {f"T{n:03d}" for n in range(1, 23)}
    assert all(r["area"] == "pre-award" for r in rows)
    cft = [r for r in rows if r["transaction"] == "T004" and r["version"] == "1.2"]
    assert cft[0]["doctype"] == CFT


def test_doctypes_table_and_unknown_area() -> None:
    result = runner.invoke(app, ["id", "doctypes"])
    assert result.exit_code == 0, result.output
    assert "MLS" in result.output and "T022" in result.output
    bad = runner.invoke(app, ["id", "doctypes", "--area", "nowhere"])
    assert bad.exit_code == 2
    assert "pre-award" in bad.output
