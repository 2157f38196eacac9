"""``ap pki`` commands: init writes the test PKI, check gives the verdict and the typed reason."""

from __future__ import annotations

import json
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
    assert "revocation: checked, not revoked" in out


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
    assert "revocation: UNKNOWN" in out  # the CRL was issued after that moment
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


# --- revocation made visible, JSON output, the network setting (issue 14 items 2, 3, 7) -------------


def _online_check(pki: TestPki, cert: Path, *extra: str) -> object:
    """``ap pki check`` fetching the CRL from the certificate's URL: loopback port 9 refuses at once."""
    return runner.invoke(app, ["pki", "check", str(cert), "-t", str(pki.ap_truststore), *extra])


def test_pki_check_soft_fail_on_unreachable_crl_is_a_warning_not_a_silent_ok(test_pki: TestPki) -> None:
    result = _online_check(test_pki, test_pki.revoked_ap.cert)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK with warnings:")
    assert "revocation: UNKNOWN" in result.stdout and "--revocation hard-fail" in result.stdout
    # the soft-fail is logged once on stderr (the peppol.pki WARNING record)
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "could not be checked" in warnings[0]


def test_pki_check_hard_fail_refuses_the_revoked_certificate_whose_crl_is_unreachable(
    test_pki: TestPki,
) -> None:
    result = _online_check(test_pki, test_pki.revoked_ap.cert, "--revocation", "hard-fail", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data == {
        "valid": False,
        "error": {"code": "revocation-unknown", "message": data["error"]["message"]},
    }
    assert "[revocation-unknown]" in result.stderr


def test_pki_check_json_shape(test_pki: TestPki) -> None:
    result = runner.invoke(
        app,
        [
            "pki",
            "check",
            str(test_pki.aps[0].cert),
            "-t",
            str(test_pki.ap_truststore),
            "--crl",
            str(test_pki.ap_crl),
            "--offline",
            "--json",
        ],
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == [
        "valid",
        "subject",
        "seat_id",
        "stage",
        "purpose",
        "chain",
        "revocation",
        "warnings",
    ]
    assert data["valid"] is True and data["seat_id"] == "PFR000001" and data["stage"] == "test"
    assert data["revocation"] == {"status": "checked", "policy": "soft-fail", "reason": None}
    assert len(data["chain"]) == 3 and data["warnings"] == []
    soft = json.loads(_online_check(test_pki, test_pki.revoked_ap.cert, "--json").stdout)
    assert soft["revocation"]["status"] == "unknown" and len(soft["warnings"]) == 1


def test_pki_check_unreadable_input_with_json_still_prints_json(tmp_path: Path, test_pki: TestPki) -> None:
    result = runner.invoke(app, ["pki", "check", str(tmp_path), "-t", str(test_pki.ap_truststore), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "usage"
    assert "Is a directory" in result.stderr and "Errno" not in result.stderr


def test_pki_check_trust_from_the_network_setting(test_pki: TestPki) -> None:
    missing = runner.invoke(app, ["pki", "check", str(test_pki.aps[0].cert)])
    assert missing.exit_code == 2
    assert "--truststore" in missing.stderr and "--network" in missing.stderr
    # a generated TEST certificate against the shipped OpenPeppol production CAs: wrong stage
    prod = runner.invoke(app, ["pki", "check", str(test_pki.aps[0].cert), "--network", "production"])
    assert prod.exit_code == 1 and "[wrong-stage]" in prod.stderr
    # the shipped test CAs do not know the generated CA: untrusted
    test = runner.invoke(app, ["pki", "check", str(test_pki.aps[0].cert), "--network", "test", "--offline"])
    assert test.exit_code == 1 and "[untrusted]" in test.stderr


def test_pki_show_json_shape(test_pki: TestPki) -> None:
    result = runner.invoke(app, ["pki", "show", str(test_pki.aps[0].cert), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == [
        "subject",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "seat_id",
        "issuer_stage",
        "issuer_purpose",
        "sha256",
    ]
    assert (
        data["seat_id"] == "PFR000001" and data["issuer_purpose"] == "ap" and data["issuer_stage"] == "test"
    )
