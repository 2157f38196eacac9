"""Building a :class:`Discovery` or :class:`StaticDirectory` from plain settings (file paths, names).

For the CLI and the access point service: one flat, serialisable settings object instead of the
nested configuration classes. Every configuration problem (unreadable trust store or CRL, bad zone,
bad name server, unusable TLS bundle) is a ``ValueError`` with a one-line reason, raised here at
start-up rather than at the first lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from peppol.identifiers import DEFAULT_SML_ZONE, IdentifierError, resolve_zone
from peppol.pki import (
    DEFAULT_REVOCATION_POLICY,
    CertificateValidator,
    Purpose,
    RevocationPolicy,
    TrustStore,
)
from smp_client.cache import DEFAULT_CACHE_SIZE, DEFAULT_CACHE_TTL
from smp_client.discovery import DEFAULT_LOOKUP_DEADLINE, Discovery, DiscoveryConfig
from smp_client.http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, HttpSettings
from smp_client.model import SmpDialect
from smp_client.signature import SignaturePolicy
from smp_client.sml import DEFAULT_DNS_TIMEOUT, Nameserver, SmlConfig
from smp_client.static import StaticDirectory


@dataclass(frozen=True, slots=True)
class DiscoverySettings:
    """Everything needed to build a network :class:`Discovery`, as plain values."""

    smp_trust: Path | None = None
    ap_trust: Path | None = None
    zone: str = DEFAULT_SML_ZONE
    nameservers: tuple[str, ...] = ()
    tls_ca: Path | None = None
    proxy: str | None = None
    dialect: SmpDialect = SmpDialect.PEPPOL
    crls: tuple[Path, ...] = ()
    revocation: RevocationPolicy = DEFAULT_REVOCATION_POLICY
    allow_fetching: bool = True
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    dns_timeout: float = DEFAULT_DNS_TIMEOUT
    cache_ttl: float = DEFAULT_CACHE_TTL
    cache_size: int = DEFAULT_CACHE_SIZE
    #: LEGACY: accept RSA-SHA1/SHA-1 SMP signatures.
    legacy_sha1: bool = False
    #: LEGACY: the removed CNAME scheme with plain-http SMPs.
    legacy_cname: bool = False
    #: INSECURE: do not check that the SMP signer chains to the SMP CA (see docs/discovery.md).
    skip_smp_signer_trust: bool = False
    #: Total seconds per lookup (DNS + HTTP); ``None``: per-read timeouts only.
    deadline: float | None = DEFAULT_LOOKUP_DEADLINE


def load_validator(
    path: Path,
    purpose: Purpose,
    *,
    crls: Sequence[Path] = (),
    revocation: RevocationPolicy = DEFAULT_REVOCATION_POLICY,
    allow_fetching: bool = True,
) -> CertificateValidator:
    """A certificate validator for ``purpose`` over the PEM trust store at ``path``."""
    try:
        trust = TrustStore.from_pem(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load trust store {path}: {exc}") from exc
    try:
        return CertificateValidator(
            trust,
            purpose=purpose,
            revocation=RevocationPolicy(revocation),
            crls=[p.read_bytes() for p in crls],
            allow_fetching=allow_fetching,
        )
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load the CRLs {', '.join(map(str, crls))}: {exc}") from exc


def build_discovery(settings: DiscoverySettings) -> Discovery:
    """A ready :class:`Discovery`; ``ValueError`` on any configuration problem."""
    s = settings
    if s.ap_trust is None:
        raise ValueError("an AP trust store is required (endpoint certificates are validated before use)")
    if s.smp_trust is None and not s.skip_smp_signer_trust:
        raise ValueError("an SMP trust store is required (SMP signatures are verified against the SMP CA)")
    try:
        zone = resolve_zone(s.zone)
    except IdentifierError as exc:
        raise ValueError(str(exc)) from exc
    servers = tuple(Nameserver.parse(ns) for ns in s.nameservers)

    def validator(path: Path, purpose: Purpose) -> CertificateValidator:
        return load_validator(
            path, purpose, crls=s.crls, revocation=s.revocation, allow_fetching=s.allow_fetching
        )

    ap_validator = validator(s.ap_trust, Purpose.AP)
    smp_validator = validator(s.smp_trust, Purpose.SMP) if s.smp_trust is not None else None
    config = DiscoveryConfig(
        sml=SmlConfig(
            zone=zone,
            nameservers=servers,
            timeout=s.dns_timeout,
            legacy_cname=s.legacy_cname,
            allow_http=s.legacy_cname,
        ),
        http=HttpSettings(
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            ca_bundle=str(s.tls_ca) if s.tls_ca else None,
            proxies={"https": s.proxy, "http": s.proxy} if s.proxy else None,
            allow_http=s.legacy_cname,
        ),
        dialect=s.dialect,
        signature=SignaturePolicy(allow_sha1=s.legacy_sha1),
        skip_smp_signer_trust=s.skip_smp_signer_trust,
        cache_ttl=s.cache_ttl,
        cache_size=s.cache_size,
        deadline=s.deadline,
    )
    return Discovery(config, smp_validator=smp_validator, ap_validator=ap_validator)


def build_static(
    path: Path,
    *,
    ap_trust: Path | None = None,
    crls: Sequence[Path] = (),
    revocation: RevocationPolicy = DEFAULT_REVOCATION_POLICY,
    allow_fetching: bool = True,
) -> StaticDirectory:
    """A :class:`StaticDirectory`, validating endpoint certificates when ``ap_trust`` is given.

    Raises ``ValueError`` for an unusable trust store and
    :class:`~smp_client.errors.StaticDirectoryError` for a bad directory file.
    """
    validator = (
        load_validator(ap_trust, Purpose.AP, crls=crls, revocation=revocation, allow_fetching=allow_fetching)
        if ap_trust is not None
        else None
    )
    return StaticDirectory(path, ap_validator=validator)
