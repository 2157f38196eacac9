"""Serialising start-up work that several processes of one cluster do at once on a shared database.

``ap serve`` nodes and ``ap worker`` processes all rewrite the tenant tables from the configuration when
they start (:meth:`Service.sync_tenants`): on PostgreSQL two such transactions interleave (one deletes
the API keys, the other inserts them, the first deletes the tenants they name: a foreign-key
violation, and the process dies at start). A transaction-scoped advisory lock makes them take turns.
SQLite serialises writers by itself.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import text

#: The advisory lock key of the tenant synchronisation (any constant shared by every process).
SYNC_TENANTS_LOCK: Final = 0x41505F54454E  # "AP_TEN"


def serialize(conn: Any, key: int = SYNC_TENANTS_LOCK) -> None:
    """Hold the advisory lock ``key`` until ``conn``'s transaction ends (PostgreSQL; no-op otherwise)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
