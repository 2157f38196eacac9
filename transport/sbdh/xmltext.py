"""Small XML text helpers for the hand-written envelope: escaping, character checks, reference decoding."""

from __future__ import annotations

import re
from typing import Final

_ILLEGAL_XML_CHARS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_REFERENCE: Final = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def is_xml_text(value: str) -> bool:
    """True when ``value`` contains only characters XML 1.0 allows."""
    return _ILLEGAL_XML_CHARS.search(value) is None


def escape_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(value: str) -> str:
    """Escape for a double-quoted attribute (whitespace characters kept as references)."""
    return (
        escape_text(value)
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def unescape(value: str) -> str:
    """Resolve the predefined entities and character references of an attribute value."""

    def repl(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED[ref]

    return _REFERENCE.sub(repl, value)
