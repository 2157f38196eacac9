"""Sender client: response classification, retries with identical bytes, URL and TLS policy.

The receiver side is our real ASGI server on loopback; HTTP answers that our receiver never gives
(SOAP Fault 500, plain 4xx/5xx, a receipt for another message) come from a pytest-httpserver stub.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer

from tests.transport.test_receiver_support import Recorder, body_of, build_message, receiver_config
from transport.as4 import build_error_signal
from transport.errors import NotServiced
from transport.sender import As4Sender, InsecureUrlError, Outcome
from transport.server import RunningServer, create_app, start_server

S12 = "http://www.w3.org/2003/05/soap-envelope"


class LoseFirstResponse:
    """ASGI wrapper: the real receiver processes every request, but the first answer is replaced by a
    502 (as if a proxy lost it). Records each request body."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recv() -> Any:
            msg = await receive()
            if msg["type"] == "http.request":
                chunks.append(msg.get("body", b""))
            return msg

        first = not self.bodies
        self.bodies.append(b"")
        index = len(self.bodies) - 1
        if first:

            async def swallow(msg: Any) -> None:
                return None

            await self.app(scope, recv, swallow)
            self.bodies[index] = b"".join(chunks)
            await send(
                {"type": "http.response.start", "status": 502, "headers": [(b"content-type", b"text/plain")]}
            )
            await send({"type": "http.response.body", "body": b"bad gateway"})
            return
        await self.app(scope, recv, send)
        self.bodies[index] = b"".join(chunks)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> Iterator[RunningServer]:
    config = receiver_config(test_pki, tmp_path_factory.mktemp("sender"), recorder=recorder)
    app = create_app(config, recorder.hooks())
    running = start_server(app)
    yield running
    running.stop()


@pytest.fixture
def client() -> Iterator[As4Sender]:
    with As4Sender(allow_http=True, connect_timeout=2, read_timeout=30) as c:
        yield c


def test_delivered_with_verified_receipt(server: RunningServer, client: As4Sender, test_pki: Any) -> None:
    message = build_message(test_pki)
    outcome = client.send(message, server.url, test_pki.aps[1].certificate())
    assert outcome.delivered, outcome
    assert outcome.receipt is not None and outcome.receipt.ref_to_message_id == message.message_id
    assert outcome.http_status == 200 and outcome.code is None and outcome.attempts == 1


def test_http_url_refused_without_insecure_flag(test_pki: Any) -> None:
    message = build_message(test_pki)
    with As4Sender() as strict:
        with pytest.raises(InsecureUrlError, match="plain HTTP"):
            strict.send(message, "http://127.0.0.1:9/as4", test_pki.aps[1].certificate())
        with pytest.raises(InsecureUrlError):
            strict.post(message, "ftp://example.org/as4", test_pki.aps[1].certificate())


def test_error_signal_with_http_200_is_permanent_failure_with_code(
    server: RunningServer, client: As4Sender, recorder: Recorder, test_pki: Any
) -> None:
    recorder.served = False
    try:
        outcome = client.send(
            build_message(test_pki), server.url, test_pki.aps[1].certificate(), sleep=_no_sleep
        )
    finally:
        recorder.served = True
    assert not outcome.delivered
    assert (outcome.code, outcome.detail) == ("EBMS:0004", "PEPPOL:NOT_SERVICED")
    assert not outcome.retryable and outcome.attempts == 1 and outcome.http_status == 200


def test_delivery_failure_0202_is_retryable(
    server: RunningServer, client: As4Sender, recorder: Recorder, test_pki: Any
) -> None:
    recorder.fail = True
    try:
        outcome = client.post(build_message(test_pki), server.url, test_pki.aps[1].certificate())
    finally:
        recorder.fail = False
    assert outcome.code == "EBMS:0202" and outcome.retryable and not outcome.delivered


def test_retry_reposts_identical_bytes_and_receiver_delivers_once(
    test_pki: Any, tmp_path: Path, client: As4Sender
) -> None:
    recorder = Recorder()
    config = receiver_config(test_pki, tmp_path, recorder=recorder)
    wrapper = LoseFirstResponse(create_app(config, recorder.hooks()))
    running = start_server(wrapper)  # type: ignore[arg-type]
    sleeps: list[float] = []
    try:
        message = build_message(test_pki)
        outcome = client.send(
            message,
            running.url,
            test_pki.aps[1].certificate(),
            attempts=3,
            retry_interval=7,
            sleep=sleeps.append,
        )
    finally:
        running.stop()
    assert outcome.delivered and outcome.attempts == 2
    assert sleeps == [7]
    assert len(wrapper.bodies) == 2
    assert wrapper.bodies[0] == wrapper.bodies[1] == body_of(message)
    assert [m.message_id for m in recorder.persisted] == [message.message_id]


def _no_sleep(seconds: float) -> None:
    return None


