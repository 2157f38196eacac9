"""``ap validate`` end to end: auto ruleset verdicts on corpus examples, formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from access_point.cli import app
from ubl.artifacts import ArtifactStore, install_from_corpus

NOTICES = "eforms-sdk-1.14.2/examples/notices"
PRE = "peppol-preaward/guides/transactions"
T004 = f"{PRE}/T004/files/call-for-tenders-instance.xml"
T016_BAD = f"{PRE}/T016/files/testing/ExampleNoticePublicationResponse-With_invalid_eFroms_Reference.xml"

runner = CliRunner()


@pytest.fixture(scope="module")
def store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = ArtifactStore(tmp_path_factory.mktemp("artifacts"))
    install_from_corpus(target, corpus, ["ubl-2.2", "eforms-sdk-1.14.2", "peppol-preaward"])
    return target.root


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("document", "expected_exit", "expected_type"),
    [
        # compiling the eForms phase costs 7-25 s on the shared host (once per worker)
        pytest.param(f"{NOTICES}/cn_24_minimal.xml", 0, "eforms-cn-16", marks=pytest.mark.slow),
        pytest.param(f"{NOTICES}/INVALID_cn_24_empty.xml", 1, "eforms-cn-16", marks=pytest.mark.slow),
        (T004, 0, "peppol-t004"),
        (f"{PRE}/T005/files/tender-instance.xml", 0, "peppol-t005"),
        (T016_BAD, 1, "peppol-t016"),
    ],
    ids=["eforms-cn16-valid", "eforms-cn16-invalid", "t004-valid", "t005-valid", "t016-invalid"],
)
def test_cli_validate_auto_ruleset_verdict(
    corpus: Path, store: Path, document: str, expected_exit: int, expected_type: str
) -> None:
    code, out = _run(str(corpus / document), "--store", str(store), "--format", "json")
    assert code == expected_exit, out
    doc = json.loads(out)["documents"][0]
    assert doc["documentType"] == expected_type
    assert [layer["kind"] for layer in doc["layers"]] == ["xsd", "schematron"]
    assert all(layer["status"] != "skipped" for layer in doc["layers"])


def test_cli_validate_t016_fires_exactly_r034_r035(corpus: Path, store: Path) -> None:
    code, out = _run(str(corpus / T016_BAD), "--store", str(store), "--format", "svrl")
    assert code == 1
    root = etree.fromstring(out.encode())
    fired = sorted(fa.get("id") or "" for fa in root.iter("{http://purl.oclc.org/dsdl/svrl}failed-assert"))
    assert fired == ["PEPPOL-T016-R034", "PEPPOL-T016-R035"]


def test_cli_validate_folder_text_report(corpus: Path, store: Path) -> None:
    code, out = _run(str(corpus / PRE / "T018/files"), "--store", str(store))
    assert code == 0, out
    assert out.count("[peppol-t018]") == 7
    assert "7 document(s): 7 valid, 0 invalid, 0 not validated" in out


def test_cli_validate_writes_reports_to_files(corpus: Path, store: Path, tmp_path: Path) -> None:
    for fmt, check in (
        ("junit", lambda data: etree.fromstring(data).tag == "testsuites"),
        ("html", lambda data: data.startswith(b"<!DOCTYPE html>")),
        ("json", lambda data: json.loads(data)["counters"]["documents"] == 2),
    ):
        target = tmp_path / f"report.{fmt}"
        code, out = _run(
            str(corpus / T004),
            str(corpus / f"{PRE}/T006/files/tender-receipt-instance.xml"),
            "--store",
            str(store),
            "--format",
            fmt,
            "--output",
            str(target),
            "--workers",
            "2",
        )
        assert code == 0, out
        assert check(target.read_bytes()), fmt
        assert "report written to" in out


def test_cli_validate_explicit_xsd_from_store(corpus: Path, store: Path) -> None:
    code, out = _run(
        str(corpus / T004),
        "--store",
        str(store),
        "--xsd",
        "ubl-2.2:xsdrt/maindoc/UBL-Tender-2.2.xsd",
        "--ruleset",
        "peppol-t005",
        "--format",
        "json",
    )
    assert code == 1
    layer = json.loads(out)["documents"][0]["layers"][0]
    assert layer["status"] == "invalid" and layer["artifact"].endswith("UBL-Tender-2.2.xsd")


def test_cli_validate_usage_errors_exit_2(corpus: Path, store: Path, tmp_path: Path) -> None:
    for args, reason in (
        ((str(tmp_path / "missing.xml"), "--store", str(store)), "missing.xml: no such file"),
        ((str(corpus / T004), "--store", str(store), "--ruleset", "nope"), "unknown --ruleset 'nope'"),
        ((str(corpus / T004), "--store", str(store), "--format", "pdf"), "unknown --format 'pdf'"),
        (
            (str(corpus / T004), "--store", str(store), "--xsd", str(tmp_path / "x.xsd")),
            "x.xsd: no such file",
        ),
        ((), "give at least one FILE"),
    ):
        code, out = _run(*args)
        assert code == 2 and out.startswith("error: ") and reason in out, (args, out)
    unknown = tmp_path / "unknown.xml"
    unknown.write_text("<Foo xmlns='urn:x'/>")
    code, out = _run(str(unknown), "--store", str(store))
    assert code == 2 and "unknown-document-type" in out
    code, out = _run(str(corpus / T004), "--store", str(tmp_path / "empty-store"))
    assert code == 2 and "ap artifacts install ubl-2.2" in out


def test_cli_validate_not_well_formed_is_invalid(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<a><b></a>")
    code, out = _run(str(bad), "--store", str(store))
    assert code == 1 and "xml-syntax" in out


def test_cli_validate_list_types() -> None:
    code, out = _run("--list-types")
    assert code == 0
    for key in ("peppol-t004", "eforms-can-29", "bis3-invoice"):
        assert key in out


def test_cli_validate_folder_without_xml_is_a_usage_error(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("not XML")
    code, out = _run(str(folder), "--store", str(store))
    assert code == 2 and out.startswith("error: ") and "no XML file to validate" in out
