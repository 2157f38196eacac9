"""Document-type wildcard selection for ``peppol-doctype-wildcard`` ids (PINT), as peppol-commons'
``PeppolWildcardSelector`` does it: with the ServiceGroup at hand, try (a) the exact customization,
(b) the customization + ``*``, then (c) repeatedly drop the last ``@part`` and try ``<shorter>*``.
E.g. ``urn:peppol:pint:billing-1@jp-1`` → ``…@jp-1`` → ``…@jp-1*`` → ``urn:peppol:pint:billing-1*``.
"""

from __future__ import annotations

from collections.abc import Iterable

from peppol.identifiers import DOCTYPE_WILDCARD_SCHEME, DocumentTypeId, IdentifierError


def wildcard_candidates(doctype: DocumentTypeId) -> list[DocumentTypeId]:
    """The document types to look for, best first (just ``doctype`` for other schemes)."""
    if doctype.scheme != DOCTYPE_WILDCARD_SCHEME:
        return [doctype]
    try:
        root, local, version = doctype.root_namespace, doctype.local_name, doctype.version
        customization = doctype.customization_id
    except (IdentifierError, ValueError, IndexError):
        return [doctype]
    customizations = [customization]
    if not customization.endswith("*"):
        customizations.append(customization + "*")
    shorter = customization.rstrip("*")
    while "@" in shorter:
        shorter = shorter[: shorter.rindex("@")]
        customizations.append(shorter + "*")
    out: list[DocumentTypeId] = []
    for cust in customizations:
        candidate = DocumentTypeId(DOCTYPE_WILDCARD_SCHEME, f"{root}::{local}##{cust}::{version}")
        if candidate not in out:
            out.append(candidate)
    return out


def select_document_type(doctype: DocumentTypeId, offered: Iterable[DocumentTypeId]) -> DocumentTypeId | None:
    """The best candidate of ``doctype`` that the ServiceGroup ``offered`` (exact comparison)."""
    available = {d.uri for d in offered}
    for candidate in wildcard_candidates(doctype):
        if candidate.uri in available:
            return candidate
    return None
