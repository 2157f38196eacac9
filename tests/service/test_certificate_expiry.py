"""Certificate expiry is reported before it bites: a WARNING from 30 days before notAfter, an ERROR from 7,
each once per threshold, and the days in ``ap_certificate_expiry_days``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from access_point.service.metrics import Metrics, expiry_level


def _certificate(days_left: float) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "POP000001")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=300))
        .not_valid_after(now + timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )


def _service(days_left: float) -> SimpleNamespace:
    return SimpleNamespace(
        identity=SimpleNamespace(certificate=_certificate(days_left)), config=SimpleNamespace(tls_cert=None)
    )


def test_expiry_levels_at_30_and_7_days() -> None:
    assert expiry_level(30.5) is None
    assert expiry_level(30) == logging.WARNING
    assert expiry_level(7.5) == logging.WARNING
    assert expiry_level(7) == logging.ERROR
    assert expiry_level(-1) == logging.ERROR


def test_a_certificate_expiring_in_20_days_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="access_point.service.metrics"):
        metrics = Metrics(_service(20))  # type: ignore[arg-type]
        days = metrics.check_certificates()
    warnings = [r for r in caplog.records if "expires in" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "identity certificate expires in 20 days" in warnings[0].getMessage()
    assert 19.9 < days["identity"] <= 20


def test_a_certificate_expiring_in_5_days_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="access_point.service.metrics"):
        Metrics(_service(5))  # type: ignore[arg-type]
    (record,) = [r for r in caplog.records if "expires in" in r.getMessage()]
    assert record.levelno == logging.ERROR and record.__dict__["days_to_expiry"] <= 5


def test_a_certificate_with_a_year_left_is_not_mentioned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="access_point.service.metrics"):
        Metrics(_service(365))  # type: ignore[arg-type]
    assert not [r for r in caplog.records if "expires in" in r.getMessage()]
