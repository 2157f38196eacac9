"""Fixtures of the service tests: a validation artifact store with the pre-award sets, a fresh
``ap dev pair`` setup with its DNS server and SMP running, and ``ap serve`` processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from access_point.dev.network import start_network
from access_point.dev.pair import write_pair

STARTUP_SECONDS = 60.0


@pytest.fixture(scope="session")
def preaward_store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact store with UBL 2.2 and the Peppol pre-award rules, installed from the corpus."""
    from ubl.artifacts import ArtifactStore, install_from_corpus

    directory = tmp_path_factory.mktemp("preaward-artifacts")
    install_from_corpus(ArtifactStore(directory), corpus, ("ubl-2.2", "peppol-preaward"))
    return directory


@dataclass
class Pair:
    directory: Path
    info: dict[str, Any]

    def side(self, name: str) -> dict[str, str]:
        side: dict[str, str] = self.info[name]
        return side

    @property
    def ca(self) -> str:
        return str(self.directory / "pki" / "tls-truststore.pem")

    def api(self, name: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        side = self.side(name)
        headers = {"Authorization": f"Bearer {side['api_key']}", **kwargs.pop("headers", {})}
        return requests.request(
            method, side["api_url"] + path, headers=headers, verify=self.ca, timeout=60, **kwargs
        )

    def wait_for(self, name: str, path: str, done: Any, timeout: float = 120.0) -> Any:
        """Poll ``GET path`` on side ``name`` until ``done(json)`` holds; returns the last JSON."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.api(name, "GET", path).json()
            if done(answer) or time.monotonic() > deadline:
                return answer
            time.sleep(0.2)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """A two-AP setup written by ``ap dev pair`` with its DNS server (SML) and SMP running."""
    info = write_pair(tmp_path / "pair")
    network = start_network(tmp_path / "pair")
    try:
        yield Pair(tmp_path / "pair", info)
    finally:
        network.stop()


class ServeProcess:
    """``ap serve --config F`` in a child process (``python -m module``: ``access_point.cli`` or a test
    wrapper around it); :meth:`start` takes extra environment for that run."""

    def __init__(
        self,
        config: str,
        env: dict[str, str],
        api_url: str,
        ca: str,
        log: Path,
        module: str = "access_point.cli",
    ) -> None:
        self.config, self.env, self.api_url, self.ca, self.log = config, env, api_url, ca, log
        self.module = module
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, **extra_env: str) -> ServeProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module, "serve", "--config", self.config],
                env={**self.env, **extra_env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.api_url + "/health", verify=self.ca, timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        raise AssertionError(f"ap serve did not start: {self.log.read_text()[-3000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def serve(pair: Pair, preaward_store: Path, tmp_path: Path) -> Iterator[Any]:
    """``serve(name) -> ServeProcess``: start side ``name`` of the pair (stopped at the end)."""
    started: list[ServeProcess] = []
    env = {**os.environ, "AP_ARTIFACTS_DIR": str(preaward_store)}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)

    def start(name: str, module: str = "access_point.cli", **extra_env: str) -> ServeProcess:
        side = pair.side(name)
        process = ServeProcess(
            side["config"], {**env, **extra_env}, side["api_url"], pair.ca, tmp_path / f"{name}.log", module
        )
        started.append(process.start())
        return process

    yield start
    for process in started:  # all at once: each takes a few seconds to drain
        if process.proc is not None and process.proc.poll() is None:
            process.proc.terminate()
    for process in started:
        process.stop()


def start_worker(config: str, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``ap [ARGS] worker --config F`` in a child process, returned once it consumes the queues."""
    command = [sys.executable, "-m", "access_point.cli", *args, "worker", "--config", config]
    started = log.read_text().count("worker on") if log.exists() else 0  # a log shared by successive workers
    with log.open("ab") as out:
        worker = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while log.read_text().count("worker on") <= started:
        assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)
    return worker


@pytest.fixture
def ap_worker() -> Iterator[Any]:
    """``ap_worker(config, env, log) -> Popen``: :func:`start_worker`; those still running at the end
    are terminated."""
    started: list[subprocess.Popen[bytes]] = []

    def start(config: str, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
        started.append(start_worker(config, env, log, *args))
        return started[-1]

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.terminate()
    for worker in started:
        worker.wait(timeout=30)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``ap ARGS`` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "access_point.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
