"""``SqlInboundLedger``: the durable :class:`exchange.inbound.InboundLedger` on the service database.

One row of ``inbound_messages`` per accepted message; the payload (the SBD) in the
:class:`~access_point.store.blobs.BlobStore`. :meth:`SqlInboundLedger.accept`:

1. (:meth:`SqlInboundLedger.find`, called by the receiver core first, answers a resend without writing);
2. the payload is streamed into the blob store (fsynced, content-addressed) *before* the row exists;
3. one ``INSERT`` of the row with its receipt commits the decision. The unique constraints on
   ``message_key`` (the MessageId) and ``document_key`` (SBDH Sender + InstanceIdentifier) make the
   database decide between concurrent requests, threads or processes, on SQLite or PostgreSQL;
4. an ``IntegrityError`` means another request won: the row that won is read and the answer is
   DUPLICATE (its receipt), MESSAGE_ID_REUSED or DOCUMENT_DELIVERED.

Crash safety: before the commit nothing is delivered and no receipt has left (the sender resends and is
accepted once); after it, a resend is answered from the row with the same receipt. A crash between the
blob write and the commit leaves at most an unreferenced blob (content-addressed, harmless; never a
half-written file under a final name).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Final

from sqlalchemy import Engine, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from access_point.store.blobs import BlobRef, BlobStore
from access_point.store.schema import INBOUND_STATUS_RECEIVED, inbound_messages
from peppol.xml import XmlError, parse_bytes
from transport.receiver import LedgerEntry, LedgerResult, LedgerStatus, ReceivedMessage, document_key

_NS_EB: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
_T = inbound_messages.c


def _utc_now() -> datetime:
    return datetime.now(UTC)


def message_key(message_id: str) -> str:
    """The ledger key of a MessageId (SHA-256 hex of its UTF-8)."""
    return hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()


def document_key_of(sender_uri: str, instance_id: str) -> str:
    """The ledger key of a business document (SHA-256 hex of sender URI + newline + instance id)."""
    return hashlib.sha256(f"{sender_uri}\n{instance_id}".encode("utf-8", "surrogatepass")).hexdigest()


def receipt_message_id(receipt: bytes) -> str | None:
    """The ``eb:MessageId`` of a signal message (our own receipt)."""
    try:
        root = parse_bytes(receipt).getroot()
    except XmlError:
        return None
    found = root.find(f".//{{{_NS_EB}}}SignalMessage/{{{_NS_EB}}}MessageInfo/{{{_NS_EB}}}MessageId")
    return None if found is None or found.text is None else found.text.strip()


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One stored inbound message (a row of ``inbound_messages``)."""

    id: str
    message_id: str
    fingerprint: str
    sender: str
    instance_id: str | None
    receiver: str
    document_type: str
    process: str
    conversation_id: str
    from_party: str
    to_party: str
    country_c1: str | None
    country_c4: str | None
    signer_subject: str
    status: str
    receipt: bytes
    receipt_id: str | None
    payload_sha256: str
    payload_size: int
    received_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> InboundRecord:
        data = dict(row._mapping)
        data.pop("message_key", None)
        data.pop("document_key", None)
        for name in ("received_at", "updated_at"):  # SQLite returns naive datetimes (stored as UTC)
            value = data[name]
            if value.tzinfo is None:
                data[name] = value.replace(tzinfo=UTC)
        data["receipt"] = bytes(data["receipt"])
        return cls(**data)


