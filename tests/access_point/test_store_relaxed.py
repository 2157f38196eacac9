"""``relaxed_transaction``: the one commit it wraps is SQLite ``synchronous=NORMAL``; the connection goes
back to the pool ``FULL`` again (else every later ledger commit on it — a signed receipt's — would
silently lose its fsync), also after a failure, and what it commits is there for the next connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select

from access_point.store import create_engine_for, relaxed_transaction, sqlite_url

FULL, NORMAL = 2, 1


def test_a_relaxed_commit_is_normal_and_the_pooled_connection_is_full_again(tmp_path: Path) -> None:
    engine = create_engine_for(sqlite_url(tmp_path / "db.sqlite3"), pool_size=1, max_overflow=0)
    table = Table("t", MetaData(), Column("n", Integer, primary_key=True))
    table.create(engine)
    try:
        with relaxed_transaction(engine) as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == NORMAL
            conn.execute(insert(table).values(n=1))
        with pytest.raises(RuntimeError), relaxed_transaction(engine) as conn:
            conn.execute(insert(table).values(n=2))
            raise RuntimeError("rolled back")
        with engine.connect() as conn:  # the pool's only connection
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == FULL
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 1
    finally:
        engine.dispose()
