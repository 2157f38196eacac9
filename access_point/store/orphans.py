"""Orphan payload files: blobs no database row refers to.

Every writer stores a payload before committing the row that refers to it (the ledger's accept, an
outbound submission, a built AS4 message), so a crash in between leaves a complete, unreferenced file.
:func:`sweep_orphan_payloads` removes those last written more than ``grace_seconds`` ago; the grace
covers the time between a blob's write and its row's commit (``BlobStore.put`` of existing content
refreshes the file's time), and :meth:`BlobStore.remove_orphan` checks again after moving the file
aside, so a blob referenced meanwhile is kept.

Which columns refer to blobs is declared on the tables: a column of :data:`schema.metadata` with
``info={BLOB_REFERENCE: True}`` holds SHA-256 names of blobs (tables of other modules included, once
imported).
"""

from __future__ import annotations

import logging
import time
from typing import Final

from sqlalchemy import Column, Engine, select

from access_point.store.blobs import BlobStore
from access_point.store.schema import BLOB_REFERENCE, metadata

log = logging.getLogger(__name__)

#: Default grace (seconds) before an unreferenced blob is an orphan.
ORPHAN_GRACE_SECONDS: Final = 3600.0
#: Candidates looked up per query.
_CHUNK: Final = 500


def blob_columns() -> list[Column[str]]:
    """The columns that refer to blobs, on every table declared so far."""
    return [c for table in metadata.sorted_tables for c in table.columns if c.info.get(BLOB_REFERENCE)]


def _referenced(engine: Engine, shas: list[str]) -> set[str]:
    found: set[str] = set()
    with engine.connect() as conn:
        for column in blob_columns():
            for start in range(0, len(shas), _CHUNK):
                chunk = shas[start : start + _CHUNK]
                found |= set(conn.execute(select(column).where(column.in_(chunk)).distinct()).scalars())
    return found


def sweep_orphan_payloads(
    engine: Engine, blobs: BlobStore, *, grace_seconds: float = ORPHAN_GRACE_SECONDS
) -> list[str]:
    """Remove the blobs written more than ``grace_seconds`` ago that no row refers to; returns their
    names."""
    cutoff = time.time() - grace_seconds
    candidates = blobs.older_than(cutoff)
    if not candidates:
        return []
    referenced = _referenced(engine, candidates)
    removed = [
        sha
        for sha in candidates
        if sha not in referenced
        and blobs.remove_orphan(sha, cutoff, lambda name: bool(_referenced(engine, [name])))
    ]
    if removed:
        log.info("removed %d orphan payload file(s) (no row refers to them)", len(removed))
    return removed
