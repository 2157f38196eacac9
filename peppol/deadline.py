"""A total time budget for one network operation (a discovery lookup, an AS4 send).

Socket timeouts bound each read, not the whole: a server trickling one byte every two seconds never
trips a five-second read timeout, and kept ``ap lookup`` running for minutes (issue 11, F7). A
:class:`Deadline` bounds the operation as a whole:

* :func:`deadline` opens a scope (a context variable, so one shared client serves many threads);
* every timeout handed to a socket is capped by :meth:`Deadline.cap` (never longer than what is left);
* :class:`DeadlineAdapter` (a ``requests`` transport adapter) registers each socket it opens or reuses
  inside a scope with the deadline, and a watchdog shuts those sockets down when the time is up, so a
  read blocked in the TLS handshake, the upload, the headers or the body returns at once;
* callers check :meth:`Deadline.check` between steps and map :class:`DeadlineExceeded` (or a
  connection error seen after :attr:`Deadline.expired`) to their protocol's error.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Final

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class DeadlineExceeded(Exception):
    """The operation used up its total time budget. Deliberately not an ``OSError``/``TimeoutError``:
    the ``except OSError`` of a retry loop (try the next name server) must not swallow it."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what} did not finish within its deadline of {seconds:g} s")
        self.what = what
        self.seconds = seconds


class Deadline:
    """``seconds`` from now for ``what`` (named in the error). Thread-safe."""

    def __init__(self, seconds: float, what: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError(f"a deadline must be positive, got {seconds!r}")
        self.seconds = seconds
        self.what = what
        self._clock = clock
        self._expires = clock() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._watched = False
        self._closed = False

    def remaining(self) -> float:
        return self._expires - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def error(self) -> DeadlineExceeded:
        return DeadlineExceeded(self.what, self.seconds)

    def check(self) -> None:
        """Raise :class:`DeadlineExceeded` when no time is left."""
        if self.expired:
            raise self.error()

    def cap(self, timeout: float) -> float:
        """``timeout`` or what is left, whichever is shorter (:class:`DeadlineExceeded` if nothing)."""
        left = self.remaining()
        if left <= 0:
            raise self.error()
        return min(timeout, left)

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (unless the scope ended first)."""
        with self._lock:
            if self._closed:
                return
            self._sockets.append(sock)
            if not self._watched:
                self._watched = True
                _WATCHDOG.add(self, time.monotonic() + max(self.remaining(), 0.0))

    def _expire(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                # socket.socket.shutdown, not SSLSocket.shutdown: only the file descriptor is cut
                # (the blocked reader in the other thread keeps its TLS state and fails cleanly).
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def close(self) -> None:
        """End the scope: cancel the watchdog, forget the sockets (they may go back to a pool)."""
        with self._lock:
            self._closed = True
            self._sockets = []
            watched = self._watched
        if watched:
            _WATCHDOG.remove(self)


class _Watchdog:
    """One daemon thread that cuts the sockets of every deadline passing, for the whole process.

    A thread per deadline (``threading.Timer``) cost a thread start and stop per AS4 post, more CPU than
    the rest of the deadline machinery. Here a send registers and unregisters its deadline (a set
    operation under a lock); the thread is woken only when a deadline earlier than its next wake-up
    arrives, so a stream of sends with the same budget wakes it about once per budget."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[Deadline, float] = {}  # monotonic time at which each open deadline passes
        self._wake_at = float("inf")
        self._thread: threading.Thread | None = None

    def reset(self) -> None:
        """Start afresh (in a forked child: the parent's thread and lock state do not carry over)."""
        self._cond = threading.Condition()
        self._due = {}
        self._wake_at = float("inf")
        self._thread = None

    def add(self, scope: Deadline, due: float) -> None:
        with self._cond:
            self._due[scope] = due
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._wake_at = float("inf")
                self._thread = threading.Thread(target=self._run, name="peppol-deadline", daemon=True)
                self._thread.start()
            if due < self._wake_at:
                self._wake_at = due
                self._cond.notify()

    def remove(self, scope: Deadline) -> None:
        with self._cond:
            self._due.pop(scope, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                passed = [scope for scope, due in self._due.items() if due <= now]
                for scope in passed:
                    del self._due[scope]
                if not passed:
                    self._wake_at = min(self._due.values(), default=float("inf"))
                    timeout = None if self._wake_at == float("inf") else self._wake_at - now
                    self._cond.wait(timeout)
                    continue
            for scope in passed:
                scope._expire()


_WATCHDOG: Final = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.reset)


_CURRENT: ContextVar[Deadline | None] = ContextVar("peppol_deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the innermost open scope in this thread/task, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def deadline(seconds: float | None, what: str) -> Iterator[Deadline | None]:
    """Run the block under a total deadline of ``seconds`` (``None``: no deadline). An enclosing scope
    that ends sooner keeps governing (the nearer deadline wins)."""
    outer = _CURRENT.get()
    if seconds is None or (outer is not None and outer.remaining() <= seconds):
        yield outer
        return
    scope = Deadline(seconds, what)
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)
        scope.close()


def _watch(sock: socket.socket | None) -> None:
    scope = _CURRENT.get()
    if scope is not None and sock is not None:
        scope.watch(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # the raw TCP socket: also cuts a TLS handshake in progress
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection reused inside a scope
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHttpsPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A ``requests`` adapter whose direct connections obey the current :func:`deadline` scope (see
    the module docstring). Mount it on a session for ``http://`` and ``https://``. Connections through
    a proxy are bounded by the capped timeouts only."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHttpsPool}


def mount_deadline_adapter(session: Any) -> None:
    """Mount :class:`DeadlineAdapter` on ``session`` (a ``requests.Session``) for http and https."""
    adapter = DeadlineAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
