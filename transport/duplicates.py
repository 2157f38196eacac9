"""Duplicate elimination for inbound AS4 messages: MessageId → the signed receipt we returned.

AS4 senders retry by re-posting identical bytes (same ``eb:MessageId``). The receiver must deliver a
message to its backend once and answer a resend so that resending stops (``conformance.md`` §9): we
keep the receipt we signed for each accepted MessageId and return exactly those bytes again.

:class:`DuplicateStore` is the contract; the service will back it with SQL (primary key on the
MessageId). :class:`InMemoryDuplicateStore` is a thread-safe, process-local implementation with a
retention window and an entry cap, for the CLI receiver and tests.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Protocol

#: How long a receipt is kept for duplicate detection (seconds). phase4 keeps ids 10 minutes; since a
#: resend is answered with the stored receipt (not an error), a longer window only costs memory.
DEFAULT_RETENTION_SECONDS: Final = 24 * 3600.0
#: Most receipts kept in memory; the oldest are dropped first beyond it.
DEFAULT_MAX_ENTRIES: Final = 100_000


class DuplicateStore(Protocol):
    """Where receipts of accepted messages are kept, keyed by ``eb:MessageId``."""

    def get(self, message_id: str) -> bytes | None:
        """The receipt returned for ``message_id`` if it was accepted within the retention window."""
        ...

    def put(self, message_id: str, receipt: bytes) -> None:
        """Remember the receipt returned for ``message_id`` (overwrites nothing already stored)."""
        ...


class InMemoryDuplicateStore:
    """Thread-safe in-memory :class:`DuplicateStore` with a retention window and an entry cap."""

    def __init__(
        self,
        *,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if retention_seconds <= 0 or max_entries <= 0:
            raise ValueError("retention_seconds and max_entries must be positive")
        self._retention = retention_seconds
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._entries:
            _, (stored, _) = next(iter(self._entries.items()))
            if now - stored < self._retention and len(self._entries) <= self._max:
                break
            self._entries.popitem(last=False)

    def get(self, message_id: str) -> bytes | None:
        with self._lock:
            self._expire(self._clock())
            entry = self._entries.get(message_id)
            return None if entry is None else entry[1]

    def put(self, message_id: str, receipt: bytes) -> None:
        with self._lock:
            now = self._clock()
            if message_id not in self._entries:
                self._entries[message_id] = (now, receipt)
            self._expire(now)

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._entries)
