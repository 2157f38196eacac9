"""A large outbound document goes through the service from file to file (``POST /v1/outbound/upload`` →
spool → SBD → blob store → AS4 body posted from its blob), is built once, and its built message is kept
across a restart in the service's own columns: the attempt after the restart posts the identical bytes
(same MessageId, receipt verified against the references stored before the restart)."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select, update

from access_point import demo as documents
from access_point.dev.pair import write_pair
from access_point.service import tables as t
from access_point.service.config import load_config
from access_point.service.runtime import INLINE_BODY_BYTES, utc_now
from access_point.service.server import RunningService, start_service


def _large_call_for_tenders(size: int) -> bytes:
    """A T004 of about ``size`` bytes that gzip cannot shrink much (many notes of random hex, no single
    huge text node); validation is off."""
    text = documents.call_for_tenders("folder", "large", utc_now()).decode()
    head, tag, tail = text.partition("</cbc:Description>")
    notes = "".join(f"<cbc:Note>{secrets.token_hex(500)}</cbc:Note>\n" for _ in range(size // 1024))
    return (head + tag + notes + tail).encode()


def _row(service: RunningService, outbound_id: str) -> Any:
    o = t.outbound_messages
    with service.service.engine.connect() as conn:
        return conn.execute(select(o).where(o.c.id == outbound_id)).one()


def _wait(service: RunningService, outbound_id: str, done: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not done(row := _row(service, outbound_id)):
        assert time.monotonic() < deadline, f"status {row.status}, error {row.error_detail}"
        time.sleep(0.1)
    return row


def test_a_large_upload_is_built_once_and_posted_with_identical_bytes_after_a_restart(tmp_path: Path) -> None:
    info = write_pair(tmp_path / "pair", static=True)
    market_config = load_config(info["marketplace"]["config"])
    ca = str(tmp_path / "pair" / "pki" / "tls-truststore.pem")
    document = _large_call_for_tenders(3 * INLINE_BODY_BYTES)
    market = start_service(market_config, validator=False)
    try:  # the partner is down: the first attempt fails after the message was built and stored
        answer = requests.post(
            f"{info['marketplace']['api_url']}/v1/outbound/upload",
            params={"receiver": info["partner"]["participant"]},
            data=document,
            headers={
                "Authorization": f"Bearer {info['marketplace']['api_key']}",
                "Content-Type": "application/xml",
            },
            verify=ca,
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        outbound_id = answer.json()["id"]
        built = _wait(market, outbound_id, lambda row: row.status == "retrying")
        assert built.message_id and built.attempts == 1
        stored = market.service.blobs.path(built.message_sha256)
        assert stored.stat().st_size > INLINE_BODY_BYTES  # posted from its file, not from memory
        sbd = market.service.blobs.path(built.sbd_sha256).read_bytes()
        assert len(sbd) > len(document)
        assert not list(market.service.spool_dir.iterdir())  # upload, SBD and build spools removed
    finally:
        market.stop()

    partner = start_service(load_config(info["partner"]["config"]), validator=False)
    market = start_service(market_config, validator=False)  # the restart
    try:
        with market.service.engine.begin() as conn:  # due now rather than after the back-off
            o = t.outbound_messages
            conn.execute(update(o).where(o.c.id == outbound_id).values(next_attempt_at=utc_now()))
        market.service.sweep(0.0)
        delivered = _wait(market, outbound_id, lambda row: row.status == "delivered")
        assert delivered.message_id == built.message_id and delivered.attempts == 2
        records = partner.service.ledger.records()
        assert [r.message_id for r in records] == [built.message_id]
        assert partner.service.blobs.path(records[0].payload_sha256).read_bytes() == sbd
    finally:
        market.stop()
        partner.stop()
