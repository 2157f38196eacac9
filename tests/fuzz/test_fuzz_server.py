"""Fuzz the ``/as4`` ASGI app (``transport.server.create_app``) in-process: hostile methods, paths,
headers (Content-Length, Content-Type), body chunkings and size caps. The app must answer every
request with 200 + an ebMS signal or a 4xx (never a 500, never an exception out of the app).

A minimal ASGI driver calls the app directly (no sockets): the real-HTTP end-to-end path is covered by
``tests/transport/test_e2e.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz import fuzz_settings, mutated
from tests.fuzz.test_fuzz_as4 import Exchange, Recorder, exchange
from transport.mime import MimeLimits
from transport.receiver import ReceiverConfig
from transport.server import create_app

__all__ = ["exchange"]


async def _call(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), body


def _app(ex: Exchange, limits: MimeLimits | None = None) -> Any:
    config = ReceiverConfig(
        identity=ex.pki.aps[1].identity(),
        validate_signer=ex.validate,
        work_dir=ex.work,
    )
    if limits is not None:
        config = dataclasses.replace(config, mime_limits=limits)
    return create_app(config, Recorder().hooks())


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(body[last:p])
        last = p
    pieces.append(body[last:])
    return pieces


def _latin1(text: str) -> bytes:
    """Header bytes as a client would send them (HTTP header values are ISO-8859-1)."""
    return text.encode("latin-1") if all(ord(c) < 256 for c in text) else text.encode("utf-8")


_HEADER_VALUES = st.sampled_from(
    (
        "",
        "0",
        "-1",
        "abc",
        "99999999999999999999999",
        " 12",
        "1e3",
        "\u0663",  # an Arabic-Indic digit: str.isdigit() is True, int() accepts it
        "\u00b2",  # superscript two: str.isdigit() is True, int() refuses it
        "multipart/related",
        "application/soap+xml",
    )
)


@fuzz_settings(80)
@given(data=st.data())
def test_as4_endpoint_answers_hostile_requests_without_500(exchange: Exchange, data: st.DataObject) -> None:
    ex = exchange
    method, path = "POST", "/as4"
    if data.draw(st.integers(0, 3), label="odd-request") == 0:
        method = data.draw(st.sampled_from(("POST", "GET", "PUT", "HEAD")), label="method")
        path = data.draw(
            st.sampled_from(("/as4", "/as4/", "/AS4", "/health", "/%00", "/as4?x=1")), label="path"
        )
    body = ex.body
    if data.draw(st.booleans(), label="mutate"):
        body = data.draw(mutated(body, max_ops=2), label="body")
    headers: list[tuple[bytes, bytes]] = [(b"content-type", ex.message.content_type.encode("latin-1"))]
    length = data.draw(st.one_of(st.none(), _HEADER_VALUES, st.just(str(len(body)))), label="content-length")
    if length is not None:
        headers.append((b"content-length", _latin1(length)))
    if data.draw(st.booleans(), label="odd-header"):
        name = data.draw(st.sampled_from((b"content-type", b"x-junk", b"transfer-encoding")), label="name")
        value = _latin1(data.draw(_HEADER_VALUES, label="value"))
        headers.append((name, value))
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=4), label="chunking")
    limits = data.draw(
        st.sampled_from(
            (None, MimeLimits(max_total_bytes=100), MimeLimits(max_total_bytes=len(ex.body) - 1))
        ),
        label="limits",
    )
    status, answer = anyio.run(_call, _app(ex, limits), method, path, headers, _split(body, cuts))
    event(f"{method} {status}")
    assert status < 500, (status, answer[:300])
    assert status >= 200
    if status == 200 and method == "POST" and path.startswith("/as4"):
        assert answer.lstrip().startswith(b"<"), answer[:200]


def test_as4_endpoint_superscript_content_length(exchange: Exchange) -> None:
    headers = [
        (b"content-type", exchange.message.content_type.encode()),
        (b"content-length", _latin1("\u00b2")),
    ]
    status, _ = anyio.run(_call, _app(exchange), "POST", "/as4", headers, [exchange.body])
    assert status == 400


def test_as4_endpoint_control_valid_message_in_chunks_gets_a_receipt(exchange: Exchange) -> None:
    """Control for the fuzz test above: the driver and app accept the untouched message, whatever the
    chunking, so the statuses seen there come from the hostile variations."""
    from transport.as4 import parse_signal

    headers = [
        (b"content-type", exchange.message.content_type.encode("latin-1")),
        (b"content-length", str(len(exchange.body)).encode()),
    ]
    for cuts in ([], [1, 100, len(exchange.body) // 2]):
        status, answer = anyio.run(
            _call, _app(exchange), "POST", "/as4", headers, _split(exchange.body, cuts)
        )
        assert status == 200, answer[:300]
        signal = parse_signal(answer)
        assert signal.kind == "receipt" and signal.ref_to_message_id == exchange.message.message_id
