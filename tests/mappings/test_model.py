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
        "platform": {"peppol": {"receiverEndpoint": {"scheme": "0009", "id": "21350238800019"}}},
    }


def test_valid_release_passes() -> None:
    validate_release(_release())


def test_invalid_release_reports_path_and_reason() -> None:
    release = _release()
    release["tender"]["lots"][0]["value"]["amount"] = "ten"
    del release["ocid"]
    release["platform"]["peppol"]["receiverEndpoint"]["scheme"] = "FR"
    with pytest.raises(InputValidationError) as info:
        validate_release(release)
    paths = [p for p, _ in info.value.errors]
    assert "tender.lots[0].value.amount" in paths
    assert "$" in paths  # the missing required 'ocid' is reported at the root
    assert "platform.peppol.receiverEndpoint.scheme" in paths
    reasons = dict(info.value.errors)
    assert "is not of type 'number'" in reasons["tender.lots[0].value.amount"]


def test_dotted_paths() -> None:
    assert dotted(["tender", "lots", 3, "id"]) == "tender.lots[3].id"
    assert dotted([]) == "$"


def test_release_errors_empty_for_valid() -> None:
    assert release_errors(_release()) == []
