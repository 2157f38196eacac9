"""``create_engine_for(url)``: the one place engines are made (SQLite tuned for durability, or PostgreSQL).

SQLite: WAL (readers never block the writer), ``synchronous=FULL`` (a committed ledger row survives a
power loss, not only a ``kill -9``: a receipt is signed for it), ``busy_timeout`` (writers of several
threads or processes wait instead of failing), ``foreign_keys=ON``. :func:`relaxed_transaction` is the
exception: a transaction whose commit need only survive a crash of the process (``kill -9``), not a power
loss. PostgreSQL URLs
(``postgresql://…``) use psycopg 3; a ``postgresql://`` or ``postgres://`` URL is mapped to the
``postgresql+psycopg`` driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

#: Seconds a SQLite writer waits for the lock before failing.
SQLITE_BUSY_TIMEOUT_SECONDS: Final = 30.0
#: Connections kept per engine beyond which callers wait (PostgreSQL; SQLite uses the same pool sizes).
POOL_SIZE: Final = 10
POOL_MAX_OVERFLOW: Final = 20


def sqlite_url(path: Path) -> str:
    """A SQLAlchemy URL for the SQLite file ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql://…``); ``kwargs`` go to
    :func:`sqlalchemy.create_engine`."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database is not durable: give a file path")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        kwargs.setdefault("connect_args", connect_args)
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_MAX_OVERFLOW)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_MAX_OVERFLOW)
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    raise ValueError(
        f"unsupported database URL scheme {parsed.drivername!r} (use sqlite:/// or postgresql://)"
    )


@contextmanager
def relaxed_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction (committed at the end of the block, rolled back on an exception) whose commit
    survives a crash of the process but not necessarily a power loss or an OS crash: for internal state
    that nothing outside has been told about, whose loss repeats idempotent work (a claim, an attempt's
    outcome: the same bytes are posted again and answered with the stored receipt).

    SQLite: ``synchronous=NORMAL`` for this commit — in WAL mode it is written to the WAL (so a
    ``kill -9`` loses nothing) without an fsync; the next ``FULL`` commit's fsync of the same WAL makes
    it durable too, and a power loss can only lose a suffix of commits (WAL frames are checksummed in
    order), never one before a ``FULL`` commit. PostgreSQL: ``SET LOCAL synchronous_commit = off``
    (same guarantee: the WAL is flushed in order, a server crash loses at most the last such commits).
    Every commit that answers someone outside (a 202 for a submitted document, a signed receipt, a
    built message about to be posted) stays a normal, fully synchronous transaction."""
    with engine.connect() as conn:
        # SQLite: the PRAGMA goes straight to the driver's connection (outside any transaction; no
        # statement machinery for what is a per-connection switch).
        raw = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA synchronous = NORMAL")
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn
        finally:
            if raw is not None:
                try:
                    raw.execute("PRAGMA synchronous = FULL")
                except Exception:  # never hand a relaxed connection back to the pool
                    conn.invalidate()
                    raise
