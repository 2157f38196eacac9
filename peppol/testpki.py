"""A generated, Peppol-G3-shaped TEST PKI for tests, demos and ``ap pki init``.

Everything here is fake and says so: every CA carries ``OU=FOR TEST ONLY`` and
``O=GENERATED TEST PKI - NOT OpenPEPPOL``. The CA names copy the shape of the real G3 test CAs
(``PEPPOL ACCESS POINT TEST CA - G3`` under ``PEPPOL Root TEST CA - G3``) so that the stage and purpose
rules of :mod:`peppol.pki` apply to them exactly as to the real ones.

Keys are RSA-2048 throughout, CAs included (real G3 CAs are RSA-4096): a 4096-bit key takes ~0.35 s
to generate against ~0.03 s for 2048, and ``ap pki init`` must stay well under 3 s. Leaf profiles follow
the G3 AP profile (``as4.md`` §7.2): KeyUsage critical digitalSignature + keyEncipherment +
dataEncipherment, EKU clientAuth. File names and roles: ``docs/pki.md`` and ``README.txt`` in the
output directory.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from peppol.pki import (
    CertificateValidator,
    Identity,
    Purpose,
    RevocationPolicy,
    Stage,
    TrustStore,
)

#: RSA key size of every generated key (see the module docstring for why not 4096).
KEY_SIZE: Final = 2048
#: Most threads used to generate keys.
KEYGEN_THREADS: Final = 4
#: Password of every generated PKCS#12 file.
TEST_P12_PASSWORD: Final = b"peppol-test"
#: Marks every generated name as fake.
GENERATED_ORG: Final = "GENERATED TEST PKI - NOT OpenPEPPOL"
TEST_OU: Final = "FOR TEST ONLY"
ROOT_CN: Final = "PEPPOL Root TEST CA - G3"
AP_CA_CN: Final = "PEPPOL ACCESS POINT TEST CA - G3"
SMP_CA_CN: Final = "PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3"
TLS_CA_CN: Final = "GENERATED TLS TEST CA"
#: Seat-id country/prefix of generated AP certificates: PFR000001, PFR000002, …
SEAT_PREFIX: Final = "PFR"
REVOKED_AP_SEAT: Final = "PFR000998"
EXPIRED_AP_SEAT: Final = "PFR000999"
SMP_SEAT: Final = "PFR000501"
EXPIRED_SMP_SEAT: Final = "PFR000502"
#: CRL distribution point written into generated AP certificates. Port 9 on loopback refuses
#: connections at once, so a validator that fetches fails fast (soft-fail) instead of hanging;
#: use :meth:`TestPki.ap_validator`, which loads the generated CRL offline.
DEFAULT_AP_CRL_URL: Final = "http://127.0.0.1:9/peppol-ap-test-ca-g3.crl"
CA_VALIDITY: Final = timedelta(days=3650)
LEAF_VALIDITY: Final = timedelta(days=730)
#: Certificates start this long before ``now`` (clock skew between test processes).
BACKDATE: Final = timedelta(days=1)
#: CAs start this long before ``now``, so that the expired certificates and validations at a past
#: ``moment`` fall inside the CAs' validity, as they would in a real PKI.
CA_BACKDATE: Final = timedelta(days=5 * 365)
CRL_VALIDITY: Final = timedelta(days=30)

_SHA256: Final = hashes.SHA256()


def new_key() -> rsa.RSAPrivateKey:
    """A fresh RSA key of :data:`KEY_SIZE` bits."""
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def new_keys(count: int) -> list[rsa.RSAPrivateKey]:
    """``count`` fresh keys, generated on a few threads (OpenSSL releases the GIL during keygen,
    which dominates the cost of :func:`generate_test_pki`)."""
    workers = max(1, min(KEYGEN_THREADS, os.cpu_count() or 1, count))
    if workers == 1:
        return [new_key() for _ in range(count)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda _: new_key(), range(count)))


def _name(cn: str, *, org: str = GENERATED_ORG, ou: str | None = TEST_OU, country: str = "BE") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs += [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
    ]
    return x509.Name(attrs)


def _ku(**flags: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def issue_certificate(
    subject: x509.Name,
    public_key: rsa.RSAPublicKey,
    issuer: Identity | None,
    issuer_key: rsa.RSAPrivateKey | None = None,
    *,
    profile: str,
    not_before: datetime,
    not_after: datetime,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
    san_dns: Sequence[str] = (),
    san_ip: Sequence[str] = (),
    path_length: int | None = None,
) -> x509.Certificate:
    """Issue one certificate. ``profile``: ``root``, ``ca``, ``ap``, ``smp``, ``tls-server`` or ``ocsp``.

    ``issuer`` ``None`` means self-signed (``issuer_key`` then signs). Reusable by tests that need
    certificates with other URLs, dates or defects.
    """
    signing_key = issuer.private_key if issuer is not None else issuer_key
    if signing_key is None:
        raise ValueError("a self-signed certificate needs issuer_key")
    issuer_name = issuer.certificate.subject if issuer is not None else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    if profile in ("root", "ca"):
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=path_length), critical=True
        )
        builder = builder.add_extension(_ku(key_cert_sign=True, crl_sign=True), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        if profile in ("ap", "smp"):
            builder = builder.add_extension(
                _ku(digital_signature=True, key_encipherment=True, data_encipherment=True), critical=True
            )
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
        elif profile == "tls-server":
            builder = builder.add_extension(_ku(digital_signature=True, key_encipherment=True), critical=True)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        elif profile == "ocsp":
            builder = builder.add_extension(_ku(digital_signature=True), critical=True)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
            )
        else:
            raise ValueError(f"unknown certificate profile {profile!r}")
    if san_dns or san_ip:
        general: list[x509.GeneralName] = [x509.DNSName(d) for d in san_dns]
        general += [x509.IPAddress(ipaddress.ip_address(i)) for i in san_ip]
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    if crl_url:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
    if ocsp_url:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
                    )
                ]
            ),
            critical=False,
        )
    return builder.sign(signing_key, _SHA256)


def build_crl(
    issuer: Identity,
    revoked: Sequence[tuple[int, datetime]],
    *,
    this_update: datetime,
    next_update: datetime,
    number: int = 1,
) -> x509.CertificateRevocationList:
    """A CRL by ``issuer`` listing ``(serial, revocation date)`` pairs."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()),
            critical=False,
        )
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(issuer.private_key, _SHA256)


