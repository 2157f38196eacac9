"""DECP v2 import/export: schema validity and DECP -> OCDS -> DECP losslessness."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mappings.decp import export_decp, import_decp, release_to_marche
from mappings.errors import MappingError
from mappings.model import release_errors
from tests.mappings.decp_samples import ENRICH, MARCHE, MINIMAL_MARCHE, document

DECP_SCHEMA = Path("decp-v2/schema_decp_v2.0.3.json")


@pytest.fixture(scope="module")
def decp_validator(corpus: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((corpus / DECP_SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


@pytest.mark.corpus
def test_decp_samples_are_schema_valid(decp_validator: jsonschema.Draft7Validator) -> None:
    errors = [e.message for e in decp_validator.iter_errors(document(MARCHE, MINIMAL_MARCHE))]
    assert errors == []


@pytest.mark.corpus
def test_decp_roundtrip_is_lossless_and_valid(decp_validator: jsonschema.Draft7Validator) -> None:
    original = document(MARCHE, MINIMAL_MARCHE)
    releases = import_decp(copy.deepcopy(original), enrich=ENRICH)
    for release in releases:
        assert release_errors(release) == []
    exported = export_decp(releases)
    assert [e.message for e in decp_validator.iter_errors(exported)] == []
    assert exported == original


def test_decp_import_maps_award_data_to_ocds() -> None:
    (release,) = import_decp(document(MARCHE), enrich=ENRICH)
    assert release["tender"]["title"] == MARCHE["objet"]
    assert release["tender"]["procurementMethod"] == "open"
    assert release["awards"][0]["value"] == {"amount": 480000.5, "currency": "EUR"}
    assert release["contracts"][0]["dateSigned"] == "2024-03-15T00:00:00Z"
    assert release["contracts"][0]["period"]["durationInDays"] == 36 * 30
    assert release["tender"]["items"][0]["classification"] == {"scheme": "CPV", "id": "77310000"}
    assert [s["id"] for s in release["awards"][0]["suppliers"]] == ["51234567800012", "BE0123456789"]
    assert release["bids"]["statistics"][0] == {
        "id": "1",
        "measure": "bids",
        "value": 4,
        "relatedLot": "LOT-0001",
    }
    kept = release["platform"]["decp"][MARCHE["id"]]
    assert kept["ccag"] == "Fournitures courantes et services"
    assert kept["formePrix"] == "Unitaire" and kept["origineFrance"] == 0.2


def test_decp_enrichment_supplies_names_and_addresses() -> None:
    (release,) = import_decp(document(MARCHE), enrich=ENRICH)
    parties = {p["id"]: p for p in release["parties"]}
    assert parties["21350238800019"]["name"] == "Rennes Métropole Habitat"
    assert parties["21350238800019"]["address"]["locality"] == "Rennes"
    assert release["buyer"] == {"id": "21350238800019", "name": "Rennes Métropole Habitat"}
    assert parties["51234567800012"]["name"] == "Jardins de Bretagne SAS"
    assert "name" not in parties["BE0123456789"]
    assert parties["BE0123456789"]["identifier"]["scheme"] == "EU-VAT"


def test_decp_import_error_names_the_input_path() -> None:
    bad: dict[str, Any] = document(MINIMAL_MARCHE)
    del bad["marches"]["marche"][0]["acheteur"]
    with pytest.raises(MappingError) as info:
        import_decp(bad)
    assert info.value.path == "marches.marche[0]"


def test_decp_export_rejects_foreign_currency() -> None:
    (release,) = import_decp(document(MINIMAL_MARCHE))
    release["contracts"][0]["value"]["currency"] = "USD"
    with pytest.raises(MappingError) as info:
        release_to_marche(release)
    assert "EUR" in info.value.reason


def test_decp_export_from_edited_ocds_follows_ocds() -> None:
    (release,) = import_decp(document(MINIMAL_MARCHE))
    release["tender"]["title"] = "Fourniture de mobilier scolaire"
    release["contracts"][0]["value"]["amount"] = 43000
    marche = release_to_marche(release)
    assert marche is not None
    assert marche["objet"] == "Fourniture de mobilier scolaire"
    assert marche["montant"] == 43000
