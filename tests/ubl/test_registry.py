"""The document type registry: coverage of documents.md, identifiers verbatim from code list v9.7."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ubl import registry
from ubl.artifacts import OFFICIAL_SETS, UNAVAILABLE_SETS

CODELISTS = "peppol-codelists-v9.7"


def test_registry_has_one_type_per_eforms_subtype(corpus: Path) -> None:
    notice_types = json.loads((corpus / "eforms-sdk-1.14.2/notice-types/notice-types.json").read_text())
    expected = {(s["documentType"], s["subTypeId"]) for s in notice_types["noticeSubTypes"]}
    eforms = registry.find(family=registry.FAMILY_EFORMS)
    assert {(t.transaction, t.subtype) for t in eforms} == expected
    assert len(eforms) == 51


def test_eforms_type_uses_subtype_phase() -> None:
    t = registry.get("eforms-cn-16")
    assert t.root == "ContractNotice"
    assert t.namespace == "urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2"
    assert t.phase == "eforms-16"
    assert t.ubl_version == "2.3"
    assert t.document_type_id is None
    assert t.schematron is not None
    assert t.schematron.path == "schematrons/static/complete-validation.sch"


def test_registry_has_preaward_t001_to_t022() -> None:
    pre = registry.find(family=registry.FAMILY_PREAWARD)
    assert [t.transaction for t in pre] == [f"T{n:03d}" for n in range(1, 23)]
    t004 = registry.get("peppol-t004")
    assert t004.root == "CallForTenders"
    assert t004.customization_id == "urn:fdc:peppol.eu:prac:trns:t004:1.2"
    assert t004.profile_id == "urn:fdc:peppol.eu:prac:bis:p002:1.2"
    assert t004.document_type_id == (
        "urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2::CallForTenders"
        "##urn:fdc:peppol.eu:prac:trns:t004:1.2::2.2"
    )
    assert t004.xsd.set == "ubl-2.2"


def test_preaward_doctype_ids_verbatim_from_codelist_v97(corpus: Path) -> None:
    """T019/T021/T022 roots in the code list differ from the BIS syntax; we keep the code-list value."""
    data = json.loads((corpus / CODELISTS / "Peppol Code Lists - Document types v9.7.json").read_text())
    active = {v["value"] for v in data["values"] if v["state"] == "active"}
    for t in registry.find(family=registry.FAMILY_PREAWARD) + registry.find(family=registry.FAMILY_BIS3):
        assert t.document_type_id in active, t.key
    assert "Qualification-2::Qualification##" in (registry.get("peppol-t019").document_type_id or "")
    assert registry.get("peppol-t019").root == "TendererQualification"
    assert "ExpressionOfInterestRequest##" in (registry.get("peppol-t021").document_type_id or "")


def test_process_ids_registered_in_codelist_v97(corpus: Path) -> None:
    data = json.loads((corpus / CODELISTS / "Peppol Code Lists - Processes v9.7.json").read_text())
    processes = {v["value"] for v in data["values"]}
    for t in registry.find(family=registry.FAMILY_PREAWARD) + registry.find(family=registry.FAMILY_BIS3):
        for p in t.profile_ids:
            assert p in processes, (t.key, p)


def test_bis3_types_are_xsd_only_with_reason() -> None:
    bis3 = registry.find(family=registry.FAMILY_BIS3)
    assert {
        "bis3-invoice",
        "bis3-credit-note",
        "bis3-order",
        "bis3-order-response",
        "bis3-despatch-advice",
        "bis3-catalogue",
        "bis3-mlr",
    } <= {t.key for t in bis3}
    for t in bis3:
        assert t.schematron is None
        assert "not installed" in t.note
        assert t.xsd.set in ("ubl-2.1", "ubl-2.3")


def test_every_registered_artifact_is_in_a_shipped_manifest() -> None:
    for t in registry.document_types():
        for ref in (t.xsd, t.schematron):
            if ref is None:
                continue
            if ref.set in UNAVAILABLE_SETS:
                continue
            assert ref.path in OFFICIAL_SETS[ref.set].manifest(), f"{t.key}: {ref}"


def test_get_unknown_key_raises() -> None:
    with pytest.raises(registry.UnknownDocumentTypeKey):
        registry.get("peppol-t999")
    assert registry.get("PEPPOL-T005").key == "peppol-t005"