@dataclass(frozen=True)
class KeyPairFiles:
    """The files of one generated key pair."""

    cert: Path
    key: Path
    p12: Path | None
    name: str
    seat_id: str | None = None

    def identity(self) -> Identity:
        """Key + certificate, loaded once per process (cached by path and mtime)."""
        return Identity.load(self.cert, self.key)

    def certificate(self) -> x509.Certificate:
        """The certificate."""
        return self.identity().certificate


@dataclass(frozen=True)
class TestPki:
    """Paths and roles of a generated test PKI (see ``docs/pki.md``)."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    directory: Path
    root: KeyPairFiles
    ap_ca: KeyPairFiles
    smp_ca: KeyPairFiles
    tls_ca: KeyPairFiles
    aps: tuple[KeyPairFiles, ...]
    revoked_ap: KeyPairFiles
    expired_ap: KeyPairFiles
    smp: KeyPairFiles
    expired_smp: KeyPairFiles
    tls_server: KeyPairFiles
    ap_crl: Path
    ap_truststore: Path
    smp_truststore: Path
    tls_truststore: Path
    tls_server_chain: Path
    p12_password: bytes = TEST_P12_PASSWORD
    stage: Stage = Stage.TEST

    def ap_trust(self) -> TrustStore:
        """The AP trust store (root anchor; AP CA and SMP CA intermediates, like the real bundle)."""
        return TrustStore.from_pem(self.ap_truststore)

    def smp_trust(self) -> TrustStore:
        """The SMP trust store."""
        return TrustStore.from_pem(self.smp_truststore)

    def tls_trust(self) -> TrustStore:
        """The TLS CA as a trust store."""
        return TrustStore.from_pem(self.tls_truststore)

    def _validator(self, trust: TrustStore, purpose: Purpose, kw: dict[str, Any]) -> CertificateValidator:
        kw.setdefault("stage", self.stage)
        kw.setdefault("crls", (self.ap_crl.read_bytes(),))
        kw.setdefault("allow_fetching", False)
        kw.setdefault("revocation", RevocationPolicy.HARD_FAIL)
        return CertificateValidator(trust, purpose=purpose, **kw)

    def ap_validator(self, **kw: Any) -> CertificateValidator:
        """An offline AP validator: generated CRL loaded, hard-fail, no fetching (override via kw)."""
        return self._validator(self.ap_trust(), Purpose.AP, kw)

    def renewed_ap(self, index: int = 0) -> Identity:
        """A renewal of ``aps[index]``: a new key and a certificate with the same subject (seat id),
        issued now by the AP CA (in memory)."""
        old = self.aps[index].certificate()
        key = new_key()
        now = datetime.now(UTC)
        cert = issue_certificate(
            old.subject,
            key.public_key(),
            self.ap_ca.identity(),
            profile="ap",
            not_before=now - BACKDATE,
            not_after=now + LEAF_VALIDITY,
            crl_url=DEFAULT_AP_CRL_URL,
        )
        return Identity.of(key, cert, (self.ap_ca.certificate(), self.root.certificate()))

    def smp_validator(self, **kw: Any) -> CertificateValidator:
        """An offline SMP-certificate validator (same defaults as :meth:`ap_validator`)."""
        return self._validator(self.smp_trust(), Purpose.SMP, kw)

    def tls_server_context(self) -> ssl.SSLContext:
        """A server-side TLS context (TLS >= 1.2) with the generated ``localhost`` certificate and chain."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.tls_server_chain, self.tls_server.key)
        return ctx

    def tls_client_context(self) -> ssl.SSLContext:
        """A verifying client TLS context trusting only the generated TLS CA (hostname checked)."""
        ctx = ssl.create_default_context(cafile=str(self.tls_truststore))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def roles(self) -> list[tuple[str, str]]:
        """``(file name, role)`` for every file written, in a stable order."""
        return list(_roles(self))


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def _save(
    directory: Path,
    stem: str,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    *,
    p12_chain: Sequence[x509.Certificate] | None = None,
    seat: str | None = None,
) -> KeyPairFiles:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    _write(cert_path, _pem(cert))
    _write(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        private=True,
    )
    p12_path: Path | None = None
    if p12_chain is not None:
        p12_path = directory / f"{stem}.p12"
        data = pkcs12.serialize_key_and_certificates(
            (seat or stem).encode(),
            key,
            cert,
            list(p12_chain),
            serialization.BestAvailableEncryption(TEST_P12_PASSWORD),
        )
        _write(p12_path, data, private=True)
    return KeyPairFiles(cert_path, key_path, p12_path, stem, seat)


