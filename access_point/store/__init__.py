"""The durable store of the access point: SQLAlchemy 2 Core on SQLite (default) or PostgreSQL.

Modules (one job each):

* :mod:`~access_point.store.engine` — ``create_engine_for(url)``: SQLite with WAL, ``synchronous=FULL``,
  a busy timeout and foreign keys; PostgreSQL (psycopg 3) by URL. ``sqlite_url(path)`` builds a file URL;
  ``relaxed_transaction(engine)`` a transaction durable across a process crash, not a power loss.
* :mod:`~access_point.store.schema` — the ONE :class:`sqlalchemy.MetaData` (``metadata``) every table of
  the service is declared on; this module declares the inbound tables (``inbound_messages``).
* :mod:`~access_point.store.migrate` — ``upgrade(engine)``: Alembic to head at start-up (scripts ship
  in ``access_point/store/migrations``; concurrent start-ups are serialised on PostgreSQL).
* :mod:`~access_point.store.blobs` — :class:`BlobStore`: content-addressed payload files (streamed,
  fsynced, atomically renamed to their SHA-256; stale temporary files removed at start-up).
* :mod:`~access_point.store.ledger` — :class:`SqlInboundLedger`: the durable
  :class:`exchange.inbound.InboundLedger` (uniqueness enforced by database constraints).

:func:`open_store` does the usual start-up: engine, migrations, blob store.
"""

from __future__ import annotations

from access_point.store.blobs import BlobRef, BlobStore
from access_point.store.engine import create_engine_for, relaxed_transaction, sqlite_url
from access_point.store.ledger import InboundRecord, SqlInboundLedger
from access_point.store.migrate import upgrade
from access_point.store.open import Store, open_store
from access_point.store.schema import inbound_messages, metadata

__all__ = [
    "BlobRef",
    "BlobStore",
    "InboundRecord",
    "SqlInboundLedger",
    "Store",
    "create_engine_for",
    "inbound_messages",
    "metadata",
    "open_store",
    "relaxed_transaction",
    "sqlite_url",
    "upgrade",
]
