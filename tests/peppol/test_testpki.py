"""The generated test PKI: files, names, profiles (``peppol.testpki``, behind ``ap pki init``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from peppol.pki import Purpose, Stage, TrustStore, load_certificate, load_pkcs12, name_purpose, name_stage
from peppol.testpki import TestPki, generate_test_pki


def test_every_listed_file_exists_and_readme_lists_roles(test_pki: TestPki) -> None:
    names = [name for name, _ in test_pki.roles()]
    assert len(names) == len(set(names))
    for name in names:
        assert (test_pki.directory / name).is_file(), name
    readme = (test_pki.directory / "README.txt").read_text()
    assert "FOR TEST ONLY" in readme
    for name in names:
        assert name in readme


def test_ca_names_are_g3_test_shaped_and_marked_generated(test_pki: TestPki) -> None:
    root = load_certificate(test_pki.root.cert)
    ap_ca = load_certificate(test_pki.ap_ca.cert)
    smp_ca = load_certificate(test_pki.smp_ca.cert)
    ap_ca_cn = ap_ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert ap_ca_cn == "PEPPOL ACCESS POINT TEST CA - G3"
    for ca in (root, ap_ca, smp_ca):
        assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "FOR TEST ONLY"
        assert "GENERATED" in ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        assert name_stage(ca.subject) is Stage.TEST
    assert name_purpose(ap_ca.subject) is Purpose.AP
    assert name_purpose(smp_ca.subject) is Purpose.SMP
    assert ap_ca.issuer == root.subject and smp_ca.issuer == root.subject


def test_ap_certificates_follow_the_g3_ap_profile(test_pki: TestPki) -> None:
    assert [ap.seat_id for ap in test_pki.aps] == ["PFR000001", "PFR000002"]
    for ap in test_pki.aps:
        cert = ap.certificate()
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ap.seat_id
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical
        assert ku.value.digital_signature and ku.value.key_encipherment and ku.value.data_encipherment
        assert not ku.value.key_agreement
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
        assert cert.issuer == load_certificate(test_pki.ap_ca.cert).subject
        assert ap.identity().seat_id == ap.seat_id


def test_tls_server_certificate_covers_loopback(test_pki: TestPki) -> None:
    cert = test_pki.tls_server.certificate()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert cert.issuer == load_certificate(test_pki.tls_ca.cert).subject


def test_expired_certificates_are_expired_and_crl_lists_the_revoked_one(test_pki: TestPki) -> None:
    now = datetime.now(UTC)
    assert test_pki.expired_ap.certificate().not_valid_after_utc < now
    assert test_pki.expired_smp.certificate().not_valid_after_utc < now
    crl = x509.load_der_x509_crl(test_pki.ap_crl.read_bytes())
    assert crl.issuer == load_certificate(test_pki.ap_ca.cert).subject
    assert crl.get_revoked_certificate_by_serial_number(test_pki.revoked_ap.certificate().serial_number)
    assert crl.get_revoked_certificate_by_serial_number(test_pki.aps[0].certificate().serial_number) is None


def test_truststores_split_root_from_issuing_cas(test_pki: TestPki) -> None:
    store = TrustStore.from_pem(test_pki.ap_truststore)
    assert [a.subject for a in store.anchors] == [load_certificate(test_pki.root.cert).subject]
    assert {c.subject for c in store.intermediates} == {
        load_certificate(test_pki.ap_ca.cert).subject,
        load_certificate(test_pki.smp_ca.cert).subject,
    }
    assert store.inferred_stage() is Stage.TEST


def test_pkcs12_holds_key_cert_and_chain(test_pki: TestPki) -> None:
    ap = test_pki.aps[0]
    assert ap.p12 is not None
    identity = load_pkcs12(ap.p12, test_pki.p12_password)
    assert identity.certificate == ap.certificate()
    assert identity.private_key.public_key() == ap.identity().private_key.public_key()
    assert [c.subject for c in identity.chain] == [
        load_certificate(test_pki.ap_ca.cert).subject,
        load_certificate(test_pki.root.cert).subject,
    ]


def test_private_keys_are_owner_only(test_pki: TestPki) -> None:
    assert test_pki.aps[0].key.stat().st_mode & 0o077 == 0


def test_generate_with_count_and_fixed_now_and_refuses_overwrite(tmp_path: Path) -> None:
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    pki = generate_test_pki(tmp_path / "p", ap_count=1, now=now)
    assert [ap.seat_id for ap in pki.aps] == ["PFR000001"]
    assert pki.aps[0].certificate().not_valid_before_utc < now < pki.aps[0].certificate().not_valid_after_utc
    before = pki.aps[0].cert.read_bytes()
    with pytest.raises(FileExistsError, match="already holds a test PKI"):
        generate_test_pki(tmp_path / "p", ap_count=1, overwrite=False)
    assert pki.aps[0].cert.read_bytes() == before  # nothing was overwritten
    with pytest.raises(ValueError, match="ap_count"):
        generate_test_pki(tmp_path / "q", ap_count=0)


def test_tls_server_certificate_passes_a_real_tls_handshake_on_loopback(test_pki: TestPki) -> None:
    import socket
    import ssl
    import threading

    server_ctx = test_pki.tls_server_context()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(3):
            conn, _addr = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_ctx = test_pki.tls_client_context()
    try:
        for host in ("127.0.0.1", "localhost"):
            with (
                socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                client_ctx.wrap_socket(raw, server_hostname=host) as tls,
            ):
                assert tls.recv(2) == b"ok"
        untrusting = ssl.create_default_context(cafile=str(test_pki.ap_truststore))  # not the TLS CA
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            untrusting.wrap_socket(raw, server_hostname="localhost")
    finally:
        listener.close()
        thread.join(timeout=10)
