"""XSD layer: acceptance over the corpus, error detail, per-process cache, thread safety."""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import CORPUS_DIR
from ubl.artifacts import ArtifactStore
from ubl.result import LayerStatus
from ubl.xsd import SchemaLoadError, load_schema, validate_xsd

NOTICES = "eforms-sdk-1.14.2/examples/notices"
T004 = "peppol-preaward/guides/transactions/T004/files/call-for-tenders-instance.xml"
CFT_XSD = "xsdrt/maindoc/UBL-CallForTenders-2.2.xsd"


def _expected_xsd_pairs() -> list[tuple[str, str]]:
    path = CORPUS_DIR / "peppol-preaward/expected-results.json"
    if not path.is_file():
        return []
    return [(e["document"], e["schema"]) for e in json.loads(path.read_text())["xsd_valid"]]


def _ubl_xsd_pairs() -> list[tuple[str, str]]:
    """The pairs whose schema is in the corpus (the 3 ebXML RegRep ones are not: see the count test)."""
    return [(d, s) for d, s in _expected_xsd_pairs() if not s.startswith("ebXML/")]


@pytest.mark.corpus
def test_all_92_eforms_notices_are_xsd_valid(corpus: Path, artifact_store: ArtifactStore) -> None:
    base = artifact_store.path("eforms-sdk-1.14.2") / "schemas/maindoc"
    xsd_by_root = {
        "ContractNotice": base / "UBL-ContractNotice-2.3.xsd",
        "ContractAwardNotice": base / "UBL-ContractAwardNotice-2.3.xsd",
        "PriorInformationNotice": base / "UBL-PriorInformationNotice-2.3.xsd",
        "BusinessRegistrationInformationNotice": base / "EFORMS-BusinessRegistrationInformationNotice.xsd",
    }
    notices = sorted((corpus / NOTICES).glob("*.xml"))
    assert len(notices) == 92
    for notice in notices:
        text = notice.read_bytes()
        root = next(r for r in xsd_by_root if f"<{r} ".encode() in text or f":{r} ".encode() in text)
        layer = validate_xsd(notice, xsd_by_root[root])
        assert layer.status is LayerStatus.VALID, (notice.name, layer.items[:3])


@pytest.mark.corpus
@pytest.mark.parametrize(("document", "schema"), _ubl_xsd_pairs(), ids=lambda v: Path(v).name)
def test_preaward_example_is_ubl22_xsd_valid(
    corpus: Path, artifact_store: ArtifactStore, document: str, schema: str
) -> None:
    assert schema.startswith("ubl-2.2/")
    xsd = artifact_store.path("ubl-2.2") / schema.removeprefix("ubl-2.2/")
    layer = validate_xsd(corpus / "peppol-preaward" / document, xsd)
    assert layer.status is LayerStatus.VALID, layer.items[:3]


def test_preaward_xsd_pairs_are_25_ubl_and_3_ebxml(corpus: Path) -> None:
    """The parametrisation above covers the 25 UBL pairs; the 3 ebXML RegRep pairs (T011/T012/T015)
    are left out because their XSDs are not in the corpus; if they are added, include them."""
    pairs = _expected_xsd_pairs()
    assert len(_ubl_xsd_pairs()) == 25
    assert sum(1 for _, s in pairs if s.startswith("ebXML/")) == 3
    assert not (corpus / "peppol-preaward" / "ebXML").exists()
    assert not any("regrep" in str(xsd).lower() for xsd in corpus.rglob("*.xsd"))


def _broken_cft(corpus: Path) -> bytes:
    data = (corpus / T004).read_bytes()
    start = data.index(b"<cbc:ContractFolderID")
    end = data.index(b"</cbc:ContractFolderID>") + len(b"</cbc:ContractFolderID>")
    return data[:start] + b"<cbc:Bogus>1</cbc:Bogus>" + data[end:]


def test_xsd_error_items_carry_line_column_and_path(corpus: Path, artifact_store: ArtifactStore) -> None:
    layer = validate_xsd(_broken_cft(corpus), artifact_store.path("ubl-2.2") / CFT_XSD)
    assert layer.status is LayerStatus.INVALID
    item = layer.items[0]
    assert item.rule_id.startswith("XSD:")
    assert "Bogus" in item.text
    assert item.line is not None and item.line > 1
    assert item.column is not None
    assert item.location.startswith("/")
    assert item.severity.is_failure


def test_xsd_schema_built_once_and_rebuilt_when_changed(
    artifact_store: ArtifactStore, tmp_path: Path
) -> None:
    src = artifact_store.path("ubl-2.2")
    copy = tmp_path / "ubl"
    shutil.copytree(src / "xsdrt", copy / "xsdrt")
    xsd = copy / CFT_XSD
    first = load_schema(xsd)
    assert load_schema(xsd) is first
    st = xsd.stat()
    os.utime(xsd, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert load_schema(xsd) is not first


def test_xsd_missing_or_broken_schema_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError, match=r"nope\.xsd: No such file"):
        load_schema(tmp_path / "nope.xsd")
    bad = tmp_path / "bad.xsd"
    bad.write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:bogus/></xs:schema>")
    with pytest.raises(SchemaLoadError, match=r"bad\.xsd: cannot load schema: .*not valid"):
        load_schema(bad)


def test_xsd_shared_schema_is_thread_safe(corpus: Path, artifact_store: ArtifactStore) -> None:
    xsd = artifact_store.path("ubl-2.2") / CFT_XSD
    good = (corpus / T004).read_bytes()
    bad = _broken_cft(corpus)
    docs = [good, bad] * 40
    with ThreadPoolExecutor(max_workers=8) as pool:
        layers = list(pool.map(lambda d: validate_xsd(d, xsd), docs))
    for doc, layer in zip(docs, layers, strict=True):
        if doc is good:
            assert layer.status is LayerStatus.VALID and not layer.items
        else:
            assert layer.status is LayerStatus.INVALID
            assert any("Bogus" in i.text for i in layer.items)
