"""In-memory duplicate store: retention window, cap, first receipt wins, thread safety."""

from __future__ import annotations

import threading

import pytest

from transport.duplicates import InMemoryDuplicateStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_stored_receipt_is_returned_within_retention_window() -> None:
    clock = FakeClock()
    store = InMemoryDuplicateStore(retention_seconds=600, clock=clock)
    assert store.get("m1@x") is None
    store.put("m1@x", b"<receipt-1/>")
    clock.now += 599
    assert store.get("m1@x") == b"<receipt-1/>"
    clock.now += 2
    assert store.get("m1@x") is None
    assert len(store) == 0


def test_first_receipt_wins() -> None:
    store = InMemoryDuplicateStore()
    store.put("m@x", b"first")
    store.put("m@x", b"second")
    assert store.get("m@x") == b"first"


def test_entry_cap_drops_oldest() -> None:
    store = InMemoryDuplicateStore(max_entries=3)
    for i in range(5):
        store.put(f"m{i}", b"r")
    assert len(store) == 3
    assert store.get("m0") is None and store.get("m1") is None
    assert store.get("m4") == b"r"


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError):
        InMemoryDuplicateStore(retention_seconds=0)


def test_concurrent_puts_keep_every_id() -> None:
    store = InMemoryDuplicateStore()

    def work(t: int) -> None:
        for i in range(500):
            store.put(f"{t}-{i}", b"r")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(store) == 2000
