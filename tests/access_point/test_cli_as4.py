"""``ap as4 send`` / ``ap as4 serve`` command layer (exit codes, output, input errors).

The full serve-in-a-subprocess + TLS acceptance lives in ``tests/transport/test_e2e.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from tests.transport.test_receiver_support import (
    DOCTYPE,
    PROCESS,
    RECEIVER,
    SENDER,
    Recorder,
    make_sbd,
    receiver_config,
    ubl_invoice,
)
from transport.server import RunningServer, create_app, start_server

runner = CliRunner()


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> Iterator[RunningServer]:
    running = start_server(
        create_app(
            receiver_config(test_pki, tmp_path_factory.mktemp("cli"), recorder=recorder), recorder.hooks()
        )
    )
    yield running
    running.stop()


def base_args(pki: Any, url: str) -> list[str]:
    return [
        "as4", "send", "--url", url,
        "--key", str(pki.aps[0].key), "--cert", str(pki.aps[0].cert),
        "--receiver-cert", str(pki.aps[1].cert),
        "--trust", str(pki.ap_truststore), "--crl", str(pki.ap_crl),
    ]  # fmt: skip


def test_send_sbd_delivered_exit_0(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    sbd = make_sbd()
    path = tmp_path / "doc.sbd.xml"
    path.write_bytes(sbd)
    result = runner.invoke(app, [*base_args(test_pki, server.url), str(path), "--insecure-http"])
    assert result.exit_code == 0, result.output
    assert "delivered" in result.stdout and "verified" in result.stdout
    assert sbd in recorder.payloads


def test_send_bare_ubl_builds_sbdh_and_prints_json(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    path = tmp_path / "invoice.xml"
    path.write_bytes(ubl_invoice("bare document"))
    args = [
        *base_args(test_pki, server.url), str(path), "--insecure-http", "--json",
        "--sender", SENDER, "--receiver", RECEIVER, "--country-c1", "SE",
        "--doctype", DOCTYPE, "--process", PROCESS,
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["delivered"] is True and report["receipt_id"]
    received = next(m for m in recorder.persisted if m.message_id == report["message_id"])
    assert received.country_c1 == "SE"
    assert any(b"bare document" in p and b"StandardBusinessDocument" in p for p in recorder.payloads)


def test_send_failure_outcome_exit_1(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    path = tmp_path / "doc.sbd.xml"
    path.write_bytes(make_sbd())
    recorder.served = False
    try:
        result = runner.invoke(
            app, [*base_args(test_pki, server.url), str(path), "--insecure-http", "--json"]
        )
    finally:
        recorder.served = True
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["delivered"] is False
    assert (report["code"], report["detail"]) == ("EBMS:0004", "PEPPOL:NOT_SERVICED")


def test_send_plain_http_without_flag_exit_2(server: RunningServer, test_pki: Any, tmp_path: Path) -> None:
    path = tmp_path / "doc.sbd.xml"
    path.write_bytes(make_sbd())
    result = runner.invoke(app, [*base_args(test_pki, server.url), str(path)])
    assert result.exit_code == 2
    assert "plain HTTP" in result.stderr


def test_send_bare_document_without_parties_exit_2(test_pki: Any, tmp_path: Path) -> None:
    path = tmp_path / "invoice.xml"
    path.write_bytes(ubl_invoice())
    result = runner.invoke(app, [*base_args(test_pki, "https://localhost:1/as4"), str(path)])
    assert result.exit_code == 2
    assert "--country-c1" in result.stderr


def test_send_missing_file_exit_2(test_pki: Any, tmp_path: Path) -> None:
    result = runner.invoke(app, [*base_args(test_pki, "https://localhost:1/as4"), str(tmp_path / "nope.xml")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and "nope.xml" in result.stderr
    assert "No such file" in result.stderr


def test_send_revoked_receiver_certificate_exit_2(test_pki: Any, tmp_path: Path) -> None:
    path = tmp_path / "doc.sbd.xml"
    path.write_bytes(make_sbd())
    args = base_args(test_pki, "https://localhost:1/as4")
    args[args.index("--receiver-cert") + 1] = str(test_pki.revoked_ap.cert)
    result = runner.invoke(app, [*args, str(path)])
    assert result.exit_code == 2
    assert "receiver certificate rejected" in result.stderr


def test_serve_tls_cert_without_key_exit_2(test_pki: Any, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "as4", "serve", "--port", "0",
            "--key", str(test_pki.aps[1].key), "--cert", str(test_pki.aps[1].cert),
            "--trust", str(test_pki.ap_truststore), "--inbox", str(tmp_path / "in"),
            "--participant", RECEIVER,
            "--tls-cert", str(test_pki.tls_server_chain),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--tls-key" in result.stderr


def test_serve_plain_http_prints_loud_warning_and_builds_the_app(
    test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transport.server

    calls: list[dict[str, Any]] = []

    def fake_run_server(app_: Any, **kw: Any) -> None:  # unit test: don't block on a real server
        calls.append({"app": app_, **kw})

    monkeypatch.setattr(transport.server, "run_server", fake_run_server)
    result = runner.invoke(
        app,
        [
            "as4", "serve", "--port", "8089",
            "--key", str(test_pki.aps[1].key), "--cert", str(test_pki.aps[1].cert),
            "--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl),
            "--inbox", str(tmp_path / "in"),
            "--participant", RECEIVER,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr and "PLAIN HTTP" in result.stderr
    assert "does not validate" not in result.stderr
    assert calls and calls[0]["port"] == 8089 and calls[0]["host"] == "127.0.0.1"
    assert calls[0]["tls_cert"] is None
    assert (tmp_path / "in").is_dir()


def test_serve_unreadable_key_exit_2(test_pki: Any, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "as4", "serve", "--port", "8089",
            "--key", str(tmp_path / "missing.key"), "--cert", str(test_pki.aps[1].cert),
            "--trust", str(test_pki.ap_truststore), "--inbox", str(tmp_path / "in"),
            "--participant", RECEIVER,
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot load" in result.stderr


def test_serve_bad_tls_key_exit_2(test_pki: Any, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "as4", "serve", "--port", "8089",
            "--key", str(test_pki.aps[1].key), "--cert", str(test_pki.aps[1].cert),
            "--trust", str(test_pki.ap_truststore), "--inbox", str(tmp_path / "in"),
            "--participant", RECEIVER,
            "--tls-cert", str(test_pki.tls_server_chain), "--tls-key", str(test_pki.aps[1].key),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot load" in result.stderr


def test_send_crl_without_trust_is_a_usage_error(test_pki: Any, tmp_path: Path) -> None:
    """A CRL without the AP trust store would silently skip revocation: refused before sending."""
    path = tmp_path / "doc.sbd.xml"
    path.write_bytes(make_sbd())
    args = base_args(test_pki, "https://localhost:1/as4")
    i = args.index("--trust")
    del args[i : i + 2]
    result = runner.invoke(app, [*args, str(path)])
    assert result.exit_code == 2
    assert "--crl needs --trust" in result.stderr


def serve_with(
    pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[Any, list[dict[str, Any]]]:
    """``ap as4 serve`` with ``extra`` options, ``run_server`` replaced (unit test: nothing listens)."""
    import transport.server

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(transport.server, "run_server", lambda app_, **kw: calls.append({"app": app_, **kw}))
    result = runner.invoke(
        app,
        [
            "as4", "serve", "--port", "8089",
            "--key", str(pki.aps[1].key), "--cert", str(pki.aps[1].cert),
            "--trust", str(pki.ap_truststore), "--crl", str(pki.ap_crl),
            "--inbox", str(tmp_path / "in"), *extra,
        ],
    )  # fmt: skip
    return result, calls


def test_serve_refuses_to_start_without_served_participants(
    test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, calls = serve_with(test_pki, tmp_path, monkeypatch)
    assert result.exit_code == 2 and calls == []
    assert "--participant" in result.stderr and "--serve-any" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_any_is_loud(test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result, calls = serve_with(test_pki, tmp_path, monkeypatch, "--serve-any")
    assert result.exit_code == 0, result.output
    assert "WARNING: --serve-any" in result.stderr and len(calls) == 1
    both, _ = serve_with(test_pki, tmp_path, monkeypatch, "--serve-any", "--participant", RECEIVER)
    assert both.exit_code == 2


def test_participants_file_lists_served_participants_and_names_a_bad_line(
    test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from access_point.cli.as4_cmd import served_participants
    from peppol.identifiers import ParticipantId

    listing = tmp_path / "served.txt"
    listing.write_text(f"# our platforms\n{RECEIVER}\n\n0088:5798000000002  # scheme added\n")
    assert served_participants(["0009:78430177200025"], listing) == {
        ParticipantId.parse(RECEIVER),
        ParticipantId.parse("iso6523-actorid-upis::0088:5798000000002"),
        ParticipantId.parse("iso6523-actorid-upis::0009:78430177200025"),
    }
    result, calls = serve_with(test_pki, tmp_path, monkeypatch, "--participants-file", str(listing))
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    listing.write_text(f"{RECEIVER}\nnot a participant\n")
    bad, _ = serve_with(test_pki, tmp_path, monkeypatch, "--participants-file", str(listing))
    assert bad.exit_code == 2 and f"{listing}:2" in bad.stderr


def test_inbox_lists_the_ledger_records(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    """``ap as4 inbox`` reads what ``ap as4 serve`` stored (here written through the store library)."""
    import io

    from access_point.store import open_store
    from tests.transport.test_receiver_support import body_of, build_message
    from transport.receiver import CallbackHooks, receive

    inbox = tmp_path / "inbox"
    store = open_store(inbox)
    message = build_message(test_pki)
    config = receiver_config(test_pki, tmp_path, ledger=store.ledger)
    receive({"Content-Type": message.content_type}, io.BytesIO(body_of(message)), config, CallbackHooks())
    store.close()
    result = runner.invoke(app, ["as4", "inbox", str(inbox), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["message_id"] == message.message_id and row["receiver"] == RECEIVER
    assert Path(row["payload"]).read_bytes().startswith(b"<?xml")
    empty = runner.invoke(app, ["as4", "inbox", str(tmp_path / "nothing")])
    assert empty.exit_code == 2 and "not an `ap as4 serve` inbox" in empty.stderr


def test_send_retries_a_retryable_failure_with_the_same_message(test_pki: Any, tmp_path: Path) -> None:
    """Nothing listens: each attempt fails retryably; --attempts bounds the posts; exit 1."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "doc.sbd.xml"
    path.write_bytes(make_sbd())
    args = base_args(test_pki, f"http://127.0.0.1:{port}/as4")
    result = runner.invoke(
        app, [*args, str(path), "--insecure-http", "--json", "--attempts", "3", "--retry-interval", "0"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["attempts"] == 3 and report["retryable"] and not report["delivered"]
    assert report["code"] == "EBMS:0005" and report["http_status"] is None
