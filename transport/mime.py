"""Tolerant, streaming reader for inbound AS4 HTTP bodies (SOAP with Attachments).

Accepts what the Peppol network actually sends (``as4.md`` §4, §12 pitfall 6):

* ``multipart/related`` with or without ``start`` (RFC 2387: without it the first part is the root),
  Content-IDs with or without angle brackets, CRLF or bare-LF line ends, transport padding after a
  boundary, a missing close delimiter at end of stream;
* ``binary`` / ``8bit`` / ``7bit`` / ``base64`` / ``quoted-printable`` transfer encodings;
* a UTF-8 BOM before the SOAP envelope;
* a plain ``application/soap+xml`` body without attachments.

The body is read in chunks and attachment parts are written to disk as they arrive, so memory use does
not grow with the payload size; only the SOAP envelope is held in memory (it is capped). A caller may
let small attachments stay in memory too (``memory_bytes``, a budget for all parts of one body): a
10 KB message then costs no file-system operation at all, which on a slow disk is most of its cost.
Caps on the total size, the number of parts and the size of each part's header section raise
:class:`MimeInconsistency` (``EBMS:0007``) subclasses. Chunked HTTP transfer coding is undone by the HTTP
server before the body gets here.
"""

from __future__ import annotations

import binascii
import email.message
import email.utils
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO, Final, Protocol

from transport.errors import MimeInconsistency

#: Largest HTTP body accepted by default (bytes). Peppol sets no limit; the Testbed sends large files.
DEFAULT_MAX_TOTAL_BYTES: Final = 1024 * 1024 * 1024
#: Most MIME parts accepted (the SOAP part plus attachments). Peppol messages carry exactly two.
DEFAULT_MAX_PARTS: Final = 16
#: Largest header section of one part (bytes).
DEFAULT_MAX_HEADER_BYTES: Final = 16 * 1024
#: Largest SOAP envelope (bytes); it is held in memory and parsed as a whole.
DEFAULT_MAX_ENVELOPE_BYTES: Final = 4 * 1024 * 1024
#: Read size for the body stream.
CHUNK_SIZE: Final = 256 * 1024

SOAP12_CONTENT_TYPE: Final = "application/soap+xml"
MULTIPART_RELATED: Final = "multipart/related"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_IDENTITY_ENCODINGS: Final = frozenset({"", "binary", "8bit", "7bit"})
_WHITESPACE: Final = b" \t\r\n"
_BOUNDARY_RE: Final = re.compile(r"^[0-9A-Za-z'()+_,\-./:=? ]{1,70}$")


class MimeError(MimeInconsistency):
    """The MIME structure is broken or exceeds a cap (``EBMS:0007``)."""


class NotSoapError(MimeError):
    """The body is neither ``multipart/related`` nor a SOAP 1.2 envelope: answer with plain HTTP 4xx."""

    http_status: int = 415


class BodyTooLargeError(MimeError):
    """The body exceeds the total size cap: answer with HTTP 413."""

    http_status: int = 413


@dataclass(frozen=True, slots=True)
class MimeLimits:
    """Caps applied while reading one body."""

    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
    max_parts: int = DEFAULT_MAX_PARTS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_envelope_bytes: int = DEFAULT_MAX_ENVELOPE_BYTES


@dataclass(frozen=True, slots=True)
class MimePart:
    """One attachment part, transfer-decoded: in the file ``path``, or in ``data`` when it was kept in
    memory (see ``memory_bytes`` of :func:`read_message`; exactly one of them is set). Header names are
    lower-case."""

    content_id: str | None
    headers: Mapping[str, str]
    path: Path | None
    size: int
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class ParsedMime:
    """The SOAP envelope (BOM removed, otherwise the bytes as received) and the attachment parts."""

    envelope: bytes
    envelope_content_type: str
    attachments: tuple[MimePart, ...] = field(default=())


#: ``type/subtype`` followed by ``; name=token`` or ``; name="quoted"`` parameters, nothing else: the
#: shape of every Content-Type an AS4 peer sends. Anything else (RFC 2231 ``name*=``, comments,
#: stray characters) takes the general ``email`` parser.
_MIME_CHARS: Final = r"[!#$%&'+.^_`|~0-9A-Za-z-]+"
_QUOTED: Final = '"' + r'[^"\\\r\n]*' + '"'
_SIMPLE_CONTENT_TYPE: Final = re.compile(
    rf"\s*({_MIME_CHARS}/{_MIME_CHARS})\s*((?:;\s*{_MIME_CHARS}\s*=\s*(?:{_MIME_CHARS}|{_QUOTED})\s*)*)"
)
_SIMPLE_PARAM: Final = re.compile(rf"({_MIME_CHARS})\s*=\s*({_MIME_CHARS}|{_QUOTED})")


def parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type header into its lower-cased media type and its parameters."""
    if not value:
        return "", {}
    params: dict[str, str] = {}
    simple = _SIMPLE_CONTENT_TYPE.fullmatch(value)
    if simple is not None:  # fast path, same result as the email parser for this shape
        for name, val in _SIMPLE_PARAM.findall(simple.group(2)):
            # email's collapse_rfc2231_value unquotes once more: "<id>" -> id, as below
            params[name.lower()] = email.utils.unquote(val[1:-1]) if val.startswith('"') else val
        return simple.group(1).lower(), params
    msg = email.message.Message()
    msg["Content-Type"] = value
    media = msg.get_content_type() if "/" in value.split(";", 1)[0] else ""
    for name, val in msg.get_params(failobj=[])[1:]:
        params[name.lower()] = email.utils.collapse_rfc2231_value(val)
    return media.lower(), params


def strip_content_id(value: str | None) -> str | None:
    """``<id>`` → ``id`` (the header form carries brackets, the ``cid:`` URI does not)."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value or None


class _Sink(Protocol):
    def write(self, data: bytes) -> None: ...
    def finish(self) -> None: ...


class _BytesSink:
    """Collects the root part in memory, capped."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        if len(self.data) + len(data) > self._cap:
            raise MimeError(f"SOAP envelope larger than {self._cap} bytes")
        self.data += data

    def finish(self) -> None:
        return None


class _SpoolSink:
    """An attachment part: in memory while it fits ``memory_bytes``, then moved to a file from
    ``new_file`` (opened only then). :meth:`close` it in any case."""

    def __init__(self, memory_bytes: int, new_file: Callable[[], Path]) -> None:
        self._limit = memory_bytes
        self._new_file = new_file
        self.data: bytearray | None = bytearray()
        self.path: Path | None = None
        self._fh: BinaryIO | None = None
        self.size = 0
        if memory_bytes <= 0:
            self._to_file()

    def _to_file(self) -> None:
        self.path = self._new_file()
        self._fh = self.path.open("wb")
        if self.data:
            self._fh.write(self.data)
        self.data = None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.data is not None:
            if self.size <= self._limit:
                self.data += data
                return
            self._to_file()
        assert self._fh is not None
        self._fh.write(data)

    def finish(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


class _Base64Decoder:
    """Streaming base64 decoding (whitespace and line breaks ignored)."""

    def __init__(self, inner: _Sink) -> None:
        self._inner = inner
        self._rest = b""

    def write(self, data: bytes) -> None:
        data = self._rest + data.translate(None, _WHITESPACE)
        usable = len(data) - len(data) % 4
        self._rest = data[usable:]
        if usable:
            self._inner.write(_b64(data[:usable]))

    def finish(self) -> None:
        if self._rest:
            self._inner.write(_b64(self._rest))
        self._inner.finish()


def _b64(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data, strict_mode=False)
    except binascii.Error as exc:
        raise MimeError(f"invalid base64 content: {exc}") from exc


class _QuotedPrintableDecoder:
    """Streaming quoted-printable decoding, one line at a time (soft line breaks included)."""

    def __init__(self, inner: _Sink) -> None:
        self._inner = inner
        self._rest = b""

    def write(self, data: bytes) -> None:
        data = self._rest + data
        cut = data.rfind(b"\n") + 1
        self._rest = data[cut:]
        if cut:
            self._inner.write(binascii.a2b_qp(data[:cut]))

    def finish(self) -> None:
        if self._rest:
            self._inner.write(binascii.a2b_qp(self._rest))
        self._inner.finish()


def _decoder(encoding: str, inner: _Sink) -> _Sink:
    enc = encoding.strip().lower()
    if enc in _IDENTITY_ENCODINGS:
        return inner
    if enc == "base64":
        return _Base64Decoder(inner)
    if enc == "quoted-printable":
        return _QuotedPrintableDecoder(inner)
    raise MimeError(f"unsupported Content-Transfer-Encoding {encoding!r}")


def _parse_headers(raw: bytes) -> dict[str, str]:
    """Parse a part's header section (folded lines joined, names lower-cased, last value wins)."""
    headers: dict[str, str] = {}
    name: str | None = None
    for line in raw.decode("latin-1").splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and name is not None:
            headers[name] += " " + line.strip()
            continue
        if ":" not in line:
            raise MimeError(f"malformed MIME header line {line[:60]!r}")
        key, _, value = line.partition(":")
        name = key.strip().lower()
        headers[name] = value.strip()
    return headers


