"""Peppol PKI and trust: loading keys and certificates, trust stores, certificate validation.

See ``docs/pki.md`` for the stage/purpose rules and the revocation policy.
"""

from __future__ import annotations

from peppol.pki.errors import (
    CertificateError,
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    KeyLoadError,
    RevocationUnknown,
    WrongPurpose,
    WrongStage,
)
from peppol.pki.loading import (
    Identity,
    clear_key_cache,
    load_certificate,
    load_certificates,
    load_pkcs12,
    load_private_key,
)
from peppol.pki.names import Purpose, Stage, name_purpose, name_stage, seat_id
from peppol.pki.truststore import TrustStore, is_self_signed
from peppol.pki.validation import (
    DEFAULT_REVOCATION_POLICY,
    CertificateValidator,
    RevocationPolicy,
    ValidatedCertificate,
    check_usage,
)

__all__ = [
    "DEFAULT_REVOCATION_POLICY",
    "CertificateError",
    "CertificateExpired",
    "CertificateRevoked",
    "CertificateUntrusted",
    "CertificateValidator",
    "Identity",
    "KeyLoadError",
    "Purpose",
    "RevocationPolicy",
    "RevocationUnknown",
    "Stage",
    "TrustStore",
    "ValidatedCertificate",
    "WrongPurpose",
    "WrongStage",
    "check_usage",
    "clear_key_cache",
    "is_self_signed",
    "load_certificate",
    "load_certificates",
    "load_pkcs12",
    "load_private_key",
    "name_purpose",
    "name_stage",
    "seat_id",
]
