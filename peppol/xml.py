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
from pathlib import Path
from typing import Final

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


class XmlCanonicalizationError(XmlError):
    """A (parsed, well-formed) tree cannot be canonicalised, e.g. it declares a relative namespace URI
    (``xmlns:p="rel"``), which Canonical XML forbids."""

    code = "xml-c14n"


def make_parser(*, remove_blank_text: bool = False, collect_ids: bool = False) -> etree.XMLParser:
    """Return a new hardened lxml parser.

    Parsers are not thread-safe; create one per use or per thread. ``collect_ids`` is off because
    XMLDSig code must resolve ``Id`` references itself (duplicate ids are an attack signal).
    """
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=remove_blank_text,
        collect_ids=collect_ids,
    )


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
_ROOT_START = re.compile(r"<[A-Za-z_:\u00C0-\uFFFF]")
_COMMENT_OR_PI = re.compile(r"<!--.*?-->|<\?.*?\?>", re.DOTALL)


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


def refuse_doctype(data: bytes) -> None:
    """Raise :class:`DoctypeForbiddenError` when the prolog of ``data`` (its first bytes suffice)
    declares a DOCTYPE, so that no DTD ever reaches libxml2 (not even partly). Comments and processing
    instructions are removed first: a ``<x`` inside a comment must not end the prolog early."""
    prolog = _COMMENT_OR_PI.sub("", _prolog_text(data))
    root = _ROOT_START.search(prolog)
    scope = prolog if root is None else prolog[: root.start()]
    if "<!DOCTYPE" in scope.upper():
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
