"""The automatic answers a tenant can ask for are valid Peppol documents: a T006 TenderReceipt for an
inbound T005 (from the official example), and a T018 rejection of an invalid pre-award document."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from access_point.service.runtime import _rejection, _tender_receipt

pytestmark = pytest.mark.corpus
T005 = "peppol-preaward/guides/transactions/T005/files/tender-instance.xml"
RECORD = SimpleNamespace(
    id="record-1",
    receiver="iso6523-actorid-upis::0009:78430177200025",
    sender="iso6523-actorid-upis::9930:de298946909",
    instance_id="instance-1",
    message_id="message-1@example",
    received_at=datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
)


def _validate(document: bytes, store: Path) -> list[str]:
    from ubl.artifacts import ArtifactStore
    from ubl.validate import validate_document

    result = validate_document(document, store=ArtifactStore(store))
    return [f"{i.rule_id}: {i.text}" for i in result.items if i.severity.is_failure]


def test_the_automatic_t006_for_a_t005_is_valid(corpus: Path, preaward_store: Path) -> None:
    receipt = _tender_receipt((corpus / T005).read_bytes(), RECORD)
    assert b"<TenderReceipt" in receipt and b"2026-12-07" in receipt
    assert _validate(receipt, preaward_store) == []


def test_the_automatic_t018_rejection_is_valid_and_names_the_failures(
    corpus: Path, preaward_store: Path
) -> None:
    report = {
        "layers": [{"items": [{"rule_id": "PEPPOL-T005-R012", "severity": "fatal", "text": "not a UUID"}]}]
    }
    rejection = _rejection((corpus / T005).read_bytes(), RECORD, report)
    assert b"<cbc:ResponseCode>RE</cbc:ResponseCode>" in rejection and b"PEPPOL-T005-R012" in rejection
    assert b"urn:fdc:peppol.eu:prac:trns:t005:1.1" in rejection and b"instance-1" in rejection
    assert _validate(rejection, preaward_store) == []
