"""Trust stores: anchors (self-signed roots) and intermediates (issuing CAs) kept apart.

A Peppol trust-store bundle holds the root *and* the AP and SMP issuing CAs. Only self-signed
certificates become anchors; the others are offered as intermediates for path building. Making an
issuing CA an anchor would let a chain stop there and breaks pyhanko-certvalidator's CRL-issuer
checks (the CRL issuer must itself chain to an anchor).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

from peppol.pki.errors import KeyLoadError
from peppol.pki.loading import load_certificates
from peppol.pki.names import Stage, is_peppol_name, name_stage

_SHA256 = hashes.SHA256()


def is_self_signed(cert: x509.Certificate) -> bool:
    """True when ``cert`` is issued by itself and its signature verifies with its own key."""
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class TrustStore:
    """What a validator trusts: ``anchors`` end paths; ``intermediates`` may be used inside them.

    ``stage`` declares the store's stage explicitly; when ``None`` it is inferred from the names of
    its Peppol anchors (see :func:`peppol.pki.names.name_stage`).
    """

    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    stage: Stage | None = None

    def __post_init__(self) -> None:
        if not self.anchors:
            raise ValueError("a trust store needs at least one self-signed anchor")

    @classmethod
    def from_certificates(
        cls, certificates: Iterable[x509.Certificate], *, stage: Stage | None = None
    ) -> TrustStore:
        """Split ``certificates``: self-signed ones are anchors, the others intermediates (no duplicates)."""
        anchors: list[x509.Certificate] = []
        intermediates: list[x509.Certificate] = []
        seen: set[bytes] = set()
        for cert in certificates:
            fingerprint = cert.fingerprint(_SHA256)
            if fingerprint in seen:
                continue
            seen.add(fingerprint)
            (anchors if is_self_signed(cert) else intermediates).append(cert)
        if not anchors:
            raise KeyLoadError("trust store holds no self-signed root certificate")
        return cls(tuple(anchors), tuple(intermediates), stage)

    @classmethod
    def from_pem(cls, source: Path | bytes, *, stage: Stage | None = None) -> TrustStore:
        """Load a PEM bundle (path or bytes) of roots and issuing CAs."""
        return cls.from_certificates(load_certificates(source), stage=stage)

    @classmethod
    def from_files(cls, *sources: Path | bytes, stage: Stage | None = None) -> TrustStore:
        """Several PEM bundles merged into one store."""
        certs: list[x509.Certificate] = []
        for source in sources:
            certs.extend(load_certificates(source))
        return cls.from_certificates(certs, stage=stage)

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """Anchors then intermediates."""
        return self.anchors + self.intermediates

    def inferred_stage(self) -> Stage | None:
        """The declared stage, else the stage shared by all Peppol-named anchors, else ``None``."""
        if self.stage is not None:
            return self.stage
        stages = {name_stage(a.subject) for a in self.anchors if is_peppol_name(a.subject)}
        return stages.pop() if len(stages) == 1 else None
