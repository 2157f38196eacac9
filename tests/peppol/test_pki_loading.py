"""Loading certificates, keys, PKCS#12 and identities; the process-wide key cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from peppol.pki import (
    Identity,
    KeyLoadError,
    clear_key_cache,
    load_certificate,
    load_certificates,
    load_pkcs12,
    load_private_key,
    seat_id,
)
from peppol.testpki import TestPki, new_key


def test_certificate_loads_from_pem_der_path_and_bytes(test_pki: TestPki, tmp_path: Path) -> None:
    pem = test_pki.aps[0].cert.read_bytes()
    cert = load_certificate(test_pki.aps[0].cert)
    der = cert.public_bytes(serialization.Encoding.DER)
    (tmp_path / "c.der").write_bytes(der)
    assert load_certificate(pem) == cert
    assert load_certificate(der) == cert
    assert load_certificate(tmp_path / "c.der") == cert
    assert seat_id(cert) == "PFR000001"


def test_bundle_loads_every_certificate(test_pki: TestPki) -> None:
    certs = load_certificates(test_pki.ap_truststore)
    assert [seat_id(c) for c in certs] == [
        "PEPPOL Root TEST CA - G3",
        "PEPPOL ACCESS POINT TEST CA - G3",
        "PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3",
    ]


@pytest.mark.parametrize(
    ("data", "one", "bundle"),
    [
        (b"", "certificate is empty", "certificate bundle is empty"),
        (b"garbage", "not a PEM or DER certificate", "not a PEM certificate bundle"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "not a PEM or DER certificate",
            "not a PEM certificate bundle",
        ),
    ],
)
def test_bad_certificate_input_is_a_typed_error(data: bytes, one: str, bundle: str) -> None:
    with pytest.raises(KeyLoadError, match=one):
        load_certificate(data)
    with pytest.raises(KeyLoadError, match=bundle):
        load_certificates(data)


def test_missing_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="cannot read"):
        load_certificate(tmp_path / "nope.pem")
    with pytest.raises(KeyLoadError, match="cannot read"):
        load_private_key(tmp_path / "nope.key")


def test_private_key_is_cached_per_path_until_the_file_changes(test_pki: TestPki, tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    path.write_bytes(test_pki.aps[0].key.read_bytes())
    first = load_private_key(path)
    assert load_private_key(path) is first
    path.write_bytes(test_pki.aps[1].key.read_bytes())
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse-clock file systems
    second = load_private_key(path)
    assert second is not first
    assert second.public_key() == load_certificate(test_pki.aps[1].cert).public_key()
    clear_key_cache()
    assert load_private_key(path) is not second


def test_encrypted_private_key_needs_its_password(tmp_path: Path) -> None:
    key = new_key()
    path = tmp_path / "enc.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    assert load_private_key(path, b"s3cret").public_key() == key.public_key()
    with pytest.raises(KeyLoadError, match="wrong password"):
        load_private_key(path, b"wrong")
    with pytest.raises(KeyLoadError, match="encrypted: a password is needed"):
        load_private_key(path)


def test_der_private_key_from_bytes(tmp_path: Path) -> None:
    key = new_key()
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert load_private_key(der).public_key() == key.public_key()
    assert load_private_key(der) is load_private_key(der)


def test_non_rsa_key_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyLoadError, match="RSA"):
        load_private_key(pem)


def test_identity_load_is_cached_and_exposes_seat_id(test_pki: TestPki) -> None:
    ap = test_pki.aps[1]
    identity = Identity.load(ap.cert, ap.key)
    assert Identity.load(ap.cert, ap.key) is identity
    assert identity.seat_id == "PFR000002"
    assert load_certificate(identity.certificate_pem()) == identity.certificate
    assert load_private_key(identity.private_key_pem()).public_key() == identity.private_key.public_key()


def test_identity_with_mismatched_key_is_refused(test_pki: TestPki) -> None:
    with pytest.raises(KeyLoadError, match="does not match"):
        Identity.load(test_pki.aps[0].cert, test_pki.aps[1].key)


def test_identity_from_bundle_keeps_the_chain(test_pki: TestPki, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(test_pki.aps[0].cert.read_bytes() + test_pki.ap_ca.cert.read_bytes())
    identity = Identity.load(bundle, test_pki.aps[0].key)
    assert identity.seat_id == "PFR000001"
    assert [seat_id(c) for c in identity.chain] == ["PEPPOL ACCESS POINT TEST CA - G3"]


def test_pkcs12_wrong_password_and_garbage_are_typed_errors(test_pki: TestPki) -> None:
    p12 = test_pki.aps[0].p12
    assert p12 is not None
    with pytest.raises(KeyLoadError, match=r"PKCS#12 file .*: wrong password$"):
        load_pkcs12(p12, b"wrong")
    with pytest.raises(KeyLoadError, match=r"PKCS#12: not a PKCS#12 file"):
        load_pkcs12(b"not a pkcs12", b"x")
    from_bytes = load_pkcs12(p12.read_bytes(), test_pki.p12_password)
    assert from_bytes.seat_id == "PFR000001"
    assert load_pkcs12(p12, test_pki.p12_password) is load_pkcs12(p12, test_pki.p12_password)
