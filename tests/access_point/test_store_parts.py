"""The store's parts on their own: the content-addressed blob store (atomic, streamed, no orphan temp
files after a crash), the SQLite engine's durability settings, the migrations."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from access_point.store import BlobStore, create_engine_for, sqlite_url, upgrade
from access_point.store.blobs import CHUNK_SIZE, TEMP_PREFIX, process_work_dir
from access_point.store.migrate import current_revision, head_revision


def test_blob_is_stored_under_its_sha256_and_identical_content_once(tmp_path: Path) -> None:
    import hashlib

    blobs = BlobStore(tmp_path)
    data = os.urandom(3 * CHUNK_SIZE + 17)
    ref = blobs.put(io.BytesIO(data))
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == len(data)
    assert blobs.read_bytes(ref.sha256) == data
    again = blobs.put(data)
    assert again == ref
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored == [blobs.path(ref.sha256)]  # one file, no temporary left


def test_blob_write_that_fails_midway_leaves_nothing(tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("connection reset")
            return b"x" * CHUNK_SIZE

    blobs = BlobStore(tmp_path)
    with pytest.raises(OSError, match="connection reset"):
        blobs.put(Broken())  # type: ignore[arg-type]
    assert list(tmp_path.rglob("*")) == []


def test_temp_files_of_a_killed_writer_are_removed_at_start_up(tmp_path: Path) -> None:
    """A writer killed mid-write (here: a child process that exits without cleaning up) leaves a temp
    file; the next BlobStore on the directory removes it, but not those of live processes."""
    code = (
        "import os, sys; from access_point.store.blobs import BlobStore;"
        f"b = BlobStore(__import__('pathlib').Path({str(tmp_path)!r}));"
        "f = b._temp_name().open('wb'); f.write(b'partial'); f.flush(); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    left = list(tmp_path.glob(f"{TEMP_PREFIX}*"))
    assert len(left) == 1
    mine = BlobStore(tmp_path)._temp_name()
    mine.write_bytes(b"in progress")
    BlobStore(tmp_path)
    assert list(tmp_path.glob(f"{TEMP_PREFIX}*")) == [mine]


def test_process_work_dir_removes_those_of_dead_processes(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path; from access_point.store.blobs import process_work_dir;"
        f"print(process_work_dir(Path({str(tmp_path)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    dead = Path(done.stdout.strip())
    (dead / "as4-in-x").mkdir()
    mine = process_work_dir(tmp_path)
    assert not dead.exists() and mine.is_dir() and list(tmp_path.iterdir()) == [mine]


def test_sqlite_engine_is_durable_and_waits_for_locks(tmp_path: Path) -> None:
    engine = create_engine_for(sqlite_url(tmp_path / "db.sqlite3"))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    engine.dispose()


def test_in_memory_sqlite_and_unknown_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="not durable"):
        create_engine_for("sqlite://")
    with pytest.raises(ValueError, match="unsupported database URL"):
        create_engine_for("mysql://x/y")


def test_migrations_reach_head_and_are_idempotent(tmp_path: Path) -> None:
    engine = create_engine_for(sqlite_url(tmp_path / "db.sqlite3"))
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision() is not None  # the service adds 0002_service on top
    engine.dispose()


def test_migrations_on_postgresql(postgres_url: str) -> None:
    engine = create_engine_for(postgres_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
