"""Inbound AS4 (C3): the receiver core and its hook contract.

Public API: :func:`receive`, :class:`ReceiverConfig`, :class:`ReceiverHooks` (protocol),
:class:`CallbackHooks`, :class:`ReceivedMessage`, :class:`ReceiverResponse`, :class:`Decision`,
:class:`Verdict`, :class:`DuplicateStore` (protocol), :class:`InMemoryDuplicateStore`,
:class:`DirectoryInbox` (hooks writing accepted messages to a directory).
"""

from __future__ import annotations

from transport.duplicates import DuplicateStore, InMemoryDuplicateStore
from transport.receiver.core import receive
from transport.receiver.inbox import DirectoryInbox, safe_file_name
from transport.receiver.model import (
    CallbackHooks,
    Decision,
    ReceivedMessage,
    ReceiverConfig,
    ReceiverHooks,
    ReceiverResponse,
    Verdict,
    serve_everything,
)

__all__ = [
    "CallbackHooks",
    "Decision",
    "DirectoryInbox",
    "DuplicateStore",
    "InMemoryDuplicateStore",
    "ReceivedMessage",
    "ReceiverConfig",
    "ReceiverHooks",
    "ReceiverResponse",
    "Verdict",
    "receive",
    "safe_file_name",
    "serve_everything",
]
