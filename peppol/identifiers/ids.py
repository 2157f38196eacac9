"""Participant, document type and process identifier classes (Policy for use of Identifiers 4.4).

See the package docstring for the rules. Strict parsing (the default) applies the Peppol rules and
code lists; ``strict=False`` ("lax") reads non-conformant data: any scheme of sane syntax, unknown or
removed ICDs, unstructured document type values. Size, character-set and whitespace limits always
apply.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from peppol.codelists import IcdScheme, participant_scheme
from peppol.identifiers.errors import (
    BadCharsetError,
    BadSchemeError,
    BadSyntaxError,
    BadValueError,
    RemovedIcdError,
    TooLongError,
    UnknownIcdError,
)

PARTICIPANT_SCHEME: Final = "iso6523-actorid-upis"
DOCTYPE_SCHEME: Final = "busdox-docid-qns"
DOCTYPE_WILDCARD_SCHEME: Final = "peppol-doctype-wildcard"
PROCESS_SCHEME: Final = "cenbii-procid-ubl"

#: Separator between scheme and value in the URI form.
SCHEME_SEPARATOR: Final = "::"
#: Maximum scheme length (all identifier kinds).
MAX_SCHEME_LENGTH: Final = 25
#: Maximum participant value length (4-digit ICD + ":" + 130).
MAX_PARTICIPANT_VALUE_LENGTH: Final = 135
#: Maximum document type value length.
MAX_DOCTYPE_VALUE_LENGTH: Final = 500
#: Maximum process value length.
MAX_PROCESS_VALUE_LENGTH: Final = 200

#: Access point Seat ID (the CN of a Peppol AP certificate), e.g. ``PDK000270``.
SEAT_ID_RE: Final = re.compile(r"P[A-Z]{2}[0-9]{6}")

_SCHEME_RE: Final = re.compile(r"[a-z0-9]+-[a-z0-9]+-[a-z0-9]+")
#: Lax schemes: printable ASCII without spaces and colons (e.g. the legacy process scheme ``ptype``).
_LAX_SCHEME_RE: Final = re.compile(r"[!-9;-~]+")
_PARTICIPANT_VALUE_RE: Final = re.compile(r"([0-9]{4}):([A-Za-z0-9\-._~]+)")
_LAX_PARTICIPANT_VALUE_RE: Final = re.compile(r"([0-9]{4}):(.+)", re.DOTALL)
_WHITESPACE_RE: Final = re.compile(r"\s")
_DOCTYPE_SCHEMES: Final = (DOCTYPE_SCHEME, DOCTYPE_WILDCARD_SCHEME)
#: peppol-commons chooses the wildcard scheme for PINT document types.
_PINT_MARKER: Final = "##urn:peppol:pint:"


# -------------------------------------------------------------------------------------------- helpers


def split_uri(text: str) -> tuple[str, str]:
    """Split ``scheme::value`` at the first ``::`` (document type values contain ``::`` themselves)."""
    if not isinstance(text, str):
        raise BadSyntaxError(f"identifier must be a string, not {type(text).__name__}")
    scheme, sep, value = text.strip().partition(SCHEME_SEPARATOR)
    if not sep:
        raise BadSyntaxError(f"{show(text)} is not of the form 'scheme::value'")
    if not scheme:
        raise BadSyntaxError(f"{show(text)} has an empty scheme")
    if not value:
        raise BadSyntaxError(f"{show(text)} has an empty value")
    return scheme, value


def show(text: str, limit: int = 80) -> str:
    """Quote user input for an error message, shortened so a huge input cannot flood a log line."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)


def _check_scheme(scheme: str, kind: str, *, strict: bool, allowed: tuple[str, ...]) -> None:
    """Strict: ``scheme`` must be one of ``allowed`` (exact case). Lax: any sane scheme <= 25 chars."""
    if strict:
        if scheme in allowed:
            return
        names = " or ".join(repr(a) for a in allowed)
        if scheme.lower() in allowed:
            raise BadSchemeError(f"{kind} scheme {show(scheme)} must be {names} (schemes are case-sensitive)")
        if _SCHEME_RE.fullmatch(scheme.lower()):
            raise BadSchemeError(f"{kind} scheme {show(scheme)} is not {names}")
        raise BadSchemeError(
            f"{kind} scheme {show(scheme)} is not of the form 'xxx-yyy-zzz' (expected {names})"
        )
    if not _LAX_SCHEME_RE.fullmatch(scheme):
        raise BadSchemeError(f"{kind} scheme {show(scheme)} contains spaces, colons or non-ASCII characters")
    if len(scheme) > MAX_SCHEME_LENGTH:
        raise TooLongError(f"{kind} scheme {show(scheme)} is longer than {MAX_SCHEME_LENGTH} characters")


#: C0 and C1 control characters and DEL (one regex search: identifiers are checked on every message).
_CONTROL_RE: Final = re.compile("[\x00-\x1f\x7f-\x9f]")


