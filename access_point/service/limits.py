"""An ASGI wrapper bounding what one request may cost before the application sees it.

The body is read here, chunk by chunk, each chunk within ``read_timeout`` seconds (a slow client gets a
``408``), up to ``max_bytes`` for its path (``413`` beyond), into a spooled temporary file (memory up to
:data:`SPOOL_MEMORY_BYTES`, then disk); the application then reads it back from there. So slow or huge
uploads cost a bounded amount of memory, and a client that disconnects mid-upload is one log line —
the application never runs for it. Errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import anyio

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SPOOL_MEMORY_BYTES: Final = 1024 * 1024
REPLAY_CHUNK_BYTES: Final = 64 * 1024
PROBLEM_MEDIA_TYPE: Final = "application/problem+json"


async def send_problem(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Disconnected(Exception):
    pass


class BodyLimits:
    """Wraps ``app``; ``max_bytes(path)`` gives the body cap of a request path."""

    def __init__(self, app: App, *, max_bytes: Callable[[str], int], read_timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.max_bytes(path)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await send_problem(send, 400, "Bad request", "invalid Content-Length header")
                return
            if int(declared) > limit:
                await send_problem(send, 413, "Content too large", f"the body is larger than {limit} bytes")
                return
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        try:
            try:
                size = await self._read(receive, spool, limit)
            except TimeoutError:
                log.info(
                    "%s %s: request body not received within %.0f s",
                    scope.get("method"),
                    path,
                    self.read_timeout,
                )
                await send_problem(
                    send, 408, "Request timeout", f"the body did not arrive within {self.read_timeout} s"
                )
                return
            except _Disconnected:
                log.info("%s %s: client disconnected during the upload", scope.get("method"), path)
                return
            if size > limit:
                await send_problem(send, 413, "Content too large", f"the body is larger than {limit} bytes")
                return
            spool.seek(0)
            await self.app(scope, self._replay(spool, receive), send)
        finally:
            spool.close()

    async def _read(self, receive: Receive, spool: Any, limit: int) -> int:
        size = 0
        while True:
            with anyio.fail_after(self.read_timeout):
                message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return size
            spool.write(chunk)
            if not message.get("more_body", False):
                return size

    @staticmethod
    def _replay(spool: Any, receive: Receive) -> Receive:
        done = False

        async def replay() -> Message:
            nonlocal done
            if done:
                return await receive()  # after the body: wait for the disconnect, as the server would
            chunk = spool.read(REPLAY_CHUNK_BYTES)
            more = len(chunk) == REPLAY_CHUNK_BYTES
            done = not more
            return {"type": "http.request", "body": chunk, "more_body": more}

        return replay
