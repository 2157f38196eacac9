"""Revocation over the network: CRL over HTTP and a real tiny OCSP responder, both on loopback
(pytest-httpserver), plus soft-fail vs hard-fail when the responder is unreachable."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from peppol.pki import (
    CertificateRevoked,
    CertificateValidator,
    Identity,
    RevocationPolicy,
    RevocationUnknown,
)
from peppol.testpki import TestPki, _name, build_crl, issue_certificate, new_key


@dataclass
class Responder:
    """A loopback OCSP responder signing with the AP CA key (CA-signed responses, RFC 6960 §4.2.2.2)."""

    ca: Identity
    revoked: set[int]
    requests: int = 0

    def __call__(self, request: Request) -> Response:
        self.requests += 1
        req = ocsp.load_der_ocsp_request(request.get_data())
        now = datetime.now(UTC).replace(microsecond=0)
        revoked = req.serial_number in self.revoked
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=req.issuer_name_hash,
            issuer_key_hash=req.issuer_key_hash,
            serial_number=req.serial_number,
            algorithm=req.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - timedelta(minutes=5),
            next_update=now + timedelta(hours=1),
            revocation_time=now - timedelta(hours=1) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca.certificate)
        for ext in req.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        response = builder.sign(self.ca.private_key, hashes.SHA256())
        return Response(
            response.public_bytes(serialization.Encoding.DER), content_type="application/ocsp-response"
        )


def _leaf(
    test_pki: TestPki, cn: str, *, crl_url: str | None = None, ocsp_url: str | None = None
) -> x509.Certificate:
    start = test_pki.aps[0].certificate().not_valid_before_utc
    return issue_certificate(
        _name(cn, ou=None),
        new_key().public_key(),
        test_pki.ap_ca.identity(),
        profile="ap",
        not_before=start,
        not_after=start + timedelta(days=365),
        crl_url=crl_url,
        ocsp_url=ocsp_url,
    )


def _closed_port_url(path: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def _online(test_pki: TestPki, policy: RevocationPolicy) -> CertificateValidator:
    return test_pki.ap_validator(crls=(), allow_fetching=True, revocation=policy, fetch_timeout=5.0)


@pytest.fixture
def crl_server(
    httpserver: HTTPServer, test_pki: TestPki
) -> Iterator[tuple[HTTPServer, x509.Certificate, x509.Certificate]]:
    url = httpserver.url_for("/ap-ca.crl")
    good = _leaf(test_pki, "PFR000801", crl_url=url)
    bad = _leaf(test_pki, "PFR000802", crl_url=url)
    now = datetime.now(UTC)
    crl = build_crl(
        test_pki.ap_ca.identity(),
        [(bad.serial_number, now - timedelta(hours=1))],
        this_update=now - timedelta(hours=1),
        next_update=now + timedelta(days=1),
    )
    httpserver.expect_request("/ap-ca.crl").respond_with_data(
        crl.public_bytes(serialization.Encoding.DER), content_type="application/pkix-crl"
    )
    yield httpserver, good, bad


def test_crl_fetched_over_http_accepts_good_and_rejects_revoked(
    crl_server: tuple[HTTPServer, x509.Certificate, x509.Certificate], test_pki: TestPki
) -> None:
    server, good, bad = crl_server
    validator = _online(test_pki, RevocationPolicy.HARD_FAIL)
    assert validator.validate(good).revocation_checked is True
    with pytest.raises(CertificateRevoked):
        validator.validate(bad)
    assert len(server.log) >= 2


def test_revocation_results_are_cached_between_validations(
    crl_server: tuple[HTTPServer, x509.Certificate, x509.Certificate], test_pki: TestPki
) -> None:
    server, good, bad = crl_server
    validator = _online(test_pki, RevocationPolicy.HARD_FAIL)
    validator.validate(good)
    with pytest.raises(CertificateRevoked):
        validator.validate(bad)
    fetched = len(server.log)
    for _ in range(3):
        validator.validate(good)
        with pytest.raises(CertificateRevoked):
            validator.validate(bad)
    assert len(server.log) == fetched


def test_ocsp_responder_good_and_revoked(httpserver: HTTPServer, test_pki: TestPki) -> None:
    good = _leaf(test_pki, "PFR000811", ocsp_url=httpserver.url_for("/ocsp"))
    bad = _leaf(test_pki, "PFR000812", ocsp_url=httpserver.url_for("/ocsp"))
    responder = Responder(test_pki.ap_ca.identity(), {bad.serial_number})
    httpserver.expect_request("/ocsp", method="POST").respond_with_handler(responder)
    validator = _online(test_pki, RevocationPolicy.HARD_FAIL)
    assert validator.validate(good).revocation_checked is True
    with pytest.raises(CertificateRevoked) as err:
        validator.validate(bad)
    assert err.value.code == "revoked"
    assert responder.requests >= 2


def test_unreachable_ocsp_responder_soft_fail_accepts_unchecked(test_pki: TestPki) -> None:
    cert = _leaf(test_pki, "PFR000821", ocsp_url=_closed_port_url("/ocsp"))
    result = _online(test_pki, RevocationPolicy.SOFT_FAIL).validate(cert)
    assert result.revocation_checked is False


def test_unreachable_ocsp_responder_hard_fail_is_revocation_unknown(test_pki: TestPki) -> None:
    cert = _leaf(test_pki, "PFR000822", ocsp_url=_closed_port_url("/ocsp"))
    with pytest.raises(RevocationUnknown, match="no revocation information could be found"):
        _online(test_pki, RevocationPolicy.HARD_FAIL).validate(cert)


def test_unreachable_crl_soft_fail_vs_hard_fail(test_pki: TestPki) -> None:
    cert = _leaf(test_pki, "PFR000823", crl_url=_closed_port_url("/ap-ca.crl"))
    assert _online(test_pki, RevocationPolicy.SOFT_FAIL).validate(cert).revocation_checked is False
    with pytest.raises(RevocationUnknown, match="no revocation information could be found"):
        _online(test_pki, RevocationPolicy.HARD_FAIL).validate(cert)


def test_ocsp_error_status_under_hard_fail_is_revocation_unknown(
    httpserver: HTTPServer, test_pki: TestPki
) -> None:
    cert = _leaf(test_pki, "PFR000824", ocsp_url=httpserver.url_for("/ocsp-broken"))
    unauthorized = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    httpserver.expect_request("/ocsp-broken").respond_with_data(
        unauthorized.public_bytes(serialization.Encoding.DER), content_type="application/ocsp-response"
    )
    with pytest.raises(RevocationUnknown, match="Status was 'unauthorized'"):
        _online(test_pki, RevocationPolicy.HARD_FAIL).validate(cert)
    assert _online(test_pki, RevocationPolicy.SOFT_FAIL).validate(cert).revocation_checked is False


def test_offline_ocsp_response_is_used_without_fetching(test_pki: TestPki) -> None:
    url = _closed_port_url("/ocsp")
    good = _leaf(test_pki, "PFR000831", ocsp_url=url)
    bad = _leaf(test_pki, "PFR000832", ocsp_url=url)
    ca = test_pki.ap_ca.identity()
    now = datetime.now(UTC).replace(microsecond=0)

    def response(cert: x509.Certificate, revoked: bool) -> bytes:
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert,
            issuer=ca.certificate,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - timedelta(minutes=5),
            next_update=now + timedelta(hours=1),
            revocation_time=now - timedelta(hours=1) if revoked else None,
            revocation_reason=None,
        )
        signed = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, ca.certificate).sign(
            ca.private_key, hashes.SHA256()
        )
        return signed.public_bytes(serialization.Encoding.DER)

    validator = test_pki.ap_validator(
        crls=(), ocsps=(response(good, False), response(bad, True)), revocation=RevocationPolicy.HARD_FAIL
    )
    assert validator.validate(good).revocation_checked is True
    with pytest.raises(CertificateRevoked):
        validator.validate(bad)


def _delegated_handler(responder: Identity, status: ocsp.OCSPCertStatus) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        req = ocsp.load_der_ocsp_request(request.get_data())
        now = datetime.now(UTC).replace(microsecond=0)
        revoked = status is ocsp.OCSPCertStatus.REVOKED
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=req.issuer_name_hash,
                issuer_key_hash=req.issuer_key_hash,
                serial_number=req.serial_number,
                algorithm=req.hash_algorithm,
                cert_status=status,
                this_update=now - timedelta(minutes=5),
                next_update=now + timedelta(hours=1),
                revocation_time=now - timedelta(hours=1) if revoked else None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder.certificate)
            .certificates([responder.certificate])
        )
        signed = builder.sign(responder.private_key, hashes.SHA256())
        return Response(
            signed.public_bytes(serialization.Encoding.DER), content_type="application/ocsp-response"
        )

    return handler


def test_delegated_ocsp_responder_certificate_is_accepted(httpserver: HTTPServer, test_pki: TestPki) -> None:
    """Real CAs (DigiCert for G3) sign OCSP with a delegated responder certificate (EKU OCSPSigning)."""
    start = test_pki.aps[0].certificate().not_valid_before_utc
    responder_key = new_key()
    responder_cert = issue_certificate(
        _name("GENERATED AP CA OCSP RESPONDER"),
        responder_key.public_key(),
        test_pki.ap_ca.identity(),
        profile="ocsp",
        not_before=start,
        not_after=start + timedelta(days=30),
    )
    cert = _leaf(test_pki, "PFR000841", ocsp_url=httpserver.url_for("/ocsp-delegated"))
    handler = _delegated_handler(Identity(responder_key, responder_cert), ocsp.OCSPCertStatus.REVOKED)
    httpserver.expect_request("/ocsp-delegated", method="POST").respond_with_handler(handler)
    with pytest.raises(CertificateRevoked):
        _online(test_pki, RevocationPolicy.HARD_FAIL).validate(cert)


def test_ocsp_good_signed_by_a_non_responder_certificate_is_not_trusted(
    httpserver: HTTPServer, test_pki: TestPki
) -> None:
    """An AP certificate of the same CA (no OCSPSigning EKU) must not be able to vouch for anyone."""
    cert = _leaf(test_pki, "PFR000842", ocsp_url=httpserver.url_for("/ocsp-forged"))
    handler = _delegated_handler(test_pki.aps[0].identity(), ocsp.OCSPCertStatus.GOOD)
    httpserver.expect_request("/ocsp-forged", method="POST").respond_with_handler(handler)
    with pytest.raises(RevocationUnknown, match="signed by an unauthorized certificate"):
        _online(test_pki, RevocationPolicy.HARD_FAIL).validate(cert)
    assert len(httpserver.log) >= 1  # the forged answer was fetched and refused, not missed
