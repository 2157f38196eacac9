"""The orchestrator: type detection, layer order, skips with reasons, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ubl.artifacts import ArtifactError, ArtifactStore
from ubl.detect import UnknownDocumentType
from ubl.result import LayerStatus
from ubl.validate import DocumentReadError, ValidationSetupError, validate_document, validate_files

PRE = "peppol-preaward/guides/transactions"
T004 = f"{PRE}/T004/files/call-for-tenders-instance.xml"
NOTICES = "eforms-sdk-1.14.2/examples/notices"

INVOICE_21 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
 <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
 <cbc:ID>INV-1</cbc:ID><cbc:IssueDate>2026-01-01</cbc:IssueDate>
 <cac:AccountingSupplierParty><cac:Party/></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party/></cac:AccountingCustomerParty>
 <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">1</cbc:PayableAmount></cac:LegalMonetaryTotal>
 <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">1</cbc:LineExtensionAmount>
  <cac:Item/></cac:InvoiceLine>
</Invoice>"""


def _broken_cft(corpus: Path) -> bytes:
    data = (corpus / T004).read_bytes()
    return data.replace(b"<cbc:ContractFolderID", b"<cbc:Bogus", 1).replace(
        b"</cbc:ContractFolderID>", b"</cbc:Bogus>", 1
    )


def test_validate_detects_type_and_runs_xsd_first(corpus: Path, artifact_store: ArtifactStore) -> None:
    result = validate_document(corpus / T004, store=artifact_store)
    assert result.document_type == "peppol-t004"
    assert result.source.endswith("call-for-tenders-instance.xml")
    assert result.layers[0].kind == "xsd" and result.layers[0].status is LayerStatus.VALID
    assert result.layers[1].kind == "schematron"
    assert "PEPPOL-T004.sch" in result.layers[1].name


def test_validate_skips_schematron_when_xsd_fails(corpus: Path, artifact_store: ArtifactStore) -> None:
    result = validate_document(_broken_cft(corpus), store=artifact_store)
    assert not result.valid
    xsd, sch = result.layers
    assert xsd.status is LayerStatus.INVALID
    assert sch.status is LayerStatus.SKIPPED and "not schema-valid" in sch.skip_reason


def test_validate_not_well_formed_is_an_invalid_result(artifact_store: ArtifactStore) -> None:
    result = validate_document(b"<a><b></a>", store=artifact_store)
    assert not result.valid
    assert result.layers[0].kind == "xml"
    assert result.layers[0].items[0].rule_id == "xml-syntax"


