"""The ``/as4`` HTTP endpoint: an ASGI app (Starlette) around the synchronous receiver core.

The request body (chunked or not; uvicorn undoes the transfer coding) is streamed into a spooled
temporary file with a hard size cap, then :func:`transport.receiver.receive` runs in a worker thread
so the event loop keeps serving other connections while we decrypt and verify.

Slow or hostile clients are bounded (:class:`ServerLimits`): a connection must deliver a complete
request head within ``header_timeout`` seconds of opening (or of sending the first byte of a next
request on a kept-alive connection), else it is closed — idle or slowloris connections cannot hold the
connection slots; a declared ``Content-Length`` above the cap is refused before any byte of the body is
read (413); the body must arrive within
``body_timeout`` seconds with no pause longer than ``body_idle_timeout`` (else 408 and the connection
is closed); at most ``max_connections`` connections are served at once (uvicorn answers 503 beyond);
the part of a body kept in memory is bounded per request (:data:`SPOOL_MEMORY_BYTES`). A client that
disconnects mid-upload costs one log line, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Final, cast

import anyio
import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from transport.receiver import ReceiverConfig, ReceiverHooks, ReceiverResponse, receive

#: Pending connections the listening socket queues (uvicorn's default).
LISTEN_BACKLOG: Final = 2048
#: Path of the AS4 endpoint.
AS4_PATH: Final = "/as4"
#: Bodies up to this size stay in memory while spooling; larger ones go to a temporary file. With
#: :data:`DEFAULT_MAX_CONNECTIONS` it bounds the memory slow uploads can hold (~64 MB).
SPOOL_MEMORY_BYTES: Final = 512 * 1024
#: Connections served at once; uvicorn answers 503 to requests beyond (senders retry 5xx).
DEFAULT_MAX_CONNECTIONS: Final = 128
#: Longest pause (seconds) between two pieces of a request body before the request is dropped (408).
DEFAULT_BODY_IDLE_TIMEOUT: Final = 30.0
#: Longest time (seconds) to receive a whole request body (100 MB at ~1 MB/s).
DEFAULT_BODY_TIMEOUT: Final = 120.0
#: Seconds an idle keep-alive connection is kept open.
DEFAULT_KEEP_ALIVE_SECONDS: Final = 5
#: Seconds a connection has to send a complete request head (slowloris bound).
DEFAULT_HEADER_TIMEOUT: Final = 15.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Bounds on what clients can make the server hold (see the module docstring)."""

    max_connections: int = DEFAULT_MAX_CONNECTIONS
    body_idle_timeout: float = DEFAULT_BODY_IDLE_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    keep_alive_seconds: int = DEFAULT_KEEP_ALIVE_SECONDS
    spool_memory_bytes: int = SPOOL_MEMORY_BYTES
    header_timeout: float = DEFAULT_HEADER_TIMEOUT


