"""Identifier errors. Each class carries a stable machine-readable ``code``."""

from __future__ import annotations


class IdentifierError(ValueError):
    """An identifier (or SML zone) is invalid. ``code`` is a stable machine-readable reason."""

    code: str = "bad-identifier"


class BadSyntaxError(IdentifierError):
    """The text is not of the form ``scheme::value`` (or is empty)."""

    code = "bad-syntax"


class BadSchemeError(IdentifierError):
    """The scheme is syntactically wrong or not the one Peppol prescribes for this kind."""

    code = "bad-scheme"


class BadValueError(IdentifierError):
    """The value breaks the syntax of its scheme."""

    code = "bad-value"


class BadCharsetError(BadValueError):
    """The value contains characters outside ISO-8859-1 (or outside the allowed set)."""

    code = "bad-charset"


class TooLongError(IdentifierError):
    """The scheme, value or a derived DNS name exceeds its maximum length."""

    code = "too-long"


class UnknownIcdError(IdentifierError):
    """The participant's ICD code is not in the participant identifier scheme code list."""

    code = "unknown-icd"


class RemovedIcdError(IdentifierError):
    """The participant's ICD code has been removed from the code list (or its removal date passed)."""

    code = "removed-icd"


class BadZoneError(IdentifierError):
    """An SML zone is neither a known name nor a valid DNS domain."""

    code = "bad-zone"
