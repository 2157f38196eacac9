"""The ``/as4`` ASGI app over real HTTP: chunked transfer coding, methods, size cap without a length."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.transport.test_receiver_support import Recorder, body_of, build_message, running_server
from transport.as4 import parse_signal, verify_receipt
from transport.mime import MimeLimits
from transport.server import RunningServer


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> Iterator[RunningServer]:
    limits = MimeLimits(max_total_bytes=512 * 1024)
    yield from running_server(test_pki, tmp_path_factory.mktemp("http"), recorder, mime_limits=limits)


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_chunked_transfer_encoding_is_accepted(
    server: RunningServer, recorder: Recorder, test_pki: Any
) -> None:
    message = build_message(test_pki)
    response = requests.post(
        server.url,
        data=_chunks(body_of(message), 997),
        headers={"Content-Type": message.content_type},
        timeout=60,
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200
    receipt = verify_receipt(
        response.content, sent=message, receiver_certificate=test_pki.aps[1].certificate()
    )
    assert receipt.ref_to_message_id == message.message_id
    assert message.message_id in {m.message_id for m in recorder.persisted}


def test_chunked_body_over_the_cap_is_413(server: RunningServer, recorder: Recorder) -> None:
    blob = b"x" * (600 * 1024)
    response = requests.post(
        server.url,
        data=_chunks(blob, 64 * 1024),
        headers={"Content-Type": "application/soap+xml"},
        timeout=60,
    )
    assert response.status_code == 413


def test_get_is_not_allowed(server: RunningServer) -> None:
    assert requests.get(server.url, timeout=30).status_code == 405


def test_not_soap_is_plain_text_415(server: RunningServer) -> None:
    response = requests.post(server.url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 415
    assert response.headers["Content-Type"].startswith("text/plain")


def test_error_answer_is_signed_signal_with_http_200(
    server: RunningServer, recorder: Recorder, test_pki: Any
) -> None:
    recorder.served = False
    try:
        message = build_message(test_pki)
        response = requests.post(
            server.url, data=body_of(message), headers={"Content-Type": message.content_type}, timeout=60
        )
    finally:
        recorder.served = True
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    signal = parse_signal(response.content)
    assert signal.kind == "error" and signal.signed
    assert signal.errors[0].ref_to_message_in_error == message.message_id
