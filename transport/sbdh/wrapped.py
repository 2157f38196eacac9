"""The content of the SBD payload wrappers ``BinaryContent`` (base64) and ``TextContent`` (text), decoded
whole (an SBD parsed in memory) or in pieces (an SBD streamed by :mod:`transport.sbdh.extract`)."""

from __future__ import annotations

import base64
import binascii
from typing import BinaryIO, Final

from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError
from transport.sbdh.model import PayloadInfo

#: ``str.translate`` table deleting the whitespace base64 text may carry.
_WHITESPACE: Final = {ord(c): None for c in " \t\r\n"}


class Base64Sink:
    """Decode base64 text arriving in arbitrary pieces (whitespace ignored) to ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pending = ""

    def __call__(self, text: str) -> None:
        self.pending += text.translate(_WHITESPACE)
        usable = len(self.pending) - len(self.pending) % 4
        if usable:
            self.out.write(base64.b64decode(self.pending[:usable], validate=True))
            self.pending = self.pending[usable:]

    def close(self) -> None:
        if self.pending:
            raise ValueError("base64 content is truncated")


def decode_wrapped_text(info: PayloadInfo, text: str) -> bytes:
    """The content of a wrapper whose whole text is in memory (``parse_sbd``)."""
    if info.kind == "binary":
        try:
            return base64.b64decode(text.translate(_WHITESPACE), validate=True)
        except binascii.Error as exc:
            raise SbdhError(E.INVALID_BUSINESS_MESSAGE, f"BinaryContent is not valid base64: {exc}") from exc
    return text.encode("utf-8")
