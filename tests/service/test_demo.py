"""``make demo``: the exchange through two running services (TLS, real DNS + SMP) completes."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from access_point.dev import demo

pytestmark = pytest.mark.corpus


def test_demo_through_the_service_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("AP_ARTIFACTS_DIR", str(tmp_path / "unused"))  # the demo sets its own store
    out = StringIO()
    code = demo.run(tmp_path / "demo", console=Console(file=out, width=220))
    text = out.getvalue()
    assert code == 0, text
    for expected in ("CallForTenders from", "Tender from", "T006 TenderReceipt from", "C1 = the marketplace"):
        assert expected in text
    assert "valid: False" not in text
