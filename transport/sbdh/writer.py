"""Writing SBDs as a stream: the header is generated, the payload copied in chunks.

An XML payload document is copied byte for byte from its root start tag to its root end tag (its XML
declaration and any comments/PIs around the root are dropped; a payload in another encoding is
transcoded to UTF-8, the envelope's encoding). lxml checks the payload's well-formedness on the same
chunks without building a tree. The envelope uses the prefix ``sh`` and declares no default namespace,
so a payload without namespace stays without namespace.
"""

from __future__ import annotations

import base64
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from lxml import etree

from peppol.identifiers import PARTICIPANT_SCHEME
from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError
from transport.sbdh.model import (
    BINARY_CONTENT,
    COUNTRY_C1_RE,
    ENVELOPE_NS,
    HEADER_VERSION,
    MLS_TYPES,
    RESERVED_SCOPE_TYPES,
    SBDH_NS,
    SCOPE_COUNTRY_C1,
    SCOPE_DOCUMENTID,
    SCOPE_MLS_TO,
    SCOPE_MLS_TYPE,
    SCOPE_PROCESSID,
    TEXT_CONTENT,
    SbdhHeader,
)
from transport.sbdh.scanner import _START_TAG, ScanError, Scanner, split_start_tag
from transport.sbdh.sources import Source, is_plain_utf8, open_chunks, sniff_encoding, utf8_chunks
from transport.sbdh.xmlparsers import well_formedness_parser
from transport.sbdh.xmltext import escape_attr, escape_text, is_xml_text, unescape
from transport.sbdh.xsdatetime import format_xs_datetime

#: Prefix of the SBDH namespace in written envelopes.
SBDH_PREFIX: Final = "sh"
_MIME_TYPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?")
_ENCODING_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")


def _invalid(code: str, message: str) -> SbdhError:
    return SbdhError(code, message)


def check_header(header: SbdhHeader, *, xml_payload: bool = True) -> None:
    """Refuse a header that would produce an SBD our own reader rejects (raises :class:`SbdhError`)."""
    if not COUNTRY_C1_RE.fullmatch(header.country_c1):
        raise _invalid(
            E.INVALID_COUNTRY_C1, f"COUNTRY_C1 {header.country_c1!r} does not match [A-Z0-9][A-Z0-9]"
        )
    if header.mls_type is not None and header.mls_type not in MLS_TYPES:
        raise _invalid(
            E.INVALID_MLS_TYPE, f"MLS_TYPE {header.mls_type!r} is not one of {', '.join(MLS_TYPES)}"
        )
    if not header.instance_id.strip():
        raise _invalid(E.INVALID_INSTANCE_IDENTIFIER, "InstanceIdentifier is empty")
    if header.sender.scheme != PARTICIPANT_SCHEME:
        raise _invalid(
            E.INVALID_SENDER_AUTHORITY,
            f"sender scheme {header.sender.scheme!r} is not {PARTICIPANT_SCHEME!r}",
        )
    if header.receiver.scheme != PARTICIPANT_SCHEME:
        raise _invalid(
            E.INVALID_RECEIVER_AUTHORITY,
            f"receiver scheme {header.receiver.scheme!r} is not {PARTICIPANT_SCHEME!r}",
        )
    try:
        format_xs_datetime(header.creation)
    except ValueError as exc:
        raise _invalid(E.INVALID_CREATION_DATE_TIME, str(exc)) from None
    for what, ident in (
        ("sender", header.sender),
        ("receiver", header.receiver),
        ("document type", header.document_type),
        ("process", header.process),
        ("MLS_TO", header.mls_to),
    ):
        if ident is not None and not (is_xml_text(ident.scheme) and is_xml_text(ident.value)):
            raise _invalid(E.INVALID_INPUT, f"the {what} identifier contains characters XML does not allow")
    for key, value in header.additional.items():
        if not key.strip() or key != key.strip() or key in RESERVED_SCOPE_TYPES:
            raise _invalid(E.INVALID_INPUT, f"{key!r} cannot be an additional Scope type (empty or reserved)")
        if not is_xml_text(key) or not is_xml_text(value):
            raise _invalid(
                E.INVALID_INPUT, f"additional attribute {key!r} contains characters XML does not allow"
            )
    for name, value in (
        ("InstanceIdentifier", header.instance_id),
        ("Standard", header.standard),
        ("TypeVersion", header.type_version),
        ("Type", header.type),
    ):
        if not is_xml_text(value) or value != value.strip():
            raise _invalid(
                E.INVALID_INPUT,
                f"{name} {value!r} has surrounding whitespace or characters XML does not allow",
            )
    if xml_payload:
        doctype = header.document_type.value
        if not header.standard or not doctype.startswith(header.standard):
            raise _invalid(
                E.INVALID_STANDARD,
                f"Standard {header.standard!r} does not start the document type {doctype!r}",
            )
        tv = header.type_version
        if not tv or ":" in tv or not doctype.endswith(":" + tv):
            raise _invalid(
                E.INVALID_TYPE_VERSION, f"TypeVersion {tv!r} does not end the document type {doctype!r}"
            )
        if not header.type:
            raise _invalid(E.INVALID_TYPE, "Type is empty")


