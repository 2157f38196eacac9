"""Keys as operators hold them on the command line (issue 14 item 1): a PKCS#12 identity serving and
sending over TLS, the password from ``AP_KEY_PASSWORD`` or ``--key-password-file``, one-line errors;
and the plain-HTTP warning printed once, a refused connection described without library text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from peppol.pki import load_identity
from tests.transport.test_receiver_support import Recorder, make_sbd
from transport.receiver import ReceiverConfig
from transport.server import RunningServer, create_app, start_server

runner = CliRunner()


@pytest.fixture(scope="module")
def tls_server(test_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A receiver whose identity is the PKCS#12 file ``ap pki init`` wrote, serving over TLS."""
    identity = load_identity(test_pki.aps[1].p12, password=test_pki.p12_password)
    recorder = Recorder()
    config = ReceiverConfig(
        identity=identity,
        validate_signer=test_pki.ap_validator().validate,
        ledger=recorder,
        work_dir=tmp_path_factory.mktemp("p12"),
    )
    running = start_server(
        create_app(config, recorder.hooks()),
        tls_cert=test_pki.tls_server_chain,
        tls_key=test_pki.tls_server.key,
        url_host="localhost",
    )
    yield running
    running.stop()


def _send(pki: Any, url: str, sbd: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    args = [
        "as4", "send", str(sbd), "--url", url, "--key", str(pki.aps[0].p12),
        "--receiver-cert", str(pki.aps[1].cert), "--trust", str(pki.ap_truststore), "--crl", str(pki.ap_crl),
        "--tls-ca", str(pki.tls_truststore), "--json", *extra,
    ]  # fmt: skip
    return runner.invoke(app, args, env={"AP_KEY_PASSWORD": None, **(env or {})})  # type: ignore[dict-item]


def test_pkcs12_identity_sends_and_receives_over_tls_with_the_password_from_the_environment(
    tls_server: RunningServer, test_pki: Any, tmp_path: Path
) -> None:
    sbd = tmp_path / "doc.sbd.xml"
    sbd.write_bytes(make_sbd())
    result = _send(test_pki, tls_server.url, sbd, env={"AP_KEY_PASSWORD": test_pki.p12_password.decode()})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["delivered"] is True


def test_password_from_a_file(tls_server: RunningServer, test_pki: Any, tmp_path: Path) -> None:
    sbd = tmp_path / "doc.sbd.xml"
    sbd.write_bytes(make_sbd())
    secret = tmp_path / "password.txt"
    secret.write_bytes(test_pki.p12_password + b"\n")
    result = _send(test_pki, tls_server.url, sbd, "--key-password-file", str(secret))
    assert result.exit_code == 0, result.output


def test_pkcs12_without_password_is_one_line_naming_the_fix(test_pki: Any, tmp_path: Path) -> None:
    sbd = tmp_path / "doc.sbd.xml"
    sbd.write_bytes(make_sbd())
    result = _send(test_pki, "https://localhost:9/as4", sbd)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("error: cannot load our key (--key):")
    assert "--key-password-file" in line and "AP_KEY_PASSWORD" in line
    assert "ParseError" not in result.output


def test_insecure_http_warns_once_and_a_refused_connection_is_described(
    test_pki: Any, tmp_path: Path
) -> None:
    sbd = tmp_path / "doc.sbd.xml"
    sbd.write_bytes(make_sbd())
    args = [
        "as4", "send", str(sbd), "--url", "http://127.0.0.1:9/as4", "--key", str(test_pki.aps[0].key),
        "--cert", str(test_pki.aps[0].cert), "--receiver-cert", str(test_pki.aps[1].cert),
        "--insecure-http", "--attempts", "2", "--retry-interval", "0",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.count("plain HTTP") == 1
    assert "cannot reach 127.0.0.1:9: Connection refused (ConnectionError)" in result.stdout
    assert "Max retries" not in result.output and "HTTPConnectionPool" not in result.output


def test_plain_http_without_the_flag_names_it(test_pki: Any, tmp_path: Path) -> None:
    sbd = tmp_path / "doc.sbd.xml"
    sbd.write_bytes(make_sbd())
    args = [
        "as4", "send", str(sbd), "--url", "http://127.0.0.1:9/as4", "--key", str(test_pki.aps[0].key),
        "--cert", str(test_pki.aps[0].cert), "--receiver-cert", str(test_pki.aps[1].cert),
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--insecure-http" in result.stderr