#: Every file name ``generate_test_pki`` may write (used for the overwrite check).
_MARKER_FILE: Final = "README.txt"


def generate_test_pki(
    directory: Path,
    *,
    ap_count: int = 2,
    now: datetime | None = None,
    crl_url: str | None = DEFAULT_AP_CRL_URL,
    ocsp_url: str | None = None,
    overwrite: bool = True,
) -> TestPki:
    """Write a complete test PKI into ``directory`` (created if needed) and return its description.

    ``now`` fixes the reference time (validity periods, CRL dates); ``crl_url`` / ``ocsp_url`` go into
    the AP certificates. With ``overwrite=False`` an existing PKI in ``directory`` is an error.
    """
    if ap_count < 1:
        raise ValueError("ap_count must be at least 1")
    if ap_count > 999_997 - 500:
        raise ValueError("ap_count too large")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if not overwrite and (directory / _MARKER_FILE).exists():
        raise FileExistsError(f"{directory} already holds a test PKI (use --force to overwrite)")
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    start, ca_end, leaf_end = now - BACKDATE, now + CA_VALIDITY, now + LEAF_VALIDITY
    ca_start = now - CA_BACKDATE
    expired_start, expired_end = now - timedelta(days=400), now - timedelta(days=30)

    # 4 CAs + the APs + revoked/expired AP + 2 SMP + TLS server
    keys = iter(new_keys(ap_count + 9))
    root_key = next(keys)
    root_cert = issue_certificate(
        _name(ROOT_CN),
        root_key.public_key(),
        None,
        root_key,
        profile="root",
        not_before=ca_start,
        not_after=ca_end,
    )
    root = Identity(root_key, root_cert)

    def ca(cn: str, path_len: int = 0) -> Identity:
        key = next(keys)
        cert = issue_certificate(
            _name(cn),
            key.public_key(),
            root,
            profile="ca",
            not_before=ca_start,
            not_after=ca_end - timedelta(days=1),
            path_length=path_len,
        )
        return Identity(key, cert, (root_cert,))

    ap_ca, smp_ca = ca(AP_CA_CN), ca(SMP_CA_CN)
    tls_ca_key = next(keys)
    tls_ca_cert = issue_certificate(
        _name(TLS_CA_CN),
        tls_ca_key.public_key(),
        None,
        tls_ca_key,
        profile="root",
        not_before=ca_start,
        not_after=ca_end,
    )
    tls_ca = Identity(tls_ca_key, tls_ca_cert)

    def leaf(
        issuer: Identity, seat: str, profile: str, org: str, *, expired: bool = False, revinfo: bool = False
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key = next(keys)
        cert = issue_certificate(
            _name(seat, org=org, ou=None, country="FR"),
            key.public_key(),
            issuer,
            profile=profile,
            not_before=expired_start if expired else start,
            not_after=expired_end if expired else leaf_end,
            crl_url=crl_url if revinfo else None,
            ocsp_url=ocsp_url if revinfo else None,
        )
        return key, cert

    ap_chain = [ap_ca.certificate, root_cert]
    files: dict[str, KeyPairFiles] = {
        "root": _save(directory, "root-ca", root_key, root_cert),
        "ap_ca": _save(directory, "ap-ca", ap_ca.private_key, ap_ca.certificate),
        "smp_ca": _save(directory, "smp-ca", smp_ca.private_key, smp_ca.certificate),
        "tls_ca": _save(directory, "tls-ca", tls_ca_key, tls_ca_cert),
    }
    aps = []
    for i in range(1, ap_count + 1):
        seat = f"{SEAT_PREFIX}{i:06d}"
        key, cert = leaf(ap_ca, seat, "ap", f"Generated Test Access Point {i}", revinfo=True)
        aps.append(_save(directory, f"ap-{seat}", key, cert, p12_chain=ap_chain, seat=seat))
    key, revoked_cert = leaf(ap_ca, REVOKED_AP_SEAT, "ap", "Generated Revoked Access Point", revinfo=True)
    files["revoked_ap"] = _save(
        directory,
        f"ap-revoked-{REVOKED_AP_SEAT}",
        key,
        revoked_cert,
        p12_chain=ap_chain,
        seat=REVOKED_AP_SEAT,
    )
    key, cert = leaf(
        ap_ca, EXPIRED_AP_SEAT, "ap", "Generated Expired Access Point", expired=True, revinfo=True
    )
    files["expired_ap"] = _save(
        directory, f"ap-expired-{EXPIRED_AP_SEAT}", key, cert, p12_chain=ap_chain, seat=EXPIRED_AP_SEAT
    )
    key, cert = leaf(smp_ca, SMP_SEAT, "smp", "Generated Test SMP")
    files["smp"] = _save(directory, "smp", key, cert, seat=SMP_SEAT)
    key, cert = leaf(smp_ca, EXPIRED_SMP_SEAT, "smp", "Generated Expired SMP", expired=True)
    files["expired_smp"] = _save(directory, "smp-expired", key, cert, seat=EXPIRED_SMP_SEAT)
    tls_key = next(keys)
    tls_cert = issue_certificate(
        _name("localhost", org=GENERATED_ORG, ou=TEST_OU),
        tls_key.public_key(),
        tls_ca,
        profile="tls-server",
        not_before=start,
        not_after=leaf_end,
        san_dns=("localhost",),
        san_ip=("127.0.0.1", "::1"),
    )
    files["tls_server"] = _save(directory, "tls-server", tls_key, tls_cert)

    crl = build_crl(
        ap_ca,
        [(revoked_cert.serial_number, now - timedelta(hours=1))],
        this_update=now - timedelta(hours=1),
        next_update=now + CRL_VALIDITY,
    )
    ap_crl = directory / "ap-ca.crl"
    _write(ap_crl, crl.public_bytes(serialization.Encoding.DER))
    _write(directory / "ap-ca.crl.pem", crl.public_bytes(serialization.Encoding.PEM))
    ap_truststore = directory / "ap-truststore.pem"
    _write(ap_truststore, _pem(root_cert) + _pem(ap_ca.certificate) + _pem(smp_ca.certificate))
    smp_truststore = directory / "smp-truststore.pem"
    _write(smp_truststore, _pem(root_cert) + _pem(smp_ca.certificate) + _pem(ap_ca.certificate))
    tls_truststore = directory / "tls-truststore.pem"
    _write(tls_truststore, _pem(tls_ca_cert))
    tls_chain = directory / "tls-server-chain.pem"
    _write(tls_chain, _pem(tls_cert) + _pem(tls_ca_cert))

    pki = TestPki(
        directory=directory,
        aps=tuple(aps),
        ap_crl=ap_crl,
        ap_truststore=ap_truststore,
        smp_truststore=smp_truststore,
        tls_truststore=tls_truststore,
        tls_server_chain=tls_chain,
        root=files["root"],
        ap_ca=files["ap_ca"],
        smp_ca=files["smp_ca"],
        tls_ca=files["tls_ca"],
        revoked_ap=files["revoked_ap"],
        expired_ap=files["expired_ap"],
        smp=files["smp"],
        expired_smp=files["expired_smp"],
        tls_server=files["tls_server"],
    )
    _write(directory / _MARKER_FILE, _readme(pki, now).encode())
    return pki


def _roles(pki: TestPki) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []

    def pair(kp: KeyPairFiles, role: str) -> None:
        rows.append((kp.cert.name, role))
        rows.append((kp.key.name, "  its private key (PKCS#8 PEM, unencrypted)"))
        if kp.p12 is not None:
            password = TEST_P12_PASSWORD.decode()
            rows.append((kp.p12.name, f"  its PKCS#12: key + cert + chain, password {password!r}"))

    pair(pki.root, f"root CA '{ROOT_CN}' (trust anchor)")
    pair(pki.ap_ca, f"AP issuing CA '{AP_CA_CN}'")
    pair(pki.smp_ca, f"SMP issuing CA '{SMP_CA_CN}'")
    pair(pki.tls_ca, f"TLS root CA '{TLS_CA_CN}' (self-signed)")
    for ap in pki.aps:
        pair(ap, f"AP certificate, seat {ap.seat_id}")
    pair(pki.revoked_ap, f"AP certificate seat {pki.revoked_ap.seat_id}, REVOKED (in ap-ca.crl)")
    pair(pki.expired_ap, f"AP certificate seat {pki.expired_ap.seat_id}, EXPIRED")
    pair(pki.smp, f"SMP signing certificate ({pki.smp.seat_id})")
    pair(pki.expired_smp, f"SMP signing certificate ({pki.expired_smp.seat_id}), EXPIRED")
    pair(pki.tls_server, "TLS server certificate for localhost / 127.0.0.1 / ::1 (serverAuth)")
    rows += [
        (pki.tls_server_chain.name, "TLS server certificate + TLS CA (for servers sending the chain)"),
        (pki.ap_crl.name, "CRL of the AP CA (DER), lists the revoked AP certificate"),
        (pki.ap_crl.name + ".pem", "the same CRL in PEM"),
        (
            pki.ap_truststore.name,
            "AP trust store: root + AP CA + SMP CA (like the real ap-test-truststore.pem)",
        ),
        (pki.smp_truststore.name, "SMP trust store: root + SMP CA + AP CA"),
        (pki.tls_truststore.name, "TLS trust store: the TLS CA (client-side verify for loopback HTTPS)"),
        (_MARKER_FILE, "this list"),
    ]
    return rows


def _readme(pki: TestPki, now: datetime) -> str:
    lines = [
        "GENERATED PEPPOL-G3-SHAPED TEST PKI - FOR TEST ONLY - NOT ISSUED BY OpenPEPPOL",
        f"Generated {now.isoformat()} by procurement-access-point (ap pki init). RSA-{KEY_SIZE} keys.",
        "",
    ]
    width = max(len(name) for name, _ in pki.roles())
    lines += [f"{name.ljust(width)}  {role}" for name, role in pki.roles()]
    return "\n".join(lines) + "\n"
