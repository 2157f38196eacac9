"""The inbound ledger contract: one atomic ``accept`` replacing the duplicate store, the store of
delivered documents and the persist hook (``design.md`` inbound step 2).

The receiver core (this package) calls it; the contract is re-exported by :mod:`exchange.inbound`,
its public home (``transport`` cannot import ``exchange``). Implementations: :class:`InMemoryLedger`
(tests, conformance suites, throw-away receivers) and ``access_point.store.ledger.SqlInboundLedger``
(SQLite/PostgreSQL, durable across ``kill -9`` and restarts, shared by processes).

Keys: the ``eb:MessageId``, and the business document's SBDH Sender + InstanceIdentifier. For one
:meth:`InboundLedger.accept` the ledger decides, atomically with storing payload + metadata + receipt:

* new MessageId, new document → stored, :attr:`LedgerStatus.ACCEPTED`, the receipt passed in won;
* MessageId already stored for the *same* message (same :attr:`ReceivedMessage.fingerprint`: the NRR
  digests) → nothing stored, :attr:`LedgerStatus.DUPLICATE` with the receipt stored the first time;
* MessageId already stored for a *different* message → :attr:`LedgerStatus.MESSAGE_ID_REUSED` (refused);
* the same document (sender + instance id) under a new MessageId → :attr:`LedgerStatus.DOCUMENT_DELIVERED`
  naming the MessageId that delivered it (refused, EBMS:0004).

A storage failure raises (any exception): the receiver answers ``EBMS:0202`` and signs no receipt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from transport.receiver.message import ReceivedMessage


class LedgerStatus(StrEnum):
    """What :meth:`InboundLedger.accept` decided."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    MESSAGE_ID_REUSED = "message_id_reused"
    DOCUMENT_DELIVERED = "document_delivered"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger holds for one accepted MessageId (enough to answer a resend)."""

    message_id: str
    fingerprint: str
    receipt: bytes


@dataclass(frozen=True, slots=True)
class LedgerResult:
    """The answer of :meth:`InboundLedger.accept`.

    ``receipt`` is the receipt that won (ACCEPTED: the one passed in; DUPLICATE: the one stored first),
    ``None`` for the refusals. ``message_id`` is the MessageId of the stored record the decision refers
    to: the accepted/duplicate message itself, or for DOCUMENT_DELIVERED the message that delivered the
    document. ``record_id`` is the implementation's id of that record (``None`` when it has none).
    """

    status: LedgerStatus
    message_id: str
    receipt: bytes | None = None
    record_id: str | None = None

    @property
    def delivered(self) -> bool:
        """The sender gets a receipt (ACCEPTED or DUPLICATE)."""
        return self.status in (LedgerStatus.ACCEPTED, LedgerStatus.DUPLICATE)


class InboundLedger(Protocol):
    """Where inbound messages are kept (see the module docstring)."""

    def find(self, message_id: str) -> LedgerEntry | None:
        """The entry stored for ``message_id``, if any (a read: lets a resend be answered without
        signing a new receipt; :meth:`accept` alone decides)."""
        ...

    def accept(self, message: ReceivedMessage, receipt: bytes) -> LedgerResult:
        """Store ``message`` (payload from ``message.sbd``, metadata) with ``receipt`` atomically, or
        decide it is a duplicate / refused; see the module docstring. Raise on storage failure."""
        ...


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """An :class:`InMemoryLedger` record."""

    message: ReceivedMessage
    payload: bytes
    receipt: bytes


class InMemoryLedger:
    """A thread-safe, process-local :class:`InboundLedger` (forgets everything on exit).

    It keeps every payload in memory: for tests, the conformance suites and the throw-away receivers,
    not for production (use ``access_point.store.ledger.SqlInboundLedger``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, StoredMessage] = {}
        self._documents: dict[tuple[str, str], str] = {}

    def find(self, message_id: str) -> LedgerEntry | None:
        with self._lock:
            stored = self._by_id.get(message_id)
        if stored is None:
            return None
        return LedgerEntry(message_id, stored.message.fingerprint, stored.receipt)

    def accept(self, message: ReceivedMessage, receipt: bytes) -> LedgerResult:
        payload = message.sbd.read_bytes()
        key = document_key(message)
        with self._lock:
            stored = self._by_id.get(message.message_id)
            if stored is not None:
                if stored.message.fingerprint == message.fingerprint:
                    return LedgerResult(LedgerStatus.DUPLICATE, message.message_id, stored.receipt)
                return LedgerResult(LedgerStatus.MESSAGE_ID_REUSED, message.message_id)
            if key is not None and key in self._documents:
                return LedgerResult(LedgerStatus.DOCUMENT_DELIVERED, self._documents[key])
            self._by_id[message.message_id] = StoredMessage(message, payload, receipt)
            if key is not None:
                self._documents[key] = message.message_id
        return LedgerResult(LedgerStatus.ACCEPTED, message.message_id, receipt)

    # --- inspection (tests) ---

    def messages(self) -> list[StoredMessage]:
        """Every accepted message, in acceptance order."""
        with self._lock:
            return list(self._by_id.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)


def document_key(message: ReceivedMessage) -> tuple[str, str] | None:
    """The document key (SBDH Sender URI, InstanceIdentifier), ``None`` without an instance id."""
    if message.instance_id is None:
        return None
    return (message.sender.uri, message.instance_id)


__all__ = [
    "InMemoryLedger",
    "InboundLedger",
    "LedgerEntry",
    "LedgerResult",
    "LedgerStatus",
    "StoredMessage",
    "document_key",
]
