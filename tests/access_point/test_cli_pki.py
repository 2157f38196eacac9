"""``ap pki`` commands: init writes the test PKI, check gives the verdict and the typed reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from peppol.testpki import TestPki

runner = CliRunner()


def test_pki_init_writes_files_and_prints_roles(tmp_path: Path) -> None:
    target = tmp_path / "pki"
    result = runner.invoke(app, ["pki", "init", str(target), "--aps", "3"])
    assert result.exit_code == 0, result.output
    for name in (
        "root-ca.pem",
        "ap-PFR000003.p12",
        "ap-truststore.pem",
        "ap-ca.crl",
        "tls-server.pem",
        "README.txt",
    ):
        assert (target / name).is_file()
        assert name in result.output
    assert not (target / "ap-PFR000004.pem").exists()


def test_pki_init_refuses_existing_pki_without_force(tmp_path: Path) -> None:
    target = tmp_path / "pki"
    assert runner.invoke(app, ["pki", "init", str(target), "--aps", "1"]).exit_code == 0
    before = (target / "root-ca.pem").read_bytes()
    refused = runner.invoke(app, ["pki", "init", str(target), "--aps", "1"])
    assert refused.exit_code == 2
    assert "--force" in refused.output
    assert (target / "root-ca.pem").read_bytes() == before
    forced = runner.invoke(app, ["pki", "init", str(target), "--aps", "1", "--force"])
    assert forced.exit_code == 0
    assert (target / "root-ca.pem").read_bytes() != before


def test_pki_init_rejects_a_file_as_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = runner.invoke(app, ["pki", "init", str(target)])
    assert result.exit_code == 2
    assert "not a directory" in result.output


def _check(pki: TestPki, cert: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "pki",
            "check",
            str(cert),
            "-t",
            str(pki.ap_truststore),
            "--crl",
            str(pki.ap_crl),
            "--offline",
            *extra,
        ],
    )
    return result.exit_code, result.output


def test_pki_check_accepts_valid_ap_certificate(test_pki: TestPki) -> None:
    code, out = _check(test_pki, test_pki.aps[0].cert)
    assert code == 0, out
    assert "seat id: PFR000001" in out
    assert "revocation checked: yes" in out


@pytest.mark.parametrize(
    ("which", "extra", "code"),
    [
        ("revoked_ap", (), "revoked"),
        ("expired_ap", (), "expired"),
        ("smp", (), "wrong-purpose"),
        ("ap", ("--stage", "production"), "wrong-stage"),
    ],
)
def test_pki_check_rejects_with_typed_reason(
    test_pki: TestPki, which: str, extra: tuple[str, ...], code: str
) -> None:
    cert = test_pki.aps[0].cert if which == "ap" else getattr(test_pki, which).cert
    exit_code, out = _check(test_pki, cert, *extra)
    assert exit_code == 1
    assert f"[{code}]" in out


def test_pki_check_unreadable_input_is_usage_error(tmp_path: Path, test_pki: TestPki) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    exit_code, out = _check(test_pki, bogus)
    assert exit_code == 2
    assert out.startswith("error: not a PEM certificate")
    missing = runner.invoke(
        app, ["pki", "check", str(tmp_path / "nope.pem"), "-t", str(test_pki.ap_truststore)]
    )
    assert missing.exit_code == 2
    assert missing.output.startswith("error: cannot read") and "nope.pem" in missing.output


def test_pki_show_prints_seat_and_issuer_reading(test_pki: TestPki) -> None:
    result = runner.invoke(app, ["pki", "show", str(test_pki.smp.cert)])
    assert result.exit_code == 0
    assert "PFR000501" in result.output
    assert "smp" in result.output and "test" in result.output


def test_pki_check_at_a_past_moment_accepts_the_then_valid_certificate(test_pki: TestPki) -> None:
    expired = test_pki.expired_ap.certificate()
    at = (expired.not_valid_after_utc - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    code, out = _check(test_pki, test_pki.expired_ap.cert, "--at", at)
    assert code == 0, out
    assert "PFR000999" in out
    assert "revocation checked: no" in out  # the CRL was issued after that moment
    code, out = _check(test_pki, test_pki.expired_ap.cert)
    assert code == 1 and "[expired]" in out


def test_pki_check_garbage_crl_is_usage_error(tmp_path: Path, test_pki: TestPki) -> None:
    bad = tmp_path / "bad.crl"
    bad.write_bytes(b"garbage")
    result = runner.invoke(
        app, ["pki", "check", str(test_pki.aps[0].cert), "-t", str(test_pki.ap_truststore), "--crl", str(bad)]
    )
    assert result.exit_code == 2
    assert "CRL" in result.output