def test_plain_5xx_is_retryable_and_exhaustion_reports_missing_receipt(
    httpserver: HTTPServer, client: As4Sender, test_pki: Any
) -> None:
    httpserver.expect_request("/as4", method="POST").respond_with_data(
        "busy", status=503, content_type="text/plain"
    )
    sleeps: list[float] = []
    outcome = client.send(
        build_message(test_pki),
        httpserver.url_for("/as4"),
        test_pki.aps[1].certificate(),
        attempts=3,
        retry_interval=1.5,
        sleep=sleeps.append,
    )
    assert not outcome.delivered and outcome.retryable
    assert outcome.code == "EBMS:0301" and outcome.attempts == 3 and sleeps == [1.5, 1.5]
    assert outcome.http_status == 503
    assert len(httpserver.log) == 3


def test_plain_4xx_is_permanent(httpserver: HTTPServer, client: As4Sender, test_pki: Any) -> None:
    httpserver.expect_request("/as4").respond_with_data(
        "bad request: no", status=400, content_type="text/plain"
    )
    outcome = client.send(build_message(test_pki), httpserver.url_for("/as4"), test_pki.aps[1].certificate())
    assert not outcome.delivered and not outcome.retryable
    assert outcome.code is None and outcome.http_status == 400 and "bad request" in (outcome.detail or "")
    assert len(httpserver.log) == 1


def test_soap_fault_500_with_ebms_error_is_permanent_with_code(
    httpserver: HTTPServer, client: As4Sender, test_pki: Any
) -> None:
    message = build_message(test_pki)
    signal = build_error_signal(NotServiced(), ref_to_message_id=message.message_id, signer=None)
    root = etree.fromstring(signal)
    body = root.find(f"{{{S12}}}Body")
    assert body is not None
    fault = etree.SubElement(body, f"{{{S12}}}Fault")
    code = etree.SubElement(etree.SubElement(fault, f"{{{S12}}}Code"), f"{{{S12}}}Value")
    code.text = "S12:Receiver"
    reason = etree.SubElement(etree.SubElement(fault, f"{{{S12}}}Reason"), f"{{{S12}}}Text")
    reason.text = "not serviced"
    httpserver.expect_request("/as4").respond_with_data(
        etree.tostring(root), status=500, content_type="application/soap+xml"
    )
    outcome = client.send(message, httpserver.url_for("/as4"), test_pki.aps[1].certificate(), sleep=_no_sleep)
    assert not outcome.delivered and not outcome.retryable
    assert outcome.code == "EBMS:0004" and outcome.http_status == 500 and outcome.attempts == 1


def test_receipt_for_another_message_is_invalid_receipt(
    server: RunningServer, httpserver: HTTPServer, client: As4Sender, test_pki: Any
) -> None:
    other = client.post(build_message(test_pki), server.url, test_pki.aps[1].certificate())
    assert other.delivered and other.receipt_bytes
    httpserver.expect_request("/as4").respond_with_data(
        other.receipt_bytes, status=200, content_type="application/soap+xml"
    )
    outcome = client.send(build_message(test_pki), httpserver.url_for("/as4"), test_pki.aps[1].certificate())
    assert not outcome.delivered and not outcome.retryable
    assert outcome.code == "EBMS:0302"
    assert "receipt refers to" in (outcome.detail or ""), outcome.detail


def test_receipt_signed_by_unexpected_certificate_is_invalid(
    server: RunningServer, client: As4Sender, test_pki: Any
) -> None:
    outcome = client.post(build_message(test_pki), server.url, test_pki.aps[0].certificate())
    assert not outcome.delivered and outcome.code == "EBMS:0302"
    assert "signed with another certificate" in (outcome.detail or ""), outcome.detail


def test_connection_refused_is_retryable(client: As4Sender, test_pki: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = client.post(
        build_message(test_pki), f"http://127.0.0.1:{port}/as4", test_pki.aps[1].certificate()
    )
    assert not outcome.delivered and outcome.retryable and outcome.code == "EBMS:0005"
    assert outcome.http_status is None


def test_tls_handshake_cut_by_a_dying_server_is_retryable(test_pki: Any) -> None:
    """A server killed (or restarting) while a client's TLS handshake is under way closes the
    connection mid-handshake: the sender must try again later (a certificate it does not trust stays a
    permanent failure, never retried into a man in the middle: tests/transport/test_e2e.py)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def hang_up() -> None:  # reads the ClientHello, then closes cleanly: an EOF, not a reset
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        with As4Sender(connect_timeout=5, read_timeout=5) as client:
            url = f"https://127.0.0.1:{listener.getsockname()[1]}/as4"
            cut = client.post(build_message(test_pki), url, test_pki.aps[1].certificate())
    finally:
        thread.join(timeout=10)
        listener.close()
    assert not cut.delivered and cut.retryable and cut.code == "EBMS:0005", cut
    assert "TLS" in (cut.detail or "") and "closed during the TLS handshake" in (cut.detail or "")


def test_response_cut_short_by_a_dying_server_is_retryable(test_pki: Any) -> None:
    """The receiver dies while its answer is on the way (headers sent, body incomplete): the message
    may have been stored there, so the sender tries again (the resend is answered from its ledger)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def die_mid_answer() -> None:
        conn, _ = listener.accept()
        request = b""
        while b"\r\n\r\n" not in request:  # the whole request is read: the close is clean, not a reset
            request += conn.recv(65536)
        head, _, body = request.partition(b"\r\n\r\n")
        length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))[15:])
        while len(body) < length:
            body += conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5926\r\n\r\n<")
        conn.close()

    thread = threading.Thread(target=die_mid_answer, daemon=True)
    thread.start()
    try:
        with As4Sender(allow_http=True, read_timeout=5) as client:
            url = f"http://127.0.0.1:{listener.getsockname()[1]}/as4"
            outcome = client.post(build_message(test_pki), url, test_pki.aps[1].certificate())
    finally:
        thread.join(timeout=10)
        listener.close()
    assert not outcome.delivered and outcome.retryable and outcome.code == "EBMS:0005", outcome
    assert "broke during the response" in (outcome.detail or "")


