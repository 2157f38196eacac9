"""Documents of the service tests: the marketplace's OCDS consultation (read from the official T004
example) and the partner's T005 Tender answering it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

T004_EXAMPLE = "peppol-preaward/guides/transactions/T004/files/call-for-tenders-instance.xml"


def ocds_consultation(corpus: Path) -> bytes:
    """The official T004 example read as an OCDS release (what the platform holds)."""
    from mappings.convert import convert

    return convert((corpus / T004_EXAMPLE).read_bytes(), source="ubl", target="ocds").data


def tender(folder_id: str, call_id: str, *, now: datetime | None = None) -> bytes:
    """A T005 Tender (UBL 2.2) from the partner (DE VAT) to the marketplace (SIRET): the demo's."""
    from access_point.demo import tender as demo_tender

    return demo_tender(folder_id, call_id, now or datetime.now(UTC))
