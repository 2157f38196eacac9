"""Inbound AS4 (C3): the receiver core and its hook and ledger contracts.

Public API: :func:`receive`, :class:`ReceiverConfig`, :class:`ReceiverHooks` (protocol),
:class:`CallbackHooks`, :class:`ReceivedMessage`, :class:`ReceiverResponse`, :class:`Decision`,
:class:`Verdict`, and the inbound ledger contract (re-exported by :mod:`exchange.inbound`):
:class:`InboundLedger` (protocol), :class:`LedgerResult`, :class:`LedgerStatus`, :class:`LedgerEntry`,
:class:`InMemoryLedger`.
"""

from __future__ import annotations

from transport.receiver.core import receive
from transport.receiver.ledger import (
    InboundLedger,
    InMemoryLedger,
    LedgerEntry,
    LedgerResult,
    LedgerStatus,
    StoredMessage,
    document_key,
)
from transport.receiver.message import ReceivedMessage
from transport.receiver.model import (
    CallbackHooks,
    Decision,
    ReceiverConfig,
    ReceiverHooks,
    ReceiverResponse,
    Verdict,
    serve_everything,
)

__all__ = [
    "CallbackHooks",
    "Decision",
    "InMemoryLedger",
    "InboundLedger",
    "LedgerEntry",
    "LedgerResult",
    "LedgerStatus",
    "ReceivedMessage",
    "ReceiverConfig",
    "ReceiverHooks",
    "ReceiverResponse",
    "StoredMessage",
    "Verdict",
    "document_key",
    "receive",
    "serve_everything",
]
