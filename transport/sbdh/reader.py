"""Reading SBDs: a streaming header reader (stops where the payload starts) and an in-memory parser.

:func:`read_sbd` feeds the input in chunks to an lxml pull parser (hardened like :mod:`peppol.xml`:
no DTD, no entities, no network; a DOCTYPE is refused) until the payload root element *starts*, then
validates the header against the Peppol rules with the payload's namespace and local name. The payload
tree is never built, so a 100 MB SBD costs about one chunk of memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from lxml import etree

from peppol.xml import XmlError, parse_bytes
from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError
from transport.sbdh.model import (
    BINARY_CONTENT,
    ENVELOPE_NS,
    SBDH_NS,
    TEXT_CONTENT,
    ParsedSbd,
    PayloadInfo,
    SbdhHeader,
)
from transport.sbdh.sources import Source, open_chunks
from transport.sbdh.validate import validate_header
from transport.sbdh.wrapped import decode_wrapped_text
from transport.sbdh.xmlparsers import PROLOG_BYTES, new_pull_parser, refuse_doctype, text_of

#: Largest header accepted (bytes from the start of the SBD to the end of the SBDH element).
MAX_HEADER_BYTES: Final = 1024 * 1024
#: Read size while looking for the header: headers are a few KiB, and lxml builds a tree for whatever
#: part of the payload arrives in the same chunk, so keep chunks small here.
HEADER_CHUNK_SIZE: Final = 16 * 1024
#: Bytes given to the pull parser at a time (see :func:`_scan_header`).
FEED_BYTES: Final = 512
_ROOT = f"{{{SBDH_NS}}}StandardBusinessDocument"
_HEADER = f"{{{SBDH_NS}}}StandardBusinessDocumentHeader"


def _has_doctype(el: etree._Element) -> bool:
    docinfo = el.getroottree().docinfo
    # lxml-stubs lacks DocInfo.doctype/internalDTD; both exist in every supported lxml release.
    return bool(getattr(docinfo, "doctype", "")) or getattr(docinfo, "internalDTD", None) is not None


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def payload_info(element: etree._Element) -> PayloadInfo:
    """Describe a payload root element (its attributes must already be parsed)."""
    ns, local = _local(element.tag)
    if ns == ENVELOPE_NS and local in (BINARY_CONTENT, TEXT_CONTENT):
        mime = (element.get("mimeType") or "").strip() or None
        encoding = (element.get("encoding") or "").strip() or None
        return PayloadInfo("binary" if local == BINARY_CONTENT else "text", ns, local, mime, encoding)
    return PayloadInfo("xml", ns, local)


@dataclass
class _HeaderScan:
    root: etree._Element | None = None
    header: etree._Element | None = None
    payload: PayloadInfo | None = None


def _syntax_error(exc: Exception) -> SbdhError:
    return SbdhError(E.INVALID_SBD_XML, f"not well-formed XML: {exc}")


def _first_element(siblings: Iterator[etree._Element]) -> etree._Element | None:
    """The first element among ``siblings`` (comments and processing instructions skipped)."""
    return next((el for el in siblings if isinstance(el.tag, str)), None)


def _on_root(el: etree._Element) -> etree._Element:
    """Check the first StandardBusinessDocument element reported: it must be the document's root."""
    if el.getparent() is not None:
        root_tag = el.getroottree().getroot().tag
        raise SbdhError(E.INVALID_SBD_XML, f"root element is {root_tag!r}, not a StandardBusinessDocument")
    if _has_doctype(el):
        raise SbdhError(E.INVALID_SBD_XML, "DOCTYPE declarations are not allowed")
    return el


def _advance(scan: _HeaderScan, header_done: bool) -> bool:
    """Look at the root's children built so far: the first must be the header; once the header is
    complete, the next element is the payload root (its start tag, attributes included, is parsed
    when lxml has linked it). Return True when the payload root has started (stop reading)."""
    assert scan.root is not None
    if scan.header is None:
        first = _first_element(scan.root.iterchildren())
        if first is None:
            return False
        if first.tag != _HEADER:
            raise SbdhError(
                E.MISSING_SBDH, "the first element of the SBD is not a StandardBusinessDocumentHeader"
            )
        scan.header = first
    if not header_done:
        return False
    payload = _first_element(scan.header.itersiblings())
    if payload is None:
        return False
    scan.payload = payload_info(payload)
    return True


