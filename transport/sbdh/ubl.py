"""Deriving the SBDH fields from a bare business document (for ``ap as4 send`` on a UBL file).

Only the start of the document is read (streaming): the root element's namespace and local name, and
the leading ``cbc:UBLVersionID``, ``cbc:CustomizationID`` and ``cbc:ProfileID``. The document type id is
``<root ns>::<local name>##<CustomizationID>::<UBL version>``, the process id the ``ProfileID``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from peppol.identifiers import DocumentTypeId, IdentifierError, ParticipantId, ProcessId
from peppol.xml import XmlError, read_head
from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError
from transport.sbdh.model import COUNTRY_C1_RE, SbdhHeader
from transport.sbdh.writer import (
    ENVELOPE_TAIL,
    build_sbd,
    check_header,
    check_payload_root,
    envelope_head,
    locate_root,
    resolve_root_name,
)

UBL_NS_PREFIX: Final = "urn:oasis:names:specification:ubl:schema:xsd:"
CBC_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
#: UBL version assumed when ``cbc:UBLVersionID`` is absent (Peppol BIS 3 documents omit it).
DEFAULT_UBL_VERSION: Final = "2.1"
#: Leading UBL elements that may precede the ones we want (read past them).
_PROLOGUE: Final = frozenset(
    {
        f"{{{EXT_NS}}}UBLExtensions",
        f"{{{CBC_NS}}}UBLVersionID",
        f"{{{CBC_NS}}}CustomizationID",
        f"{{{CBC_NS}}}ProfileID",
        f"{{{CBC_NS}}}ProfileExecutionID",
    }
)


@dataclass
class DocumentFacts:
    """What the start of a business document says about itself."""

    namespace: str | None = None
    local_name: str = ""
    ubl_version: str | None = None
    customization_id: str | None = None
    profile_id: str | None = None


def read_document_facts(document: bytes | Path) -> DocumentFacts:
    """Read the root name and leading UBL identification elements of ``document`` (streaming, through
    :func:`peppol.xml.read_head`)."""
    try:
        head = read_head(document, _PROLOGUE)
    except XmlError as exc:
        raise SbdhError(E.INVALID_BUSINESS_MESSAGE, f"the document is not acceptable XML: {exc}") from exc
    return DocumentFacts(
        namespace=head.namespace,
        local_name=head.local_name,
        ubl_version=head.values.get(f"{{{CBC_NS}}}UBLVersionID"),
        customization_id=head.values.get(f"{{{CBC_NS}}}CustomizationID"),
        profile_id=head.values.get(f"{{{CBC_NS}}}ProfileID"),
    )


def _participant(value: ParticipantId | str, code: str) -> ParticipantId:
    if isinstance(value, ParticipantId):
        return value
    try:
        return ParticipantId.parse(value) if "::" in value else ParticipantId.of(value)
    except IdentifierError as exc:
        raise SbdhError(code, f"{value!r} is not a valid participant id: {exc}") from exc


def header_for_document(
    document: bytes | Path,
    *,
    sender: ParticipantId | str,
    receiver: ParticipantId | str,
    process: ProcessId | None = None,
    country_c1: str,
    document_type: DocumentTypeId | None = None,
    instance_id: str | None = None,
    creation: datetime | None = None,
    mls_to: ParticipantId | None = None,
    mls_type: str | None = None,
    additional: Mapping[str, str] | None = None,
) -> SbdhHeader:
    """Build the SBDH for a bare business document. ``document_type`` and ``process`` default to the
    ones the UBL document declares; ``instance_id`` to a new UUID; ``creation`` to now (UTC).

    Raises :class:`SbdhError` when a field cannot be derived or does not match the document.
    """
    return _derive_header(
        read_document_facts(document),
        sender=sender,
        receiver=receiver,
        process=process,
        country_c1=country_c1,
        document_type=document_type,
        instance_id=instance_id,
        creation=creation,
        mls_to=mls_to,
        mls_type=mls_type,
        additional=additional,
    )


def wrap_document(
    document: bytes,
    *,
    sender: ParticipantId | str,
    receiver: ParticipantId | str,
    process: ProcessId | None = None,
    country_c1: str,
    document_type: DocumentTypeId | None = None,
    instance_id: str | None = None,
    creation: datetime | None = None,
    mls_to: ParticipantId | None = None,
    mls_type: str | None = None,
    additional: Mapping[str, str] | None = None,
) -> tuple[SbdhHeader, bytes]:
    """:func:`header_for_document` then :func:`~transport.sbdh.writer.build_sbd`, in one pass over an
    in-memory document when ``document_type`` and ``process`` are given (nothing to read from the UBL
    head then): the root found and checked well-formed once serves both the header (Standard, Type)
    and the SBD. Same result, same errors as the two calls (tested)."""
    root = locate_root(document) if document_type is not None and process is not None else None
    if root is None:
        facts = read_document_facts(document)
    else:
        facts = DocumentFacts(*resolve_root_name(root.start_tag))
    header = _derive_header(
        facts,
        sender=sender,
        receiver=receiver,
        process=process,
        country_c1=country_c1,
        document_type=document_type,
        instance_id=instance_id,
        creation=creation,
        mls_to=mls_to,
        mls_type=mls_type,
        additional=additional,
    )
    if root is None:
        return header, build_sbd(header, document)
    check_header(header, xml_payload=True)
    check_payload_root(header, root.start_tag, check_root=True)
    return header, b"".join((envelope_head(header), document[root.start : root.end], ENVELOPE_TAIL))


def _derive_header(
    facts: DocumentFacts,
    *,
    sender: ParticipantId | str,
    receiver: ParticipantId | str,
    process: ProcessId | None,
    country_c1: str,
    document_type: DocumentTypeId | None,
    instance_id: str | None,
    creation: datetime | None,
    mls_to: ParticipantId | None,
    mls_type: str | None,
    additional: Mapping[str, str] | None,
) -> SbdhHeader:
    ns = facts.namespace or ""
    if not COUNTRY_C1_RE.fullmatch(country_c1):
        raise SbdhError(E.INVALID_COUNTRY_C1, f"COUNTRY_C1 {country_c1!r} does not match [A-Z0-9][A-Z0-9]")
    if document_type is None:
        if not ns.startswith(UBL_NS_PREFIX):
            raise SbdhError(
                E.MISSING_DOCUMENT_TYPE_IDENTIFIER,
                f"{facts.local_name!r} in {ns!r} is not a UBL document: pass the document type explicitly",
            )
        if not facts.customization_id:
            raise SbdhError(E.MISSING_DOCUMENT_TYPE_IDENTIFIER, "the document has no cbc:CustomizationID")
        version = facts.ubl_version or DEFAULT_UBL_VERSION
        value = f"{ns}::{facts.local_name}##{facts.customization_id}::{version}"
        try:
            document_type = DocumentTypeId.for_value(value)
        except IdentifierError as exc:
            raise SbdhError(
                E.INVALID_DOCUMENT_TYPE_IDENTIFIER, f"derived document type is invalid: {exc}"
            ) from exc
    elif not ns or not document_type.value.startswith(ns):
        raise SbdhError(
            E.INVALID_STANDARD, f"document type {document_type.value!r} does not start with {ns!r}"
        )
    elif not document_type.value.startswith(f"{ns}::{facts.local_name}##"):
        raise SbdhError(
            E.INVALID_TYPE, f"document type {document_type.value!r} is not for root {facts.local_name!r}"
        )
    if process is None:
        if not facts.profile_id:
            raise SbdhError(
                E.MISSING_PROCESS_IDENTIFIER, "the document has no cbc:ProfileID: pass the process"
            )
        try:
            process = ProcessId.of(facts.profile_id)
        except IdentifierError as exc:
            raise SbdhError(
                E.INVALID_PROCESS_IDENTIFIER, f"cbc:ProfileID is not a valid process: {exc}"
            ) from exc
    type_version = document_type.value.rpartition("::")[2]
    return SbdhHeader(
        sender=_participant(sender, E.INVALID_SENDER_VALUE),
        receiver=_participant(receiver, E.INVALID_RECEIVER_VALUE),
        document_type=document_type,
        process=process,
        country_c1=country_c1,
        instance_id=instance_id or str(uuid.uuid4()),
        creation=creation or datetime.now(UTC),
        standard=ns,
        type_version=type_version,
        type=facts.local_name,
        mls_to=mls_to,
        mls_type=mls_type,
        additional=dict(additional or {}),
    )
