"""Streaming the payload out of an SBD: the XML document byte for byte, or the decoded wrapper content.

Two passes over the input: :func:`transport.sbdh.reader.read_sbd` validates the header (it stops at
the payload start), then the payload is streamed to ``out``. A non-seekable stream is spooled to a
temporary file first so it can be read twice.

XML payloads keep their original bytes; the namespace declarations the payload inherited from the SBD
root are added to its start tag, so the extracted document is well-formed on its own (e.g. a payload
using prefixes declared on ``StandardBusinessDocument``). ``BinaryContent`` is base64-decoded in
blocks, ``TextContent`` written as UTF-8; lxml delivers their text in pieces, without a tree.
"""

from __future__ import annotations

import binascii
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, Final

from lxml import etree

from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError
from transport.sbdh.model import SBDH_NS, PayloadInfo
from transport.sbdh.reader import read_sbd
from transport.sbdh.scanner import ScanError, Scanner, split_start_tag
from transport.sbdh.sources import CHUNK_SIZE, Source, open_chunks, sniff_encoding, utf8_chunks
from transport.sbdh.wrapped import Base64Sink
from transport.sbdh.xmlparsers import refuse_doctype, target_parser, well_formedness_parser

#: Non-seekable input up to this size is spooled in memory, beyond it on disk.
SPOOL_MEMORY_BYTES: Final = 8 * 1024 * 1024
XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_SBDH_NS_BYTES: Final = SBDH_NS.encode("ascii")


@contextmanager
def _rereadable(source: Source) -> Iterator[Callable[[], Source]]:
    """Yield a function returning ``source`` ready to be read from its start (again)."""
    if isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        yield lambda: source
        return
    if source.seekable():
        start = source.tell()

        def rewind() -> Source:
            source.seek(start)
            return source

        yield rewind
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
        shutil.copyfileobj(source, spool, CHUNK_SIZE)

        def from_spool() -> Source:
            spool.seek(0)
            return spool  # type: ignore[return-value]  # SpooledTemporaryFile is a binary file object

        yield from_spool


class _XmlOut:
    """Scanner handler: copy the second child of the SBD root, with the root's namespace declarations."""

    def __init__(self) -> None:
        self.root_ns_decls: list[tuple[bytes, bytes]] = []
        self.children = 0
        self.done = False

    def start_tag(self, scanner: Scanner, depth: int, raw: bytes, start: int, end: int, empty: bool) -> None:
        if depth == 0:
            _, attrs = split_start_tag(raw)
            # Prefixes bound to the SBDH namespace belong to the envelope, never to the payload.
            self.root_ns_decls = [
                (n, v)
                for n, v in attrs
                if n == b"xmlns" or (n.startswith(b"xmlns:") and v[1:-1] != _SBDH_NS_BYTES)
            ]
            return
        self.children += 1
        if self.children == 1:
            return
        if self.children > 2:
            raise ScanError("more than one element follows the SBDH")
        qname, attrs = split_start_tag(raw)
        own = {n for n, _ in attrs}
        inherited = b"".join(b" " + n + b"=" + v for n, v in self.root_ns_decls if n not in own)
        cut = 1 + len(qname)
        scanner.write(XML_DECLARATION + raw[:cut] + inherited + raw[cut:])
        if empty:
            self.done = True
        else:
            scanner.start_copy(end)

    def end_tag(self, scanner: Scanner, depth: int, end: int) -> None:
        if depth == 1 and self.children == 2 and not self.done:
            scanner.stop_copy(end)
            self.done = True

    def text(self, scanner: Scanner, depth: int) -> None:
        raise ScanError("the SBD has text outside its elements")


def _tap(chunks: Iterator[bytes], parser: etree.XMLParser) -> Iterator[bytes]:
    for chunk in chunks:
        parser.feed(chunk)
        yield chunk


def _extract_xml(source: Source, out: BinaryIO) -> None:
    handler = _XmlOut()
    scanner = Scanner(handler, out)
    parser = well_formedness_parser()
    with open_chunks(source) as chunks:
        first = next(chunks, b"")
        refuse_doctype(first)
        codec = sniff_encoding(first)
        for utf8 in utf8_chunks(_tap(itertools.chain([first], chunks), parser), codec):
            scanner.feed(utf8)
        parser.close()
        scanner.close()
    if not handler.done:
        raise ScanError("the payload element was not found")


class _WrappedTarget:
    """lxml target: pass the character data of the SBD's second child (the wrapper) to ``sink``."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self.sink = sink
        self.depth = 0
        self.children = 0
        self.inside = False

    def start(self, tag: str, attrib: object, nsmap: object = None) -> None:
        self.depth += 1
        if self.depth == 2:
            self.children += 1
            if self.children > 2:
                raise ScanError("more than one element follows the SBDH")
            self.inside = self.children == 2
        elif self.inside:
            raise ScanError("a BinaryContent/TextContent wrapper must contain text only")

    def end(self, tag: str) -> None:
        if self.depth == 2:
            self.inside = False
        self.depth -= 1

    def data(self, text: str) -> None:
        if self.inside:
            self.sink(text)

    def close(self) -> None:
        return None


def _extract_wrapped(source: Source, info: PayloadInfo, out: BinaryIO) -> None:
    b64 = Base64Sink(out) if info.kind == "binary" else None

    def text_sink(text: str) -> None:
        out.write(text.encode("utf-8"))

    target = _WrappedTarget(b64 if b64 is not None else text_sink)
    parser = target_parser(target)
    with open_chunks(source) as chunks:
        for index, chunk in enumerate(chunks):
            if index == 0:
                refuse_doctype(chunk)
            parser.feed(chunk)
        parser.close()
    if b64 is not None:
        b64.close()


def extract_payload(source: Source, out: BinaryIO, *, require_country_c1: bool = True) -> PayloadInfo:
    """Validate the SBD ``source`` and stream its payload to ``out``: the XML payload document (UTF-8,
    with an XML declaration), or the decoded ``BinaryContent`` bytes, or the ``TextContent`` text as
    UTF-8. Raises :class:`SbdhError`; ``out`` may then hold partial output. ``require_country_c1`` as
    for :func:`transport.sbdh.read_sbd`."""
    with _rereadable(source) as again:
        parsed = read_sbd(again(), require_country_c1=require_country_c1)
        try:
            if parsed.payload.kind == "xml":
                _extract_xml(again(), out)
            else:
                _extract_wrapped(again(), parsed.payload, out)
        except SbdhError:
            raise
        except etree.XMLSyntaxError as exc:
            raise SbdhError(E.INVALID_SBD_XML, f"not well-formed XML: {exc}") from exc
        except (ScanError, binascii.Error, ValueError) as exc:
            raise SbdhError(E.INVALID_BUSINESS_MESSAGE, f"the payload cannot be extracted: {exc}") from exc
    return parsed.payload
