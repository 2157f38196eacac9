"""Real servers for integration tests, started by the tests themselves (CI has no services running).

PostgreSQL: :func:`start_postgres` initdb's a throwaway cluster in a fresh temporary directory, on a
free loopback port with its own unix-socket directory, and starts it with ``pg_ctl``. As root (CI),
``initdb`` refuses to run, so the cluster is created and run as the ``postgres`` user (else ``nobody``)
through ``runuser``. The binaries come from the Debian ``postgresql`` package (``make test`` installs it
when missing); without them the fixtures skip with the reason.

Fixtures (registered in ``tests/conftest.py``): ``postgres_server`` (one cluster per test session and
worker) and ``postgres_url`` (a fresh, empty database on it per test).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

#: Where Debian puts the server binaries (``/usr/lib/postgresql/<major>/bin``).
PG_LIB_DIR: Final = Path("/usr/lib/postgresql")
#: Superuser of the throwaway cluster (trust authentication on loopback only).
PG_SUPERUSER: Final = "ap"
PG_START_TIMEOUT_SECONDS: Final = 60


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (newest Debian major first, then ``PATH``)."""
    if PG_LIB_DIR.is_dir():
        majors = sorted(
            (p for p in PG_LIB_DIR.iterdir() if (p / "bin" / "initdb").is_file()),
            key=lambda p: int(p.name) if p.name.isdigit() else 0,
            reverse=True,
        )
        if majors:
            return majors[0] / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> list[str]:
    """The command prefix running a PostgreSQL binary as a non-root user ([] when we are not root)."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            import pwd

            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class PostgresServer:
    """A running throwaway cluster; :meth:`stop` removes it, :meth:`restart` restarts it (same data)."""

    bin_dir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for ``database`` over TCP on loopback."""
        return f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        command = [*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=PG_START_TIMEOUT_SECONDS + 30)
        if done.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(f"pg_ctl {args[0]} failed: {done.stderr.strip()}\n{log[-2000:]}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
            " -c max_connections=200 -c shared_buffers=32MB"
        )
        self._pg_ctl(
            "start", "-w", "-t", str(PG_START_TIMEOUT_SECONDS), "-l", str(self.log_file), "-o", options
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-w", "-m", mode)

    def restart(self) -> None:
        """Stop (fast: open connections are dropped) and start again on the same port and data."""
        self.stop()
        self.start()

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Initialise and start a throwaway cluster (see the module docstring); raises ``RuntimeError`` when
    it cannot, ``FileNotFoundError`` when the binaries are absent."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise FileNotFoundError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    prefix = _run_as()
    root = Path(tempfile.mkdtemp(prefix="ap-pg-"))
    (root / "sock").mkdir()
    if prefix:  # the cluster's user must own its directories
        user = prefix[2]
        os.chmod(root, 0o755)
        shutil.chown(root, user)
        shutil.chown(root / "sock", user)
    server = PostgresServer(bin_dir, root, free_port(), prefix)
    command = [
        *prefix, str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", PG_SUPERUSER,
        "--auth=trust", "--encoding=UTF8", "--no-instructions", "--no-sync",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    try:
        server.start()
    except Exception:
        server.remove()
        raise
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for the session (skips when the binaries are absent)."""
    try:
        server = start_postgres()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's cluster."""
    return postgres_server.create_database()
