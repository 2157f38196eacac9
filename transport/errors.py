"""ebMS 3.0 errors as exception classes carrying their protocol code.

Raised anywhere in the receiver pipeline; the receiver turns one into a signed ``eb:Error`` signal
(``severity="failure"``, ``refToMessageInError`` = the incoming MessageId). The sender maps received
error signals back onto these classes with :func:`error_for_code`.
"""

from __future__ import annotations

from typing import ClassVar, Final

#: ErrorDetail mandated by Peppol when the receiver is not served by this access point.
PEPPOL_NOT_SERVICED: Final = "PEPPOL:NOT_SERVICED"


class EbmsError(Exception):
    """Base ebMS error. ``code`` (``EBMS:0004``), ``short_description``, ``category`` and
    ``severity`` are protocol values; ``detail`` goes into ``eb:ErrorDetail``; ``description`` into
    ``eb:Description``."""

    code: ClassVar[str] = "EBMS:0004"
    short_description: ClassVar[str] = "Other"
    category: ClassVar[str] = "Content"
    severity: ClassVar[str] = "failure"
    #: Whether a sender that receives this error may try again later.
    retryable: ClassVar[bool] = False

    def __init__(self, description: str, *, detail: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.detail = detail if detail is not None else description

    def __str__(self) -> str:
        return f"{self.code} {self.short_description}: {self.description}"


class ValueNotRecognized(EbmsError):
    code = "EBMS:0001"
    short_description = "ValueNotRecognized"


class FeatureNotSupported(EbmsError):
    code = "EBMS:0002"
    short_description = "FeatureNotSupported"
    severity = "warning"


class ValueInconsistent(EbmsError):
    code = "EBMS:0003"
    short_description = "ValueInconsistent"


class OtherError(EbmsError):
    """``EBMS:0004``: SBDH problems, C1/C4 mismatches and (with ``PEPPOL:NOT_SERVICED``) not served."""

    code = "EBMS:0004"
    short_description = "Other"


class NotServiced(OtherError):
    """The receiver (participant, document type, process) is not served here."""

    def __init__(self, description: str = "The receiver is not serviced by this access point") -> None:
        super().__init__(description, detail=PEPPOL_NOT_SERVICED)


class ConnectionFailure(EbmsError):
    code = "EBMS:0005"
    short_description = "ConnectionFailure"
    category = "Communication"
    retryable = True


class MimeInconsistency(EbmsError):
    code = "EBMS:0007"
    short_description = "MimeInconsistency"
    category = "Unpackaging"


class InvalidHeader(EbmsError):
    code = "EBMS:0009"
    short_description = "InvalidHeader"
    category = "Unpackaging"


class ProcessingModeMismatch(EbmsError):
    code = "EBMS:0010"
    short_description = "ProcessingModeMismatch"
    category = "Processing"


class ExternalPayloadError(EbmsError):
    code = "EBMS:0011"
    short_description = "ExternalPayloadError"


class FailedAuthentication(EbmsError):
    code = "EBMS:0101"
    short_description = "FailedAuthentication"
    category = "Processing"


class FailedDecryption(EbmsError):
    code = "EBMS:0102"
    short_description = "FailedDecryption"
    category = "Processing"


class PolicyNoncompliance(EbmsError):
    code = "EBMS:0103"
    short_description = "PolicyNoncompliance"
    category = "Processing"


class DeliveryFailure(EbmsError):
    code = "EBMS:0202"
    short_description = "DeliveryFailure"
    category = "Communication"
    retryable = True


class MissingReceipt(EbmsError):
    """Raised locally by the sender when retries are exhausted without a receipt."""

    code = "EBMS:0301"
    short_description = "MissingReceipt"
    category = "Communication"


class InvalidReceipt(EbmsError):
    """Raised locally by the sender when a receipt does not verify or does not match what we sent."""

    code = "EBMS:0302"
    short_description = "InvalidReceipt"
    category = "Communication"


class DecompressionFailure(EbmsError):
    code = "EBMS:0303"
    short_description = "DecompressionFailure"
    category = "Communication"


class DuplicateDetected(EbmsError):
    """phase4's private code since 4.5.0; we answer duplicates with the stored receipt instead."""

    code = "EBMS:4001"
    short_description = "DuplicateDetected"


_BY_CODE: Final[dict[str, type[EbmsError]]] = {
    cls.code: cls
    for cls in (
        ValueNotRecognized,
        FeatureNotSupported,
        ValueInconsistent,
        OtherError,
        ConnectionFailure,
        MimeInconsistency,
        InvalidHeader,
        ProcessingModeMismatch,
        ExternalPayloadError,
        FailedAuthentication,
        FailedDecryption,
        PolicyNoncompliance,
        DeliveryFailure,
        MissingReceipt,
        InvalidReceipt,
        DecompressionFailure,
        DuplicateDetected,
    )
}


def error_for_code(code: str) -> type[EbmsError]:
    """The exception class for an ebMS error code; unknown codes map to :class:`EbmsError`."""
    return _BY_CODE.get(code, EbmsError)
