"""Byte sources (path, binary stream, bytes) read in chunks, and XML encoding sniffing/transcoding.

The byte scanner of :mod:`transport.sbdh.scanner` needs UTF-8; lxml gets the original bytes. An SBD or a
payload document in another encoding is transcoded chunk by chunk for the scanner only.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final

#: Read size for every streaming operation.
CHUNK_SIZE: Final = 256 * 1024

#: Anything the envelope functions read: a file path (``Path``, ``str`` or path-like), an open binary
#: stream (read from its current position), or the bytes themselves.
Source = Path | str | os.PathLike[str] | BinaryIO | bytes | bytearray | memoryview

_DECL_ENCODING: Final = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")
_SNIFF_BYTES: Final = 1024


def _chunks_of_stream(stream: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk


def _chunks_of_bytes(data: bytes | bytearray | memoryview, chunk_size: int) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), chunk_size):
        yield bytes(view[start : start + chunk_size])


@contextmanager
def open_chunks(source: Source, chunk_size: int | None = None) -> Iterator[Iterator[bytes]]:
    """Yield an iterator over the bytes of ``source`` in chunks of ``chunk_size`` (default
    :data:`CHUNK_SIZE`, read at call time); a path is opened and closed here, a stream is read from
    its current position and left open."""
    if chunk_size is None:
        chunk_size = CHUNK_SIZE
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield _chunks_of_bytes(source, chunk_size)
    elif isinstance(source, (str, os.PathLike)):
        with Path(source).open("rb") as fh:
            yield _chunks_of_stream(fh, chunk_size)
    else:
        yield _chunks_of_stream(source, chunk_size)


def sniff_encoding(head: bytes) -> str:
    """Python codec name of an XML entity from its first bytes (BOM, UTF-16 pattern, declaration)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"<\x00?\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00<\x00?"):
        return "utf-16-be"
    m = _DECL_ENCODING.match(head[:_SNIFF_BYTES])
    if m is None:
        return "utf-8"
    name = m.group(1).decode("ascii")
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unknown XML encoding {name!r}") from None


def is_plain_utf8(codec_name: str) -> bool:
    """True when the bytes can be scanned as they are (UTF-8 or its ASCII subset, no BOM)."""
    return codecs.lookup(codec_name).name in {"utf-8", "ascii"}


def utf8_chunks(chunks: Iterator[bytes], codec_name: str) -> Iterator[bytes]:
    """Transcode ``chunks`` from ``codec_name`` to UTF-8 incrementally (a BOM is dropped)."""
    if is_plain_utf8(codec_name):
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(codec_name)(errors="strict")
    first = True
    for chunk in chunks:
        text = decoder.decode(chunk)
        if first and text:
            text = text.removeprefix("\ufeff")
            first = False
        if text:
            yield text.encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")
