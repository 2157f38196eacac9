"""``ap as4 serve`` killed with SIGKILL in the middle of a burst, restarted on the same inbox, and sent
again everything that had no verified receipt (identical bytes): nothing lost, nothing stored twice,
every message ends with a receipt, no orphan temporary files (conformance.md §9, issue 10).

Also, on the restarted receiver: the same document under a new MessageId is refused (the ledger is
durable), and a document for a participant the receiver does not serve gets PEPPOL:NOT_SERVICED.
"""

from __future__ import annotations

import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from access_point.store import open_store
from access_point.store.blobs import TEMP_PREFIX
from tests.transport.test_receiver_support import RECEIVER, build_message, make_sbd, ubl_invoice
from transport.as4 import OutboundMessage
from transport.sender import As4Sender, Outcome

BURST = 80
SENDING_THREADS = 8
STARTUP_SECONDS = 60.0


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def start_serve(pki: Any, inbox: Path, log: Path, database_url: str | None) -> Serve:
    # warnings only: the log-size check at the end is about tracebacks, not the per-message INFO lines
    args = [
        sys.executable, "-m", "access_point.cli", "--log-level", "warning",
        "as4", "serve", "--port", "0", "--host", "127.0.0.1",
        "--key", str(pki.aps[1].key), "--cert", str(pki.aps[1].cert), "--trust", str(pki.ap_truststore),
        "--crl", str(pki.ap_crl), "--inbox", str(inbox), "--participant", RECEIVER,
        *(("--database-url", database_url) if database_url else ()),
    ]  # fmt: skip
    with log.open("wb") as fh:
        process = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not (found := re.search(r"listening on (http://127\.0\.0\.1:\d+/as4)", log.read_text())):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return Serve(process, found.group(1), log)


def post_all(client: As4Sender, url: str, messages: list[OutboundMessage], cert: Any) -> list[Outcome]:
    with ThreadPoolExecutor(SENDING_THREADS) as pool:
        return list(pool.map(lambda m: client.post(m, url, cert), messages))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The ledger in SQLite in the inbox (the default), or on a real PostgreSQL."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


def test_kill_9_mid_burst_then_resend_loses_nothing_and_stores_nothing_twice(
    test_pki: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, database_url: str | None
) -> None:
    caplog.set_level(logging.ERROR, logger="transport.sender")  # no plain-HTTP warning per message
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    kill_after = rng.randrange(5, BURST // 2)
    print(f"seed {seed}: SIGKILL after {kill_after} answers")
    inbox = tmp_path / "inbox"
    receiver_cert = test_pki.aps[1].certificate()
    sbds = [make_sbd(ubl_invoice(f"burst {i}")) for i in range(BURST)]
    messages = [build_message(test_pki, sbd) for sbd in sbds]
    validator = test_pki.ap_validator()
    validator.validate(test_pki.aps[1].certificate())

    first = start_serve(test_pki, inbox, tmp_path / "serve-1.log", database_url)
    answered = threading.Semaphore(0)

    def killer() -> None:
        for _ in range(kill_after):
            answered.acquire()
        first.process.send_signal(signal.SIGKILL)

    outcomes: dict[str, Outcome] = {}
    with As4Sender(allow_http=True, validate_signer=validator.validate, read_timeout=30) as client:
        kill_thread = threading.Thread(target=killer, daemon=True)
        kill_thread.start()

        def send(message: OutboundMessage) -> None:
            outcomes[message.message_id] = client.post(message, first.url, receiver_cert)
            answered.release()

        with ThreadPoolExecutor(SENDING_THREADS) as pool:
            list(pool.map(send, messages))
        kill_thread.join(timeout=10)
        assert first.process.wait(timeout=30) == -signal.SIGKILL
        unconfirmed = [m for m in messages if not outcomes[m.message_id].delivered]
        receipts = {m.message_id: outcomes[m.message_id].receipt_bytes for m in messages}
        crashed = open_store(inbox, database_url)
        committed = {r.message_id for r in crashed.ledger.records()}
        crashed.close()
        in_between = sum(1 for m in unconfirmed if m.message_id in committed)
        print(
            f"{BURST - len(unconfirmed)} receipts before the kill, {len(unconfirmed)} to resend,"
            f" {in_between} of them committed before the kill (receipt lost on the way)"
        )
        assert unconfirmed, "the kill came after the whole burst: nothing was tested"

        second = start_serve(test_pki, inbox, tmp_path / "serve-2.log", database_url)
        try:
            # the sender resends what had no verified receipt: identical bytes, same MessageId
            resent = post_all(client, second.url, unconfirmed, receiver_cert)
            assert all(o.delivered for o in resent), [o.summary for o in resent if not o.delivered]
            for message, outcome in zip(unconfirmed, resent, strict=True):
                receipts[message.message_id] = outcome.receipt_bytes
            # a resend of a message confirmed before the kill gets the very same receipt
            confirmed = next(m for m in messages if outcomes[m.message_id].delivered)
            again = client.post(confirmed, second.url, receiver_cert)
            assert again.delivered and again.receipt_bytes == receipts[confirmed.message_id]
            # the same document under a new MessageId, after the restart: refused
            copy = build_message(test_pki, sbds[0])
            refused = client.post(copy, second.url, receiver_cert)
            assert (refused.delivered, refused.code) == (False, "EBMS:0004")
            assert messages[0].message_id in (refused.detail or "")
            # a receiver this AP does not serve
            foreign = build_message(
                test_pki,
                make_sbd(receiver="iso6523-actorid-upis::0088:5798000000002"),
                header_overrides={"final_recipient": "0088:5798000000002"},
            )
            not_served = client.post(foreign, second.url, receiver_cert)
            assert (not_served.code, not_served.detail) == ("EBMS:0004", "PEPPOL:NOT_SERVICED")
        finally:
            second.process.terminate()
            second.process.wait(timeout=30)

    store = open_store(inbox, database_url)
    try:
        records = store.ledger.records()
        assert sorted(r.message_id for r in records) == sorted(m.message_id for m in messages)  # 0 lost
        assert len({r.instance_id for r in records}) == len(records) == BURST  # 0 stored twice
        stored = {r.payload_sha256 for r in records}
        on_disk = {p.name for p in (inbox / "payloads").glob("*/*")}
        assert stored <= on_disk
        for record in records:
            assert receipts[record.message_id] == record.receipt  # every message has its receipt
    finally:
        store.close()
    assert list((inbox / "payloads").glob(f"{TEMP_PREFIX}*")) == []
    leftovers = [p for p in (inbox / "work").iterdir() if not p.name.endswith(f"-{second.process.pid}")]
    assert leftovers == [], leftovers  # the killed process's working directory was removed
    assert os.path.getsize(second.log) < 20_000, second.log.read_text()[-2000:]
