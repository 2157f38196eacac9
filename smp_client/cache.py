"""A small thread-safe TTL + LRU cache for discovery results (successes only, by construction:
callers only ``put`` what verified).

Defaults follow peppol-commons' ``SMPClientCache``: 15 minutes expire-after-write, 1000 entries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

#: Lifetime of a cached lookup (seconds).
DEFAULT_CACHE_TTL: Final = 15 * 60.0
#: Most entries kept per cache; the least recently used goes first.
DEFAULT_CACHE_SIZE: Final = 1000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0


class TtlCache(Generic[K, V]):
    """Expire-after-write cache bounded in size. ``ttl <= 0`` or ``maxsize <= 0`` disables it."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_CACHE_TTL,
        maxsize: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.stats = CacheStats()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.maxsize > 0

    def get(self, key: K) -> V | None:
        """The live value for ``key``, or ``None``."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.stats.misses += 1
                return None
            expires, value = entry
            if expires <= self._clock():
                del self._data[key]
                self.stats.misses += 1
                return None
            self._data.move_to_end(key)
            self.stats.hits += 1
            return value

    def expires_at(self, key: K) -> float | None:
        """When ``key``'s entry expires (on this cache's clock), or ``None`` if there is none."""
        with self._lock:
            entry = self._data.get(key)
        return None if entry is None else entry[0]

    def put(self, key: K, value: V) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._data[key] = (self._clock() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
                self.stats.evictions += 1

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
