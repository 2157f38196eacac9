"""A byte-level XML markup scanner: finds where elements start and end without building anything.

lxml cannot report byte offsets, yet copying a payload into (or out of) an SBD must keep its original
bytes and stream them. This scanner walks UTF-8 XML chunk by chunk, tracks element depth, reports the
tags down to a chosen depth (default 1: the root and its children) with absolute byte offsets, skims
deeper levels with one regex, and copies a byte range it is told to copy to an output stream. It checks
only what it needs (markup boundaries, no DOCTYPE, no text outside elements); well-formedness is lxml's
job, run alongside on the same input.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Final, Protocol

#: Longest start tag accepted (libxml2 refuses longer attribute values without ``huge_tree`` anyway).
MAX_TAG_BYTES: Final = 10 * 1024 * 1024
#: Default depth up to which tags are reported to the handler (0 = the root element).
REPORT_DEPTH: Final = 1

_START_TAG: Final = re.compile(rb"""<[^\s/>!?<][^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>""")
_QNAME: Final = re.compile(rb"<([^\s/>]+)")
_ATTR: Final = re.compile(rb"""([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")
#: Fast path below the reported depth: an end tag (group 1), the start of a comment/PI/CDATA/DOCTYPE
#: (group 2, handled by the careful path), a start tag (group 3) or an empty-element tag (no group).
_DEEP_TOKEN: Final = re.compile(
    rb"""<(?:(/)[^>]*>|([!?])|[^\s/>!?<][^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*(?:(?<=/)>|(>)))"""
)
_TEXT, _COMMENT, _PI, _CDATA = range(4)
_TERMINATOR: Final = {_COMMENT: b"-->", _PI: b"?>", _CDATA: b"]]>"}


class ScanError(ValueError):
    """The input is not XML the scanner can walk (truncated, DOCTYPE, text outside elements, ...)."""


class ScanHandler(Protocol):
    def start_tag(self, scanner: Scanner, depth: int, raw: bytes, start: int, end: int, empty: bool) -> None:
        """A start (or empty-element) tag at ``depth``; ``start``/``end`` are absolute byte offsets."""

    def end_tag(self, scanner: Scanner, depth: int, end: int) -> None:
        """An end tag closing an element at ``depth``; ``end`` is the offset just after ``>``."""

    def text(self, scanner: Scanner, depth: int) -> None:
        """Non-whitespace character data directly inside depth ``depth - 1`` (depth 0: outside the root)."""


def split_start_tag(raw: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The qualified name and the ``(name, quoted value)`` attribute pairs of a raw start tag."""
    m = _QNAME.match(raw)
    if m is None:
        raise ScanError(f"not a start tag: {raw[:80]!r}")
    return m.group(1), [(a.group(1), a.group(2)) for a in _ATTR.finditer(raw, m.end())]


class Scanner:
    """Feed UTF-8 XML bytes with :meth:`feed`, then call :meth:`close`."""

    def __init__(
        self, handler: ScanHandler, out: BinaryIO | None = None, report_depth: int = REPORT_DEPTH
    ) -> None:
        self._handler = handler
        self._report = report_depth
        self._out = out
        self._buf = bytearray()
        self._base = 0  # absolute offset of _buf[0]
        self._depth = 0
        self._state = _TEXT
        self._copy_from: int | None = None

    @property
    def depth(self) -> int:
        return self._depth

    def write(self, data: bytes) -> None:
        """Write bytes of the handler's own (e.g. a rewritten start tag) to the output."""
        if self._out is None:
            raise ScanError("no output stream")
        self._out.write(data)

    def start_copy(self, offset: int) -> None:
        """Copy input bytes from absolute ``offset`` on (it must not have been discarded yet)."""
        if offset < self._base:
            raise ScanError("copy start already discarded")
        self._copy_from = offset

    def stop_copy(self, offset: int) -> None:
        """Copy up to absolute ``offset`` (exclusive) and stop copying."""
        if self._copy_from is not None and self._out is not None:
            self._out.write(self._buf[self._copy_from - self._base : offset - self._base])
        self._copy_from = None

    def _text(self, start: int, stop: int) -> None:
        if self._depth <= self._report and self._buf[start:stop].strip():
            self._handler.text(self, self._depth)

    def feed(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        n = len(buf)
        i = 0
        while i < n:
            if self._state != _TEXT:
                term = _TERMINATOR[self._state]
                j = buf.find(term, i)
                if j < 0:
                    i = max(i, n - len(term) + 1)
                    break
                if self._state == _CDATA and self._depth <= self._report and j > i:
                    self._handler.text(self, self._depth)
                i = j + len(term)
                self._state = _TEXT
                continue
            if self._depth > self._report:
                i = self._skim(i)
                if i >= n or (self._depth > self._report and (i + 1 >= n or buf[i + 1] not in b"!?")):
                    # Stopped before an incomplete token: wait for more input.
                    if i < n:
                        self._check_pending(n - i)
                    break
            lt = buf.find(b"<", i)
            if lt < 0:
                self._text(i, n)
                i = n
                break
            if lt > i:
                self._text(i, lt)
            i = lt
            if n - lt < 2:
                break
            kind = buf[lt + 1]
            if kind == 0x2F:  # "</"
                gt = buf.find(b">", lt + 2)
                if gt < 0:
                    self._check_pending(n - lt)
                    break
                self._depth -= 1
                if self._depth < 0:
                    raise ScanError("end tag without start tag")
                i = gt + 1
                if self._depth <= self._report:
                    self._handler.end_tag(self, self._depth, self._base + i)
            elif kind == 0x3F:  # "<?"
                self._state = _PI
                i = lt + 2
            elif kind == 0x21:  # "<!"
                if buf.startswith(b"<!--", lt):
                    self._state = _COMMENT
                    i = lt + 4
                elif buf.startswith(b"<![CDATA[", lt):
                    self._state = _CDATA
                    i = lt + 9
                elif n - lt < 9:
                    break
                else:
                    raise ScanError("DOCTYPE and other markup declarations are not allowed")
            else:
                m = _START_TAG.match(buf, lt)
                if m is None:
                    self._check_pending(n - lt)
                    break
                i = m.end()
                raw = bytes(m.group())
                empty = raw.endswith(b"/>")
                if self._depth <= self._report:
                    self._handler.start_tag(self, self._depth, raw, self._base + lt, self._base + i, empty)
                if not empty:
                    self._depth += 1
        if self._copy_from is not None and self._out is not None:
            self._out.write(buf[self._copy_from - self._base : i])
            self._copy_from = self._base + i
        del buf[:i]
        self._base += i

    def _skim(self, i: int) -> int:
        """Walk tags below the reported depth quickly; return where careful scanning must resume
        (a comment/PI/CDATA start, an incomplete token, the end of the data, or just after the end tag
        that brought the depth back to the reported range). Malformed markup is skipped here, lxml
        (which parses the same input) reports it."""
        buf = self._buf
        depth = self._depth
        report = self._report
        last = None
        for m in _DEEP_TOKEN.finditer(buf, i):
            kind = m.lastindex
            if kind == 3:
                depth += 1
            elif kind == 1:
                depth -= 1
                if depth <= report:
                    self._depth = depth
                    end = m.end()
                    self._handler.end_tag(self, depth, self._base + end)
                    return end
            elif kind == 2:
                self._depth = depth
                return m.start()
            last = m
        self._depth = depth
        lt = buf.find(b"<", i if last is None else last.end())
        return len(buf) if lt < 0 else lt

    def _check_pending(self, size: int) -> None:
        if size > MAX_TAG_BYTES:
            raise ScanError(f"a tag longer than {MAX_TAG_BYTES} bytes (or a '<' inside a tag)")

    def close(self) -> None:
        if self._state != _TEXT or self._buf:
            raise ScanError("the document ends inside markup")
        if self._depth != 0:
            raise ScanError("the document ends before its root element is closed")
