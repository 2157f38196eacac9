"""peppol.deadline's watchdog: one thread for the process (not one per send), still cutting on time."""

from __future__ import annotations

import socket
import threading
import time

from peppol.deadline import deadline


def test_sends_in_a_row_share_one_watchdog_thread() -> None:
    a, b = socket.socketpair()
    with a, b:
        with deadline(60, "warm-up") as scope:
            assert scope is not None
            scope.watch(a)
        watchdogs = [t for t in threading.enumerate() if t.name == "peppol-deadline"]
        for _ in range(50):
            with deadline(60, "a send") as scope:
                assert scope is not None
                scope.watch(a)
                # no thread of its own (a threading.Timer per send cost a thread start and stop)
                assert not any(isinstance(t, threading.Timer) for t in threading.enumerate())
        assert [t for t in threading.enumerate() if t.name == "peppol-deadline"] == watchdogs
        assert len(watchdogs) == 1


def test_watched_socket_is_cut_when_its_deadline_passes_even_behind_a_later_one() -> None:
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    with a, b, c, d:
        started = time.monotonic()
        with deadline(30, "a long send") as long_scope:
            assert long_scope is not None
            long_scope.watch(c)  # the watchdog now sleeps until this one passes
            with deadline(0.3, "a short send") as short_scope:
                assert short_scope is not None
                short_scope.watch(a)
                a.settimeout(10)
                assert a.recv(1) == b""  # shut down by the watchdog, not the 10 s timeout
        assert time.monotonic() - started < 5
        c.settimeout(5)
        d.send(b"x")
        assert c.recv(1) == b"x"  # the long send's socket was left alone
