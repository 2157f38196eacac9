"""Values derived from immutable objects (certificates), remembered per object.

A certificate object cached upstream (the SMP client's decoded-certificate cache, an identity) comes
back as the same object on every message or lookup; its fingerprint or rendered names need not be
recomputed each time. The memo is keyed by object identity and keeps the object alive while it holds
its entry, so an ``id`` cannot be reused by another object for a stale hit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Entries per memo before it starts afresh (certificates in use by one process: a handful).
DEFAULT_MAXSIZE: Final = 256


class PerObject(Generic[K, V]):
    """``derive(obj)``, computed once per object (by identity) and bounded to ``maxsize`` objects."""

    def __init__(self, derive: Callable[[K], V], maxsize: int = DEFAULT_MAXSIZE) -> None:
        self._derive = derive
        self._maxsize = maxsize
        self._data: dict[int, tuple[K, V]] = {}
        self._lock = threading.Lock()

    def __call__(self, obj: K) -> V:
        hit = self._data.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self._derive(obj)
        with self._lock:
            if len(self._data) >= self._maxsize:
                self._data.clear()
            self._data[id(obj)] = (obj, value)
        return value
