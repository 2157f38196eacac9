"""Peppol participant, document type and process identifiers (Policy for use of Identifiers 4.4).

An identifier is a ``scheme::value`` pair. The rules implemented here:

* Participants: scheme ``iso6523-actorid-upis`` (syntax ``[a-z0-9]+-[a-z0-9]+-[a-z0-9]+``, at most
  25 characters, exact case); value ``NNNN:local`` where ``NNNN`` is an ICD code from the participant
  identifier scheme code list and the local part uses only ``A-Z a-z 0-9 - . _ ~``; at most 135
  characters. Values are case-insensitive (POLICY 2): they are stored lower-cased, so equality,
  hashing and SML names are case-insensitive by construction.
* Document types: scheme ``busdox-docid-qns`` or ``peppol-doctype-wildcard``; value
  ``<root-ns>::<local-name>##<customization>::<version>``, at most 500 ISO-8859-1 characters,
  case-sensitive.
* Processes: scheme ``cenbii-procid-ubl``; value at most 200 ISO-8859-1 characters without
  whitespace, case-sensitive.

``strict=False`` parsing ("lax") skips the Peppol-specific checks (unknown/removed ICD, other schemes
of sane syntax, unstructured document type values) for data that must be read even when it is not
conformant, e.g. to report on it. Size, whitespace and character-set limits always apply.

SML host names (discovery digest §2): U-NAPTR ``base32(sha256(lower(value)))`` without padding,
lower case, then ``.<scheme>.<zone>``; legacy CNAME ``B-<md5hex(lower(value))>.<scheme>.<zone>``.

Modules: :mod:`.errors` (typed errors), :mod:`.ids` (the identifier classes), :mod:`.sml` (SML zones
and host names), :mod:`.report` (the facts ``ap id check`` shows). Import from this package.
"""

from peppol.identifiers.codelist import document_type_id, process_id, processes_for, processes_of
from peppol.identifiers.errors import (
    BadCharsetError,
    BadSchemeError,
    BadSyntaxError,
    BadValueError,
    BadZoneError,
    IdentifierError,
    RemovedIcdError,
    TooLongError,
    UnknownIcdError,
)
from peppol.identifiers.ids import (
    DOCTYPE_SCHEME,
    DOCTYPE_WILDCARD_SCHEME,
    MAX_DOCTYPE_VALUE_LENGTH,
    MAX_PARTICIPANT_VALUE_LENGTH,
    MAX_PROCESS_VALUE_LENGTH,
    MAX_SCHEME_LENGTH,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    SCHEME_SEPARATOR,
    SEAT_ID_RE,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
    is_seat_id,
    split_uri,
)
from peppol.identifiers.report import IdentifierReport, IdKind, check_identifier, guess_kind
from peppol.identifiers.sml import (
    DEFAULT_SML_ZONE,
    MAX_DNS_NAME_LENGTH,
    SML_ZONES,
    resolve_zone,
    sml_cname_label,
    sml_cname_name,
    sml_naptr_label,
    sml_naptr_name,
)

__all__ = [
    "DEFAULT_SML_ZONE",
    "DOCTYPE_SCHEME",
    "DOCTYPE_WILDCARD_SCHEME",
    "MAX_DNS_NAME_LENGTH",
    "MAX_DOCTYPE_VALUE_LENGTH",
    "MAX_PARTICIPANT_VALUE_LENGTH",
    "MAX_PROCESS_VALUE_LENGTH",
    "MAX_SCHEME_LENGTH",
    "PARTICIPANT_SCHEME",
    "PROCESS_SCHEME",
    "SCHEME_SEPARATOR",
    "SEAT_ID_RE",
    "SML_ZONES",
    "BadCharsetError",
    "BadSchemeError",
    "BadSyntaxError",
    "BadValueError",
    "BadZoneError",
    "DocumentTypeId",
    "IdKind",
    "IdentifierError",
    "IdentifierReport",
    "ParticipantId",
    "ProcessId",
    "RemovedIcdError",
    "TooLongError",
    "UnknownIcdError",
    "check_identifier",
    "document_type_id",
    "guess_kind",
    "is_seat_id",
    "process_id",
    "processes_for",
    "processes_of",
    "resolve_zone",
    "sml_cname_label",
    "sml_cname_name",
    "sml_naptr_label",
    "sml_naptr_name",
    "split_uri",
]
