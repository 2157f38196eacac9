"""lxml parsers with the :mod:`peppol.xml` hardening, for incremental (chunk-fed) use.

``peppol.xml.parse_bytes`` parses whole documents; the envelope code needs feed-style parsers instead.
Same settings: no DTD loading or validation, no entity resolution, no network, no huge trees, and a
DOCTYPE before the root element is refused outright.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError

#: How much of the input is searched for a DOCTYPE before the root element.
PROLOG_BYTES: Final = 64 * 1024
_DOCTYPE_RE: Final = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ROOT_START_RE: Final = re.compile(rb"<[A-Za-z_:\x80-\xff]")


def refuse_doctype(head: bytes) -> None:
    """Raise when a DOCTYPE precedes the root element (XXE and entity expansion need one).

    ``head`` is the start of the document; UTF-16 input is checked after dropping NUL bytes.
    """
    scan = head[:PROLOG_BYTES].replace(b"\x00", b"")
    root = _ROOT_START_RE.search(scan)
    prolog = scan if root is None else scan[: root.start()]
    if _DOCTYPE_RE.search(prolog):
        raise SbdhError(E.INVALID_SBD_XML, "DOCTYPE declarations are not allowed")


def new_pull_parser() -> etree.XMLPullParser:
    """A hardened pull parser reporting start/end events (comments and PIs dropped)."""
    return etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def target_parser(target: object) -> etree.XMLParser:
    """A hardened feed parser delivering SAX-style callbacks to ``target`` (no tree is built).

    lxml calls only the methods the target has; the stubs' ``ParserTarget`` protocol wrongly makes
    ``comment`` mandatory, hence the narrow ignore.
    """
    return etree.XMLParser(
        target=target,  # type: ignore[arg-type]
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
    )


class _NoTreeTarget:
    """Target without event methods: lxml then calls no Python code per element and keeps nothing,
    so the parse only checks well-formedness (at C speed, with flat memory)."""

    def close(self) -> None:
        return None


def well_formedness_parser() -> etree.XMLParser:
    """A hardened parser that checks well-formedness with flat memory, whatever the input size."""
    return target_parser(_NoTreeTarget())


def text_of(el: etree._Element | None) -> str:
    """Trimmed text content of ``el`` ("" when absent)."""
    if el is None:
        return ""
    return "".join(str(t) for t in el.itertext()).strip()
