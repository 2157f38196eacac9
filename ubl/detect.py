"""Detect a document's registered type from its bytes, reading only its start.

The header that identifies a document (root element, ``cbc:UBLVersionID``, ``cbc:CustomizationID``,
``cbc:ProfileID``; for eForms the notice subtype inside ``ext:UBLExtensions``; for ebXML RegRep the
``SpecificationIdentification`` slot) sits before the body, so the document is fed to a pull parser
in chunks and reading stops at the first root child that is not part of the header. A large tender
with embedded attachments is never parsed whole here.

The pull parser is :func:`peppol.xml.pull_events` (no DTD, no entities, no network, depth cap; a
DOCTYPE in the prolog is refused before any byte reaches libxml2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from lxml import etree

from peppol.xml import DEFAULT_MAX_DEPTH, HEAD_CHUNK_BYTES, XmlSyntaxError, pull_events
from ubl import registry
from ubl.registry import DocumentType

#: Bytes handed to the pull parser per step: it parses all it is fed before reading can stop, so a
#: 64 KiB step parsed a whole 10 kB document (~330 µs) to read a header held in its first kilobyte
#: (~110 µs in 1 KiB steps; ``validate_files`` reads the header of every file to order the work).
CHUNK_BYTES: Final = HEAD_CHUNK_BYTES

CBC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
EFAC: Final = "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1"
RIM: Final = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0"

_UBL_HEADER: Final = frozenset(
    {f"{{{EXT}}}UBLExtensions"}
    | {f"{{{CBC}}}{n}" for n in ("UBLVersionID", "CustomizationID", "ProfileID", "ProfileExecutionID")}
)
_SLOT: Final = f"{{{RIM}}}Slot"
_RIM_VALUE: Final = f"{{{RIM}}}Value"
_SUBTYPE_CODE: Final = f"{{{CBC}}}SubTypeCode"
_NOTICE_SUBTYPE: Final = f"{{{EFAC}}}NoticeSubType"


class UnknownDocumentType(ValueError):
    """The document's header matches no registered document type. ``header`` says what was seen."""

    code = "unknown-document-type"

    def __init__(self, message: str, header: DocumentHeader | None = None) -> None:
        super().__init__(message)
        self.header = header


@dataclass(frozen=True, slots=True)
class DocumentHeader:
    """What identifies a document, as read from its start."""

    root: str
    namespace: str
    ubl_version: str | None = None
    customization_id: str | None = None
    profile_id: str | None = None
    subtype: str | None = None

    @property
    def qname(self) -> str:
        return f"{{{self.namespace}}}{self.root}"


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def read_header(source: bytes | Path, *, max_depth: int = DEFAULT_MAX_DEPTH) -> DocumentHeader:
    """Read the identifying header of ``source`` (bytes or a file path), stopping after it."""
    root_tag: str | None = None
    values: dict[str, str] = {}
    slot_name: str | None = None
    for event, elem, depth in pull_events(source, max_depth=max_depth, chunk_size=CHUNK_BYTES):
        tag = elem.tag
        if event == "start":
            if depth == 1:
                root_tag = tag
            elif depth == 2:
                if tag == _SLOT:
                    slot_name = elem.get("name")
                elif tag not in _UBL_HEADER:
                    break
            continue
        # end event: the element is complete; values are XPath string-values (what Schematron sees)
        if depth == 2 and tag in _UBL_HEADER:
            values.setdefault(_split(tag)[1], _string_value(elem))
        elif tag == _SUBTYPE_CODE:
            parent = elem.getparent()
            if parent is not None and parent.tag == _NOTICE_SUBTYPE:
                values.setdefault("SubTypeCode", _string_value(elem))
        elif tag == _RIM_VALUE and slot_name:
            values.setdefault(f"slot:{slot_name}", _string_value(elem))
        if depth == 2:
            slot_name = None
            # keep memory flat on long headers (eForms organisations)
            elem.clear()
    if root_tag is None:
        raise XmlSyntaxError("no root element")
    namespace, root = _split(root_tag)
    return DocumentHeader(
        root=root,
        namespace=namespace,
        ubl_version=values.get("UBLVersionID"),
        customization_id=values.get("CustomizationID") or values.get("slot:SpecificationIdentification"),
        profile_id=values.get("ProfileID") or values.get("slot:BusinessProcessTypeIdentifier"),
        subtype=values.get("SubTypeCode"),
    )


