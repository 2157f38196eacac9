"""Typed errors of the Schematron layer; ``code`` is a stable machine-readable identifier."""

from __future__ import annotations


class SchematronError(ValueError):
    """A Schematron source could not be compiled or run. ``code`` says why (see subclasses)."""

    code: str = "schematron-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class SchematronSourceError(SchematronError):
    """The Schematron source (or one of its includes) is unreadable, not XML or not Schematron."""

    code = "schematron-source"


class SchematronUnsupportedError(SchematronError):
    """The source uses a construct this compiler does not implement."""

    code = "schematron-unsupported"


class SchematronPhaseError(SchematronError):
    """The requested phase does not exist, or a phase activates an unknown pattern."""

    code = "schematron-phase"


class SchematronReferenceError(SchematronError):
    """A reference (``is-a``, ``extends``, ``diagnostics``, ``include``) points nowhere or loops."""

    code = "schematron-reference"


class SchematronCompileError(SchematronError):
    """Saxon rejected the generated XSLT (usually a bad XPath in the Schematron)."""

    code = "schematron-xslt-compile"


class SchematronRuntimeError(SchematronError):
    """Running the compiled stylesheet failed (dynamic XPath error, unreadable document)."""

    code = "schematron-runtime"


class SchematronCacheError(SchematronError):
    """Neither the configured cache directory nor the temp-dir fallback can hold the generated XSLT."""

    code = "schematron-cache"
