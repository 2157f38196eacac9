"""Artifact store: verified installs from a directory, a zip and HTTP; clear errors; atomicity."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ubl.artifacts import OFFICIAL_SETS, ArtifactError, ArtifactStore, default_store
from ubl.artifacts.generate_manifests import manifest_for

SET = "ubl-2.2"


def _zip_from(src: Path, dest: Path, top: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(src.rglob("*")):
            if f.is_file():
                zf.write(f, top + f.relative_to(src).as_posix())
    return dest


@pytest.fixture(scope="module")
def ubl22_zip(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release-like archive of the corpus files with a top-level folder (as OASIS/GitHub ship them)."""
    return _zip_from(corpus / SET, tmp_path_factory.mktemp("zip") / "UBL-2.2.zip", top="UBL-2.2/")


def _no_leftovers(store: ArtifactStore) -> None:
    assert not [p for p in store.root.iterdir() if p.name.startswith((".tmp-", ".old-"))]


def test_shipped_manifests_match_the_corpus(corpus: Path) -> None:
    for spec in OFFICIAL_SETS.values():
        assert manifest_for(spec, corpus / spec.name)["files"] == spec.manifest(), spec.name


def test_install_from_corpus_dir(corpus: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    got = store.install(SET, source=corpus / SET)
    assert got.official and got.file_count == 96 and got.version.startswith("2.2")
    assert (store.path(SET) / "xsdrt/maindoc/UBL-Tender-2.2.xsd").is_file()
    assert store.verify(SET) == []
    assert [s.name for s in store.installed()] == [SET]
    _no_leftovers(store)


def test_install_from_zip_with_top_level_folder(ubl22_zip: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    got = store.install(SET, source=ubl22_zip)
    assert got.file_count == 96
    assert (store.path(SET) / "xsdrt/common/UBL-CommonBasicComponents-2.2.xsd").is_file()


def test_install_over_http_with_progress(ubl22_zip: Path, tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/os-UBL-2.2/UBL-2.2.zip").respond_with_data(
        ubl22_zip.read_bytes(), content_type="application/zip"
    )
    seen: list[tuple[int, int | None]] = []
    store = ArtifactStore(tmp_path / "store")
    got = store.install(
        SET, url=httpserver.url_for("/os-UBL-2.2/UBL-2.2.zip"), progress=lambda d, t: seen.append((d, t))
    )
    assert got.file_count == 96
    assert got.source.endswith("/os-UBL-2.2/UBL-2.2.zip")
    assert seen and seen[-1][0] == ubl22_zip.stat().st_size
    _no_leftovers(store)
    assert not list(store.root.glob("*.zip"))


def test_install_http_error_is_reported(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/missing.zip").respond_with_data("no", status=404)
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(ArtifactError) as err:
        store.install(SET, url=httpserver.url_for("/missing.zip"))
    assert err.value.code == ArtifactError.DOWNLOAD_FAILED and "404" in str(err.value)


def test_install_rejects_tampered_file_and_keeps_previous_set(corpus: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    store.install(SET, source=corpus / SET)
    tampered = tmp_path / "tampered"
    shutil.copytree(corpus / SET, tampered)
    victim = tampered / "xsdrt/maindoc/UBL-Tender-2.2.xsd"
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes().replace(b'minOccurs="1"', b'minOccurs="0"', 1))
    with pytest.raises(ArtifactError) as err:
        store.install(SET, source=tampered)
    assert err.value.code == ArtifactError.HASH_MISMATCH
    assert "xsdrt/maindoc/UBL-Tender-2.2.xsd" in str(err.value)
    # the verified set installed before is untouched
    installed = store.path(SET) / "xsdrt/maindoc/UBL-Tender-2.2.xsd"
    original = (corpus / SET / "xsdrt/maindoc/UBL-Tender-2.2.xsd").read_bytes()
    assert hashlib.sha256(installed.read_bytes()).digest() == hashlib.sha256(original).digest()
    _no_leftovers(store)


def test_install_reports_missing_files(corpus: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(corpus / SET, partial)
    (partial / "xsdrt/maindoc/UBL-Order-2.2.xsd").unlink()
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(ArtifactError) as err:
        store.install(SET, source=partial)
    assert err.value.code == ArtifactError.MISSING_FILES
    assert "UBL-Order-2.2.xsd" in str(err.value) and "1 of 96" in str(err.value)
    assert not store.is_installed(SET)
    _no_leftovers(store)


def test_install_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as err:
        ArtifactStore(tmp_path).install("ubl-9.9", source=tmp_path)
    assert err.value.code == ArtifactError.UNKNOWN_SET
    assert "ubl-2.2" in str(err.value)


def test_install_custom_set_from_zip(tmp_path: Path) -> None:
    src = tmp_path / "mine"
    (src / "sch").mkdir(parents=True)
    (src / "sch/rules.sch").write_text("<schema xmlns='http://purl.oclc.org/dsdl/schematron'/>")
    archive = _zip_from(src, tmp_path / "mine.zip", top="mine-1.0/")
    store = ArtifactStore(tmp_path / "store")
    got = store.install("my-rules", source=archive, custom=True, version="1.0")
    assert not got.official and got.version == "1.0" and got.file_count == 1
    assert (store.path("my-rules") / "sch/rules.sch").is_file()
    with pytest.raises(ArtifactError) as err:
        store.install(SET, source=src, custom=True)
    assert err.value.code == ArtifactError.RESERVED_NAME


def test_zip_slip_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.sch", "x")
    with pytest.raises(ArtifactError) as err:
        ArtifactStore(tmp_path / "store").install("evil", source=archive, custom=True)
    assert err.value.code == ArtifactError.UNSAFE_PATH
    assert not (tmp_path / "evil.sch").exists()


def test_not_installed_error_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as err:
        ArtifactStore(tmp_path).path("ubl-2.1")
    assert err.value.code == ArtifactError.NOT_INSTALLED
    assert "ap artifacts install ubl-2.1" in str(err.value)


def test_default_store_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AP_ARTIFACTS_DIR", str(tmp_path / "s"))
    assert default_store().root == tmp_path / "s"
    monkeypatch.delenv("AP_ARTIFACTS_DIR")
    assert default_store().root == Path("~/.cache/procurement-access-point/artifacts").expanduser()