def test_read_timeout_is_retryable(test_pki: Any) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)
        stop.wait(10)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        with As4Sender(allow_http=True, read_timeout=0.5) as slow:
            url = f"http://127.0.0.1:{listener.getsockname()[1]}/as4"
            outcome = slow.post(build_message(test_pki), url, test_pki.aps[1].certificate())
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
    assert not outcome.delivered and outcome.retryable and outcome.code == "EBMS:0005"
    assert "Timeout" in (outcome.detail or "")


def test_outcome_summary() -> None:
    assert Outcome(delivered=True).summary.startswith("delivered")
    failed = Outcome(delivered=False, code="EBMS:0004", detail="PEPPOL:NOT_SERVICED", http_status=200)
    assert "EBMS:0004" in failed.summary and "HTTP 200" in failed.summary


def test_receipt_in_multipart_related_response_is_verified(
    server: RunningServer, httpserver: HTTPServer, client: As4Sender, test_pki: Any
) -> None:
    """Some access points answer with the receipt as the root part of a MIME multipart/related body
    (as4.md §6.3): the sender must verify it from that body and its Content-Type."""
    message = build_message(test_pki)
    direct = client.post(message, server.url, test_pki.aps[1].certificate())
    assert direct.delivered and direct.receipt_bytes
    boundary = "MIMEBoundary_receipt_1"
    body = (
        (
            f"--{boundary}\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <root.receipt@ap>\r\n\r\n"
        ).encode()
        + direct.receipt_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="application/soap+xml"; start="<root.receipt@ap>"'
    )
    httpserver.expect_request("/as4").respond_with_data(body, status=200, content_type=content_type)
    outcome = client.post(message, httpserver.url_for("/as4"), test_pki.aps[1].certificate())
    assert outcome.delivered, outcome
    assert outcome.receipt is not None and outcome.receipt.ref_to_message_id == message.message_id


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (400, False)])
def test_error_signal_without_error_code_is_classified_by_http_status(
    test_pki: Any, status: int, retryable: bool
) -> None:
    """An eb:Error with no errorCode is not an ebMS answer: the HTTP status decides (before: code '',
    permanent failure even on HTTP 500)."""
    from tests.transport.test_as4_receipts import FAULT_ONLY

    body = FAULT_ONLY.replace(b'errorCode="EBMS:0004" ', b"", 1)
    with As4Sender() as sender:
        outcome = sender.classify(
            status, "application/soap+xml", body, build_message(test_pki), test_pki.aps[1].certificate()
        )
    assert not outcome.delivered and outcome.code is None
    assert outcome.retryable is retryable and outcome.http_status == status


def test_environment_is_read_once_when_no_proxy_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable: requests' per-post environment lookups (proxies, no_proxy, ~/.netrc) are
    switched off; a CA bundle named by the environment is still used."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/tmp/bundle.pem")
    with As4Sender() as sender:
        assert sender._session.trust_env is False
        assert sender._verify == "/tmp/bundle.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    with As4Sender() as sender:  # a proxy: requests keeps applying it (and no_proxy) per host
        assert sender._session.trust_env is True


def test_each_post_carries_its_own_headers_and_exact_bytes(
    httpserver: HTTPServer, client: As4Sender, test_pki: Any, tmp_path: Path
) -> None:
    """Posts go to the transport adapter from a per-URL request template (issue 11, sender CPU): each
    carries its own Content-Type and length, the session's User-Agent and the exact body, in memory
    or streamed from its spool file."""
    import dataclasses

    httpserver.expect_request("/as4", method="POST").respond_with_data("no", status=400)
    small = build_message(test_pki)
    spooled_file = tmp_path / "body.mime"
    spooled_file.write_bytes(build_message(test_pki).body or b"")
    other = build_message(test_pki)
    spooled = dataclasses.replace(other, body=None, body_path=spooled_file)
    url = httpserver.url_for("/as4")
    for message in (small, spooled, small):
        assert client.post(message, url, test_pki.aps[1].certificate()).http_status == 400
    for (request, _), message in zip(httpserver.log, (small, spooled, small), strict=True):
        with message.open_body() as fh:
            body = fh.read()
        assert request.headers["Content-Type"] == message.content_type
        assert request.headers["Content-Length"] == str(len(body)) and request.get_data() == body
        assert request.headers["User-Agent"] == "procurement-access-point-as4"
        assert request.headers["MIME-Version"] == "1.0"
