"""The usual start-up of the store: engine, migrations to head, blob store, ledger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

from access_point.store.blobs import BlobStore
from access_point.store.engine import create_engine_for, sqlite_url
from access_point.store.ledger import SqlInboundLedger
from access_point.store.migrate import upgrade

#: File names inside a data directory opened without a database URL.
DATABASE_FILE: Final = "ap.sqlite3"
BLOBS_DIR: Final = "payloads"


@dataclass(frozen=True)
class Store:
    """An open store: the engine (migrated), the payload files and the inbound ledger."""

    engine: Engine
    blobs: BlobStore
    ledger: SqlInboundLedger

    def close(self) -> None:
        self.engine.dispose()


def open_store(data_dir: Path, database_url: str | None = None) -> Store:
    """Open (creating when needed) the store of ``data_dir``: the database at ``database_url``, by
    default the SQLite file ``data_dir/ap.sqlite3``; payloads in ``data_dir/payloads``. Runs the
    migrations and removes stale temporary payload files."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine_for(database_url or sqlite_url(data_dir / DATABASE_FILE))
    upgrade(engine)
    blobs = BlobStore(data_dir / BLOBS_DIR)
    return Store(engine, blobs, SqlInboundLedger(engine, blobs))