def test_validate_doctype_is_refused_as_invalid(artifact_store: ArtifactStore) -> None:
    result = validate_document(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', store=artifact_store)
    assert not result.valid
    assert result.layers[0].items[0].rule_id == "xml-doctype-forbidden"


def test_validate_bis3_invoice_xsd_only_schematron_not_installed(artifact_store: ArtifactStore) -> None:
    result = validate_document(INVOICE_21, store=artifact_store)
    assert result.document_type == "bis3-invoice"
    xsd, sch = result.layers
    assert xsd.status is LayerStatus.VALID, xsd.items
    assert sch.status is LayerStatus.SKIPPED and "not installed" in sch.skip_reason


def test_validate_ebxml_xsd_skipped_with_reason(corpus: Path, artifact_store: ArtifactStore) -> None:
    result = validate_document(
        corpus / PRE / "T011/files/ExampleSearchNoticeRequest.xml", store=artifact_store
    )
    assert result.document_type == "peppol-t011"
    assert result.layers[0].status is LayerStatus.SKIPPED
    assert "RegRep" in result.layers[0].skip_reason


def test_validate_explicit_ruleset_and_xsd(corpus: Path, artifact_store: ArtifactStore) -> None:
    xsd = artifact_store.path("ubl-2.2") / "xsdrt/maindoc/UBL-Tender-2.2.xsd"
    result = validate_document(corpus / T004, store=artifact_store, ruleset="peppol-t005")
    assert result.document_type == "peppol-t005"
    assert result.layers[0].status is LayerStatus.INVALID  # a CallForTenders is not a Tender
    result = validate_document(b"<Foo xmlns='urn:x'/>", store=artifact_store, xsd=xsd)
    assert result.document_type is None and result.layers[0].status is LayerStatus.INVALID
    assert len(result.layers) == 1


def test_validate_errors_are_typed(artifact_store: ArtifactStore, tmp_path: Path, corpus: Path) -> None:
    with pytest.raises(UnknownDocumentType, match=r"root element \{urn:x\}Foo"):
        validate_document(b"<Foo xmlns='urn:x'/>", store=artifact_store)
    with pytest.raises(ValidationSetupError, match="unknown rule set 'peppol-t999'"):
        validate_document(corpus / T004, store=artifact_store, ruleset="peppol-t999")
    with pytest.raises(DocumentReadError, match=r"missing\.xml: No such file") as unreadable:
        validate_document(tmp_path / "missing.xml", store=artifact_store)
    assert unreadable.value.code == "unreadable"
    with pytest.raises(ArtifactError) as err:
        validate_document(corpus / T004, store=ArtifactStore(tmp_path / "empty"))
    assert err.value.code == ArtifactError.NOT_INSTALLED


def test_validate_files_expands_folders_and_keeps_going(
    corpus: Path, artifact_store: ArtifactStore, tmp_path: Path
) -> None:
    (tmp_path / "a.xml").write_bytes((corpus / T004).read_bytes())
    (tmp_path / "b.xml").write_bytes(b"<Foo xmlns='urn:x'/>")
    (tmp_path / "c.txt").write_text("ignored")
    outcomes = validate_files([tmp_path], store=artifact_store)
    assert [Path(o.source).name for o in outcomes] == ["a.xml", "b.xml"]
    assert outcomes[0].result is not None and outcomes[0].result.document_type == "peppol-t004"
    assert outcomes[1].result is None and outcomes[1].error_code == "unknown-document-type"


def test_validate_files_in_two_worker_processes(corpus: Path, artifact_store: ArtifactStore) -> None:
    files = sorted((corpus / PRE / "T018/files").glob("*.xml"))[:4]
    outcomes = validate_files(files, workers=2, store=artifact_store, ruleset="auto")
    assert [o.source for o in outcomes] == [str(f) for f in files]
    assert all(o.result is not None and o.result.layers[0].status is LayerStatus.VALID for o in outcomes)


def test_preaward_expected_results_with_auto_ruleset(corpus: Path, artifact_store: ArtifactStore) -> None:
    """Detection picks the Schematron the upstream harness pairs with each example, and the verdicts
    of expected-results.json hold (26 zero-failure pairs, 2 negative cases)."""
    base = corpus / "peppol-preaward"
    expected = json.loads((base / "expected-results.json").read_text())
    cases = [(e, []) for e in expected["schematron_zero_failures"]] + [
        (e, e["failed_assert_ids"]) for e in expected["schematron_expected_failures"]
    ]
    assert len(cases) == 28
    for case, failing in cases:
        result = validate_document(base / case["document"], store=artifact_store)
        sch = [layer for layer in result.layers if layer.kind == "schematron"]
        assert len(sch) == 1 and sch[0].status is not LayerStatus.SKIPPED, case["document"]
        assert sch[0].artifact.endswith(case["schematron"]), (case, sch[0].artifact)
        fired = sorted(i.rule_id for i in sch[0].failures)
        assert fired == sorted(failing), (case["document"], fired)


def test_compiled_schematron_memo_is_bounded(corpus: Path, artifact_store: ArtifactStore) -> None:
    """An eForms phase holds ~175 MB of Saxon heap: the engine's one memo keeps within the budget it
    is given (here: only the stylesheet in use), least recently used out."""
    from ubl.schematron import runtime

    runtime.forget_compiled()
    before = runtime.memo_budget()
    runtime.set_memo_budget(1)
    try:
        docs = [
            PRE + "/T001/files/ExpressionOfInterestRequest-instance.xml",
            PRE + "/T002/files/ExpressionOfInterestResponse-instance.xml",
            PRE + "/T003/files/TenderStatusRequest-instance.xml",
        ]
        for doc in docs:
            assert validate_document(corpus / doc, store=artifact_store).valid
            assert len(runtime._executables) == 1 and len(runtime._compiled) == 1
        runtime.set_memo_budget(10 * 1024 * 1024)
        for doc in docs:
            assert validate_document(corpus / doc, store=artifact_store).valid
        assert len(runtime._executables) == 3
        runtime.set_memo_budget(0)
        assert not runtime._executables and not runtime._compiled
    finally:
        runtime.set_memo_budget(before)


@pytest.mark.parametrize("as_file", [False, True])
def test_document_over_the_size_cap_is_a_read_error(
    corpus: Path, artifact_store: ArtifactStore, tmp_path: Path, as_file: bool
) -> None:
    data = (corpus / T004).read_bytes()
    source: bytes | Path = data
    if as_file:
        source = tmp_path / "cft.xml"
        source.write_bytes(data)
    with pytest.raises(DocumentReadError, match="larger than 1000 bytes") as err:
        validate_document(source, store=artifact_store, max_bytes=1000)
    assert err.value.code == "unreadable"
    assert validate_document(source, store=artifact_store, max_bytes=len(data)).document_type == "peppol-t004"


def test_registered_artifact_missing_from_its_installed_set(corpus: Path, tmp_path: Path) -> None:
    """An installed set that lost a file names the file instead of failing inside the XSD loader."""
    from ubl.artifacts import install_from_corpus

    store = ArtifactStore(tmp_path / "store")
    install_from_corpus(store, corpus, ["ubl-2.2", "peppol-preaward"])
    (store.path("ubl-2.2") / "xsdrt/maindoc/UBL-CallForTenders-2.2.xsd").unlink()
    with pytest.raises(
        ArtifactError, match=r"UBL-CallForTenders-2\.2\.xsd: not found in the installed set"
    ) as err:
        validate_document(corpus / T004, store=store)
    assert err.value.code == ArtifactError.MISSING_FILES


def test_a_set_removed_after_use_is_reported_not_installed(corpus: Path, tmp_path: Path) -> None:
    """The installed files are remembered per store (no stat per document); a set removed afterwards is
    still reported as not installed, not as an XSD that fails to load."""
    from ubl.artifacts import install_from_corpus

    store = ArtifactStore(tmp_path / "store")
    install_from_corpus(store, corpus, ["ubl-2.2", "peppol-preaward"])
    assert validate_document(corpus / T004, store=store).valid
    ArtifactStore(store.root).remove("ubl-2.2")  # another store object: this one keeps no hint
    with pytest.raises(ArtifactError) as err:
        validate_document(corpus / T004, store=store)
    assert err.value.code == ArtifactError.NOT_INSTALLED


def test_eforms_work_comes_in_the_engine_phase_group_order(corpus: Path) -> None:
    """validate_files hands notices over sorted by phase id, the order the engine groups phases in (a
    joined-string key put eforms-2 after eforms-29, so every group was compiled twice)."""
    from ubl.detect import detect
    from ubl.validate import processing_order

    wanted = {"eforms-2", "eforms-20", "eforms-29", "eforms-3", "eforms-30"}
    files = [f for f in sorted((corpus / NOTICES).glob("*.xml")) if detect(f).phase in wanted]
    files.reverse()
    phases = [detect(files[i]).phase or "" for i in processing_order(files)]
    assert set(phases) == wanted
    assert phases == sorted(phases)
