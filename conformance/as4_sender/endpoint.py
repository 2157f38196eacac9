"""The suite's receiving endpoint: a small threaded HTTP(S) server that records every request and
answers what the dispatcher decides, including what a production server never does on purpose
(close the connection without an answer, hold it past the sender's timeout).

It is deliberately not ``transport.server`` (uvicorn/Starlette cannot drop a connection without an
answer); the AS4 processing behind it is the real receiver core (:mod:`conformance.as4_sender.dispatch`).
"""

from __future__ import annotations

import logging
import select
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final, Literal

log = logging.getLogger(__name__)

#: Largest request body the suite reads (a sender under test may send a large message).
DEFAULT_MAX_BODY_BYTES: Final = 256 * 1024 * 1024
#: How often a held connection is polled for the client hanging up (seconds).
HOLD_POLL_SECONDS: Final = 0.1
#: Path the endpoint answers on (any path is accepted; this one is announced).
AS4_PATH: Final = "/as4"

ActionKind = Literal["answer", "close", "hold"]


@dataclass(frozen=True, slots=True)
class Action:
    """What to do with one request: answer it, close the connection without an answer, or hold the
    connection (up to ``hold_seconds`` or until the client hangs up) and then answer."""

    kind: ActionKind
    status: int = 200
    content_type: str = "application/soap+xml; charset=UTF-8"
    body: bytes = b""
    hold_seconds: float = 0.0
    label: str = ""


@dataclass(slots=True)
class Attempt:
    """One request as received, and what the suite did with it."""

    index: int
    received: float
    monotonic: float
    headers: dict[str, str]
    body: bytes
    peer: str
    message_id: str | None = None
    action: Action | None = None
    #: Seconds the connection was held, and whether the client hung up meanwhile (hold actions).
    held: float = 0.0
    client_hung_up: bool = False
    #: ``time.monotonic()`` when the answer was written or the connection dropped (0: in progress).
    finished: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value
        return None


Dispatcher = Callable[[Attempt], Action]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], dispatch: Dispatcher, max_body: int, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch
        self.max_body = max_body
        self.counter = 0
        self.lock = threading.Lock()
        if tls is not None:  # handshake lazily, in the handler thread (a slow client blocks nobody)
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def next_index(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter


class BodyError(ValueError):
    """The request body could not be read (too large, bad chunking)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._answer(200, "text/plain", b"ok\n")

    def do_POST(self) -> None:
        started, clock = time.time(), time.monotonic()
        try:
            body = self._read_body()
        except BodyError as exc:
            self.close_connection = True
            self._answer(413 if "larger" in str(exc) else 400, "text/plain", f"{exc}\n".encode())
            return
        attempt = Attempt(
            index=self.server.next_index(),
            received=started,
            monotonic=clock,
            headers={k: v for k, v in self.headers.items()},
            body=body,
            peer=f"{self.client_address[0]}:{self.client_address[1]}",
        )
        action = self.server.dispatch(attempt)
        attempt.action = action
        try:
            if action.kind == "close":
                self.close_connection = True  # nothing written: the client sees the connection closed
                return
            if action.kind == "hold":
                attempt.held, attempt.client_hung_up = self._hold(action.hold_seconds)
            try:
                self._answer(action.status, action.content_type, action.body)
            except OSError:  # the client is gone (expected after a hold)
                self.close_connection = True
        finally:
            attempt.finished = time.monotonic()

    def _hold(self, seconds: float) -> tuple[float, bool]:
        """Keep the connection open without answering; returns (seconds held, client hung up)."""
        start = time.monotonic()
        while (waited := time.monotonic() - start) < seconds:
            readable, _, _ = select.select([self.connection], [], [], HOLD_POLL_SECONDS)
            if readable:  # HTTP/1.1 without pipelining: data or EOF now means the client hung up
                return waited, True
        return time.monotonic() - start, False

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _read_body(self) -> bytes:
        limit = self.server.max_body
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    length = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError as exc:
                    raise BodyError(f"bad chunk size line {line[:40]!r}") from exc
                if length == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > limit:
                    raise BodyError(f"body larger than {limit} bytes")
                chunks.append(self.rfile.read(length))
                self.rfile.readline(16)
        declared = self.headers.get("Content-Length") or "0"
        if not (declared.isascii() and declared.isdigit()):
            raise BodyError("invalid Content-Length")
        if int(declared) > limit:
            raise BodyError(f"body larger than {limit} bytes")
        return self.rfile.read(int(declared))


@dataclass
class RunningEndpoint:
    url: str
    server: _Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context (TLS 1.2+) for ``--tls-cert``/``--tls-key``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def start_endpoint(
    dispatch: Dispatcher,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: ssl.SSLContext | None = None,
    url_host: str | None = None,
    max_body: int = DEFAULT_MAX_BODY_BYTES,
) -> RunningEndpoint:
    """Listen on ``host:port`` (0 = ephemeral) in a daemon thread; returns once listening."""
    server = _Server((host, port), dispatch, max_body, tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="as4-sender-suite")
    thread.start()
    scheme = "https" if tls is not None else "http"
    bound = server.server_address[1]
    return RunningEndpoint(f"{scheme}://{url_host or host}:{bound}{AS4_PATH}", server, thread)
