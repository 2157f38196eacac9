"""The SBDH code's view of :mod:`peppol.xml`: its feed parsers, with errors as :class:`SbdhError`.

``peppol.xml.parse_bytes`` parses whole documents; the envelope code needs feed-style parsers too.
They all come from :mod:`peppol.xml` (one hardened entrance: no DTD, no entities, no network, no huge
trees, a DOCTYPE refused before libxml2 sees it); this module only maps their errors and reads values.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from peppol.xml import (
    PROLOG_SCAN_BYTES,
    DoctypeForbiddenError,
    XmlMixedContentError,
    make_pull_parser,
    make_target_parser,
    make_well_formedness_parser,
    simple_text,
)
from peppol.xml import refuse_doctype as _refuse_doctype
from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError

#: How much of the input is searched for a DOCTYPE before the root element.
PROLOG_BYTES: Final = PROLOG_SCAN_BYTES


def refuse_doctype(head: bytes) -> None:
    """Raise ``invalid-sbd-xml`` when a DOCTYPE precedes the root element in ``head`` (the start of the
    document): :func:`peppol.xml.refuse_doctype` with the SBDH error."""
    try:
        _refuse_doctype(head)
    except DoctypeForbiddenError as exc:
        raise SbdhError(E.INVALID_SBD_XML, str(exc)) from exc


def new_pull_parser(tags: tuple[str, ...] | None = None) -> etree.XMLPullParser:
    """A hardened pull parser reporting start/end events (of ``tags`` only, when given). Comments and
    PIs are kept, so that :func:`value_text` refuses them inside a value in a streamed header as in a
    parsed one."""
    return make_pull_parser(("start", "end"), tags=tags)


target_parser = make_target_parser
well_formedness_parser = make_well_formedness_parser


def text_of(el: etree._Element | None) -> str:
    """Trimmed text content of ``el`` ("" when absent): all its text, for payload wrappers."""
    if el is None:
        return ""
    return "".join(str(t) for t in el.itertext()).strip()


def value_text(el: etree._Element | None) -> str:
    """The trimmed value of an SBDH value element ("" when absent). A comment, processing instruction or
    child element inside it is ``invalid-sbd-xml``: the SBD travels on to C4 byte for byte, and a reader
    there taking ``el.text`` (which stops at a comment) must see the value we checked and routed on."""
    if el is None:
        return ""
    try:
        return simple_text(el).strip()
    except XmlMixedContentError as exc:
        raise SbdhError(E.INVALID_SBD_XML, f"SBDH {exc}") from exc
