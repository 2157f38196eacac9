"""The distributed set-up: the marketplace on PostgreSQL and an external ``redis-server`` (``REDIS_URL``),
its sending done by a separate ``ap worker`` process; Redis is restarted in the middle of a 200-message
run and nothing is lost (the sweeper re-enqueues from the database). One of the fault tests
(``tests/service/faults.py``); :class:`RedisServer` is shared with the others."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import Pair
from tests.service.faults import (
    FAST_RETRIES,
    MESSAGES,
    Burst,
    assert_nothing_lost_nothing_twice,
    engines,
    kill_all,
    timed,
)

pytestmark = [pytest.mark.corpus, pytest.mark.faults]
#: Seconds Redis stays down.
REDIS_DOWN_SECONDS = 2.0


class RedisServer:
    """A throwaway ``redis-server`` on a free loopback port, without persistence."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server not installed (make test installs the Debian package)")
        self.binary, self.directory = binary, directory
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.proc = subprocess.Popen([*args, "--dir", str(self.directory)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_redis_restarted_during_the_run_with_postgresql_and_ap_worker_loses_nothing_and_delivers_once(
    redis_server: RedisServer,
    postgres_url: str,
    pair: Pair,
    serve: Any,
    ap_worker: Any,
    corpus: Path,
    tmp_path: Path,
) -> None:
    """The distributed set-up under a 200-message burst; ``redis-server`` is killed mid-burst (the queue
    goes away with whatever it held), stays down while submissions go on, and comes back empty: only
    the database knows what is pending, and the sweeper re-enqueues it."""
    figures: dict[str, Any] = {}
    done = timed("seconds", figures)
    partner = serve("partner", **FAST_RETRIES)
    distributed = {"REDIS_URL": redis_server.url, "DATABASE_URL": postgres_url, **FAST_RETRIES}
    market = serve("marketplace", **distributed)
    worker = ap_worker(pair.side("marketplace")["config"], market.env, tmp_path / "worker.log")
    with engines(pair, market.env, partner.env) as (market_db, partner_db):
        burst = Burst(pair, corpus).start()
        burst.wait_accepted(MESSAGES // 3)
        redis_server.stop()
        accepted_before = len(burst.accepted)
        time.sleep(REDIS_DOWN_SECONDS)
        figures["accepted_while_down"] = len(burst.accepted) - accepted_before
        redis_server.start()
        ids = burst.ids()
        figures.update(assert_nothing_lost_nothing_twice(market_db, partner_db, ids))
    kill_all(worker, market, partner)
    done()
    assert figures["accepted_while_down"] > 0, figures  # the API keeps taking work without its queue
    print(f"Redis restarted mid-run: {figures}")
