"""The request body limits in front of the application (unit tests on the ASGI wrapper): a body larger
than its path's cap is a 413 before the application runs, a client that stalls mid-body gets a 408, one
that disconnects mid-upload is one log line and no application call; a good body is replayed intact."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import pytest

from access_point.service.limits import BodyLimits

LIMIT = 1000


class _App:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _run(chunks: list[Any], headers: list[tuple[bytes, bytes]] | None = None) -> tuple[_App, list[Any]]:
    app = _App()
    wrapped = BodyLimits(app, max_bytes=lambda path: LIMIT, read_timeout=0.2)
    sent: list[Any] = []
    pending = list(chunks)

    async def receive() -> Any:
        item = pending.pop(0) if pending else {"type": "http.disconnect"}
        if item == "stall":
            await anyio.sleep(5)
        return item

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/outbound", "headers": headers or []}
    anyio.run(wrapped, scope, receive, send)
    return app, sent


def _status(sent: list[Any]) -> tuple[int, dict[str, Any]]:
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_a_good_body_is_replayed_intact() -> None:
    body = bytes(range(256)) * 3
    app, sent = _run([{"type": "http.request", "body": body[:500], "more_body": True},
                      {"type": "http.request", "body": body[500:], "more_body": False}])  # fmt: skip
    assert app.bodies == [body] and sent[0]["status"] == 200


def test_too_large_bodies_are_refused_before_the_application_runs() -> None:
    app, sent = _run([], headers=[(b"content-length", b"5000")])
    assert app.bodies == [] and _status(sent)[0] == 413
    app, sent = _run([{"type": "http.request", "body": b"x" * 600, "more_body": True},
                      {"type": "http.request", "body": b"x" * 600, "more_body": False}])  # fmt: skip
    status, problem = _status(sent)
    assert app.bodies == [] and status == 413 and problem["title"] == "Content too large"
    app, sent = _run([], headers=[(b"content-length", b"12x")])
    assert app.bodies == [] and _status(sent)[0] == 400


def test_a_stalled_body_gets_408(caplog: pytest.LogCaptureFixture) -> None:
    app, sent = _run([{"type": "http.request", "body": b"x" * 10, "more_body": True}, "stall"])
    assert app.bodies == [] and _status(sent)[0] == 408


def test_a_disconnect_mid_upload_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="access_point.service.limits"):
        app, sent = _run([{"type": "http.request", "body": b"x" * 10, "more_body": True}])
    assert app.bodies == [] and sent == []
    assert [r.getMessage() for r in caplog.records] == [
        "POST /v1/outbound: client disconnected during the upload"
    ]
