"""Typed certificate errors. Each carries a stable ``code`` that callers map to protocol errors
(an AS4 receiver answers EBMS:0101 for any of them; the CLI prints the code and the reason)."""

from __future__ import annotations


class CertificateError(Exception):
    """Base class: the certificate is not acceptable for the requested use."""

    code: str = "certificate-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def reason(self) -> str:
        """The one-line human reason."""
        return str(self.args[0]) if self.args else self.code


class CertificateExpired(CertificateError):
    """Outside its validity period: ``code`` is ``"expired"`` or ``"not-yet-valid"``."""

    code = "expired"


class CertificateRevoked(CertificateError):
    """Listed as revoked by a CRL or an OCSP response."""

    code = "revoked"


class CertificateUntrusted(CertificateError):
    """No path to a trust anchor (unknown CA, broken signature, malformed certificate)."""

    code = "untrusted"


class WrongPurpose(CertificateError):
    """Chains to a CA of another purpose (SMP CA where the AP CA is required, …) or the key usage /
    extended key usage does not fit the purpose."""

    code = "wrong-purpose"


class WrongStage(CertificateError):
    """Chains to a CA of the other stage (a test certificate where production is required, or the reverse)."""

    code = "wrong-stage"


class RevocationUnknown(CertificateError):
    """The revocation status could not be established and the policy is hard-fail."""

    code = "revocation-unknown"


class KeyLoadError(ValueError):
    """A key, certificate or PKCS#12 file could not be read or decoded."""

    code = "key-load-error"
