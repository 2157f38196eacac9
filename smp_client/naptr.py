"""U-NAPTR record handling (RFC 3402/3403/4848) for the Peppol SML: filter, order, apply the regexp.

Pure functions on already-fetched records; the DNS traffic lives in :mod:`smp_client.sml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from smp_client.errors import NoMatchingSmpService, SmlRecordError

#: NAPTR flag for a terminal rule whose result is a URI (compared case-insensitively).
NAPTR_FLAG_URI: Final = "u"
#: NAPTR service of a Peppol SMP (compared case-insensitively).
NAPTR_SERVICE_SMP: Final = "meta:smp"
#: A quantified group (``(…)*``, ``(…)+``, ``(…){n}``, ``(…)?``): the shape of catastrophic
#: backtracking. DNS answers are not authenticated, so a forged NAPTR must not be able to hang us;
#: real SML regexps are ``!.*!<uri>!`` or ``!^.*$!<uri>!``.
_QUANTIFIED_GROUP: Final = re.compile(r"(?<!\\)\)[*+?{]")


@dataclass(frozen=True, slots=True)
class NaptrRecord:
    """One NAPTR record as text (dnspython hands flags/service/regexp out as bytes)."""

    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str = "."

    @property
    def is_smp(self) -> bool:
        """Flags ``U`` and service ``Meta:SMP``, both case-insensitive."""
        return self.flags.lower() == NAPTR_FLAG_URI and self.service.lower() == NAPTR_SERVICE_SMP

    def __str__(self) -> str:
        quoted = f'"{self.flags}" "{self.service}" "{self.regexp}"'
        return f"{self.order} {self.preference} {quoted} {self.replacement}"


def smp_records(records: Iterable[NaptrRecord]) -> list[NaptrRecord]:
    """The ``U`` + ``Meta:SMP`` records, ordered by ORDER then PREFERENCE (stable otherwise)."""
    return sorted((r for r in records if r.is_smp), key=lambda r: (r.order, r.preference))


def _split_regexp(regexp: str) -> tuple[str, str, str]:
    """Split ``<d>pattern<d>replacement<d>flags`` at unescaped delimiters ``<d>``."""
    if len(regexp) < 3:
        raise SmlRecordError(f"NAPTR regexp too short: {regexp!r}")
    delim = regexp[0]
    if delim.isalnum() or delim == "\\" or delim.isspace():
        raise SmlRecordError(f"NAPTR regexp has an invalid delimiter {delim!r}: {regexp!r}")
    parts: list[str] = []
    current: list[str] = []
    i = 1
    while i < len(regexp):
        ch = regexp[i]
        if ch == "\\" and i + 1 < len(regexp):
            nxt = regexp[i + 1]
            # An escaped delimiter is a literal delimiter; other escapes stay for the regex engine.
            current.append(nxt if nxt == delim else ch + nxt)
            i += 2
            continue
        if ch == delim:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if len(parts) != 2:
        raise SmlRecordError(f"NAPTR regexp does not have three delimited fields: {regexp!r}")
    flags = "".join(current)
    if flags not in ("", "i"):
        raise SmlRecordError(f"NAPTR regexp has unsupported flags {flags!r}: {regexp!r}")
    return parts[0], parts[1], flags


def _expand(replacement: str, match: re.Match[str]) -> str:
    """RFC 3402 replacement: ``\\1``..``\\9`` back-references, ``\\x`` is a literal ``x``."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            if nxt.isdigit() and nxt != "0":
                index = int(nxt)
                if index > (match.re.groups or 0):
                    raise SmlRecordError(f"NAPTR replacement refers to missing group \\{index}")
                out.append(match.group(index) or "")
            else:
                out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def apply_regexp(regexp: str, subject: str) -> str | None:
    """Apply a NAPTR ``regexp`` to ``subject`` (the query name without trailing dot).

    The pattern is anchored (``^``/``$`` added where missing, then matched with ``fullmatch``) so that
    ``!.*!https://smp!`` yields the URI once. Returns ``None`` when the pattern does not match;
    raises :class:`SmlRecordError` when the regexp itself is unusable.
    """
    pattern, replacement, flags = _split_regexp(regexp)
    if not pattern.startswith("^"):
        pattern = "^" + pattern
    if not pattern.endswith("$") or pattern.endswith("\\$"):
        pattern = pattern + "$"
    if _QUANTIFIED_GROUP.search(pattern):
        raise SmlRecordError(f"NAPTR regexp with a quantified group is refused: {regexp!r}")
    try:
        compiled = re.compile(pattern, re.IGNORECASE if flags == "i" else 0)
    except (re.error, OverflowError, RecursionError) as exc:
        raise SmlRecordError(f"NAPTR regexp pattern does not compile: {regexp!r}: {exc}") from exc
    match = compiled.fullmatch(subject)
    if match is None:
        return None
    return _expand(replacement, match)


def check_smp_uri(uri: str, *, allow_http: bool = False) -> str:
    """Return ``uri`` if it is an absolute https URL with a host (http only with ``allow_http``)."""
    if not uri or any(c.isspace() for c in uri):
        raise SmlRecordError(f"resolved SMP URI is empty or contains whitespace: {uri!r}")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise SmlRecordError(f"resolved SMP URI is not a URL: {uri!r}: {exc}") from exc
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in allowed:
        raise SmlRecordError(f"resolved SMP URI must use https: {uri!r}")
    if not parts.hostname or "@" in parts.netloc:
        raise SmlRecordError(f"resolved SMP URI has no host or carries credentials: {uri!r}")
    if parts.query or parts.fragment:
        raise SmlRecordError(f"resolved SMP URI must not carry a query or fragment: {uri!r}")
    if port == 0:
        raise SmlRecordError(f"resolved SMP URI has port 0: {uri!r}")
    return uri


def select_smp_uri(
    records: Sequence[NaptrRecord], query_name: str, *, allow_http: bool = False
) -> tuple[NaptrRecord, str]:
    """Choose the SMP base URI from the NAPTR records of ``query_name``.

    Keeps ``U`` + ``Meta:SMP`` records, orders them, and takes the first whose regexp matches and
    yields an acceptable URI. Raises :class:`NoMatchingSmpService` when no record is an SMP record,
    :class:`SmlRecordError` when SMP records exist but none yields a usable URI.
    """
    candidates = smp_records(records)
    if not candidates:
        found = ", ".join(f"{r.flags!r}/{r.service!r}" for r in records) or "none"
        raise NoMatchingSmpService(f"no NAPTR record with flags U and service Meta:SMP (found: {found})")
    subject = query_name.rstrip(".")
    problems: list[str] = []
    for record in candidates:
        try:
            uri = apply_regexp(record.regexp, subject)
            if uri is None:
                problems.append(f"regexp {record.regexp!r} does not match {subject}")
                continue
            return record, check_smp_uri(uri, allow_http=allow_http)
        except SmlRecordError as exc:
            problems.append(str(exc))
    raise SmlRecordError("no usable Meta:SMP NAPTR record: " + "; ".join(problems))