def _check_latin1(value: str, kind: str) -> None:
    try:
        value.encode("iso-8859-1")
    except UnicodeEncodeError:
        raise BadCharsetError(f"{kind} value {show(value)} contains characters outside ISO-8859-1") from None
    if _CONTROL_RE.search(value):
        raise BadCharsetError(f"{kind} value {show(value)} contains control characters")


def _check_no_whitespace(value: str, kind: str) -> None:
    if _WHITESPACE_RE.search(value):
        raise BadValueError(f"{kind} value {show(value)} contains whitespace")


def _checked(
    value: object, scheme: object, kind: str, *, strict: bool, allowed: tuple[str, ...], max_length: int
) -> tuple[str, str]:
    """The checks every identifier kind shares: strings, trimmed, scheme, non-empty value within
    ``max_length``, ISO-8859-1 without control characters. Returns the trimmed (scheme, value)."""
    if not isinstance(value, str) or not isinstance(scheme, str):
        raise BadSyntaxError(f"{kind} scheme and value must be strings")
    scheme = scheme.strip()
    value = value.strip()
    _check_scheme(scheme, kind, strict=strict, allowed=allowed)
    if not value:
        raise BadValueError(f"{kind} value is empty")
    if len(value) > max_length:
        raise TooLongError(f"{kind} value is {len(value)} characters long, more than {max_length}")
    _check_latin1(value, kind)
    return scheme, value


class _SchemeValue:
    """The ``scheme::value`` forms shared by the three identifier kinds."""

    __slots__ = ()
    scheme: str
    value: str

    @property
    def uri(self) -> str:
        """``scheme::value``."""
        return f"{self.scheme}{SCHEME_SEPARATOR}{self.value}"

    @property
    def url_encoded(self) -> str:
        """Percent-encoded ``scheme::value`` for one SMP URL path segment (RFC 3986 unreserved kept)."""
        return quote(self.uri, safe="")

    def __str__(self) -> str:
        return self.uri


# ----------------------------------------------------------------------------------------- participant


@dataclass(frozen=True)
class ParticipantId(_SchemeValue):
    """A Peppol participant identifier. ``value`` is stored lower-cased (values are case-insensitive).

    Build instances with :meth:`parse` or :meth:`of`, which validate; the plain constructor only
    normalises the case (so equality stays case-insensitive) and checks nothing else.
    """

    scheme: str
    value: str

    def __post_init__(self) -> None:
        if self.value != self.value.lower():
            object.__setattr__(self, "value", self.value.lower())

    @classmethod
    def parse(cls, text: str, *, strict: bool = True, on: _dt.date | None = None) -> ParticipantId:
        """Parse ``scheme::value``. ``strict`` also checks the scheme is ``iso6523-actorid-upis`` and
        the ICD is in the code list and not removed as of ``on`` (default: today, UTC)."""
        scheme, value = split_uri(text)
        return cls.of(value, scheme, strict=strict, on=on)

    @classmethod
    def of(
        cls,
        value: str,
        scheme: str = PARTICIPANT_SCHEME,
        *,
        strict: bool = True,
        on: _dt.date | None = None,
    ) -> ParticipantId:
        """Build and validate a participant identifier from its parts (see :meth:`parse`)."""
        scheme, value = _checked(
            value,
            scheme,
            "participant",
            strict=strict,
            allowed=(PARTICIPANT_SCHEME,),
            max_length=MAX_PARTICIPANT_VALUE_LENGTH,
        )
        _check_no_whitespace(value, "participant")
        if scheme == PARTICIPANT_SCHEME:
            if strict:
                match = _PARTICIPANT_VALUE_RE.fullmatch(value)
                if match is None:
                    if _LAX_PARTICIPANT_VALUE_RE.fullmatch(value):
                        raise BadCharsetError(
                            f"participant value {show(value)}: the local part may only contain "
                            "A-Z a-z 0-9 - . _ ~"
                        )
                    raise BadValueError(f"participant value {show(value)} is not of the form 'NNNN:local-id'")
                _check_icd(match.group(1), on)
            elif _LAX_PARTICIPANT_VALUE_RE.fullmatch(value) is None:
                raise BadValueError(f"participant value {show(value)} is not of the form 'NNNN:local-id'")
        return cls(scheme, value.lower())

    @property
    def icd(self) -> str:
        """The ISO 6523 ICD code, e.g. ``"0088"`` (empty for non-ISO 6523 schemes without a colon)."""
        head, sep, _ = self.value.partition(":")
        return head if sep else ""

    @property
    def local_id(self) -> str:
        """The identifier within its ICD scheme (lower case), e.g. ``"5798000000001"``."""
        head, sep, tail = self.value.partition(":")
        return tail if sep else head

    @property
    def icd_scheme(self) -> IcdScheme | None:
        """The code-list entry of the ICD, if known."""
        return participant_scheme(self.icd) if self.scheme == PARTICIPANT_SCHEME else None

    @property
    def deprecated(self) -> bool:
        """The ICD is deprecated but still usable (sending works until its removal date)."""
        entry = self.icd_scheme
        return entry is not None and entry.state == "deprecated"


