"""The UBL documents the mappings write and read, as :mod:`ubl.registry` registers them: root element,
namespace, UBL version, CustomizationID and ProfileID come from there, not from copies here.
"""

from __future__ import annotations

from functools import cache

from lxml import etree

from ubl import registry


@cache
def peppol(target: str) -> registry.DocumentType:
    """The Peppol pre-award document ``target`` (``t004``, ``t005``, ``t006``, ``t018``)."""
    return registry.get(f"peppol-{target}")


@cache
def eforms(kind: str) -> registry.DocumentType:
    """The eForms document of a notice kind (``cn``, ``can``): its subtypes share root and ids."""
    return next(
        t
        for t in registry.document_types()
        if t.family == registry.FAMILY_EFORMS and t.transaction == kind.upper()
    )


@cache
def eforms_subtypes(kind: str) -> frozenset[str]:
    """The notice subtypes of a notice kind (``cn``: 15–24, E3)."""
    return frozenset(
        str(t.subtype)
        for t in registry.document_types()
        if t.family == registry.FAMILY_EFORMS and t.transaction == kind.upper()
    )


def new_root(doc: registry.DocumentType, prefixes: dict[str, str]) -> etree._Element:
    """The empty root element of ``doc``, its namespace the default one, ``prefixes`` declared."""
    nsmap: dict[str | None, str] = {None: doc.namespace}
    nsmap.update(prefixes)
    return etree.Element(f"{{{doc.namespace}}}{doc.root}", nsmap=nsmap)  # type: ignore[arg-type]
