"""Namespaces of the UBL / eForms documents the mappings read and write."""

from __future__ import annotations

from typing import Final

CBC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
EXT: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
EFAC: Final = "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1"
EFBC: Final = "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1"
EFEXT: Final = "http://data.europa.eu/p27/eforms-ubl-extensions/1"

NS: Final[dict[str, str]] = {
    "cbc": CBC,
    "cac": CAC,
    "ext": EXT,
    "efac": EFAC,
    "efbc": EFBC,
    "efext": EFEXT,
}
PREFIX_OF: Final[dict[str, str]] = {v: k for k, v in NS.items()}


def doc_ns(root: str) -> str:
    """The namespace of a UBL document root element, e.g. ``ContractNotice``."""
    return f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
