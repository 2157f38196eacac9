"""Hardened XML parsing and canonicalisation, shared by every package.

All XML that enters the access point (AS4 envelopes, SBDs, SMP responses, UBL documents, Schematron
sources) goes through :func:`parse_bytes` or :func:`parse_file`. The parser never loads a DTD, never
expands entities, never touches the network, and a document that carries a DOCTYPE at all is refused:
none of the formats we exchange uses one, so its presence is either a mistake or an attack (XXE,
billion laughs, quadratic blow-up). Size and nesting depth are capped before and during parsing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, TypedDict

from lxml import etree

#: Largest XML document accepted by default (bytes). AS4 payloads above this travel as files.
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
#: Deepest element nesting accepted by default. Real procurement documents stay below 30.
DEFAULT_MAX_DEPTH: Final = 100
#: libxml2's own nesting limit without ``huge_tree`` (it refuses deeper documents while parsing).
LIBXML2_MAX_DEPTH: Final = 256


class XmlError(ValueError):
    """Base class of XML input errors. ``code`` is a stable machine-readable identifier."""

    code: str = "xml-error"


class XmlSyntaxError(XmlError):
    """The input is not well-formed XML."""

    code = "xml-syntax"


class XmlSecurityError(XmlError):
    """The input was refused for safety reasons (DOCTYPE, entities, size or depth caps)."""

    code = "xml-security"


class DoctypeForbiddenError(XmlSecurityError):
    """A DOCTYPE declaration was present (XXE and entity-expansion attacks need one)."""

    code = "xml-doctype-forbidden"


class XmlTooLargeError(XmlSecurityError):
    """The document exceeds the configured size cap."""

    code = "xml-too-large"


class XmlTooDeepError(XmlSecurityError):
    """The document nests elements deeper than the configured cap."""

    code = "xml-too-deep"


class XmlMixedContentError(XmlError):
    """An element that must hold a plain value holds markup: a child element, a comment or a processing
    instruction. Refused rather than read: ``el.text`` stops at the first such node, and Canonical XML
    without comments drops comments, so ``<MessageId>abc<!--x-->def</MessageId>`` keeps a signature
    over ``abcdef`` valid while a naive reader acts on ``abc``."""

    code = "xml-mixed-content"


class XmlCanonicalizationError(XmlError):
    """A (parsed, well-formed) tree cannot be canonicalised, e.g. it declares a relative namespace URI
    (``xmlns:p="rel"``), which Canonical XML forbids."""

    code = "xml-c14n"


class _Hardening(TypedDict):
    resolve_entities: bool
    load_dtd: bool
    dtd_validation: bool
    no_network: bool
    huge_tree: bool


#: What every parser of ours shares: no DTD (loaded or validated), no entity expansion, no network, and
#: libxml2's size and depth limits kept.
_HARDENED: Final[_Hardening] = {
    "resolve_entities": False,
    "load_dtd": False,
    "dtd_validation": False,
    "no_network": True,
    "huge_tree": False,
}


def make_parser(
    *,
    remove_blank_text: bool = False,
    collect_ids: bool = False,
    huge_tree: bool = False,
    target: object | None = None,
) -> etree.XMLParser:
    """Return a new hardened lxml parser.

    Parsers are not thread-safe; create one per use or per thread. ``collect_ids`` is off because
    XMLDSig code must resolve ``Id`` references itself (duplicate ids are an attack signal).
    ``huge_tree`` lifts libxml2's size and depth limits: only for trusted input (the SVRL output of our
    own compiled stylesheets), never for anything received. ``target`` gets SAX-style callbacks
    instead of a tree being built (see :func:`make_target_parser`).
    """
    options: _Hardening = {**_HARDENED, "huge_tree": huge_tree}
    return etree.XMLParser(
        **options,
        remove_blank_text=remove_blank_text,
        collect_ids=collect_ids,
        # lxml calls only the methods a target has; the stubs' ``ParserTarget`` protocol wrongly makes
        # ``comment`` mandatory, hence the narrow ignore.
        target=target,  # type: ignore[arg-type]
    )


PullEvent = Literal["start", "end", "start-ns", "end-ns", "comment", "pi"]


def make_pull_parser(
    events: tuple[PullEvent, ...] = ("start", "end"),
    *,
    remove_comments: bool = False,
    tags: tuple[str, ...] | None = None,
) -> etree.XMLPullParser:
    """A new hardened pull (feed) parser reporting ``events``; feed it bytes, read its events.

    Comments and processing instructions are kept by default, so that :func:`simple_text` sees them
    in a streamed subtree exactly as in a tree from :func:`parse_bytes`. Call :func:`refuse_doctype` on
    the first bytes before feeding them (the parser itself would read a DOCTYPE). ``tags`` (Clark
    names) restricts the events to those elements: lxml then makes no Python object for the others
    (an event costs ~0.7 µs), while the tree is built as usual.
    """
    return etree.XMLPullParser(
        events=events,
        **_HARDENED,
        remove_comments=remove_comments,
        tag=list(tags) if tags is not None else None,
    )


def make_target_parser(target: object) -> etree.XMLParser:
    """A new hardened feed parser delivering SAX-style callbacks to ``target`` (no tree is built)."""
    return make_parser(target=target)


class _NoTreeTarget:
    """Target without event methods: lxml then calls no Python code per element and keeps nothing,
    so the parse only checks well-formedness (at C speed, with flat memory)."""

    def close(self) -> None:
        return None


def make_well_formedness_parser() -> etree.XMLParser:
    """A hardened feed parser that only checks well-formedness, with flat memory whatever the size."""
    return make_target_parser(_NoTreeTarget())


#: Bytes handed to the pull parser per step by :func:`pull_events` and :func:`read_head`.
PULL_CHUNK_BYTES: Final = 64 * 1024

#: Bytes per step for :func:`read_head`: a document's head is usually in its first kilobyte or two, and
#: the pull parser parses all it is fed before :func:`read_head` can stop, so a 64 KB step would parse a
#: whole 10 KB invoice (~3x the cost of the call) just to read its identification elements.
HEAD_CHUNK_BYTES: Final = 1024

#: What :func:`pull_events` reads: bytes, a file path or an iterable of byte chunks.
PullSource = bytes | bytearray | memoryview | os.PathLike[str] | Iterable[bytes]


def _pull_chunks(source: PullSource, chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for i in range(0, len(data), chunk_size):
            yield data[i : i + chunk_size]
        return
    if isinstance(source, os.PathLike):
        with Path(source).open("rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk
        return
    yield from source


def pull_events(
    source: PullSource,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    chunk_size: int = PULL_CHUNK_BYTES,
) -> Iterator[tuple[str, etree._Element, int]]:
    """Stream ``source`` through a hardened pull parser: yield ``(event, element, depth)`` for every
    element start and end (the root has depth 1), reading only as far as the caller iterates (stop
    early by leaving the loop). The DOCTYPE check runs on the prolog before libxml2 sees it; nesting
    beyond ``max_depth`` raises :class:`XmlTooDeepError`, malformed input :class:`XmlSyntaxError`, an
    input without a root element :class:`XmlSyntaxError` once exhausted. Elements are complete at their
    ``end`` event; clear them to keep memory flat on long documents.
    """
    parser = make_pull_parser()
    depth = 0
    prolog = b""
    seen_root = False
    try:
        for chunk in _pull_chunks(source, chunk_size):
            if not seen_root and len(prolog) < PROLOG_SCAN_BYTES:
                prolog += chunk
                refuse_doctype(prolog)
            parser.feed(chunk)
            for event, elem in parser.read_events():
                if not isinstance(elem, etree._Element):
                    continue
                if event == "start":
                    depth += 1
                    if depth > max_depth:
                        raise XmlTooDeepError(f"element nesting deeper than {max_depth}")
                    seen_root = True
                    yield event, elem, depth
                else:
                    yield event, elem, depth
                    depth -= 1
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise _raise_syntax(exc) from exc
    if not seen_root:
        raise XmlSyntaxError("empty document" if not prolog else "no root element")


@dataclass(frozen=True, slots=True)
class DocumentHead:
    """The start of a document as read by :func:`read_head`: the root element's Clark name, and the text
    (XPath string-value, trimmed) of each leading root child in the header set, first occurrence."""

    root_tag: str
    values: Mapping[str, str]

    @property
    def namespace(self) -> str | None:
        return etree.QName(self.root_tag).namespace

    @property
    def local_name(self) -> str:
        return etree.QName(self.root_tag).localname


def read_head(
    source: PullSource, header_tags: Collection[str], *, max_depth: int = DEFAULT_MAX_DEPTH
) -> DocumentHead:
    """Read the root name and the leading root children whose Clark name is in ``header_tags`` (e.g. a
    UBL document's ``cbc:UBLVersionID``/``CustomizationID``/``ProfileID``), stopping at the first root
    child outside that set: a large document is never read past its header. Raises :class:`XmlError`.
    """
    root_tag: str | None = None
    values: dict[str, str] = {}
    for event, elem, depth in pull_events(source, max_depth=max_depth, chunk_size=HEAD_CHUNK_BYTES):
        if depth == 1:
            if event == "start":
                root_tag = elem.tag
            continue
        if depth != 2:
            continue
        if event == "start":
            if elem.tag not in header_tags:
                break
            continue
        values.setdefault(elem.tag, "".join(str(t) for t in elem.itertext()).strip())
        elem.clear()  # keep memory flat on long headers
    assert root_tag is not None  # pull_events raises on a document without a root
    return DocumentHead(root_tag, MappingProxyType(values))


def simple_text(el: etree._Element) -> str:
    """The text of a value element, which must hold character data only (CDATA is text; no child
    element, comment or processing instruction). Raises :class:`XmlMixedContentError` otherwise.

    This is the one way to read a value out of signed XML: the text returned is then exactly the
    element's content in the canonical form that was signed (see docs/as4.md, "What is read from
    signed XML"). Callers map the error to their protocol's code and strip whitespace themselves.
    """
    if len(el):  # lxml counts comments and processing instructions as children too
        child = el[0]
        kind = (
            "a comment"
            if isinstance(child, etree._Comment)
            else "a processing instruction"
            if isinstance(child, etree._ProcessingInstruction)
            else f"element {child.tag}"
        )
        raise XmlMixedContentError(f"{_name(el)} must hold text only, it contains {kind}")
    return el.text or ""


def _name(el: etree._Element) -> str:
    return etree.QName(el).localname[:200]


def _check_tree(tree: etree._ElementTree, max_depth: int) -> None:
    docinfo = tree.docinfo
    # lxml-stubs lacks DocInfo.doctype; the attribute exists in every lxml release we support.
    doctype: str = getattr(docinfo, "doctype", "")
    internal: object = getattr(docinfo, "internalDTD", None)
    external: object = getattr(docinfo, "externalDTD", None)
    if doctype or internal is not None or external is not None:
        raise DoctypeForbiddenError("DOCTYPE declarations are not allowed")
    if max_depth < LIBXML2_MAX_DEPTH and _depth_probe(max_depth)(tree):
        raise XmlTooDeepError(f"element nesting deeper than {max_depth}")


_THREAD_STATE = threading.local()


def _depth_probe(max_depth: int) -> etree.XPath:
    """A compiled ``boolean(/*/*/…)`` with ``max_depth + 1`` steps: true when some element nests deeper
    than ``max_depth``. libxml2 evaluates it level by level in C (about 15x faster than walking the
    tree in Python). Compiled XPath objects are kept per thread: lxml does not promise they may be
    shared between threads."""
    probes: dict[int, etree.XPath] | None = getattr(_THREAD_STATE, "depth_probes", None)
    if probes is None:
        probes = _THREAD_STATE.depth_probes = {}
    probe = probes.get(max_depth)
    if probe is None:
        probe = probes[max_depth] = etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")
    return probe


#: Bytes of the prolog searched for a DOCTYPE declaration.
PROLOG_SCAN_BYTES: Final = 64 * 1024
#: The next comment, processing instruction or element start: the prolog scan stops at the root.
_PROLOG_TOKEN = re.compile(r"<!--.*?-->|<\?.*?\?>|<[A-Za-z_:\u00C0-\uFFFF]", re.DOTALL)


def _prolog_text(data: bytes) -> str:
    """Decode enough of ``data`` to see its prolog, whatever its (declared or BOM) encoding."""
    head = data[:PROLOG_SCAN_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 1 and b"\x00" in head[:4]):
        for enc in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                return head.decode(enc, errors="ignore")
            except UnicodeDecodeError:  # pragma: no cover - errors="ignore" never raises
                continue
    return head.decode("latin-1")


def _has_markup_declaration(text: str) -> bool:
    """``"<!" in text``, by single-character searches (a two-character ``in`` over kilobytes of markup
    is ~50x slower than ``str.find`` of one character, which uses ``memchr``)."""
    bang = text.find("!")
    while bang >= 0:
        if bang and text[bang - 1] == "<":
            return True
        bang = text.find("!", bang + 1)
    return False


def refuse_doctype(data: bytes) -> None:
    """Raise :class:`DoctypeForbiddenError` when the prolog of ``data`` (its first bytes suffice)
    declares a DOCTYPE, so that no DTD ever reaches libxml2 (not even partly). Comments and processing
    instructions are removed first: a ``<x`` inside a comment must not end the prolog early."""
    text = _prolog_text(data)
    if not _has_markup_declaration(text):  # no DOCTYPE (nor comment): the usual case, no regex pass
        return
    # Left to right, the text between comments and PIs up to the first element start: the same scope
    # as removing every comment and PI then cutting at the root, without scanning the whole head.
    outside: list[str] = []
    pos = 0
    while (token := _PROLOG_TOKEN.search(text, pos)) is not None:
        outside.append(text[pos : token.start()])
        pos = token.end()
        if token.group().startswith(("<!--", "<?")):
            continue
        pos = len(text)  # the root element starts here
        break
    outside.append(text[pos:])
    if "<!DOCTYPE" in "".join(outside).upper():
        raise DoctypeForbiddenError("DOCTYPE declarations are not allowed")


def _raise_syntax(exc: etree.XMLSyntaxError) -> XmlError:
    msg = str(exc)
    lowered = msg.lower()
    if "excessive depth" in lowered:
        return XmlTooDeepError(msg)
    if "entity" in lowered and ("loop" in lowered or "amplification" in lowered):
        return XmlSecurityError(msg)
    return XmlSyntaxError(msg)


def parse_bytes(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    base_url: str | None = None,
    remove_blank_text: bool = False,
) -> etree._ElementTree:
    """Parse ``data`` with the hardened parser and return the tree.

    Raises :class:`XmlTooLargeError`, :class:`DoctypeForbiddenError`, :class:`XmlTooDeepError` or
    :class:`XmlSyntaxError`; never lets an lxml exception escape.
    """
    if len(data) > max_bytes:
        raise XmlTooLargeError(f"XML document of {len(data)} bytes exceeds the cap of {max_bytes}")
    refuse_doctype(data)
    parser = make_parser(remove_blank_text=remove_blank_text)
    try:
        root = etree.fromstring(data, parser, base_url=base_url or "")
    except etree.XMLSyntaxError as exc:
        raise _raise_syntax(exc) from exc
    if root is None:
        raise XmlSyntaxError("empty document")
    tree = root.getroottree()
    _check_tree(tree, max_depth)
    return tree


def parse_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    remove_blank_text: bool = False,
) -> etree._ElementTree:
    """Parse the file at ``path`` (size-checked first) with the hardened parser."""
    p = Path(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise XmlTooLargeError(f"{p}: {size} bytes exceeds the cap of {max_bytes}")
    with p.open("rb") as fh:
        refuse_doctype(fh.read(PROLOG_SCAN_BYTES))
    parser = make_parser(remove_blank_text=remove_blank_text)
    try:
        tree = etree.parse(str(p), parser)
    except etree.XMLSyntaxError as exc:
        raise _raise_syntax(exc) from exc
    _check_tree(tree, max_depth)
    return tree


def exc_c14n(
    node: etree._Element,
    *,
    inclusive_prefixes: list[str] | None = None,
    with_comments: bool = False,
) -> bytes:
    """Exclusive XML canonicalisation 1.0 (``http://www.w3.org/2001/10/xml-exc-c14n#``) of a subtree.

    Raises :class:`XmlCanonicalizationError` when the subtree cannot be canonicalised (never lxml's
    ``C14NError``: callers verifying signatures on untrusted input map it to their own error).
    """
    try:
        return etree.tostring(
            node,
            method="c14n",
            exclusive=True,
            with_comments=with_comments,
            inclusive_ns_prefixes=inclusive_prefixes or None,
        )
    except etree.C14NError as exc:
        raise XmlCanonicalizationError(f"cannot canonicalise {_describe(node)}: {exc}") from exc


def c14n10(node: etree._Element, *, with_comments: bool = False) -> bytes:
    """Inclusive Canonical XML 1.0 (``http://www.w3.org/TR/2001/REC-xml-c14n-20010315``) of a subtree.

    Raises :class:`XmlCanonicalizationError` as :func:`exc_c14n` does.
    """
    try:
        return etree.tostring(node, method="c14n", exclusive=False, with_comments=with_comments)
    except etree.C14NError as exc:
        raise XmlCanonicalizationError(f"cannot canonicalise {_describe(node)}: {exc}") from exc


def _describe(node: etree._Element) -> str:
    tag = node.tag if isinstance(node.tag, str) else "a non-element node"
    return f"{tag[:120]} (relative namespace URI?)"
