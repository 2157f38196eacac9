"""PINT wildcard document types: peppol-commons' candidate order, against the ServiceGroup."""

from __future__ import annotations

import pytest

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from smp_client import DocumentTypeNotServed
from smp_client.wildcard import select_document_type, wildcard_candidates
from tests.smp_client.world import AP_URL, DOCTYPE, PINT_WILDCARD, PROCESS, P, World

ROOT = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"


def _pint(customization: str) -> DocumentTypeId:
    return DocumentTypeId.parse(f"peppol-doctype-wildcard::{ROOT}##{customization}::2.1")


def test_wildcard_candidate_order_matches_peppol_commons() -> None:
    got = [c.customization_id for c in wildcard_candidates(_pint("urn:peppol:pint:billing-1@jp-1"))]
    assert got == [
        "urn:peppol:pint:billing-1@jp-1",
        "urn:peppol:pint:billing-1@jp-1*",
        "urn:peppol:pint:billing-1*",
    ]


def test_wildcard_candidates_for_multiple_parts() -> None:
    got = [c.customization_id for c in wildcard_candidates(_pint("urn:peppol:pint:billing-1@aunz-1@x-2"))]
    assert got[-2:] == ["urn:peppol:pint:billing-1@aunz-1*", "urn:peppol:pint:billing-1*"]


def test_busdox_doctype_has_no_wildcard_candidates() -> None:
    doctype = DocumentTypeId.parse(DOCTYPE)
    assert wildcard_candidates(doctype) == [doctype]


def test_exact_candidate_is_preferred() -> None:
    exact, star = _pint("urn:peppol:pint:billing-1@jp-1"), _pint("urn:peppol:pint:billing-1*")
    assert select_document_type(exact, [star, exact]) == exact
    assert select_document_type(exact, [star]) == star
    assert select_document_type(exact, [DocumentTypeId.parse(DOCTYPE)]) is None


def test_lookup_wildcard_over_the_network(smp_world: World) -> None:
    participant, process = ParticipantId.parse(P["pint"]), ProcessId.parse(PROCESS)
    result = smp_world.discovery().lookup_wildcard(
        participant, _pint("urn:peppol:pint:billing-1@jp-1"), process
    )
    assert result.endpoint.url == AP_URL
    assert result.document_type.uri == PINT_WILDCARD
    assert "wildcard" in [s.name for s in result.steps]


def test_lookup_wildcard_nothing_offered(smp_world: World) -> None:
    participant, process = ParticipantId.parse(P["good"]), ProcessId.parse(PROCESS)
    with pytest.raises(DocumentTypeNotServed, match="wildcard candidates") as info:
        smp_world.discovery().lookup_wildcard(participant, _pint("urn:peppol:pint:billing-1@jp-1"), process)
    assert info.value.steps[0].name == "dns-name"
