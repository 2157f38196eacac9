"""The inbound Peppol SBDH rules (discovery digest §6.3 items 2-7) applied to a parsed header element.

Shared by the streaming reader (header subtree + payload root name) and the in-memory parser. All
violations are collected in document-rule order (the order of peppol-commons ``PeppolSBDHDataReader``);
the first one gives :attr:`SbdhError.code`. Text values are trimmed before any check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, TypeVar

from lxml import etree

from peppol.identifiers import (
    DOCTYPE_SCHEME,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    DocumentTypeId,
    IdentifierError,
    ParticipantId,
    ProcessId,
)
from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError
from transport.sbdh.model import (
    COUNTRY_C1_RE,
    FUTURE_SCOPE_TYPES,
    HEADER_VERSION,
    MIN_SCOPE_COUNT,
    MLS_TYPES,
    SBDH_NS,
    SCOPE_COUNTRY_C1,
    SCOPE_DOCUMENTID,
    SCOPE_MLS_TO,
    SCOPE_MLS_TYPE,
    SCOPE_PROCESSID,
    UNKNOWN_COUNTRY_C1,
    PayloadInfo,
    SbdhHeader,
)
from transport.sbdh.xmlparsers import value_text
from transport.sbdh.xsdatetime import parse_xs_datetime

#: Longest scheme peppol-commons accepts for a process identifier (it does not impose the
#: ``xxx-yyy-zzz`` syntax there; the good vector ``good-v11.xml`` uses ``ptype``).
_MAX_LEGACY_PROCESS_SCHEME = 25


@functools.cache
def _q(local: str) -> str:
    return f"{{{SBDH_NS}}}{local}"


_text = value_text

_Id = TypeVar("_Id", ParticipantId, DocumentTypeId, ProcessId)
#: Identifiers read from SBDHs so far, by (type, value, scheme, strict, UTC day: a participant's ICD
#: may be removed as of a date). A partner sends the same sender, receiver, document type and process
#: in message after message, and each strict check costs 6-15 µs. Identifiers are immutable; errors
#: are not kept. Cleared when full.
_IDENTIFIERS: dict[tuple[object, ...], object] = {}
#: Entries in that memo before it starts afresh.
IDENTIFIER_MEMO_SIZE: Final = 1024


def _of(kind: type[_Id], value: str, scheme: str, *, strict: bool) -> _Id:
    """``kind.of(value, scheme, strict=strict)``, remembered (see :data:`_IDENTIFIERS`)."""
    today = datetime.now(UTC).date()
    key = (kind, value, scheme, strict, today)
    hit = _IDENTIFIERS.get(key)
    if isinstance(hit, kind):
        return hit
    made = (
        kind.of(value, scheme, strict=strict, on=today)
        if kind is ParticipantId
        else kind.of(value, scheme, strict=strict)
    )
    if len(_IDENTIFIERS) >= IDENTIFIER_MEMO_SIZE:
        _IDENTIFIERS.clear()
    _IDENTIFIERS[key] = made
    return made


@dataclass
class _Collector:
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, code: str, message: str) -> None:
        self.errors.append((code, message))

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(f"{code}: {message}")


def _participant(
    party: str, el: etree._Element, c: _Collector, authority_code: str, value_code: str
) -> ParticipantId | None:
    ident = el.find(_q("Identifier"))
    authority = (ident.get("Authority") or "").strip() if ident is not None else ""
    value = _text(ident)
    if authority != PARTICIPANT_SCHEME:
        c.error(authority_code, f"{party}/Identifier/@Authority is {authority!r}, not {PARTICIPANT_SCHEME!r}")
    if not value:
        c.error(value_code, f"{party}/Identifier is empty")
        return None
    try:
        return _of(ParticipantId, value, PARTICIPANT_SCHEME, strict=True)
    except IdentifierError as strict_exc:
        try:
            pid = _of(ParticipantId, value, PARTICIPANT_SCHEME, strict=False)
        except IdentifierError as exc:
            c.error(value_code, f"{party}/Identifier {value!r} is not a valid participant id: {exc}")
            return None
        c.warn(E.LAX_IDENTIFIER, f"{party} {value!r} is readable but not strictly valid: {strict_exc}")
        return pid


def _document_type(scheme: str, value: str, c: _Collector) -> DocumentTypeId | None:
    if not value:
        c.error(E.INVALID_DOCUMENT_TYPE_IDENTIFIER, "the DOCUMENTID scope value is empty")
        return None
    try:
        return _of(DocumentTypeId, value, scheme, strict=True)
    except IdentifierError as strict_exc:
        try:
            doctype = _of(DocumentTypeId, value, scheme, strict=False)
        except IdentifierError as exc:
            c.error(E.INVALID_DOCUMENT_TYPE_IDENTIFIER, f"document type {scheme}::{value} is invalid: {exc}")
            return None
        c.warn(
            E.LAX_IDENTIFIER,
            f"document type {scheme}::{value} is readable but not strictly valid: {strict_exc}",
        )
        return doctype


def _process(scheme: str, value: str, c: _Collector) -> ProcessId | None:
    if not value:
        c.error(E.INVALID_PROCESS_IDENTIFIER, "the PROCESSID scope value is empty")
        return None
    try:
        process = _of(ProcessId, value, scheme, strict=False)
    except IdentifierError as exc:
        # Legacy schemes such as "ptype" (envelope 1.1 samples) break the xxx-yyy-zzz syntax but are
        # accepted by peppol-commons; keep them when the value itself is fine.
        legacy_ok = 0 < len(scheme) <= _MAX_LEGACY_PROCESS_SCHEME and not any(ch.isspace() for ch in scheme)
        try:
            checked = ProcessId.of(value, PROCESS_SCHEME, strict=False)
        except IdentifierError as value_exc:
            c.error(E.INVALID_PROCESS_IDENTIFIER, f"process {scheme}::{value} is invalid: {value_exc}")
            return None
        if not legacy_ok:
            c.error(E.INVALID_PROCESS_IDENTIFIER, f"process {scheme}::{value} is invalid: {exc}")
            return None
        c.warn(E.LAX_IDENTIFIER, f"process scheme {scheme!r} is not a Peppol scheme: {exc}")
        return ProcessId(scheme, checked.value)
    if process.scheme != PROCESS_SCHEME:
        c.warn(E.LAX_IDENTIFIER, f"process scheme {scheme!r} is not {PROCESS_SCHEME!r}")
    return process


@dataclass
class _Scopes:
    document_type: DocumentTypeId | None = None
    process: ProcessId | None = None
    country_c1: str | None = None
    mls_to: ParticipantId | None = None
    mls_type: str | None = None
    additional: dict[str, str] = field(default_factory=dict)


def _scopes(header: etree._Element, c: _Collector, require_c1: bool) -> _Scopes:
    out = _Scopes()
    # Without the C1 requirement (peppol-commons' setCheckForCountryC1(false)), 2 Scopes suffice.
    min_count = MIN_SCOPE_COUNT if require_c1 else MIN_SCOPE_COUNT - 1
    scope_el = header.find(_q("BusinessScope"))
    if scope_el is None:
        c.error(E.BUSINESS_SCOPE_MISSING, "the BusinessScope element is missing")
        return out
    scopes = scope_el.findall(_q("Scope"))
    if len(scopes) < min_count:
        c.error(
            E.INVALID_SCOPE_COUNT, f"at least {min_count} Scope elements are required, found {len(scopes)}"
        )
    found_doc = found_proc = found_c1 = False
    for scope in scopes:
        kind = _text(scope.find(_q("Type")))
        value = _text(scope.find(_q("InstanceIdentifier")))
        scheme = _text(scope.find(_q("Identifier")))
        if kind == SCOPE_DOCUMENTID:
            found_doc = True
            out.document_type = _document_type(scheme or DOCTYPE_SCHEME, value, c)
        elif kind == SCOPE_PROCESSID:
            found_proc = True
            out.process = _process(scheme or PROCESS_SCHEME, value, c)
        elif kind == SCOPE_COUNTRY_C1:
            found_c1 = True
            if COUNTRY_C1_RE.fullmatch(value):
                out.country_c1 = value
            else:
                (c.error if require_c1 else c.warn)(
                    E.INVALID_COUNTRY_C1, f"COUNTRY_C1 {value!r} does not match [A-Z0-9][A-Z0-9]"
                )
        elif kind == SCOPE_MLS_TO:
            # Warning only: the MLS then goes to the sending AP's general SPID (digest §6.3 item 5).
            if not value or not scheme:
                c.warn(E.INVALID_MLS_TO, f"MLS_TO needs a value and a scheme, got {scheme!r}::{value!r}")
                continue
            try:
                out.mls_to = ParticipantId.of(value, scheme, strict=False)
            except IdentifierError as exc:
                c.warn(E.INVALID_MLS_TO, f"MLS_TO {scheme}::{value} is invalid: {exc}")
        elif kind == SCOPE_MLS_TYPE:
            if value in MLS_TYPES:
                out.mls_type = value
            else:
                c.error(E.INVALID_MLS_TYPE, f"MLS_TYPE {value!r} is not one of {', '.join(MLS_TYPES)}")
        elif kind in FUTURE_SCOPE_TYPES:
            c.warn(E.RESERVED_SCOPE_TYPE, f"reserved Scope type {kind!r} is not defined yet; ignored")
        else:
            if kind in out.additional:
                c.warn(
                    E.DUPLICATE_SCOPE_TYPE, f"Scope type {kind!r} occurs more than once; the last one wins"
                )
            out.additional[kind] = value
    if not found_doc:
        c.error(E.MISSING_DOCUMENT_TYPE_IDENTIFIER, "no DOCUMENTID scope")
    if not found_proc:
        c.error(E.MISSING_PROCESS_IDENTIFIER, "no PROCESSID scope")
    if not found_c1:
        (c.error if require_c1 else c.warn)(E.MISSING_COUNTRY_C1, "no COUNTRY_C1 scope")
    if not require_c1 and out.country_c1 is None:
        out.country_c1 = UNKNOWN_COUNTRY_C1
    return out


def _check_payload(
    payload: PayloadInfo | None,
    standard: str,
    type_version: str,
    type_: str,
    doctype: DocumentTypeId | None,
    c: _Collector,
) -> None:
    if payload is None:
        c.error(E.INVALID_BUSINESS_MESSAGE, "the SBD carries no business message element after the header")
        return
    if payload.kind != "xml":
        # Wrapped payloads (BinaryContent/TextContent): no Standard/TypeVersion/Type checks (10.4.1+).
        if not payload.mime_type:
            c.error(E.INVALID_BUSINESS_MESSAGE, f"{payload.local_name} has no mimeType attribute")
        return
    if doctype is not None:
        if not standard or standard != payload.namespace or not doctype.value.startswith(standard):
            c.error(
                E.INVALID_STANDARD,
                f"Standard {standard!r} must equal the payload namespace {payload.namespace!r} and start "
                f"the document type {doctype.value!r}",
            )
        if not type_version or ":" in type_version or not doctype.value.endswith(":" + type_version):
            c.error(
                E.INVALID_TYPE_VERSION,
                f"TypeVersion {type_version!r} must be non-empty, without ':', and end the document type "
                f"{doctype.value!r}",
            )
    if type_ != payload.local_name:
        c.error(
            E.INVALID_TYPE, f"Type {type_!r} must equal the payload root local name {payload.local_name!r}"
        )


def validate_header(
    header: etree._Element, payload: PayloadInfo | None, *, require_country_c1: bool = True
) -> tuple[SbdhHeader, tuple[str, ...]]:
    """Apply the Peppol rules to a ``StandardBusinessDocumentHeader`` element and the payload's root
    name; return the typed header and the warnings, or raise :class:`SbdhError` (first error's id).

    ``require_country_c1=False`` turns a missing/invalid ``COUNTRY_C1`` into a warning and reports
    the country as ``ZZ`` (the reporting convention for an unknown C1)."""
    c = _Collector()
    version = _text(header.find(_q("HeaderVersion")))
    if version != HEADER_VERSION:
        c.error(E.INVALID_HEADER_VERSION, f"HeaderVersion is {version!r}, not {HEADER_VERSION!r}")

    parties: dict[str, ParticipantId | None] = {}
    for party, count_code, auth_code, value_code in (
        ("Sender", E.INVALID_SENDER_COUNT, E.INVALID_SENDER_AUTHORITY, E.INVALID_SENDER_VALUE),
        ("Receiver", E.INVALID_RECEIVER_COUNT, E.INVALID_RECEIVER_AUTHORITY, E.INVALID_RECEIVER_VALUE),
    ):
        found = header.findall(_q(party))
        if len(found) != 1:
            c.error(count_code, f"exactly one {party} is required, found {len(found)}")
        parties[party] = _participant(party, found[0], c, auth_code, value_code) if found else None

    scopes = _scopes(header, c, require_country_c1)

    ident = header.find(_q("DocumentIdentification"))
    if ident is None:
        c.error(E.INVALID_SBD_XML, "the DocumentIdentification element is missing")
    standard = _text(ident.find(_q("Standard"))) if ident is not None else ""
    type_version = _text(ident.find(_q("TypeVersion"))) if ident is not None else ""
    type_ = _text(ident.find(_q("Type"))) if ident is not None else ""
    instance_id = _text(ident.find(_q("InstanceIdentifier"))) if ident is not None else ""
    created_text = _text(ident.find(_q("CreationDateAndTime"))) if ident is not None else ""

    _check_payload(payload, standard, type_version, type_, scopes.document_type, c)

    if not instance_id:
        c.error(E.INVALID_INSTANCE_IDENTIFIER, "InstanceIdentifier is empty")
    creation: datetime | None = None
    try:
        creation, had_zone = parse_xs_datetime(created_text)
        if not had_zone:
            c.warn(
                E.CREATION_DATE_TIME_WITHOUT_ZONE,
                f"CreationDateAndTime {created_text!r} has no time zone; read as UTC",
            )
    except ValueError as exc:
        c.error(E.INVALID_CREATION_DATE_TIME, f"CreationDateAndTime is invalid: {exc}")

    if c.errors:
        code, message = c.errors[0]
        if len(c.errors) > 1:
            message += "; also " + "; ".join(f"{k}: {m}" for k, m in c.errors[1:])
        raise SbdhError(code, message, errors=tuple(c.errors))

    sender, receiver = parties["Sender"], parties["Receiver"]
    # No error recorded means every mandatory part was found and valid.
    assert sender is not None and receiver is not None and creation is not None
    assert scopes.document_type is not None and scopes.process is not None and scopes.country_c1 is not None
    result = SbdhHeader(
        sender=sender,
        receiver=receiver,
        document_type=scopes.document_type,
        process=scopes.process,
        country_c1=scopes.country_c1,
        instance_id=instance_id,
        creation=creation,
        standard=standard,
        type_version=type_version,
        type=type_,
        mls_to=scopes.mls_to,
        mls_type=scopes.mls_type,
        additional=scopes.additional,
    )
    return result, tuple(c.warnings)
