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
from peppol.pki.identities import IdentitySet
from peppol.pki.loading import (
    KEY_PASSWORD_ENV,
    Identity,
    clear_key_cache,
    is_pkcs12,
    key_password,
    load_certificate,
    load_certificates,
    load_identity,
    load_pkcs12,
    load_private_key,
    looks_pkcs12,
    needs_password,
)
from peppol.pki.names import Purpose, Stage, name_purpose, name_stage, seat_id
from peppol.pki.network import (
    NETWORK_BUNDLES,
    network_bundle,
    network_truststore,
    select_truststore,
    trust_file,
)
from peppol.pki.truststore import TrustStore, is_self_signed
from peppol.pki.validation import (
    DEFAULT_REVOCATION_POLICY,
    SOFT_FAILS,
    CertificateValidator,
    RevocationPolicy,
    SoftFailMonitor,
    ValidatedCertificate,
    check_usage,
)

__all__ = [
    "DEFAULT_REVOCATION_POLICY",
    "KEY_PASSWORD_ENV",
    "NETWORK_BUNDLES",
    "SOFT_FAILS",
    "CertificateError",
    "CertificateExpired",
    "CertificateRevoked",
    "CertificateUntrusted",
    "CertificateValidator",
    "Identity",
    "IdentitySet",
    "KeyLoadError",
    "Purpose",
    "RevocationPolicy",
    "RevocationUnknown",
    "SoftFailMonitor",
    "Stage",
    "TrustStore",
    "ValidatedCertificate",
    "WrongPurpose",
    "WrongStage",
    "check_usage",
    "clear_key_cache",
    "is_pkcs12",
    "is_self_signed",
    "key_password",
    "load_certificate",
    "load_certificates",
    "load_identity",
    "load_pkcs12",
    "load_private_key",
    "looks_pkcs12",
    "name_purpose",
    "name_stage",
    "needs_password",
    "network_bundle",
    "network_truststore",
    "seat_id",
    "select_truststore",
    "trust_file",
]