def _el(name: str, text: str, indent: str, attrs: str = "") -> str:
    return f"{indent}<{SBDH_PREFIX}:{name}{attrs}>{escape_text(text)}</{SBDH_PREFIX}:{name}>\n"


def _scope(kind: str, value: str, scheme: str | None = None) -> str:
    ind = "      "
    body = _el("Type", kind, ind + "  ") + _el("InstanceIdentifier", value, ind + "  ")
    if scheme is not None:
        body += _el("Identifier", scheme, ind + "  ")
    return f"{ind}<{SBDH_PREFIX}:Scope>\n{body}{ind}</{SBDH_PREFIX}:Scope>\n"


def envelope_head(header: SbdhHeader) -> bytes:
    """The XML declaration, the root start tag and the complete header (UTF-8)."""
    p = SBDH_PREFIX
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<{p}:StandardBusinessDocument xmlns:{p}="{SBDH_NS}">\n',
        f"  <{p}:StandardBusinessDocumentHeader>\n",
        _el("HeaderVersion", HEADER_VERSION, "    "),
    ]
    for party, pid in (("Sender", header.sender), ("Receiver", header.receiver)):
        ident = _el("Identifier", pid.value, "", f' Authority="{escape_attr(pid.scheme)}"')
        parts.append(f"    <{p}:{party}>{ident.strip()}</{p}:{party}>\n")
    parts.append(f"    <{p}:DocumentIdentification>\n")
    parts.append(_el("Standard", header.standard, "      "))
    parts.append(_el("TypeVersion", header.type_version, "      "))
    parts.append(_el("InstanceIdentifier", header.instance_id, "      "))
    parts.append(_el("Type", header.type, "      "))
    parts.append(_el("CreationDateAndTime", format_xs_datetime(header.creation), "      "))
    parts.append(f"    </{p}:DocumentIdentification>\n")
    parts.append(f"    <{p}:BusinessScope>\n")
    parts.append(_scope(SCOPE_DOCUMENTID, header.document_type.value, header.document_type.scheme))
    parts.append(_scope(SCOPE_PROCESSID, header.process.value, header.process.scheme))
    parts.append(_scope(SCOPE_COUNTRY_C1, header.country_c1))
    if header.mls_to is not None:
        parts.append(_scope(SCOPE_MLS_TO, header.mls_to.value, header.mls_to.scheme))
    if header.mls_type is not None:
        parts.append(_scope(SCOPE_MLS_TYPE, header.mls_type))
    for key, value in header.additional.items():
        parts.append(_scope(key, value))
    parts.append(f"    </{p}:BusinessScope>\n")
    parts.append(f"  </{p}:StandardBusinessDocumentHeader>\n")
    return "".join(parts).encode("utf-8")


ENVELOPE_TAIL: Final = f"\n</{SBDH_PREFIX}:StandardBusinessDocument>\n".encode()


def resolve_root_name(raw: bytes) -> tuple[str | None, str]:
    """Namespace and local name of a *document root* start tag (all its declarations are on it)."""
    qname_b, attrs = split_start_tag(raw)
    qname = qname_b.decode("utf-8")
    prefix, _, local = qname.rpartition(":")
    wanted = f"xmlns:{prefix}" if prefix else "xmlns"
    for name, quoted in attrs:
        if name.decode("utf-8") == wanted:
            uri = unescape(quoted[1:-1].decode("utf-8"))
            return (uri or None), local
    if prefix and prefix != "xml":
        raise ScanError(f"prefix {prefix!r} of the payload root is not declared")
    return None, local


