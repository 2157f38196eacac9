"""Acceptance: our sender → ``ap as4 serve`` (the real CLI server in a child process, TLS on loopback
with the test PKI's TLS server certificate): delivered, receipt verified, payload byte-identical."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from access_point.cli import app
from tests.transport.test_receiver_support import (
    RECEIVER,
    Recorder,
    build_message,
    make_sbd,
    running_server,
    ubl_invoice,
)
from transport.sender import As4Sender
from transport.server import RunningServer

STARTUP_SECONDS = 60


@dataclass
class CliServer:
    url: str
    inbox: Path
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cli_server(test_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    work = tmp_path_factory.mktemp("serve")
    inbox, log = work / "inbox", work / "serve.log"
    port = _free_port()
    args = [
        sys.executable, "-m", "access_point.cli", "as4", "serve", "--port", str(port), "--host", "127.0.0.1",
        "--key", str(test_pki.aps[1].key), "--cert", str(test_pki.aps[1].cert),
        "--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl),
        "--tls-cert", str(test_pki.tls_server_chain), "--tls-key", str(test_pki.tls_server.key),
        "--inbox", str(inbox), "--participant", RECEIVER,
    ]  # fmt: skip
    with log.open("wb") as log_fh:
        process = subprocess.Popen(args, stdout=log_fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"ap as4 serve exited: {log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"ap as4 serve did not listen: {log.read_text()}")
                time.sleep(0.1)
        yield CliServer(f"https://localhost:{port}/as4", inbox, process, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def inbox_record(inbox: Path, message_id: str) -> tuple[Any, bytes | None]:
    """The ledger record of ``message_id`` in an ``ap as4 serve`` inbox and its stored SBD."""
    from access_point.store import open_store

    store = open_store(inbox)
    try:
        record = store.ledger.get_by_message_id(message_id)
        if record is None:
            return None, None
        with store.ledger.open_payload(record) as fh:
            return record, fh.read()
    finally:
        store.close()


def test_e2e_sender_to_ap_as4_serve_over_tls(cli_server: CliServer, test_pki: Any) -> None:
    sbd = make_sbd(ubl_invoice("end to end over TLS"))
    message = build_message(test_pki, sbd)
    validator = test_pki.ap_validator()
    with As4Sender(ca_bundle=test_pki.tls_truststore, validate_signer=validator.validate) as client:
        outcome = client.send(message, cli_server.url, test_pki.aps[1].certificate())
    assert outcome.delivered, outcome
    assert outcome.receipt is not None and outcome.receipt.ref_to_message_id == message.message_id
    record, stored = inbox_record(cli_server.inbox, message.message_id)
    assert stored == sbd
    assert record.receipt_id == outcome.receipt.message_id
    assert record.from_party == test_pki.aps[0].seat_id and record.to_party == test_pki.aps[1].seat_id
    assert record.country_c1 == "FR"
    assert "plain http" not in cli_server.log.read_text().lower()


def test_e2e_ap_as4_send_to_ap_as4_serve(cli_server: CliServer, test_pki: Any, tmp_path: Path) -> None:
    doc = tmp_path / "doc.sbd.xml"
    sbd = make_sbd(ubl_invoice("via both CLIs"))
    doc.write_bytes(sbd)
    result = CliRunner().invoke(
        app,
        [
            "as4", "send", str(doc), "--url", cli_server.url, "--json",
            "--key", str(test_pki.aps[0].key), "--cert", str(test_pki.aps[0].cert),
            "--receiver-cert", str(test_pki.aps[1].cert), "--trust", str(test_pki.ap_truststore),
            "--crl", str(test_pki.ap_crl), "--tls-ca", str(test_pki.tls_truststore),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert inbox_record(cli_server.inbox, report["message_id"])[1] == sbd


def test_e2e_untrusted_tls_server_is_not_delivered(cli_server: CliServer, test_pki: Any) -> None:
    message = build_message(test_pki)
    with As4Sender() as client:  # system roots: the test TLS CA is not among them
        outcome = client.send(message, cli_server.url, test_pki.aps[1].certificate(), attempts=3)
    assert not outcome.delivered and not outcome.retryable and outcome.attempts == 1
    assert outcome.code == "EBMS:0005" and "TLS" in (outcome.detail or "")
    assert inbox_record(cli_server.inbox, message.message_id) == (None, None)


# --- property: round trips over payload sizes and contents (in-thread TLS server) ---


@pytest.fixture(scope="module")
def tls_recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def tls_server(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, tls_recorder: Recorder
) -> Iterator[RunningServer]:
    yield from running_server(test_pki, tmp_path_factory.mktemp("tls"), tls_recorder, tls=True)


@pytest.fixture(scope="module")
def tls_client(test_pki: Any) -> Iterator[As4Sender]:
    with As4Sender(ca_bundle=test_pki.tls_truststore) as client:
        yield client


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=300)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, repeat=st.sampled_from([1, 10, 1000, 20000]))
def test_round_trip_property_payload_arrives_byte_identical(
    tls_server: RunningServer,
    tls_recorder: Recorder,
    tls_client: As4Sender,
    test_pki: Any,
    text: str,
    repeat: int,
) -> None:
    note = escape(text) * repeat
    sbd = make_sbd(ubl_invoice(note))
    message = build_message(test_pki, sbd)
    outcome = tls_client.post(message, tls_server.url, test_pki.aps[1].certificate())
    assert outcome.delivered, outcome
    received = next(m for m in tls_recorder.persisted if m.message_id == message.message_id)
    assert tls_recorder.payloads[tls_recorder.persisted.index(received)] == sbd


# --- large message memory (the 100 MB figure is measured by benches/as4.py) ---


@pytest.mark.slow
def test_large_payload_streams_with_bounded_memory_on_both_sides(test_pki: Any, tmp_path: Path) -> None:
    from benches.as4 import large_run

    result = large_run(test_pki, tmp_path, 48)
    assert result["delivered"] and result["payload_byte_identical"]
    assert result["sender_peak_rss_growth_mb"] < 64
    assert result["receiver_peak_rss_growth_mb"] < 64


# --- TLS policy of the served endpoint (conformance.md §12 item 11) ---


def _handshake(url: str, ca: Path, configure: Any) -> tuple[str | None, str]:
    """Handshake with the served endpoint; returns the negotiated protocol version and cipher name."""
    import ssl

    host, port = url.split("//")[1].split("/")[0].split(":")
    context = ssl.create_default_context(cafile=str(ca))
    configure(context)
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        cipher = tls.cipher()
        assert cipher is not None
        return tls.version(), cipher[0]


def _old_client(case: str) -> Any:
    """Client settings offering only TLS 1.1 or only non-forward-secret TLS 1.2 suites."""
    import ssl

    def configure(ctx: ssl.SSLContext) -> None:
        if case == "tls1.1":
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        else:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("AES128-SHA:AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384")

    return configure


def test_tls12_with_forward_secrecy_is_accepted(cli_server: CliServer, test_pki: Any) -> None:
    import ssl

    def tls12_ecdhe(ctx: ssl.SSLContext) -> None:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE+AESGCM")

    version, cipher = _handshake(cli_server.url, test_pki.tls_truststore, tls12_ecdhe)
    assert version == "TLSv1.2"
    assert cipher.startswith("ECDHE-") and "GCM" in cipher, cipher


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", ["tls1.1", "rsa-key-exchange"])
def test_old_protocols_and_non_pfs_ciphers_are_refused(
    cli_server: CliServer, test_pki: Any, case: str
) -> None:
    import ssl

    # the control test below shows these client settings work against a server that allows them, so
    # the refusal is the endpoint's policy; a certificate-trust failure would be the wrong reason
    with pytest.raises((ssl.SSLError, ConnectionResetError)) as info:
        _handshake(cli_server.url, test_pki.tls_truststore, _old_client(case))
    assert not isinstance(info.value, ssl.SSLCertVerificationError), info.value


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", ["tls1.1", "rsa-key-exchange"])
def test_refusal_control_the_old_client_settings_work_against_a_permissive_server(
    test_pki: Any, case: str
) -> None:
    """Control for the test above: the same client settings complete a handshake with a plain
    ``ssl`` server that allows them, so a refusal there is the served endpoint's policy, not the
    client's local OpenSSL refusing to offer the protocol."""
    import ssl
    import threading

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(test_pki.tls_server_chain), str(test_pki.tls_server.key))
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1
    server_ctx.set_ciphers("ALL:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_one() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()

    try:
        version, cipher = _handshake(
            f"https://localhost:{port}/as4", test_pki.tls_truststore, _old_client(case)
        )
    finally:
        thread.join(timeout=10)
        listener.close()
    if case == "tls1.1":
        assert version == "TLSv1.1"
    else:
        assert version == "TLSv1.2" and not cipher.startswith(("ECDHE", "DHE")), cipher
