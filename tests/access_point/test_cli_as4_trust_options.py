"""``ap as4 send|serve`` take the trust settings of the service configuration (issue 14): ``--network
test|production`` (the shipped OpenPeppol CAs where ``--trust`` is not given), ``--revocation
hard-fail|soft-fail|off`` and, on ``send``, ``--receipt-signer same-certificate|same-seat`` — the same
values and the same code (``peppol.pki.trust_file`` + ``smp_client.setup.load_validator``,
``transport.as4.ReceiptSignerPolicy``) as ``[trust] network``/``revocation``/``receipt_signer``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from access_point.cli.as4_cmd import ReceiptSigner
from access_point.cli.lookup_cmd import NetworkChoice, Revocation
from access_point.service.config import NETWORKS, RECEIPT_SIGNERS, REVOCATION_POLICIES
from peppol.pki import IdentitySet, RevocationPolicy, Stage
from tests.transport.test_receiver_support import RECEIVER, Recorder, make_sbd
from transport.as4 import ReceiptSignerPolicy
from transport.receiver import ReceiverConfig
from transport.server import RunningServer, create_app, start_server

runner = CliRunner()


@pytest.fixture(scope="module")
def renewing(test_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Any]]:
    """A receiver in the middle of a certificate renewal: it signs with its NEW certificate and still
    decrypts for the OLD one, which senders with cached SMP data encrypt for."""
    new = test_pki.renewed_ap(1)
    recorder = Recorder()
    config = ReceiverConfig(
        identity=IdentitySet.of_identities(new, [test_pki.aps[1].identity()]),
        validate_signer=test_pki.ap_validator().validate,
        ledger=recorder,
        work_dir=tmp_path_factory.mktemp("renewing"),
    )
    running = start_server(create_app(config, recorder.hooks()))
    yield running, new
    running.stop()


def _send(pki: Any, url: str, tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> Any:
    sbd = tmp_path / "doc.sbd.xml"
    sbd.write_bytes(make_sbd())
    args = [
        "as4", "send", str(sbd), "--url", url, "--insecure-http", "--json",
        "--key", str(pki.aps[0].key), "--cert", str(pki.aps[0].cert),
        "--receiver-cert", str(pki.aps[1].cert), *options,
    ]  # fmt: skip
    return runner.invoke(app, args, env=env)


def test_the_options_take_the_values_of_the_service_configuration() -> None:
    assert [choice.value for choice in ReceiptSigner] == list(RECEIPT_SIGNERS)
    assert [p.value for p in ReceiptSignerPolicy] == list(RECEIPT_SIGNERS)
    assert [choice.value for choice in Revocation] == list(REVOCATION_POLICIES)
    assert {p.value for p in RevocationPolicy} == set(REVOCATION_POLICIES)
    assert [choice.value for choice in NetworkChoice] == list(NETWORKS) == [s.value for s in Stage]


def test_receipt_signed_by_the_receivers_renewed_certificate_is_refused_strictly_accepted_same_seat(
    renewing: tuple[RunningServer, Any], test_pki: Any, tmp_path: Path
) -> None:
    server, _new = renewing
    trust = ("--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl))
    strict = _send(test_pki, server.url, tmp_path, *trust)
    assert strict.exit_code == 1, strict.output
    report = json.loads(strict.stdout)
    assert report["delivered"] is False and "another certificate" in report["detail"]
    # $AP_KEY_PASSWORD (for other, encrypted keys) is not given to our clear PEM key
    same_seat = _send(
        test_pki, server.url, tmp_path, *trust, "--receipt-signer", "same-seat", env={"AP_KEY_PASSWORD": ""}
    )
    assert same_seat.exit_code == 0, same_seat.output
    assert json.loads(same_seat.stdout)["delivered"] is True


def test_receipt_signer_same_seat_needs_the_ap_trust(test_pki: Any, tmp_path: Path) -> None:
    result = _send(test_pki, "http://127.0.0.1:9/as4", tmp_path, "--receipt-signer", "same-seat")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --receipt-signer same-seat needs --trust or --network (the signer is validated)"
    )


def test_network_trusts_the_shipped_openpeppol_cas_and_a_trust_file_wins(
    renewing: tuple[RunningServer, Any], test_pki: Any, tmp_path: Path
) -> None:
    # the generated test PKI is not OpenPeppol's: under --network test the receiver is untrusted
    result = _send(test_pki, "http://127.0.0.1:9/as4", tmp_path, "--network", "test")
    assert result.exit_code == 2 and "receiver certificate rejected" in result.stderr
    server, _new = renewing
    result = _send(
        test_pki, server.url, tmp_path, "--network", "production", "--receipt-signer", "same-seat",
        "--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl),
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_revocation_hard_fail_refuses_an_unverifiable_receiver_soft_fail_sends(
    renewing: tuple[RunningServer, Any], test_pki: Any, tmp_path: Path
) -> None:
    """Without --crl the CRL is fetched from the certificate's URL, which does not answer here."""
    server, _new = renewing
    trust = ("--trust", str(test_pki.ap_truststore), "--receipt-signer", "same-seat")
    hard = _send(test_pki, server.url, tmp_path, *trust, "--revocation", "hard-fail")
    assert hard.exit_code == 2 and "receiver certificate rejected" in hard.stderr
    assert "revocation" in hard.stderr
    soft = _send(test_pki, server.url, tmp_path, *trust, "--revocation", "soft-fail")
    assert soft.exit_code == 0, soft.output


def _serve(pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[Any, list[Any]]:
    import transport.server

    calls: list[Any] = []
    monkeypatch.setattr(transport.server, "run_server", lambda app_, **kw: calls.append(kw))
    args = [
        "as4", "serve", "--port", "8089", "--inbox", str(tmp_path / "in"), "--participant", RECEIVER,
        "--key", str(pki.aps[1].key), "--cert", str(pki.aps[1].cert), *options,
    ]  # fmt: skip
    return runner.invoke(app, args), calls


def test_serve_takes_network_and_revocation(
    test_pki: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, calls = _serve(test_pki, tmp_path, monkeypatch)
    assert result.exit_code == 2 and calls == []
    assert result.stderr.strip() == "error: give the AP trust: --trust FILE or --network test|production"
    # our test certificate is not one of OpenPeppol's TEST CAs: the self-check says so, the server starts
    result, calls = _serve(test_pki, tmp_path, monkeypatch, "--network", "test")
    assert result.exit_code == 0, result.output
    assert "does not validate against the AP trust" in result.stderr and len(calls) == 1
    offline = ("--trust", str(test_pki.ap_truststore), "--revocation", "hard-fail")
    result, calls = _serve(test_pki, tmp_path, monkeypatch, *offline, "--crl", str(test_pki.ap_crl))
    assert result.exit_code == 0 and "does not validate" not in result.stderr
    result, _ = _serve(test_pki, tmp_path, monkeypatch, *offline)  # no CRL, none fetchable: hard-fail
    assert result.exit_code == 0 and "does not validate" in result.stderr
    result, _ = _serve(
        test_pki, tmp_path, monkeypatch, "--trust", str(test_pki.ap_truststore), "--revocation", "x"
    )
    assert result.exit_code == 2 and "hard-fail" in result.output