def check_payload_root(header: SbdhHeader, raw: bytes, *, check_root: bool) -> None:
    """Check the payload root start tag ``raw`` against ``header`` (an SBD is never nested; with
    ``check_root``, namespace and local name must be the header's Standard and Type unless the root is
    a BinaryContent/TextContent wrapper)."""
    ns, local = resolve_root_name(raw)
    if ns == SBDH_NS:
        raise SbdhError(E.INVALID_BUSINESS_MESSAGE, "the payload is itself an SBD (SBDs are never nested)")
    wrapped = ns == ENVELOPE_NS and local in (BINARY_CONTENT, TEXT_CONTENT)
    if check_root and not wrapped:
        if ns != header.standard:
            raise SbdhError(
                E.INVALID_STANDARD, f"payload namespace {ns!r} differs from Standard {header.standard!r}"
            )
        if local != header.type:
            raise SbdhError(E.INVALID_TYPE, f"payload root {local!r} differs from Type {header.type!r}")


class _PayloadIntoSbd:
    """Scanner handler: check the payload root against the header, emit the header, copy the root."""

    def __init__(self, header: SbdhHeader, check_root: bool) -> None:
        self.header = header
        self.check_root = check_root
        self.root_started = False
        self.root_done = False

    def start_tag(self, scanner: Scanner, depth: int, raw: bytes, start: int, end: int, empty: bool) -> None:
        if depth != 0:
            return
        if self.root_started:
            raise ScanError("the payload has more than one root element")
        self.root_started = True
        check_payload_root(self.header, raw, check_root=self.check_root)
        scanner.write(envelope_head(self.header))
        scanner.start_copy(start)
        if empty:
            scanner.stop_copy(end)
            self.root_done = True

    def end_tag(self, scanner: Scanner, depth: int, end: int) -> None:
        if depth == 0:
            scanner.stop_copy(end)
            self.root_done = True

    def text(self, scanner: Scanner, depth: int) -> None:
        if depth == 0:
            raise ScanError("the payload has text outside its root element")


def _tap(chunks: Iterator[bytes], parser: etree.XMLParser) -> Iterator[bytes]:
    for chunk in chunks:
        parser.feed(chunk)
        yield chunk