class _HeadTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (C parser: the pure-Python h11 cost ~1 ms of CPU per message) plus a
    deadline for the request head: uvicorn itself times out only idle
    keep-alive connections *between* requests, so a client that connects and sends nothing, or a head
    one byte at a time, would hold a connection slot forever (and with the connection cap, take the
    server down). The deadline runs from the connection (or from the first byte of a next request) to
    the end of the head; the body has its own timeouts in the app."""

    head_timeout: float = DEFAULT_HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._update_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._update_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _update_head_timer(self) -> None:
        if not self._waiting_for_head():
            self._cancel_head_timer()
        elif self._head_timer is None and self.timeout_keep_alive_task is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._waiting_for_head() and not self.transport.is_closing():
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
            log.info("client %s sent no complete request head in %g s: closed", client, self.head_timeout)
            self.transport.close()


def _protocol_class(limits: ServerLimits) -> type[asyncio.Protocol]:
    return type("HeadTimeoutProtocol", (_HeadTimeoutProtocol,), {"head_timeout": limits.header_timeout})


class BodyTimeout(Exception):
    """The request body did not arrive in time."""


async def _timed_chunks(request: Request, limits: ServerLimits) -> AsyncIterator[bytes]:
    """The body chunks of ``request``; :class:`BodyTimeout` after a pause longer than the idle timeout
    or past the total deadline."""
    deadline = time.monotonic() + limits.body_timeout
    chunks = request.stream().__aiter__()
    while True:
        remaining = deadline - time.monotonic()
        wait = min(limits.body_idle_timeout, remaining)
        if wait <= 0:
            raise BodyTimeout(f"the request body took longer than {limits.body_timeout:g} s")
        try:
            with anyio.fail_after(wait):
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise BodyTimeout(
                f"no request body data for {wait:g} s (body timeout {limits.body_timeout:g} s,"
                f" idle timeout {limits.body_idle_timeout:g} s)"
            ) from None
        yield chunk


def _peer(request: Request) -> str:
    client = request.client
    return f"{client.host}:{client.port}" if client else "?"


def _closing(response: Response) -> Response:
    """``response`` with ``Connection: close`` (the rest of the body is not read)."""
    response.headers["Connection"] = "close"
    return response


#: TLS 1.2 cipher suites offered (forward secrecy + AEAD only, as the Peppol transport-security policy's
#: "SSL Labs grade A" needs); TLS 1.3 suites are always on. TLS < 1.2 is refused by the default context.
TLS12_CIPHERS: Final = "ECDHE+AESGCM:ECDHE+CHACHA20"
#: How long :func:`start_server` waits for the listening socket.
STARTUP_TIMEOUT_SECONDS: Final = 15.0


#: ``observer(request headers, receiver response, seconds spent in the receiver core)``.
Observer = Callable[[Mapping[str, str], ReceiverResponse, float], object]


def create_app(
    config: ReceiverConfig,
    hooks: ReceiverHooks,
    *,
    path: str = AS4_PATH,
    limits: ServerLimits | None = None,
    observer: Observer | None = None,
) -> Starlette:
    """The ASGI application answering ``POST <path>`` (the connection cap of ``limits`` is applied by
    :func:`run_server`/:func:`start_server`, the body limits here). ``observer(headers, response,
    seconds)`` is called with every answer of the receiver core (logging, metrics); it must not raise."""
    max_body = config.mime_limits.max_total_bytes
    limits = limits or ServerLimits()

    async def as4_endpoint(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None:
            # str.isdigit() alone accepts Unicode digits ('\u00b2') that int() refuses or misreads.
            if not (declared.isascii() and declared.isdigit()):
                return PlainTextResponse("invalid Content-Length header\n", status_code=400)
            if int(declared) > max_body:
                return _closing(PlainTextResponse(f"body larger than {max_body} bytes\n", status_code=413))
        spool_dir = str(config.work_dir) if config.work_dir else None
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed in finally
            max_size=limits.spool_memory_bytes, dir=spool_dir
        )
        try:
            total = 0
            try:
                async for chunk in _timed_chunks(request, limits):
                    total += len(chunk)
                    if total > max_body:
                        return _closing(
                            PlainTextResponse(f"body larger than {max_body} bytes\n", status_code=413)
                        )
                    spool.write(chunk)
            except ClientDisconnect:
                log.info("client %s disconnected after %d body bytes", _peer(request), total)
                return Response(status_code=400)  # never sent: the client is gone
            except BodyTimeout as exc:
                log.info("client %s too slow after %d body bytes: %s", _peer(request), total, exc)
                return _closing(PlainTextResponse(f"{exc}\n", status_code=408))
            spool.seek(0)
            headers = dict(request.headers.items())
            body = cast(BinaryIO, spool)
            started = time.monotonic()
            answer = await anyio.to_thread.run_sync(receive, headers, body, config, hooks)
            if observer is not None:
                observer(headers, answer, time.monotonic() - started)
        finally:
            spool.close()
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    return Starlette(
        routes=[Route(path, as4_endpoint, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )


def uvicorn_config(
    app: ASGIApp,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    limits: ServerLimits | None = None,
) -> uvicorn.Config:
    """The transport's server settings for ``app`` — TLS ciphers, the connection cap, the request-head
    and body deadlines of ``limits`` — for a caller that runs its own ``uvicorn.Server`` (``ap serve``:
    one app serving ``/as4`` and the REST API). What :func:`start_server` and :func:`serve` run."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("TLS needs both a certificate and a key")
    limits = limits or ServerLimits()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        ssl_ciphers=TLS12_CIPHERS,
        log_level="warning",
        lifespan="off",
        access_log=False,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive_seconds,
        http=_protocol_class(limits),
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0 = an ephemeral port) and listening, so connections made as
    soon as it is announced wait in the backlog instead of being refused; raises ``OSError`` (port in use)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets of that proto; without
    # it, keep-alive responses (headers and body written separately) stall ~40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def run_server(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    on_listening: Callable[[str], None] | None = None,
    limits: ServerLimits | None = None,
) -> None:
    """Serve ``app`` until interrupted (blocking; used by ``ap as4 serve``).

    The socket is bound first, so a port in use raises ``OSError`` before anything is announced, and
    ``on_listening`` gets the URL with the port actually bound (``port=0`` picks a free one).
    """
    config = uvicorn_config(app, host, port, tls_cert, tls_key, limits)
    sock = bind_socket(host, port)
    if on_listening is not None:
        scheme = "https" if tls_cert else "http"
        on_listening(f"{scheme}://{host}:{sock.getsockname()[1]}{AS4_PATH}")
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class RunningServer:
    """A server running in a background thread (tests, benchmarks)."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT_SECONDS)


def start_server(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    url_host: str | None = None,
    limits: ServerLimits | None = None,
) -> RunningServer:
    """Start ``app`` on ``host:port`` (0 = an ephemeral port) in a daemon thread; returns once it listens.
    ``url_host`` is the host name used in the returned URL (e.g. ``localhost`` to match a TLS cert)."""
    config = uvicorn_config(app, host, port, tls_cert, tls_key, limits)
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="as4-server")
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the AS4 server did not start")
        time.sleep(0.01)
    scheme = "https" if tls_cert else "http"
    return RunningServer(f"{scheme}://{url_host or host}:{bound_port}{AS4_PATH}", server, thread)