def _string_value(elem: etree._Element) -> str:
    """The trimmed XPath string-value (all descendant text, comments and PIs skipped): ``el.text`` would
    stop at a comment and detect another type than the one the rules then check."""
    if not len(elem):  # no child node at all (lxml counts comments and PIs): the text is all of it
        return (elem.text or "").strip()
    return "".join(str(t) for t in elem.itertext()).strip()


def header_from_tree(root: etree._Element) -> DocumentHeader:
    """The header of an already parsed document (no second parse)."""
    namespace, local = _split(root.tag)
    values: dict[str, str] = {}
    for child in root.iterchildren(etree.Element):  # elements only: comments are skipped
        tag = child.tag
        if tag == _SLOT:
            value = child.find(f".//{_RIM_VALUE}")
            name = child.get("name")
            if value is not None and name:
                values.setdefault(f"slot:{name}", _string_value(value))
            continue
        if tag not in _UBL_HEADER:
            break
        if tag == f"{{{EXT}}}UBLExtensions":
            code = child.find(f".//{_NOTICE_SUBTYPE}/{_SUBTYPE_CODE}")
            if code is not None:
                values.setdefault("SubTypeCode", _string_value(code))
        else:
            values.setdefault(_split(tag)[1], _string_value(child))
    return DocumentHeader(
        root=local,
        namespace=namespace,
        ubl_version=values.get("UBLVersionID"),
        customization_id=values.get("CustomizationID") or values.get("slot:SpecificationIdentification"),
        profile_id=values.get("ProfileID") or values.get("slot:BusinessProcessTypeIdentifier"),
        subtype=values.get("SubTypeCode"),
    )


def _unversioned(customization_id: str) -> str:
    """``urn:fdc:peppol.eu:prac:trns:t004:1.2`` → ``urn:fdc:peppol.eu:prac:trns:t004``."""
    head, sep, tail = customization_id.rpartition(":")
    return head if sep and tail.replace(".", "").isdigit() else customization_id


def match(header: DocumentHeader) -> DocumentType:
    """The registered type for ``header``; raises :class:`UnknownDocumentType` with the reason."""
    candidates = registry.find(root=header.root, namespace=header.namespace)
    if not candidates:
        raise UnknownDocumentType(f"no registered document type has root element {header.qname}", header)
    if candidates[0].family == registry.FAMILY_EFORMS:
        if not header.subtype:
            raise UnknownDocumentType(
                f"eForms {header.root} without efac:NoticeSubType/cbc:SubTypeCode", header
            )
        for t in candidates:
            if t.subtype is not None and t.subtype.lower() == header.subtype.lower():
                return t
        raise UnknownDocumentType(
            f"unknown eForms notice subtype {header.subtype!r} for {header.root}", header
        )
    cid = header.customization_id
    if not cid:
        raise UnknownDocumentType(f"{header.root} without cbc:CustomizationID", header)
    exact = [t for t in candidates if cid in t.customization_ids]
    if not exact:
        base = _unversioned(cid)
        exact = [t for t in candidates if base in {_unversioned(c) for c in t.customization_ids}]
    if not exact:
        raise UnknownDocumentType(
            f"no registered {header.root} document type has CustomizationID {cid!r}", header
        )
    if len(exact) > 1 and header.profile_id:
        by_profile = [t for t in exact if header.profile_id in t.profile_ids]
        if by_profile:
            return by_profile[0]
    return exact[0]


def detect(source: bytes | Path | etree._ElementTree) -> DocumentType:
    """Detect the registered document type of ``source`` from its header.

    ``source`` may also be a tree already parsed with :mod:`peppol.xml` (no second parse). Raises
    :class:`UnknownDocumentType`, or a :class:`peppol.xml.XmlError` when the start of the document is
    not well-formed or is refused (DOCTYPE, depth).
    """
    if isinstance(source, etree._ElementTree):
        return match(header_from_tree(source.getroot()))
    return match(read_header(source))