def _check_icd(icd: str, on: _dt.date | None) -> None:
    entry = participant_scheme(icd)
    if entry is None:
        raise UnknownIcdError(f"ICD {icd!r} is not in the Peppol participant identifier scheme list")
    day = on if on is not None else _dt.datetime.now(_dt.UTC).date()
    if not entry.usable_on(day):
        when = f" on {entry.removal_date.isoformat()}" if entry.removal_date else ""
        raise RemovedIcdError(f"ICD {icd!r} ({entry.scheme_id}) was removed from Peppol{when}")


# --------------------------------------------------------------------------------------- document type


@dataclass(frozen=True)
class DocumentTypeId(_SchemeValue):
    """A Peppol document type identifier (case-sensitive)."""

    scheme: str
    value: str

    @classmethod
    def parse(cls, text: str, *, strict: bool = True) -> DocumentTypeId:
        """Parse ``scheme::value``, e.g. ``busdox-docid-qns::urn:…:Invoice-2::Invoice##…::2.1``."""
        scheme, value = split_uri(text)
        return cls.of(value, scheme, strict=strict)

    @classmethod
    def of(cls, value: str, scheme: str = DOCTYPE_SCHEME, *, strict: bool = True) -> DocumentTypeId:
        """Build and validate a document type identifier from its parts."""
        scheme, value = _checked(
            value,
            scheme,
            "document type",
            strict=strict,
            allowed=_DOCTYPE_SCHEMES,
            max_length=MAX_DOCTYPE_VALUE_LENGTH,
        )
        if strict:
            _check_no_whitespace(value, "document type")
            _, _, customization, _ = _doctype_parts(value)
            if "*" in customization and (
                scheme != DOCTYPE_WILDCARD_SCHEME or customization.index("*") != len(customization) - 1
            ):
                raise BadValueError(
                    f"document type customization {show(customization)}: '*' is only allowed at the end "
                    f"with scheme {DOCTYPE_WILDCARD_SCHEME!r}"
                )
        return cls(scheme, value)

    @classmethod
    def for_value(cls, value: str) -> DocumentTypeId:
        """Build from a value alone, choosing the wildcard scheme for PINT (as peppol-commons does)."""
        scheme = DOCTYPE_WILDCARD_SCHEME if _PINT_MARKER in value else DOCTYPE_SCHEME
        return cls.of(value, scheme)

    @property
    def root_namespace(self) -> str:
        """Namespace URI of the payload root element (the SBDH ``Standard``)."""
        return _doctype_parts(self.value)[0]

    @property
    def local_name(self) -> str:
        """Local name of the payload root element (the SBDH ``Type``)."""
        return _doctype_parts(self.value)[1]

    @property
    def customization_id(self) -> str:
        """The ``cbc:CustomizationID`` part."""
        return _doctype_parts(self.value)[2]

    @property
    def version(self) -> str:
        """The syntax version after the last ``::`` (the SBDH ``TypeVersion``), e.g. ``"2.1"``."""
        return _doctype_parts(self.value)[3]


def _doctype_parts(value: str) -> tuple[str, str, str, str]:
    """Split ``<root-ns>::<local>##<customization>::<version>``; raises :class:`BadValueError`."""
    root, sep, rest = value.partition("##")
    if not sep:
        raise BadValueError(f"document type value {show(value)} has no '##' before the customization")
    namespace, sep, local_name = root.rpartition("::")
    if not sep or not namespace or not local_name:
        raise BadValueError(f"document type value {show(value)} has no '<root-namespace>::<local-name>'")
    customization, sep, version = rest.rpartition("::")
    if not sep or not version:
        raise BadValueError(f"document type value {show(value)} has no '::<version>' after the customization")
    if not customization:
        raise BadValueError(f"document type value {show(value)} has an empty customization")
    return namespace, local_name, customization, version


# --------------------------------------------------------------------------------------------- process


@dataclass(frozen=True)
class ProcessId(_SchemeValue):
    """A Peppol process identifier (case-sensitive)."""

    scheme: str
    value: str

    @classmethod
    def parse(cls, text: str, *, strict: bool = True) -> ProcessId:
        """Parse ``scheme::value``, e.g. ``cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p002:1.2``."""
        scheme, value = split_uri(text)
        return cls.of(value, scheme, strict=strict)

    @classmethod
    def of(cls, value: str, scheme: str = PROCESS_SCHEME, *, strict: bool = True) -> ProcessId:
        """Build and validate a process identifier from its parts."""
        scheme, value = _checked(
            value,
            scheme,
            "process",
            strict=strict,
            allowed=(PROCESS_SCHEME,),
            max_length=MAX_PROCESS_VALUE_LENGTH,
        )
        _check_no_whitespace(value, "process")
        return cls(scheme, value)


# --------------------------------------------------------------------------------------------- seat id


def is_seat_id(s: str) -> bool:
    """True when ``s`` is an access point Seat ID such as ``PDK000270`` (exact case)."""
    return isinstance(s, str) and SEAT_ID_RE.fullmatch(s) is not None
