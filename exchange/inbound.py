"""The inbound ledger: the public home of the contract the receiver core calls (``design.md`` inbound
step 2). The types are defined in :mod:`transport.receiver.ledger` (``transport`` cannot import
``exchange``) and re-exported here unchanged; see that module for the exact semantics.

* :class:`InboundLedger` — protocol: ``find(message_id) -> LedgerEntry | None`` (a read) and ONE atomic
  ``accept(message: ReceivedMessage, receipt: bytes) -> LedgerResult`` keyed by MessageId and by SBDH
  Sender + InstanceIdentifier: stores payload + metadata + receipt together; a resend of the same message
  returns the stored receipt (DUPLICATE); the same document under a new MessageId is refused
  (DOCUMENT_DELIVERED, naming the MessageId that delivered it); another message under a stored MessageId
  is refused (MESSAGE_ID_REUSED); ``LedgerResult.receipt`` is the receipt that won.
* :class:`InMemoryLedger` — thread-safe, process-local (tests, conformance suites).
* The durable implementation is ``access_point.store.ledger.SqlInboundLedger`` (SQLite/PostgreSQL).

Plug a ledger in with ``ReceiverConfig(identity=..., validate_signer=..., ledger=...)``.
"""

from __future__ import annotations

from transport.receiver import ReceivedMessage
from transport.receiver.ledger import (
    InboundLedger,
    InMemoryLedger,
    LedgerEntry,
    LedgerResult,
    LedgerStatus,
    StoredMessage,
    document_key,
)

__all__ = [
    "InMemoryLedger",
    "InboundLedger",
    "LedgerEntry",
    "LedgerResult",
    "LedgerStatus",
    "ReceivedMessage",
    "StoredMessage",
    "document_key",
]
