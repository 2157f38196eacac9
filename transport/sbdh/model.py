"""The Peppol Business Message Envelope (SBDH 2.0.x) as data: constants and the parsed header."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId

#: Namespace of the Standard Business Document (Header).
SBDH_NS: Final = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
#: Namespace of the Peppol wrappers for non-XML payloads (``BinaryContent``, ``TextContent``).
ENVELOPE_NS: Final = "http://peppol.eu/xsd/ticc/envelope/1.0"
BINARY_CONTENT: Final = "BinaryContent"
TEXT_CONTENT: Final = "TextContent"
#: The only ``HeaderVersion`` Peppol accepts.
HEADER_VERSION: Final = "1.0"

SCOPE_DOCUMENTID: Final = "DOCUMENTID"
SCOPE_PROCESSID: Final = "PROCESSID"
SCOPE_COUNTRY_C1: Final = "COUNTRY_C1"
SCOPE_MLS_TO: Final = "MLS_TO"
SCOPE_MLS_TYPE: Final = "MLS_TYPE"
#: Scope types reserved by the envelope spec that have no meaning yet: read with a warning, never written.
FUTURE_SCOPE_TYPES: Final = frozenset(
    {"COUNTRY_C4", "TECHNICAL_VALIDATION_URL", "TECHNICAL_VALIDATION_REQUIRED"}
)
#: Every reserved Scope type; none of them may be used as an additional attribute.
RESERVED_SCOPE_TYPES: Final = frozenset(
    {SCOPE_DOCUMENTID, SCOPE_PROCESSID, SCOPE_COUNTRY_C1, SCOPE_MLS_TO, SCOPE_MLS_TYPE} | FUTURE_SCOPE_TYPES
)
#: Minimum number of Scopes (DOCUMENTID, PROCESSID, COUNTRY_C1), as peppol-commons requires.
MIN_SCOPE_COUNT: Final = 3
#: Allowed ``MLS_TYPE`` values (case-sensitive).
MLS_TYPES: Final = ("FAILURE_ONLY", "ALWAYS_SEND")
#: ``COUNTRY_C1`` syntax (ISO 3166-1 alpha-2, plus ``1A`` for Kosovo).
COUNTRY_C1_RE: Final = re.compile(r"[A-Z0-9][A-Z0-9]")
#: C1 country reported when an inbound SBD has none (only with ``require_country_c1=False``); the
#: Peppol reporting convention (TSR) for an unknown C1.
UNKNOWN_COUNTRY_C1: Final = "ZZ"
#: MIME type of ASiC-E containers, how pre-award tenders travel (in ``BinaryContent``).
ASIC_E_MIME_TYPE: Final = "application/vnd.etsi.asic-e+zip"

PayloadKind = Literal["xml", "binary", "text"]


@dataclass(frozen=True)
class SbdhHeader:
    """Everything Peppol reads from a ``StandardBusinessDocumentHeader`` (values trimmed).

    ``standard``/``type_version``/``type`` are the ``DocumentIdentification`` fields: for XML payloads
    the payload root namespace, the document type version and the root local name.
    ``additional`` holds the non-reserved Scopes (``Type`` → ``InstanceIdentifier``, "" when empty).
    """

    sender: ParticipantId
    receiver: ParticipantId
    document_type: DocumentTypeId
    process: ProcessId
    country_c1: str
    instance_id: str
    creation: datetime
    standard: str
    type_version: str
    type: str
    mls_to: ParticipantId | None = None
    mls_type: str | None = None
    additional: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class PayloadInfo:
    """What the SBD carries: an XML document (its root ``namespace``/``local_name``) or a
    ``BinaryContent``/``TextContent`` wrapper (``local_name`` is the wrapper, with its ``mime_type``
    and optional ``encoding``)."""

    kind: PayloadKind
    namespace: str | None
    local_name: str
    mime_type: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class ParsedSbd:
    """A validated SBD header plus what its payload is. ``warnings`` are ``"<id>: <message>"``."""

    header: SbdhHeader
    payload: PayloadInfo
    warnings: tuple[str, ...] = ()