class _Reader:
    """Buffered stream reader that enforces the total size cap."""

    def __init__(self, stream: BinaryIO, limits: MimeLimits) -> None:
        self._stream = stream
        self._limits = limits
        self.total = 0
        self.eof = False
        # A virtual line break before the body lets the first delimiter match without a preamble.
        self.buf = bytearray(b"\n")

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self._stream.read(CHUNK_SIZE)
        if not chunk:
            self.eof = True
            return False
        self.total += len(chunk)
        if self.total > self._limits.max_total_bytes:
            raise BodyTooLargeError(f"body larger than {self._limits.max_total_bytes} bytes")
        self.buf += chunk
        return True


class _MultipartParser:
    def __init__(self, stream: BinaryIO, boundary: str, limits: MimeLimits) -> None:
        self._r = _Reader(stream, limits)
        self._delim = b"\n--" + boundary.encode("latin-1")
        self._limits = limits

    def _find_delimiter(self, start: int) -> int:
        """Index of the next real delimiter (followed by ``--``, padding or a line end) at or after
        ``start``, or -1 if the buffer holds none yet."""
        buf, delim = self._r.buf, self._delim
        while True:
            i = buf.find(delim, start)
            if i < 0:
                return -1
            after = i + len(delim)
            if after >= len(buf) and not self._r.eof:
                return -2  # need more data to decide
            nxt = bytes(buf[after : after + 1])
            if nxt in (b"", b"-", b"\r", b"\n", b" ", b"\t"):
                return i
            start = i + 1

    def _after_delimiter(self, i: int) -> bool:
        """Consume the delimiter at ``i`` and its line; return True if it was the close delimiter."""
        r = self._r
        pos = i + len(self._delim)
        while len(r.buf) < pos + 2 and r.fill():
            pass
        if r.buf[pos : pos + 2] == b"--":
            del r.buf[:]
            return True
        while True:
            nl = r.buf.find(b"\n", pos)
            if nl >= 0:
                del r.buf[: nl + 1]
                # A final delimiter without "--" at the very end of the stream: tolerate it.
                return not r.buf and not r.fill()
            if len(r.buf) - pos > self._limits.max_header_bytes:
                raise MimeError("garbage after a MIME boundary")
            if not r.fill():
                del r.buf[:]
                return True  # stream ended right after a boundary: tolerate a missing close delimiter

    def skip_preamble(self) -> bool:
        """Advance past the first delimiter. Returns True if the body closes immediately."""
        r = self._r
        while True:
            i = self._find_delimiter(0)
            if i >= 0:
                return self._after_delimiter(i)
            if i == -1:
                keep = len(self._delim) + 1
                if len(r.buf) > keep:
                    del r.buf[: len(r.buf) - keep]
            if not r.fill() and self._find_delimiter(0) < 0:
                raise MimeError("no MIME boundary found in the body")

    def read_headers(self) -> dict[str, str]:
        r = self._r
        while True:
            view = b"\n" + bytes(r.buf[: self._limits.max_header_bytes + 4])
            ends = [(view.find(sep), len(sep)) for sep in (b"\n\r\n", b"\n\n")]
            found = [(i, n) for i, n in ends if i >= 0]
            if found:
                i, n = min(found)
                raw = view[1 : i + 1]
                del r.buf[: i + n - 1]
                if len(raw) > self._limits.max_header_bytes:
                    raise MimeError(f"MIME part header larger than {self._limits.max_header_bytes} bytes")
                return _parse_headers(raw)
            if len(r.buf) > self._limits.max_header_bytes:
                raise MimeError(f"MIME part header larger than {self._limits.max_header_bytes} bytes")
            if not r.fill():
                raise MimeError("MIME part header not terminated")

    def read_body(self, sink: _Sink) -> bool:
        """Copy the part body into ``sink``; return True if it was the last part."""
        r = self._r
        while True:
            i = self._find_delimiter(0)
            if i >= 0:
                data = r.buf[:i]
                if data.endswith(b"\r"):
                    data = data[:-1]
                sink.write(bytes(data))
                sink.finish()
                return self._after_delimiter(i)
            keep = len(self._delim) + 1
            if i == -1 and len(r.buf) > keep:
                cut = len(r.buf) - keep
                sink.write(bytes(r.buf[:cut]))
                del r.buf[:cut]
            if not r.fill() and self._find_delimiter(0) < 0:
                raise MimeError("MIME body ended without a closing boundary")


