"""SBDH error ids (those of peppol-commons ``EPeppolSBDHDataError``) and the exception carrying them.

The AS4 receiver maps every :class:`SbdhError` to ``EBMS:0004`` (:class:`transport.errors.OtherError`)
with the error id in ``eb:ErrorDetail``; :meth:`SbdhError.to_ebms` does exactly that.
"""

from __future__ import annotations

from typing import Final

from transport.errors import OtherError

INVALID_SBD_XML: Final = "invalid-sbd-xml"
MISSING_SBDH: Final = "missing-sbdh"
INVALID_HEADER_VERSION: Final = "invalid-header-version"
INVALID_SENDER_COUNT: Final = "invalid-sender-count"
INVALID_SENDER_AUTHORITY: Final = "invalid-sender-authority"
INVALID_SENDER_VALUE: Final = "invalid-sender-value"
INVALID_RECEIVER_COUNT: Final = "invalid-receiver-count"
INVALID_RECEIVER_AUTHORITY: Final = "invalid-receiver-authority"
INVALID_RECEIVER_VALUE: Final = "invalid-receiver-value"
BUSINESS_SCOPE_MISSING: Final = "business-scope-missing"
INVALID_SCOPE_COUNT: Final = "invalid-scope-count"
INVALID_DOCUMENT_TYPE_IDENTIFIER: Final = "invalid-document-type-identifier"
INVALID_PROCESS_IDENTIFIER: Final = "invalid-process-identifier"
INVALID_COUNTRY_C1: Final = "invalid-country-c1"
INVALID_MLS_TO: Final = "invalid-mls-to"
INVALID_MLS_TYPE: Final = "invalid-mls-type"
MISSING_DOCUMENT_TYPE_IDENTIFIER: Final = "missing-document-type-identifier"
MISSING_PROCESS_IDENTIFIER: Final = "missing-process-identifier"
MISSING_COUNTRY_C1: Final = "missing-country-c1"
INVALID_BUSINESS_MESSAGE: Final = "invalid-business-message"
INVALID_STANDARD: Final = "invalid-standard"
INVALID_TYPE_VERSION: Final = "invalid-type-version"
INVALID_TYPE: Final = "invalid-type"
INVALID_INSTANCE_IDENTIFIER: Final = "invalid-instance-identifier"
INVALID_CREATION_DATE_TIME: Final = "invalid-creation-date-time"

# Ids of our own (not in peppol-commons).
#: A reserved Scope type that is not defined yet (``COUNTRY_C4``, ``TECHNICAL_VALIDATION_*``): warning.
RESERVED_SCOPE_TYPE: Final = "reserved-scope-type"
#: An additional-attribute Scope type occurs twice (the last one wins): warning.
DUPLICATE_SCOPE_TYPE: Final = "duplicate-scope-type"
#: An identifier passes the syntax checks but not the strict code-list rules (e.g. removed ICD): warning.
LAX_IDENTIFIER: Final = "lax-identifier"
#: ``CreationDateAndTime`` has no time zone (the spec requires one; read as UTC): warning.
CREATION_DATE_TIME_WITHOUT_ZONE: Final = "creation-date-time-without-zone"
#: AS4 ``originalSender`` differs from SBDH ``Sender`` (value or type).
AS4_ORIGINAL_SENDER_MISMATCH: Final = "as4-original-sender-mismatch"
#: AS4 ``finalRecipient`` differs from SBDH ``Receiver`` (value or type).
AS4_FINAL_RECIPIENT_MISMATCH: Final = "as4-final-recipient-mismatch"
#: AS4 ``Service`` differs from the SBDH ``PROCESSID`` scope.
AS4_SERVICE_MISMATCH: Final = "as4-service-mismatch"
#: AS4 ``Action`` differs from the SBDH ``DOCUMENTID`` scope.
AS4_ACTION_MISMATCH: Final = "as4-action-mismatch"
#: Input that cannot be written as an SBD (bad header field, payload not a single element, ...).
INVALID_INPUT: Final = "invalid-input"


class SbdhError(ValueError):
    """An SBD failed a Peppol envelope rule. ``code`` is the peppol-commons error id of the first
    violation (e.g. ``invalid-header-version``); ``errors`` lists every ``(code, message)`` found."""

    code: str

    def __init__(self, code: str, message: str, *, errors: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or ((code, message),)

    def to_ebms(self) -> OtherError:
        """The ebMS error the receiver answers with: ``EBMS:0004`` with ``code: message`` as detail."""
        return OtherError(f"SBDH rejected: {self.message}", detail=f"{self.code}: {self.message}")