#: The XML declaration, processing instructions, comments and whitespace that may precede a root.
_PROLOG_ITEM: Final = re.compile(rb"[ \t\r\n]*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
#: A document ending with an end tag (then only whitespace): in a well-formed document, the root's.
_FINAL_END_TAG: Final = re.compile(rb"</([^\s<>/]+)[ \t\r\n]*>[ \t\r\n]*")


@dataclass(frozen=True, slots=True)
class RootSpan:
    """Where the root element of a document held in memory lies: bytes ``start:end``, and its start tag."""

    start: int
    end: int
    start_tag: bytes


def locate_root(payload: bytes) -> RootSpan | None:
    """The root element of an in-memory UTF-8 ``payload``, found without walking its content: lxml
    checks the whole document is well-formed (in C, building nothing); the root start tag is the first
    markup after the prolog (declaration, PIs, comments), its end tag the final markup when nothing
    but whitespace follows it, which well-formedness makes the root's.

    ``None`` whenever this shortcut does not apply or anything is wrong (another encoding, a DOCTYPE,
    an empty root, a comment after the root, malformed XML): callers then take the streaming path,
    which wraps or refuses the document exactly as it always did."""
    if not is_plain_utf8(sniff_encoding(payload[:1024])):
        return None
    start = 0
    while (item := _PROLOG_ITEM.match(payload, start)) is not None:
        start = item.end()
    while payload[start : start + 1] in (b" ", b"\t", b"\r", b"\n"):
        start += 1
    tag = _START_TAG.match(payload, start)
    last = payload.rfind(b"<")
    end = _FINAL_END_TAG.fullmatch(payload, last) if last > start else None
    if tag is None or end is None or tag.group().endswith(b"/>"):
        return None
    try:
        qname, _ = split_start_tag(tag.group())
        if qname != end.group(1):
            return None
        resolve_root_name(tag.group())
        parser = well_formedness_parser()
        parser.feed(payload)
        parser.close()
    except (etree.XMLSyntaxError, ScanError, UnicodeDecodeError):
        return None
    return RootSpan(start, last + len(end.group().rstrip(b" \t\r\n")), tag.group())


def write_sbd(header: SbdhHeader, payload: Source, out: BinaryIO) -> None:
    """Write an SBD with ``header`` around the XML document ``payload`` (path, stream or bytes) to
    ``out``, streaming. Raises :class:`SbdhError` for a bad header or payload (``out`` may then hold
    a partial SBD: write to a temporary file and discard it on error)."""
    check_header(header, xml_payload=True)
    root = locate_root(payload) if isinstance(payload, bytes) else None
    if root is not None:
        assert isinstance(payload, bytes)
        # the streaming path would stop at this same check on this same (well-formed) document
        check_payload_root(header, root.start_tag, check_root=True)
        out.write(envelope_head(header))
        out.write(payload[root.start : root.end])
        out.write(ENVELOPE_TAIL)
        return
    handler = _PayloadIntoSbd(header, check_root=True)
    scanner = Scanner(handler, out, report_depth=0)
    parser = well_formedness_parser()
    try:
        with open_chunks(payload) as chunks:
            first = next(chunks, b"")
            codec = sniff_encoding(first)
            for utf8 in utf8_chunks(_tap(itertools.chain([first], chunks), parser), codec):
                scanner.feed(utf8)
            parser.close()
            scanner.close()
    except etree.XMLSyntaxError as exc:
        raise SbdhError(E.INVALID_BUSINESS_MESSAGE, f"the payload is not well-formed XML: {exc}") from exc
    except (ScanError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, SbdhError):
            raise
        raise SbdhError(E.INVALID_BUSINESS_MESSAGE, f"the payload cannot be wrapped: {exc}") from exc
    if not handler.root_done:
        raise SbdhError(E.INVALID_BUSINESS_MESSAGE, "the payload has no root element")
    out.write(ENVELOPE_TAIL)


def _wrapper_start(local: str, mime_type: str, encoding: str | None) -> bytes:
    if not _MIME_TYPE.fullmatch(mime_type) or not is_xml_text(mime_type):
        raise SbdhError(E.INVALID_INPUT, f"{mime_type!r} is not a MIME type")
    attrs = f' mimeType="{escape_attr(mime_type)}"'
    if encoding is not None:
        if not _ENCODING_NAME.fullmatch(encoding):
            raise SbdhError(E.INVALID_INPUT, f"{encoding!r} is not a character encoding name")
        attrs += f' encoding="{escape_attr(encoding)}"'
    return f'  <{local} xmlns="{ENVELOPE_NS}"{attrs}>'.encode()


def write_binary_sbd(
    header: SbdhHeader,
    content: Source,
    mime_type: str,
    out: BinaryIO,
    encoding: str | None = None,
) -> None:
    """Write an SBD whose payload is ``content`` base64-encoded in a ``BinaryContent`` wrapper
    (e.g. an ASiC-E container, ``application/vnd.etsi.asic-e+zip``), streaming in blocks."""
    check_header(header, xml_payload=False)
    start = _wrapper_start(BINARY_CONTENT, mime_type, encoding)
    out.write(envelope_head(header))
    out.write(start)
    pending = b""
    with open_chunks(content) as chunks:
        for chunk in chunks:
            pending += chunk
            usable = len(pending) - len(pending) % 3
            if usable:
                out.write(base64.b64encode(pending[:usable]))
                pending = pending[usable:]
    if pending:
        out.write(base64.b64encode(pending))
    out.write(f"</{BINARY_CONTENT}>".encode())
    out.write(ENVELOPE_TAIL)


def write_text_sbd(header: SbdhHeader, text: str, mime_type: str, out: BinaryIO) -> None:
    """Write an SBD whose payload is ``text`` (escaped) in a ``TextContent`` wrapper."""
    check_header(header, xml_payload=False)
    if not is_xml_text(text):
        raise SbdhError(E.INVALID_INPUT, "the text contains characters XML does not allow; use BinaryContent")
    start = _wrapper_start(TEXT_CONTENT, mime_type, None)
    out.write(envelope_head(header))
    out.write(start)
    out.write(escape_text(text).replace("\r", "&#13;").encode("utf-8"))
    out.write(f"</{TEXT_CONTENT}>".encode())
    out.write(ENVELOPE_TAIL)


def build_sbd(header: SbdhHeader, payload: bytes) -> bytes:
    """In-memory convenience around :func:`write_sbd` for small XML payload documents."""
    buf = io.BytesIO()
    write_sbd(header, payload, buf)
    return buf.getvalue()
