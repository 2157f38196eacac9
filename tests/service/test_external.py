"""The distributed set-up: the marketplace on PostgreSQL and an external ``redis-server`` (``REDIS_URL``),
its sending done by a separate ``ap worker`` process; Redis is restarted in the middle of the run and
nothing is lost (the sweeper re-enqueues from the database)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import Pair
from tests.service.documents import T004_EXAMPLE

pytestmark = pytest.mark.corpus


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


def test_postgres_external_redis_and_ap_worker_deliver_across_a_redis_restart(
    pair: Pair, serve: Any, corpus: Path, redis_server: RedisServer, postgres_url: str, tmp_path: Path
) -> None:
    distributed = {"REDIS_URL": redis_server.url, "DATABASE_URL": postgres_url}
    serve("partner")
    market = serve("marketplace", **distributed)
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "access_point.cli",
                "worker",
                "--config",
                pair.side("marketplace")["config"],
            ],
            env={**market.env, **distributed},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        body = {
            "receiver": pair.side("partner")["participant"],
            "document": (corpus / T004_EXAMPLE).read_text(),
        }
        ids = [pair.api("marketplace", "POST", "/v1/outbound", json=body).json()["id"] for _ in range(3)]
        redis_server.stop()  # the queue goes away with whatever it held
        ids += [pair.api("marketplace", "POST", "/v1/outbound", json=body).json()["id"] for _ in range(3)]
        redis_server.start()  # empty: only the database knows what is pending
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            statuses = [pair.api("marketplace", "GET", f"/v1/outbound/{i}").json()["status"] for i in ids]
            if statuses == ["delivered"] * len(ids):
                break
            time.sleep(0.5)
        assert statuses == ["delivered"] * len(ids), (statuses, (tmp_path / "worker.log").read_text()[-3000:])
        # delivered = the partner's ledger holds it; its inbound processing (listed here) may still run
        while time.monotonic() < deadline:
            received = pair.api("partner", "GET", "/v1/inbound?all=true").json()
            if len(received) >= len(ids):
                break
            time.sleep(0.5)
        assert len(received) == len(ids) == len({r["instance_id"] for r in received})
    finally:
        worker.terminate()
        worker.wait(timeout=30)
