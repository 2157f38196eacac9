"""``ap convert`` end to end: conversions, --validate with the official artifacts, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from tests.mappings.decp_samples import ENRICH, MARCHE, document
from ubl.artifacts import ArtifactStore, install_from_corpus

NOTICES = "eforms-sdk-1.14.2/examples/notices"
DECP_SCHEMA = "decp-v2/schema_decp_v2.0.3.json"

runner = CliRunner()


@pytest.fixture(scope="module")
def store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = ArtifactStore(tmp_path_factory.mktemp("artifacts"))
    install_from_corpus(target, corpus, ["ubl-2.2", "eforms-sdk-1.14.2", "peppol-preaward"])
    return target.root


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.corpus
def test_convert_eforms_to_ocds_and_back_validates(corpus: Path, store: Path, tmp_path: Path) -> None:
    ocds = tmp_path / "cn.json"
    code, _, err = _run(
        "convert",
        str(corpus / NOTICES / "cn_24_minimal.xml"),
        "--from",
        "ubl",
        "--to",
        "ocds",
        "--output",
        str(ocds),
    )
    assert code == 0, err
    release = json.loads(ocds.read_text())
    assert release["tender"]["id"] == "4805c409-5939-4be9-8abd-837f7a5fee23"
    out = tmp_path / "cn.xml"
    code, _, err = _run(
        "convert",
        str(ocds),
        "--from",
        "ocds",
        "--to",
        "eforms-cn",
        "--validate",
        "--store",
        str(store),
        "--output",
        str(out),
    )
    assert code == 0, err
    assert b"<ContractNotice" in out.read_bytes()


@pytest.mark.corpus
def test_convert_decp_roundtrip_validates_against_decp_schema(corpus: Path, tmp_path: Path) -> None:
    source = tmp_path / "decp.json"
    source.write_text(json.dumps(document(MARCHE), ensure_ascii=False))
    enrich = tmp_path / "enrich.json"
    enrich.write_text(json.dumps(ENRICH, ensure_ascii=False))
    ocds = tmp_path / "ocds.json"
    code, _, err = _run(
        "convert",
        str(source),
        "--from",
        "decp",
        "--to",
        "ocds",
        "--enrich",
        str(enrich),
        "--validate",
        "--output",
        str(ocds),
    )
    assert code == 0, err
    assert json.loads(ocds.read_text())["buyer"]["name"] == "Rennes Métropole Habitat"
    back = tmp_path / "back.json"
    code, _, err = _run(
        "convert",
        str(ocds),
        "--from",
        "ocds",
        "--to",
        "decp",
        "--validate",
        "--decp-schema",
        str(corpus / DECP_SCHEMA),
        "--output",
        str(back),
    )
    assert code == 0, err
    assert json.loads(back.read_text()) == document(MARCHE)


def test_convert_invalid_ocds_names_the_input_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"ocid": "x", "id": "1", "date": "yesterday", "tag": ["tender"], "initiationType": "tender"}
        )
    )
    code, _, err = _run("convert", str(bad), "--from", "ocds", "--to", "eforms-cn")
    assert code == 2
    assert "date" in err and "does not match" in err


def test_convert_mapping_error_is_a_one_line_reason(tmp_path: Path) -> None:
    release = tmp_path / "r.json"
    release.write_text(
        json.dumps(
            {
                "ocid": "x",
                "id": "1",
                "date": "2024-01-01T00:00:00Z",
                "tag": ["tender"],
                "initiationType": "tender",
                "tender": {"id": "P1", "title": "T"},
            }
        )
    )
    # (a T004 without buyer is now written, XSD-valid, and --validate says what to add: OCDS does not
    # require a buyer id; a T005 without a bid still cannot be written)
    code, _, err = _run("convert", str(release), "--from", "ocds", "--to", "peppol-t005")
    assert code == 2
    assert "bid" in err


@pytest.mark.corpus
def test_convert_validate_reports_rule_failures_with_exit_1(store: Path, tmp_path: Path) -> None:
    release = tmp_path / "r.json"
    release.write_text(
        json.dumps(
            {
                "ocid": "x",
                "id": "1",
                "date": "2024-01-01T10:00:00+01:00",
                "tag": ["tender"],
                "initiationType": "tender",
                "tender": {"id": "P1", "title": "Thin notice"},
            }
        )
    )
    code, _, err = _run(
        "convert",
        str(release),
        "--from",
        "ocds",
        "--to",
        "eforms-cn",
        "--validate",
        "--store",
        str(store),
        "--output",
        str(tmp_path / "out.xml"),
    )
    assert code == 1
    assert "invalid" in err


def test_convert_rejects_unknown_target(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text("{}")
    code, _, err = _run("convert", str(f), "--from", "ocds", "--to", "pdf")
    assert code == 2
    assert "--to must be one of" in err


def test_convert_unreadable_input(tmp_path: Path) -> None:
    code, _, err = _run("convert", str(tmp_path / "missing.xml"), "--from", "ubl", "--to", "ocds")
    assert code == 2
    assert "missing.xml" in err