def read_message(
    content_type: str | None,
    body: BinaryIO,
    work_dir: Path | Callable[[], Path],
    limits: MimeLimits = MimeLimits(),
    *,
    memory_bytes: int = 0,
) -> ParsedMime:
    """Read an inbound AS4 body: attachments go to files in ``work_dir``, the envelope to memory.

    Attachment parts that fit in ``memory_bytes`` (one budget for all parts of the body) stay in
    memory (:attr:`MimePart.data`); a part that outgrows what is left moves to a file. ``work_dir`` may
    be a callable returning the directory: it is called only when a first file is needed.

    Raises :class:`NotSoapError` when the body is not SOAP at all, :class:`BodyTooLargeError` over the
    total cap, :class:`MimeError` for broken or over-cap MIME structure.
    """
    media, params = parse_content_type(content_type)
    if media == SOAP12_CONTENT_TYPE:
        return _read_plain_soap(body, limits, content_type or media)
    if media != MULTIPART_RELATED:
        raise NotSoapError(
            f"unsupported Content-Type {content_type!r}: expected multipart/related or {SOAP12_CONTENT_TYPE}"
        )
    boundary = params.get("boundary")
    if not boundary or not _BOUNDARY_RE.match(boundary):
        raise MimeError("multipart/related without a valid boundary parameter")
    start = strip_content_id(params.get("start"))
    parser = _MultipartParser(body, boundary, limits)
    closed = parser.skip_preamble()
    envelope: bytes | None = None
    envelope_type = ""
    attachments: list[MimePart] = []
    index = 0
    budget = memory_bytes
    while not closed:
        index += 1
        if index > limits.max_parts:
            raise MimeError(f"more than {limits.max_parts} MIME parts")
        headers = _parse_part_headers(parser)
        cid = strip_content_id(headers.get("content-id"))
        is_root = envelope is None and (cid == start if start else index == 1)
        encoding = headers.get("content-transfer-encoding", "")
        if is_root:
            mem = _BytesSink(limits.max_envelope_bytes)
            closed = parser.read_body(_decoder(encoding, mem))
            envelope = _strip_bom(bytes(mem.data))
            envelope_type = headers.get("content-type", "")
            continue
        sink = _SpoolSink(budget, _part_file(work_dir, index))
        try:
            closed = parser.read_body(_decoder(encoding, sink))
        finally:
            sink.close()
        data = None if sink.data is None else bytes(sink.data)
        if data is not None:
            budget -= len(data)
        attachments.append(MimePart(cid, MappingProxyType(headers), sink.path, sink.size, data))
    if envelope is None:
        raise MimeError(
            f"no root part with Content-ID <{start}>" if start else "multipart body without parts"
        )
    return ParsedMime(envelope, envelope_type, tuple(attachments))


def _part_file(work_dir: Path | Callable[[], Path], index: int) -> Callable[[], Path]:
    def new_file() -> Path:
        directory = work_dir if isinstance(work_dir, Path) else work_dir()
        return directory / f"part-{index}.bin"

    return new_file


def _parse_part_headers(parser: _MultipartParser) -> dict[str, str]:
    return parser.read_headers()


def _strip_bom(data: bytes) -> bytes:
    return data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data


def _read_plain_soap(body: BinaryIO, limits: MimeLimits, content_type: str) -> ParsedMime:
    cap = min(limits.max_envelope_bytes, limits.max_total_bytes)
    # A raw socket or pipe may return short reads: keep reading until EOF or one byte past the cap.
    chunks: list[bytes] = []
    got = 0
    while got <= cap:
        chunk = body.read(cap + 1 - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    data = b"".join(chunks)
    if len(data) > cap:
        raise BodyTooLargeError(f"SOAP body larger than {cap} bytes")
    return ParsedMime(_strip_bom(data), content_type, ())
