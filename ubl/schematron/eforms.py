"""eForms phase selection: the SDK's ``complete-validation.sch`` has one phase per notice subtype,
``eforms-<subtype>``; the subtype is ``efac:NoticeSubType/cbc:SubTypeCode`` in the notice's eForms
extension (checked on the 92 SDK 1.14.2 examples)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from lxml import etree

from peppol.xml import parse_bytes, parse_file

from .errors import SchematronPhaseError

NAMESPACES: Final = {
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
#: Same path as the SDK's own ``$noticeSubType`` variable.
SUBTYPE_XPATH: Final = (
    "/*/ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"
    "/efac:NoticeSubType/cbc:SubTypeCode"
)
PHASE_PREFIX: Final = "eforms-"


def notice_subtype(document: bytes | Path | etree._ElementTree) -> str:
    """The notice subtype code (``"16"``, ``"E3"``, ``"X01"`` …); SchematronPhaseError when absent."""
    if isinstance(document, bytes):
        tree = parse_bytes(document)
    elif isinstance(document, Path):
        tree = parse_file(document)
    else:
        tree = document
    found = tree.xpath(SUBTYPE_XPATH, namespaces=NAMESPACES)
    codes = (
        [str(el.text).strip() for el in found if isinstance(el, etree._Element) and el.text]
        if isinstance(found, list)
        else []
    )
    if len(codes) != 1 or not codes[0]:
        raise SchematronPhaseError(f"expected one notice subtype at {SUBTYPE_XPATH}, found {len(codes)}")
    return codes[0]


def eforms_phase(document: bytes | Path | etree._ElementTree) -> str:
    """The ``complete-validation.sch`` phase for a notice: ``eforms-<subtype>``."""
    return PHASE_PREFIX + notice_subtype(document)
