"""Test helpers: split our own MIME output back into an envelope plus attachment files (loopback without
an HTTP server), and split recorded HTTP dumps (``.as4in``/``.as4out``). Not product code (it was
``transport/as4/testing.py``).

This is *not* the tolerant inbound MIME parser (that is ``transport.mime``): it only reads what
:func:`transport.as4.build_user_message` writes, streaming the attachment to disk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from transport.as4.builder import OutboundMessage
from transport.as4.constants import CHUNK_SIZE
from transport.as4.inbound import InboundAttachment

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
_HEADER_SCAN = 1024 * 1024


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").splitlines():
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
    return headers


def split_outbound(message: OutboundMessage, work_dir: Path) -> tuple[bytes, list[InboundAttachment]]:
    """The SOAP envelope and the attachment parts (written to ``work_dir``) of one of our messages."""
    match = _BOUNDARY.search(message.content_type)
    if match is None:
        raise ValueError("content type has no boundary")
    delimiter = b"\r\n--" + match.group(1).encode("ascii")
    with message.open_body() as fh:
        head = fh.read(_HEADER_SCAN)
        total = message.size
        first = head.index(b"--" + match.group(1).encode("ascii"))
        soap_headers_end = head.index(b"\r\n\r\n", first) + 4
        soap_end = head.index(delimiter, soap_headers_end)
        envelope = head[soap_headers_end:soap_end]
        parts: list[InboundAttachment] = []
        pos = soap_end + len(delimiter)
        while head[pos : pos + 2] != b"--":
            hdr_end = head.index(b"\r\n\r\n", pos) + 4
            headers = _parse_headers(head[pos:hdr_end])
            nxt = head.find(delimiter, hdr_end)
            if nxt < 0:  # last part runs to the closing delimiter at the end of the body
                nxt = total - len(delimiter) - len(b"--\r\n")
            target = work_dir / f"part-{len(parts)}.bin"
            _copy_range(fh, head, hdr_end, nxt, target)
            parts.append(InboundAttachment(headers.get("Content-ID", ""), headers, target))
            pos = nxt + len(delimiter)
            if pos >= len(head):
                break
    return envelope, parts


def _copy_range(fh: BinaryIO, head: bytes, start: int, end: int, target: Path) -> None:
    with target.open("wb") as out:
        if end <= len(head):
            out.write(head[start:end])
            return
        out.write(head[start:])
        remaining = end - len(head)
        fh.seek(len(head))
        while remaining:
            block = fh.read(min(CHUNK_SIZE, remaining))
            if not block:
                raise ValueError("body shorter than expected")
            out.write(block)
            remaining -= len(block)


def split_http_dump(raw: bytes) -> tuple[dict[str, str], bytes]:
    """Headers and body of a recorded HTTP message (phase4 ``.as4in``/``.as4out`` dumps).

    The dumps are de-chunked already although they keep ``Transfer-Encoding: chunked``.
    """
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = raw.find(sep)
        if idx >= 0:
            headers = _parse_headers(raw[:idx])
            body = raw[idx + len(sep) :]
            return headers, body.lstrip(b"\r\n")
    raise ValueError("no header/body separator")
