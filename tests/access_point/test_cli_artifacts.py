"""``ap artifacts``: install offline (dir, zip) and over HTTP, tamper detection, list, verify."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from access_point.cli import app

runner = CliRunner()
SET = "ubl-2.2"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["artifacts", *args])
    return result.exit_code, result.output


def _zip(src: Path, dest: Path, top: str) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for f in sorted(src.rglob("*")):
            if f.is_file():
                zf.write(f, top + f.relative_to(src).as_posix())
    return dest


def test_cli_artifacts_install_from_dir_and_list(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, out = _run("install", SET, "--from", str(corpus / SET), "--store", str(store))
    assert code == 0, out
    assert "installed ubl-2.2" in out and "96 files" in out
    code, out = _run("list", "--store", str(store))
    assert code == 0 and "ubl-2.2" in out and "96" in out
    assert _run("verify", SET, "--store", str(store))[0] == 0


def test_cli_artifacts_install_from_zip_and_http(
    corpus: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    archive = _zip(corpus / SET, tmp_path / "UBL-2.2.zip", "UBL-2.2/")
    code, out = _run("install", SET, "--from", str(archive), "--store", str(tmp_path / "a"))
    assert code == 0, out
    httpserver.expect_request("/UBL-2.2.zip").respond_with_data(archive.read_bytes())
    code, out = _run(
        "install", SET, "--url", httpserver.url_for("/UBL-2.2.zip"), "--store", str(tmp_path / "b")
    )
    assert code == 0, out
    assert (tmp_path / "b" / SET / "xsdrt/maindoc/UBL-CallForTenders-2.2.xsd").is_file()


def test_cli_artifacts_tampered_file_rejected(corpus: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(corpus / SET, tampered)
    victim = tampered / "xsdrt/common/UBL-CommonBasicComponents-2.2.xsd"
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes() + b"\n<!-- changed -->\n")
    code, out = _run("install", SET, "--from", str(tampered), "--store", str(tmp_path / "s"))
    assert code == 1
    assert "hash-mismatch" in out and "UBL-CommonBasicComponents-2.2.xsd" in out
    assert not (tmp_path / "s" / SET).exists()


def test_cli_artifacts_verify_detects_change(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    assert _run("install", SET, "--from", str(corpus / SET), "--store", str(store))[0] == 0
    (store / SET / "xsdrt/maindoc/UBL-Tender-2.2.xsd").write_text("changed")
    code, out = _run("verify", SET, "--store", str(store))
    assert code == 1 and "UBL-Tender-2.2.xsd" in out
    assert _run("remove", SET, "--store", str(store))[0] == 0
    code, out = _run("verify", SET, "--store", str(store))
    assert code == 2 and "[not-installed]" in out


def test_cli_artifacts_errors(tmp_path: Path) -> None:
    code, out = _run("install", "ubl-9", "--from", str(tmp_path), "--store", str(tmp_path / "s"))
    assert code == 2 and "unknown artifact set" in out
    code, out = _run("install", SET, "--from", str(tmp_path / "nope"), "--store", str(tmp_path / "s"))
    assert code == 2 and "nope: no such directory or zip file" in out
    code, out = _run("install", "mine", "--custom", "--store", str(tmp_path / "s"))
    assert code == 2 and "--custom needs --from" in out
    code, out = _run("list", "--store", str(tmp_path / "empty"), "--available")
    assert code == 0 and "eforms-sdk-1.14.2" in out and "ebxml-regrep-4.0" in out


def test_cli_artifacts_custom_set(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "my.sch").write_text("<schema xmlns='http://purl.oclc.org/dsdl/schematron'/>")
    code, out = _run("install", "my-rules", "--custom", "--from", str(src), "--store", str(tmp_path / "s"))
    assert code == 0 and "custom" in out


def test_cli_artifacts_json_shapes(corpus: Path, tmp_path: Path) -> None:
    import json

    store = tmp_path / "s"
    result = runner.invoke(
        app, ["artifacts", "install", SET, "--from", str(corpus / SET), "--store", str(store), "--json"]
    )
    assert result.exit_code == 0, result.output
    installed = json.loads(result.stdout)
    assert installed == {
        "name": SET,
        "ok": True,
        "version": installed["version"],
        "files": 96,
        "official": True,
        "path": str(store / SET),
    }
    listed = json.loads(runner.invoke(app, ["artifacts", "list", "--store", str(store), "--json"]).stdout)
    assert listed["store"] == str(store)
    assert [(s["name"], s["files"], s["status"]) for s in listed["sets"]] == [(SET, 96, "official")]
    (store / SET / "xsdrt/maindoc/UBL-Tender-2.2.xsd").write_text("changed")
    changed = runner.invoke(app, ["artifacts", "verify", SET, "--store", str(store), "--json"])
    assert changed.exit_code == 1
    assert json.loads(changed.stdout) == {
        "name": SET,
        "ok": False,
        "changed": ["xsdrt/maindoc/UBL-Tender-2.2.xsd"],
    }
    missing = runner.invoke(app, ["artifacts", "verify", "ubl-2.1", "--store", str(store), "--json"])
    assert missing.exit_code == 2
    assert json.loads(missing.stdout)["error"]["code"] == "not-installed"
