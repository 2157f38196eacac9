"""The platform model's JSON Schema: errors carry the path and the reason."""

from __future__ import annotations

from typing import Any

import pytest

from mappings.errors import InputValidationError
from mappings.model import dotted, release_errors, validate_release


def _release() -> dict[str, Any]:
    return {
        "ocid": "ocds-pap000-1",
        "id": "r1",
        "date": "2024-01-01T00:00:00Z",
        "tag": ["tender"],
        "initiationType": "tender",
        "tender": {"id": "P1", "lots": [{"id": "LOT-0001", "value": {"amount": 10, "currency": "EUR"}}]},
        "platform": {
            "peppol": {
                "parties": {"ORG-1": {"endpoint": {"scheme": "0009", "id": "21350238800019"}}},
                "encryptionCertificate": {"id": "tenderenckey.cer", "uri": "cid:tenderenckey.cer"},
            }
        },
    }


def test_valid_release_passes() -> None:
    validate_release(_release())


def test_invalid_release_reports_path_and_reason() -> None:
    release = _release()
    release["tender"]["lots"][0]["value"]["amount"] = "ten"
    del release["ocid"]
    release["platform"]["peppol"]["parties"]["ORG-1"]["endpoint"]["scheme"] = "FR"
    with pytest.raises(InputValidationError) as info:
        validate_release(release)
    paths = [p for p, _ in info.value.errors]
    assert "tender.lots[0].value.amount" in paths
    assert "$" in paths  # the missing required 'ocid' is reported at the root
    assert "platform.peppol.parties.ORG-1.endpoint.scheme" in paths
    reasons = dict(info.value.errors)
    assert "is not of type 'number'" in reasons["tender.lots[0].value.amount"]


def test_dotted_paths() -> None:
    assert dotted(["tender", "lots", 3, "id"]) == "tender.lots[3].id"
    assert dotted([]) == "$"


def test_release_errors_empty_for_valid() -> None:
    assert release_errors(_release()) == []


def test_schema_describes_the_peppol_extension_the_writers_use() -> None:
    """The encryption certificate is a document reference (an object), document UUIDs are per type."""
    release = _release()
    release["platform"]["peppol"]["documents"] = {"t004": {"uuid": "be8943ce-9d65-4eed-93c5-fa4748148c8f"}}
    assert release_errors(release) == []
    release["platform"]["peppol"]["encryptionCertificate"] = "MIIB..."
    release["platform"]["peppol"]["documents"]["t999"] = {}
    paths = dict(release_errors(release))
    assert "is not of type 'object'" in paths["platform.peppol.encryptionCertificate"]
    assert "'t999'" in paths["platform.peppol.documents"]


@pytest.mark.parametrize("bad", ["2024-02-30T00:00:00Z", "2024-01-01T24:30:00Z", "2024-13-01"])
def test_impossible_dates_are_rejected(bad: str) -> None:
    release = _release()
    release["date"] = bad
    assert [p for p, _ in release_errors(release)] == ["date"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ccag", "CCAG maison"),
        ("formePrix", "Libre"),
        ("typesPrix", {"typePrix": ["Ferme"]}),
        ("tauxAvance", 1.5),
        ("typeGroupementOperateurs", "Mixte"),
        ("origineUE", -0.1),
        ("origineFrance", 2),
        ("modalitesExecution", {"modaliteExecution": ["Au fil de l'eau"]}),
    ],
)
def test_decp_only_fields_are_checked_against_the_decp_value_sets(field: str, value: Any) -> None:
    release = _release()
    release["platform"]["decp"] = {"M1": {field: value}}
    paths = [p for p, _ in release_errors(release)]
    assert paths and all(p.startswith(f"platform.decp.M1.{field}") for p in paths)