def _scan_header(source: Source) -> _HeaderScan:
    """Feed ``source`` to a pull parser reporting only StandardBusinessDocument and its header (so lxml
    makes no Python object for the ~25 header elements or the payload elements read past the header's
    end) until the payload root starts."""
    scan = _HeaderScan()
    parser = new_pull_parser((_ROOT, _HEADER))
    fed = 0
    header_done = False
    prolog = b""
    with open_chunks(source, HEADER_CHUNK_SIZE) as chunks:
        for chunk in chunks:
            if scan.root is None and len(prolog) < PROLOG_BYTES:
                # Refuse a DOCTYPE before libxml2 sees any of it.
                prolog += chunk
                refuse_doctype(prolog)
            fed += len(chunk)
            try:
                # Fed in small pieces: whatever arrives in one piece is parsed into the tree, so a big
                # piece would build payload elements read past its root.
                for start in range(0, len(chunk), FEED_BYTES):
                    parser.feed(chunk[start : start + FEED_BYTES])
                    for event, el in parser.read_events():
                        if not isinstance(el, etree._Element):  # only element events are asked for
                            continue
                        if event == "start":
                            if scan.root is None:
                                scan.root = _on_root(el)
                        elif el.tag == _HEADER and el.getparent() is scan.root:
                            header_done = True
                    if scan.root is not None and _advance(scan, header_done):
                        return scan
            except etree.XMLSyntaxError as exc:
                raise _syntax_error(exc) from exc
            if scan.root is None and fed >= PROLOG_BYTES:
                # no StandardBusinessDocument start after the longest prolog we read: another root
                raise SbdhError(E.INVALID_SBD_XML, "the root element is not a StandardBusinessDocument")
            if not header_done and fed > MAX_HEADER_BYTES:
                raise SbdhError(E.INVALID_SBD_XML, f"the SBD header is larger than {MAX_HEADER_BYTES} bytes")
        try:
            root = parser.close()
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc) from exc
    if scan.root is None:
        if root is None:
            raise SbdhError(E.INVALID_SBD_XML, "the input is empty or not XML")
        raise SbdhError(E.INVALID_SBD_XML, f"root element is {root.tag!r}, not a StandardBusinessDocument")
    _advance(scan, header_done)
    if scan.header is None:
        raise SbdhError(E.MISSING_SBDH, "the SBD has no StandardBusinessDocumentHeader")
    return scan


def read_sbd(source: Source, *, require_country_c1: bool = True) -> ParsedSbd:
    """Read and validate the SBDH of ``source`` (a path, a binary stream or bytes) without reading the
    payload beyond its root start tag. Raises :class:`SbdhError` with the peppol-commons error id.

    ``require_country_c1=False`` (phase4's configurable C1 check) accepts an SBD without a valid
    ``COUNTRY_C1`` with a warning and ``country_c1="ZZ"``. A stream is left positioned somewhere after
    the payload start; re-open or seek it to read on.
    """
    scan = _scan_header(source)
    assert scan.header is not None  # _scan_header guarantees it
    header, warnings = validate_header(scan.header, scan.payload, require_country_c1=require_country_c1)
    assert scan.payload is not None  # validate_header raises invalid-business-message otherwise
    return ParsedSbd(header, scan.payload, warnings)


@dataclass(frozen=True)
class SbdDocument:
    """An SBD parsed completely in memory (small documents): the validated header, the payload element
    (inside the parsed tree) and the warnings."""

    header: SbdhHeader
    payload_info: PayloadInfo
    payload: etree._Element
    warnings: tuple[str, ...] = ()

    def payload_bytes(self) -> bytes:
        """The payload: an XML document (UTF-8, in-scope namespaces kept) or the decoded content of a
        ``BinaryContent``/``TextContent`` wrapper."""
        if self.payload_info.kind == "xml":
            return etree.tostring(self.payload, xml_declaration=True, encoding="UTF-8")
        return decode_wrapped_text(self.payload_info, text_of(self.payload))


def parse_sbd(data: bytes, *, require_country_c1: bool = True) -> SbdDocument:
    """Parse a whole SBD held in memory (hardened :func:`peppol.xml.parse_bytes`) and validate it
    (``require_country_c1`` as for :func:`read_sbd`)."""
    try:
        tree = parse_bytes(data)
    except XmlError as exc:
        raise SbdhError(E.INVALID_SBD_XML, f"{exc.code}: {exc}") from exc
    root = tree.getroot()
    if root.tag != _ROOT:
        raise SbdhError(E.INVALID_SBD_XML, f"root element is {root.tag!r}, not a StandardBusinessDocument")
    children = [child for child in root if isinstance(child.tag, str)]
    if not children or children[0].tag != _HEADER:
        raise SbdhError(
            E.MISSING_SBDH, "the first element of the SBD is not a StandardBusinessDocumentHeader"
        )
    if len(children) > 2:
        raise SbdhError(
            E.INVALID_BUSINESS_MESSAGE, f"the SBD has {len(children) - 1} elements after the header, not 1"
        )
    payload_el = children[1] if len(children) == 2 else None
    info = payload_info(payload_el) if payload_el is not None else None
    header, warnings = validate_header(children[0], info, require_country_c1=require_country_c1)
    assert payload_el is not None and info is not None
    return SbdDocument(header, info, payload_el, warnings)
