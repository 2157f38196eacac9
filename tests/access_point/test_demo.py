"""``make demo``: the four-corner exchange runs end to end on loopback with real components
(test PKI, TLS, static directory, AS4 sender and receiver, SBDH, validation when artifacts exist)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from rich.console import Console

from access_point import demo
from access_point.store import open_store


def test_demo_four_corner_exchange_delivers_each_document_once(tmp_path: Path) -> None:
    out = StringIO()
    rc = demo.run(tmp_path / "demo", console=Console(file=out, width=200))
    text = out.getvalue()
    assert rc == 0, text
    assert "Exchange complete" in text
    partner = open_store(tmp_path / "demo" / "partner-ap-inbox")
    ours = open_store(tmp_path / "demo" / "marketplace-ap-inbox")
    try:
        # The retry re-posted identical bytes: each side's ledger still holds exactly one message.
        (call,) = partner.ledger.records()
        (tender,) = ours.ledger.records()
    finally:
        partner.close()
        ours.close()
    assert call.sender == demo.MARKETPLACE.uri and call.country_c1 == "FR"
    assert "CallForTenders" in call.document_type
    assert tender.sender == demo.PARTNER.uri and tender.country_c1 == "DE"
    assert call.receipt_id and tender.receipt_id
    assert "same receipt returned: True" in text
