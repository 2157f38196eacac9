"""Identifier objects for the code-list entries of :mod:`peppol.codelists` (which sits below this
package and only knows ``scheme``/``value`` strings)."""

from __future__ import annotations

from peppol import codelists
from peppol.identifiers.ids import PROCESS_SCHEME, DocumentTypeId, ProcessId


def document_type_id(info: codelists.DocTypeInfo) -> DocumentTypeId:
    """The identifier of a code-list document type."""
    return DocumentTypeId(info.scheme, info.value)


def process_id(info: codelists.ProcessInfo) -> ProcessId:
    """The identifier of a code-list process."""
    return ProcessId(info.scheme, info.value)


def processes_of(info: codelists.DocTypeInfo) -> tuple[ProcessId, ...]:
    """The processes the code list allows the document type ``info`` in."""
    return tuple(ProcessId(PROCESS_SCHEME, v) for v in info.process_values)


def processes_for(doctype: DocumentTypeId) -> tuple[ProcessId, ...]:
    """The processes the code list allows ``doctype`` in; empty when the document type is unknown."""
    info = codelists.document_type(doctype)
    return processes_of(info) if info is not None else ()
