"""A certificate renewal for the service tests: a new key and certificate for the seat of an ``ap dev
pair`` side, issued now by the pair's AP CA and written as an encrypted PKCS#12 file with its password
in a file (what an operator receives and how ``[identity] key_password_file`` reads it)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from peppol.pki import Identity, load_certificate
from peppol.testpki import BACKDATE, DEFAULT_AP_CRL_URL, LEAF_VALIDITY, issue_certificate, new_key

PASSWORD = b"renewal secret"


def renew(pki: Path, old_cert: Path, out: Path) -> tuple[Path, Path]:
    """Write ``out/ap-renewed.p12`` and ``out/ap-renewed.password``: a renewal of ``old_cert`` (same
    subject, hence the same seat id) by the AP CA of the test PKI in ``pki``; returns both paths."""
    ca = Identity.load(pki / "ap-ca.pem", pki / "ap-ca.key")
    root = load_certificate(pki / "root-ca.pem")
    key = new_key()
    now = datetime.now(UTC)
    cert = issue_certificate(
        load_certificate(old_cert).subject,
        key.public_key(),
        ca,
        profile="ap",
        not_before=now - BACKDATE,
        not_after=now + LEAF_VALIDITY,
        crl_url=DEFAULT_AP_CRL_URL,
    )
    out.mkdir(parents=True, exist_ok=True)
    p12, password = out / "ap-renewed.p12", out / "ap-renewed.password"
    data = pkcs12.serialize_key_and_certificates(
        b"renewed", key, cert, [ca.certificate, root], serialization.BestAvailableEncryption(PASSWORD)
    )
    for path, content in ((p12, data), (password, PASSWORD + b"\n")):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
    return p12, password


def publish(pair_dir: Path, side: str, participant: str, as4_url: str, certificate: x509.Certificate) -> None:
    """Rewrite the signed SMP documents of ``side`` in the pair's discovery directory so that they
    publish ``certificate`` (what a participant's SMP does when its AP renews); the loopback SMP serves
    them once restarted (``access_point.dev.network.start_network``)."""
    from access_point.dev.pair import DOCUMENT_TYPES
    from access_point.dev.smp import signed_metadata

    pki = pair_dir / "pki"
    smp = Identity.load(pki / "smp.pem", pki / "smp.key")
    der = certificate.public_bytes(serialization.Encoding.DER)
    for index, (doctype, process) in enumerate(DOCUMENT_TYPES):
        body = signed_metadata(participant, doctype, process, as4_url, der, smp)
        (pair_dir / "discovery" / f"{side}-{index}.xml").write_bytes(body)
