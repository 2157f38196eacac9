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


# --- caps and custom-set input checks (each refusal with its code) -----------------------------------


def _custom_dir(tmp_path: Path, size: int = 100) -> Path:
    src = tmp_path / "mine"
    src.mkdir(exist_ok=True)
    (src / "rules.sch").write_bytes(b"<schema xmlns='http://purl.oclc.org/dsdl/schematron'/>".ljust(size))
    return src


@pytest.mark.parametrize("as_zip", [False, True])
def test_custom_set_over_the_file_or_total_cap_is_too_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_zip: bool
) -> None:
    import ubl.artifacts.sources as sources

    src = _custom_dir(tmp_path, size=100)
    (src / "more.sch").write_bytes(b"x" * 100)
    source = _zip_from(src, tmp_path / "mine.zip") if as_zip else src
    store = ArtifactStore(tmp_path / "store")
    monkeypatch.setattr(sources, "MAX_TOTAL_BYTES", 150)  # each file fits, both together do not
    with pytest.raises(ArtifactError) as err:
        store.install("my-rules", source=source, custom=True)
    assert err.value.code == ArtifactError.TOO_LARGE
    assert not store.is_installed("my-rules")
    if as_zip:  # a zip member's declared size is checked on its own too (a directory: the total only)
        monkeypatch.setattr(sources, "MAX_TOTAL_BYTES", 10_000)
        monkeypatch.setattr(sources, "MAX_FILE_BYTES", 50)
        with pytest.raises(ArtifactError, match="archive too large") as err:
            store.install("my-rules", source=source, custom=True)
        assert err.value.code == ArtifactError.TOO_LARGE
    _no_leftovers(store)


@pytest.mark.parametrize("as_zip", [False, True])
def test_official_set_file_over_the_cap_is_too_large(
    corpus: Path, ubl22_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_zip: bool
) -> None:
    import ubl.artifacts.sources as sources

    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1000)  # the UBL 2.2 schemas are larger
    with pytest.raises(ArtifactError, match="larger than 1000 bytes") as err:
        ArtifactStore(tmp_path / "store").install(SET, source=ubl22_zip if as_zip else corpus / SET)
    assert err.value.code == ArtifactError.TOO_LARGE


@pytest.mark.parametrize("declared", [True, False])
def test_download_over_the_cap_is_too_large(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, declared: bool
) -> None:
    """Refused from the Content-Length when the server declares it, else while streaming."""
    from werkzeug import Response

    import ubl.artifacts.download as download

    if declared:
        httpserver.expect_request("/big.zip").respond_with_data(b"x" * 5000, content_type="application/zip")
        reason = "5000 bytes exceeds the cap"
    else:  # chunked, no Content-Length
        httpserver.expect_request("/big.zip").respond_with_handler(
            lambda request: Response((b"x" * 500 for _ in range(10)), content_type="application/zip")
        )
        reason = "more than the cap"
    monkeypatch.setattr(download, "MAX_DOWNLOAD_BYTES", 1000)
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(ArtifactError, match=reason) as err:
        store.install(SET, url=httpserver.url_for("/big.zip"))
    assert err.value.code == ArtifactError.TOO_LARGE
    _no_leftovers(store)
    assert not list(store.root.glob("*.zip"))


@pytest.mark.parametrize(
    ("name", "with_source", "code", "reason"),
    [
        ("Bad Name!", True, ArtifactError.UNSAFE_PATH, "invalid set name"),
        ("my-rules", False, ArtifactError.BAD_SOURCE, "a custom set needs --from"),
    ],
)
def test_custom_set_name_and_source_are_checked(
    tmp_path: Path, name: str, with_source: bool, code: str, reason: str
) -> None:
    source = _custom_dir(tmp_path) if with_source else None
    with pytest.raises(ArtifactError, match=reason) as err:
        ArtifactStore(tmp_path / "store").install(name, source=source, custom=True)
    assert err.value.code == code


def test_custom_set_from_an_empty_directory_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(ArtifactError, match="no files to install") as err:
        store.install("my-rules", source=empty, custom=True)
    assert err.value.code == ArtifactError.BAD_SOURCE
    _no_leftovers(store)
