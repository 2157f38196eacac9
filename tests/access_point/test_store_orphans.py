"""Orphan payload files (a crash between a blob's write and its row's commit): removed once older than
the grace period and referenced by no row; a blob written again or referenced meanwhile is kept, and a
sweep killed midway loses nothing."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

import access_point.service.tables as t  # declares the outbound tables' blob columns
from access_point.store import BlobStore, open_store
from access_point.store.blobs import ORPHAN_PREFIX
from access_point.store.orphans import blob_columns, sweep_orphan_payloads
from access_point.store.schema import inbound_messages

HOUR = 3600.0


def _age(blobs: BlobStore, sha: str, seconds: float) -> None:
    moment = time.time() - seconds
    os.utime(blobs.path(sha), (moment, moment))


def _outbound_row(sbd: str, message: str | None) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "id": str(uuid.uuid4()), "tenant_id": "t", "sender": "s", "receiver": "r", "document_type": "d",
        "process": "p", "instance_id": str(uuid.uuid4()), "status": "queued", "attempts": 0,
        "sbd_sha256": sbd, "message_sha256": message, "created_at": now, "updated_at": now,
    }  # fmt: skip


def _inbound_row(payload: str) -> dict[str, object]:
    now = datetime.now(UTC)
    key = uuid.uuid4().hex * 2
    return {
        "id": str(uuid.uuid4()), "message_key": key, "message_id": key, "fingerprint": key, "sender": "s",
        "receiver": "r", "document_type": "d", "process": "p", "conversation_id": "c", "from_party": "f",
        "to_party": "t", "signer_subject": "CN=x", "status": "received", "receipt": b"<r/>",
        "payload_sha256": payload, "payload_size": 1, "received_at": now, "updated_at": now,
    }  # fmt: skip


def test_only_old_unreferenced_payload_files_are_removed(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    blobs = store.blobs
    sbd, message, payload, orphan, young = (blobs.put(f"{name}".encode()).sha256 for name in range(5))
    with store.engine.begin() as conn:
        conn.execute(insert(t.outbound_messages).values(**_outbound_row(sbd, message)))
        conn.execute(insert(inbound_messages).values(**_inbound_row(payload)))
    for sha in (sbd, message, payload, orphan):
        _age(blobs, sha, 2 * HOUR)
    assert {c.name for c in blob_columns()} == {"sbd_sha256", "message_sha256", "payload_sha256"}

    assert sweep_orphan_payloads(store.engine, blobs, grace_seconds=HOUR) == [orphan]
    assert not blobs.exists(orphan)
    assert all(blobs.exists(sha) for sha in (sbd, message, payload, young))
    assert not list(tmp_path.rglob(f"{ORPHAN_PREFIX}*"))
    store.close()


def test_a_payload_written_again_or_referenced_during_the_sweep_is_kept(tmp_path: Path) -> None:
    """The races of the sweep with a writer of the same content: the writer refreshed the file before
    the sweep moved it aside, wrote it anew after, or committed its row meanwhile."""
    blobs = BlobStore(tmp_path)
    content = b"the same document, received again"
    sha = blobs.put(content).sha256
    cutoff = time.time() - HOUR

    _age(blobs, sha, 2 * HOUR)
    blobs.put(content)  # before the move: the file's time is refreshed
    assert not blobs.remove_orphan(sha, cutoff, lambda _: False) and blobs.exists(sha)

    _age(blobs, sha, 2 * HOUR)

    def written_after_the_move(name: str) -> bool:
        blobs.put(content)  # finds no file under the name: writes it again
        return False

    blobs.remove_orphan(sha, cutoff, written_after_the_move)
    assert blobs.read_bytes(sha) == content

    _age(blobs, sha, 2 * HOUR)
    assert not blobs.remove_orphan(sha, cutoff, lambda _: True)  # a row refers to it by now
    assert blobs.read_bytes(sha) == content
    assert not list(tmp_path.rglob(f"{ORPHAN_PREFIX}*"))


def test_a_payload_moved_aside_by_a_killed_sweep_is_put_back_at_start_up(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    sha = blobs.put(b"referenced by a row committed during the sweep").sha256
    target = blobs.path(sha)
    os.rename(target, target.with_name(f"{ORPHAN_PREFIX}{sha}-0badc0de"))  # killed right after the move
    assert BlobStore(tmp_path).exists(sha)
    assert not list(tmp_path.rglob(f"{ORPHAN_PREFIX}*"))
