"""Slow and hostile clients are bounded (issue 10; conformance.md §12): a connection cap answered with
503, a request-head deadline (idle and slowloris connections closed, so they cannot hold the connection
slots), a body-read timeout answered with 408 (connection closed), a declared size over the cap refused
before the body is read, and a client that disconnects mid-upload costs one log line, no traceback.

Real sockets against the real ASGI app on loopback; no timing assertions beyond generous bounds.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.transport.test_receiver_support import Recorder, body_of, build_message, receiver_config
from transport.server import RunningServer, ServerLimits, create_app, start_server

CAP = 10
SLOW_CLIENTS = 50
IDLE_TIMEOUT = 1.0
BODY_TIMEOUT = 4.0
HEADER_TIMEOUT = 1.0
GENEROUS_HEADER_TIMEOUT = 30.0
DECLARED = 1024 * 1024
ANSWER_WITHIN = 60.0  # generous: a bound, not a timing measurement


def _serve(pki: Any, work: Path, header_timeout: float) -> RunningServer:
    limits = ServerLimits(
        max_connections=CAP,
        body_idle_timeout=IDLE_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
        header_timeout=header_timeout,
    )
    recorder = Recorder()
    app = create_app(receiver_config(pki, work, recorder=recorder), recorder.hooks(), limits=limits)
    return start_server(app, limits=limits)


@pytest.fixture
def server(test_pki: Any, tmp_path: Path) -> Iterator[RunningServer]:
    """Short body timeouts; the head deadline stays generous (a loaded machine may take a while to
    read the heads of 50 connections opened at once)."""
    running = _serve(test_pki, tmp_path, GENEROUS_HEADER_TIMEOUT)
    yield running
    running.stop()


@pytest.fixture
def strict_server(test_pki: Any, tmp_path: Path) -> Iterator[RunningServer]:
    """A short head deadline, for the idle/slowloris test."""
    running = _serve(test_pki, tmp_path, HEADER_TIMEOUT)
    yield running
    running.stop()


def _address(url: str) -> tuple[str, int]:
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    return host, int(port)


def _head(declared: int = DECLARED) -> bytes:
    return (
        "POST /as4 HTTP/1.1\r\nHost: test\r\n"
        'Content-Type: multipart/related; type="application/soap+xml"; boundary=b\r\n'
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the bound passes)."""
    sock.settimeout(ANSWER_WITHIN)
    data = b""
    deadline = time.monotonic() + ANSWER_WITHIN
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_slow_clients_get_503_past_the_cap_and_408_when_too_slow(
    server: RunningServer, test_pki: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """50 clients declare 1 MiB, send 64 KiB and stall: at most CAP are served at once (the others get
    503 straight away), each served one is dropped with 408 after the idle timeout; memory stays flat;
    afterwards the receiver still delivers a real message."""
    caplog.set_level(logging.INFO, logger="transport.server")
    address = _address(server.url)
    start_rss = _rss_kib()
    peak_rss = start_rss
    socks: list[socket.socket] = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(address, timeout=10)
        sock.sendall(_head() + b"x" * 65536)
        socks.append(sock)
    answers: list[bytes] = [b""] * len(socks)

    def read(i: int) -> None:
        answers[i] = _answer(socks[i])

    readers = [threading.Thread(target=read, args=(i,)) for i in range(len(socks))]
    for t in readers:
        t.start()
    while any(t.is_alive() for t in readers):
        peak_rss = max(peak_rss, _rss_kib())
        time.sleep(0.05)
    for sock in socks:
        sock.close()
    statuses = [a.split(b"\r\n", 1)[0] for a in answers]
    slow = [s for s in statuses if b" 408 " in s]
    busy = [s for s in statuses if b" 503 " in s]
    print(f"{len(slow)} x 408, {len(busy)} x 503, RSS growth {(peak_rss - start_rss) / 1024:.1f} MB")
    assert len(slow) + len(busy) == SLOW_CLIENTS, statuses
    # which requests get a slot depends on how fast the loop reads the heads (all 503 is fine too)
    assert len(slow) <= CAP and len(busy) >= SLOW_CLIENTS - CAP
    assert (peak_rss - start_rss) < 100 * 1024, f"RSS grew {(peak_rss - start_rss) / 1024:.0f} MB"
    too_slow = [r for r in caplog.records if "too slow" in r.getMessage()]
    assert len(too_slow) == len(slow) and all(r.exc_info is None for r in too_slow)
    # the receiver is fine afterwards
    message = build_message(test_pki)
    answer = requests.post(
        server.url, data=body_of(message), headers={"Content-Type": message.content_type}, timeout=30
    )
    assert answer.status_code == 200 and b"Receipt" in answer.content


def test_a_stalled_upload_gets_408_and_its_connection_closed(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="transport.server")
    sock = socket.create_connection(_address(server.url), timeout=10)
    sock.sendall(_head() + b"x" * 65536)  # then nothing more
    answer = _answer(sock)  # returns when the server closes the connection
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer.lower()
    (line,) = [r for r in caplog.records if "too slow" in r.getMessage()]
    assert line.exc_info is None


def test_client_disconnecting_mid_upload_is_one_log_line(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sock = socket.create_connection(_address(server.url), timeout=10)
    sock.sendall(_head() + b"x" * 100_000)
    time.sleep(0.2)
    sock.close()
    deadline = time.monotonic() + ANSWER_WITHIN
    while not any("disconnected" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        time.sleep(0.05)
    time.sleep(0.3)  # anything else it would log comes now
    lines = [r for r in caplog.records if r.name.startswith(("transport", "uvicorn", "starlette"))]
    assert len(lines) == 1, [(r.name, r.getMessage()) for r in lines]
    assert lines[0].exc_info is None and "\n" not in lines[0].getMessage()


def test_declared_length_over_the_cap_is_refused_before_reading(
    server: RunningServer, test_pki: Any
) -> None:
    limit = receiver_config(test_pki, Path()).mime_limits.max_total_bytes
    sock = socket.create_connection(_address(server.url), timeout=10)
    sock.sendall(_head(limit + 1))  # no body at all: the answer must not wait for it
    answer = _answer(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_idle_and_slowloris_connections_are_closed_and_free_their_slots(
    strict_server: RunningServer, test_pki: Any
) -> None:
    """CAP connections that send nothing or half a head would otherwise hold every slot forever (each
    new request answered 503): they are closed after the head deadline, then a real message goes in."""
    address = _address(strict_server.url)
    socks = [socket.create_connection(address, timeout=10) for _ in range(CAP)]
    for i, sock in enumerate(socks):
        if i % 2:
            sock.sendall(b"POST /as4 HTTP/1.1\r\nHost: slow\r\n")  # and never the rest
    answers = [_answer(sock) for sock in socks]  # returns once the server closed the connection
    for sock in socks:
        sock.close()
    assert answers == [b""] * CAP  # closed without a response, none left hanging
    message = build_message(test_pki)
    answer = requests.post(
        strict_server.url, data=body_of(message), headers={"Content-Type": message.content_type}, timeout=30
    )
    assert answer.status_code == 200 and b"Receipt" in answer.content
