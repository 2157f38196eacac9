"""The discovery failure taxonomy.

Each failure class carries a stable ``code`` (named after peppol-commons'
``SMPDNSResolutionException.EErrorCode`` and SMP client exceptions where one exists), whether a
later retry can help (``retryable``), and the distinct exit code ``ap lookup`` uses for it.
Callers decide on ``retryable``: "participant not registered" is final, "DNS or SMP down" is not.
Nothing here collapses distinct failures into a generic "not found".
"""

from __future__ import annotations

from typing import Any


class DiscoveryError(Exception):
    """Base class of every discovery failure.

    ``steps`` is filled in by :class:`smp_client.Discovery` with what happened before the failure
    (for ``ap lookup``'s step-by-step output); it is empty when raised by the lower layers directly.
    """

    code: str = "DISCOVERY_ERROR"
    retryable: bool = False
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.steps: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return self.message


# --- SML (DNS) -----------------------------------------------------------------------------------


class ParticipantNotRegistered(DiscoveryError):
    """NXDOMAIN or NODATA for the participant's U-NAPTR name: not in this Peppol network (final)."""

    code = "PARTICIPANT_NOT_REGISTERED"
    exit_code = 3


class DnsTechnicalFailure(DiscoveryError):
    """SERVFAIL, REFUSED, timeouts, unreachable name servers: try again later."""

    code = "DNS_TECHNICAL_FAILURE"
    retryable = True
    exit_code = 4


class NoMatchingSmpService(DiscoveryError):
    """NAPTR records exist but none has flags ``U`` and service ``Meta:SMP``."""

    code = "NO_MATCHING_SMP_SERVICE"
    exit_code = 5


class SmlRecordError(DiscoveryError):
    """Bad SML data: an unusable NAPTR regexp or a resulting URI that is not acceptable."""

    code = "RESOLVED_URI_SYNTAX_ERROR"
    exit_code = 6


class DomainNameSyntaxError(SmlRecordError):
    """The DNS name built from participant and zone is not a valid domain name."""

    code = "DOMAIN_NAME_SYNTAX_ERROR"


# --- SMP (HTTP) ----------------------------------------------------------------------------------


class SmpUnavailable(DiscoveryError):
    """Connection refused, TLS handshake failure, connect or read timeout: the SMP is down (retryable)."""

    code = "SMP_UNAVAILABLE"
    retryable = True
    exit_code = 7


class DocumentTypeNotServed(DiscoveryError):
    """HTTP 404 from the SMP: participant or document type unknown at this SMP."""

    code = "SMP_NOT_FOUND"
    exit_code = 8


class BadSmpResponse(DiscoveryError):
    """The SMP answered, but the answer cannot be trusted or used."""

    code = "SMP_BAD_RESPONSE"
    exit_code = 9


class SmpTlsError(SmpUnavailable):
    """The TLS handshake failed verification (wrong CA, name mismatch): not retryable as such."""

    code = "SMP_TLS_ERROR"
    retryable = False


class SmpHttpError(BadSmpResponse):
    """An HTTP status other than 200 and 404 (3xx redirects are never followed); 5xx is retryable."""

    code = "SMP_HTTP_ERROR"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = status >= 500


class SmpXmlError(BadSmpResponse):
    """The body is not well-formed, unsafe, or not one of the three SMP dialects."""

    code = "SMP_MALFORMED_XML"


class SmpSignatureError(BadSmpResponse):
    """Missing, malformed, tampered or disallowed XMLDSig on the SMP response."""

    code = "SMP_BAD_SIGNATURE"


class SmpSignerUntrusted(SmpSignatureError):
    """The signer is not a valid certificate of the SMP CA (``certificate_code``: the PKI reason,
    e.g. ``expired``, ``revoked``, ``wrong-purpose``, ``untrusted``)."""

    code = "SMP_SIGNER_UNTRUSTED"

    def __init__(self, message: str, certificate_code: str | None = None) -> None:
        super().__init__(message)
        self.certificate_code = certificate_code


class IdentifierMismatch(BadSmpResponse):
    """The SMP answered for another participant or document type than the one requested."""

    code = "SMP_IDENTIFIER_MISMATCH"


class RedirectError(BadSmpResponse):
    """A second SMP ``Redirect``, or a redirect target signed by another certificate than announced."""

    code = "SMP_REDIRECT_ERROR"


# --- The whole lookup ----------------------------------------------------------------------------


class LookupDeadlineExceeded(DiscoveryError):
    """The lookup (DNS + HTTP, however many reads) did not finish within its total deadline: a slow or
    trickling SML/SMP. Per-read timeouts alone cannot catch a server sending one byte at a time."""

    code = "LOOKUP_DEADLINE_EXCEEDED"
    retryable = True
    exit_code = 12


# --- Endpoint selection --------------------------------------------------------------------------


class NoMatchingEndpoint(DiscoveryError):
    """No endpoint for the process and transport profile that is active at the lookup time."""

    code = "NO_MATCHING_ENDPOINT"
    exit_code = 10


class UntrustedEndpointCertificate(DiscoveryError):
    """The endpoint certificate is undecodable, or not a valid, unrevoked certificate of the AP CA
    (``certificate_code``: the PKI reason such as ``revoked`` or ``expired``; None if undecodable)."""

    code = "UNTRUSTED_ENDPOINT_CERTIFICATE"
    exit_code = 11

    def __init__(self, message: str, certificate_code: str | None = None) -> None:
        super().__init__(message)
        self.certificate_code = certificate_code


# --- Static directory ----------------------------------------------------------------------------


class StaticDirectoryError(DiscoveryError):
    """The static directory file cannot be read or has the wrong shape."""

    code = "STATIC_DIRECTORY_INVALID"
    exit_code = 2


#: Every concrete failure class, for documentation and the CLI's exit-code table.
ALL_ERRORS: tuple[type[DiscoveryError], ...] = (
    ParticipantNotRegistered,
    DnsTechnicalFailure,
    NoMatchingSmpService,
    SmlRecordError,
    DomainNameSyntaxError,
    SmpUnavailable,
    SmpTlsError,
    DocumentTypeNotServed,
    BadSmpResponse,
    SmpHttpError,
    SmpXmlError,
    SmpSignatureError,
    SmpSignerUntrusted,
    IdentifierMismatch,
    RedirectError,
    LookupDeadlineExceeded,
    NoMatchingEndpoint,
    UntrustedEndpointCertificate,
    StaticDirectoryError,
)
