"""Everything worth knowing about one identifier: the library behind ``ap id check``.

:func:`check_identifier` guesses the kind from the scheme (or takes it forced), parses strictly (or
laxly), and collects the parts, code-list facts, SML host names and warnings into an
:class:`IdentifierReport` that renders as a plain dict (for ``--json``) or as rows (for rich).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from peppol import codelists
from peppol.identifiers.errors import BadSchemeError, BadSyntaxError
from peppol.identifiers.ids import (
    DOCTYPE_SCHEME,
    DOCTYPE_WILDCARD_SCHEME,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    SCHEME_SEPARATOR,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
    show,
    split_uri,
)
from peppol.identifiers.sml import DEFAULT_SML_ZONE, resolve_zone, sml_cname_name, sml_naptr_name


class IdKind(StrEnum):
    """The three kinds of Peppol identifiers."""

    PARTICIPANT = "participant"
    DOCTYPE = "doctype"
    PROCESS = "process"


#: Scheme → kind, used to guess what an identifier is.
KIND_BY_SCHEME: dict[str, IdKind] = {
    PARTICIPANT_SCHEME: IdKind.PARTICIPANT,
    DOCTYPE_SCHEME: IdKind.DOCTYPE,
    DOCTYPE_WILDCARD_SCHEME: IdKind.DOCTYPE,
    PROCESS_SCHEME: IdKind.PROCESS,
}


@dataclass(frozen=True)
class IdentifierReport:
    """Facts about one valid identifier. ``details`` is ordered for display; values are JSON-ready."""

    kind: IdKind
    identifier: ParticipantId | DocumentTypeId | ProcessId
    details: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (``ap id check --json``)."""
        return {
            "valid": True,
            "kind": str(self.kind),
            "scheme": self.identifier.scheme,
            "value": self.identifier.value,
            "uri": self.identifier.uri,
            "url_encoded": self.identifier.url_encoded,
            **self.details,
            "warnings": list(self.warnings),
        }


def guess_kind(text: str) -> IdKind:
    """The identifier kind implied by the scheme of ``scheme::value``."""
    scheme, _ = split_uri(text)
    kind = KIND_BY_SCHEME.get(scheme)
    if kind is None:
        lowered = KIND_BY_SCHEME.get(scheme.lower())
        hint = f" (schemes are case-sensitive: {scheme.lower()!r})" if lowered else ""
        known = ", ".join(sorted(KIND_BY_SCHEME))
        raise BadSchemeError(
            f"cannot tell the identifier kind from scheme {show(scheme)}{hint}; known: {known}"
        )
    return kind


def check_identifier(
    text: str,
    *,
    kind: IdKind | str | None = None,
    zone: str = DEFAULT_SML_ZONE,
    strict: bool = True,
    on: _dt.date | None = None,
) -> IdentifierReport:
    """Parse and validate ``text`` (``scheme::value``) and describe it.

    ``kind`` forces participant/doctype/process instead of guessing from the scheme; ``zone`` is an
    SML zone name (``prod``/``test``) or domain for the participant host names; ``on`` is the date for
    ICD removal checks (default today). Raises :class:`~peppol.identifiers.IdentifierError`.
    """
    if SCHEME_SEPARATOR not in text and text.strip()[:4].isdigit():
        raise BadSyntaxError(
            f"{show(text)} has no scheme; a participant is written {PARTICIPANT_SCHEME}::{text.strip()}"
        )
    resolved = IdKind(kind) if kind is not None else guess_kind(text)
    if resolved is IdKind.PARTICIPANT:
        return _participant(ParticipantId.parse(text, strict=strict, on=on), zone, on)
    if resolved is IdKind.DOCTYPE:
        return _doctype(DocumentTypeId.parse(text, strict=strict))
    return _process(ProcessId.parse(text, strict=strict))


def _participant(pid: ParticipantId, zone: str, on: _dt.date | None) -> IdentifierReport:
    domain = resolve_zone(zone)
    warnings: list[str] = []
    details: dict[str, Any] = {"icd": pid.icd, "local_id": pid.local_id}
    entry = pid.icd_scheme
    if entry is not None:
        day = on if on is not None else _dt.datetime.now(_dt.UTC).date()
        details["icd_scheme"] = {
            "scheme_id": entry.scheme_id,
            "country": entry.country,
            "state": entry.state,
            "registrable": entry.registrable,
            "deprecation_release": entry.deprecation_release,
            "removal_date": entry.removal_date.isoformat() if entry.removal_date else None,
            "value_hint": entry.value_hint,
            "check_digits": entry.check_digits,
        }
        if entry.state == "deprecated" and entry.usable_on(day):
            until = f" until {entry.removal_date.isoformat()}" if entry.removal_date else ""
            warnings.append(
                f"ICD {pid.icd} ({entry.scheme_id}) is deprecated: usable{until}, not for new registrations"
            )
        elif not entry.usable_on(day):
            warnings.append(f"ICD {pid.icd} ({entry.scheme_id}) is removed from Peppol")
        elif not entry.registrable:
            warnings.append(f"ICD {pid.icd} ({entry.scheme_id}) cannot be used to register new participants")
        warnings.extend(f"local id {p}" for p in entry.check_local_id(pid.local_id))
    elif pid.scheme == PARTICIPANT_SCHEME:
        warnings.append(f"ICD {pid.icd!r} is not in the participant identifier scheme list")
    details["sml"] = {
        "zone": domain,
        "naptr": sml_naptr_name(pid, domain),
        "cname": sml_cname_name(pid, domain),
    }
    return IdentifierReport(IdKind.PARTICIPANT, pid, details, tuple(warnings))


def _doctype(doc: DocumentTypeId) -> IdentifierReport:
    warnings: list[str] = []
    details: dict[str, Any] = {}
    try:
        details.update(
            root_namespace=doc.root_namespace,
            local_name=doc.local_name,
            customization_id=doc.customization_id,
            version=doc.version,
        )
    except ValueError as exc:  # lax parsing of an unstructured value
        warnings.append(str(exc))
    info = codelists.document_type(doc)
    if info is None:
        warnings.append("not one of the document types this access point exchanges")
        details["known"] = None
    else:
        details["known"] = {
            "transaction": info.transaction,
            "version": info.version,
            "name": info.name,
            "area": info.area,
            "state": info.state,
            "processes": list(info.process_uris),
        }
        if info.state != "active":
            warnings.append(f"document type is {info.state} in the Peppol code list")
    return IdentifierReport(IdKind.DOCTYPE, doc, details, tuple(warnings))


def _process(proc: ProcessId) -> IdentifierReport:
    warnings: list[str] = []
    info = codelists.process(proc.value) if proc.scheme == PROCESS_SCHEME else None
    details: dict[str, Any] = {
        "known": None if info is None else {"name": info.name, "state": info.state},
        "document_types": [
            d.uri for d in codelists.DOCUMENT_TYPES.values() if codelists.is_allowed_pair(d, proc)
        ],
    }
    if info is None:
        warnings.append("not one of the processes this access point uses")
    elif info.state != "active":
        warnings.append(f"process is {info.state} in the Peppol code list")
    return IdentifierReport(IdKind.PROCESS, proc, details, tuple(warnings))