class SqlInboundLedger:
    """The inbound ledger on ``engine`` (migrated to head) with payloads in ``blobs``."""

    def __init__(self, engine: Engine, blobs: BlobStore, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.engine = engine
        self.blobs = blobs
        self._clock = clock

    # --- InboundLedger ---

    def find(self, message_id: str) -> LedgerEntry | None:
        query = select(_T.message_id, _T.fingerprint, _T.receipt).where(
            _T.message_key == message_key(message_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return LedgerEntry(row.message_id, row.fingerprint, bytes(row.receipt))

    def accept(self, message: ReceivedMessage, receipt: bytes) -> LedgerResult:
        # No read first: the receiver core has just called find(); a duplicate that slips in between
        # rewrites an identical blob (same name) and loses on the unique constraint below.
        blob = self._store_payload(message)
        record_id = str(uuid.uuid4())
        now = self._clock()
        key = document_key(message)
        row = {
            "id": record_id,
            "message_key": message_key(message.message_id),
            "message_id": message.message_id,
            "fingerprint": message.fingerprint,
            "document_key": document_key_of(*key) if key else None,
            "sender": message.sender.uri,
            "instance_id": message.instance_id,
            "receiver": message.receiver.uri,
            "document_type": message.document_type.uri,
            "process": message.process.uri,
            "conversation_id": message.conversation_id,
            "from_party": message.from_party,
            "to_party": message.to_party,
            "country_c1": message.country_c1,
            "country_c4": None,
            "signer_subject": message.signer_certificate.subject.rfc4514_string(),
            "status": INBOUND_STATUS_RECEIVED,
            "receipt": receipt,
            "receipt_id": receipt_message_id(receipt),
            "payload_sha256": blob.sha256,
            "payload_size": blob.size,
            "received_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(inbound_messages).values(**row))
        except IntegrityError:
            return self._resolve_conflict(message)
        return LedgerResult(LedgerStatus.ACCEPTED, message.message_id, receipt, record_id)

    def _store_payload(self, message: ReceivedMessage) -> BlobRef:
        source = message.sbd.source
        if isinstance(source, bytes):
            return self.blobs.put(source)
        return self.blobs.put_file(source)

    @staticmethod
    def _answer_for_stored(message: ReceivedMessage, stored: LedgerEntry) -> LedgerResult:
        if stored.fingerprint == message.fingerprint:
            return LedgerResult(LedgerStatus.DUPLICATE, message.message_id, stored.receipt)
        return LedgerResult(LedgerStatus.MESSAGE_ID_REUSED, message.message_id)

    def _resolve_conflict(self, message: ReceivedMessage) -> LedgerResult:
        stored = self.find(message.message_id)
        if stored is not None:
            return self._answer_for_stored(message, stored)
        key = document_key(message)
        if key is not None:
            query = select(_T.id, _T.message_id).where(_T.document_key == document_key_of(*key))
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
            if row is not None:
                return LedgerResult(LedgerStatus.DOCUMENT_DELIVERED, row.message_id, None, row.id)
        raise RuntimeError(f"the ledger refused {message.message_id!r} but holds no conflicting record")

    # --- reading and status (the service, the CLI, tests) ---

    def get(self, record_id: str) -> InboundRecord | None:
        """The record with id ``record_id``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(inbound_messages).where(_T.id == record_id)).first()
        return None if row is None else InboundRecord.from_row(row)

    def get_by_message_id(self, message_id: str) -> InboundRecord | None:
        """The record of ``message_id``."""
        query = select(inbound_messages).where(_T.message_key == message_key(message_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else InboundRecord.from_row(row)

    def records(self, *, status: str | None = None, limit: int | None = None) -> list[InboundRecord]:
        """Records in order of reception (oldest first), optionally of one ``status``."""
        query = select(inbound_messages).order_by(_T.received_at, _T.id)
        if status is not None:
            query = query.where(_T.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [InboundRecord.from_row(row) for row in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(inbound_messages)).scalar_one())

    def open_payload(self, record: InboundRecord) -> BinaryIO:
        """A stream over the stored SBD of ``record`` (close it)."""
        return self.blobs.open(record.payload_sha256)

    def set_status(self, record_id: str, status: str, *, expected: str | None = None) -> bool:
        """Move a record to ``status`` (only from ``expected`` when given); whether a row changed."""
        statement = update(inbound_messages).where(_T.id == record_id)
        if expected is not None:
            statement = statement.where(_T.status == expected)
        with self.engine.begin() as conn:
            changed = conn.execute(statement.values(status=status, updated_at=self._clock())).rowcount
        return bool(changed)
