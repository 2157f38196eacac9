"""Loading a Schematron source: parse the entry file, resolve ``sch:include`` recursively.

The result is one in-memory ``sch:schema`` tree in which every ``sch:include`` has been replaced by the
element it references, plus the list of every file read (the disk cache key hashes them all).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlparse

from lxml import etree

from peppol.xml import XmlError, parse_file

from .errors import SchematronReferenceError, SchematronSourceError, SchematronUnsupportedError

#: ISO Schematron namespace (2006, 2016 and 2020 editions share it).
SCH_NS: Final = "http://purl.oclc.org/dsdl/schematron"
#: XSLT namespace; top-level elements in it are passed through to the generated stylesheet.
XSL_NS: Final = "http://www.w3.org/1999/XSL/Transform"
#: Deepest chain of nested includes accepted (a guard against pathological sources, not a real limit).
MAX_INCLUDE_DEPTH: Final = 32
#: Schematron sources are trusted-ish configuration but still capped: 64 MiB per file.
MAX_SOURCE_BYTES: Final = 64 * 1024 * 1024


def sch(tag: str) -> str:
    """Clark name of a Schematron element."""
    return f"{{{SCH_NS}}}{tag}"


def xsl(tag: str) -> str:
    """Clark name of an XSLT element."""
    return f"{{{XSL_NS}}}{tag}"


@dataclass(slots=True)
class LoadedSchema:
    """The include-resolved schema and the files it was built from (entry file first)."""

    root: etree._Element
    entry: Path
    files: list[Path] = field(default_factory=list)
    #: Files named by top-level ``xsl:include``/``xsl:import`` (absolute); part of the cache key.
    xsl_files: list[Path] = field(default_factory=list)


def _read(path: Path) -> etree._Element:
    try:
        tree = parse_file(path, max_bytes=MAX_SOURCE_BYTES)
    except FileNotFoundError as exc:
        raise SchematronSourceError(f"{path}: no such Schematron file") from exc
    except OSError as exc:
        raise SchematronSourceError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except XmlError as exc:
        raise SchematronSourceError(f"{path}: not well-formed XML: {exc}") from exc
    return tree.getroot()


def _resolve_href(base: Path, href: str) -> tuple[Path, str | None]:
    """Split ``href`` into a file path (relative to ``base``'s folder) and an optional ``#fragment``."""
    parsed = urlparse(href)
    if parsed.scheme not in ("", "file"):
        raise SchematronUnsupportedError(f"{base}: include of a non-file URI is not supported: {href!r}")
    target = Path(unquote(parsed.path))
    if not target.is_absolute():
        target = base.parent / target
    return target.resolve(), parsed.fragment or None


def _find_by_id(root: etree._Element, ident: str) -> etree._Element | None:
    for el in root.iter():
        if el.get("id") == ident or el.get("{http://www.w3.org/XML/1998/namespace}id") == ident:
            return el
    return None


def load_schema(entry: Path) -> LoadedSchema:
    """Read ``entry`` and every file it includes; return the merged schema tree."""
    entry = Path(entry).resolve()
    root = _read(entry)
    if root.tag != sch("schema"):
        raise SchematronSourceError(f"{entry}: root element is {root.tag!r}, not sch:schema")
    loaded = LoadedSchema(root=root, entry=entry, files=[entry])
    _expand_includes(root, entry, loaded, stack=[entry])
    _collect_xsl_files(loaded)
    return loaded


def _expand_includes(node: etree._Element, path: Path, loaded: LoadedSchema, stack: list[Path]) -> None:
    includes = [el for el in node.iter(sch("include"))]
    for inc in includes:
        href = inc.get("href")
        if not href:
            raise SchematronSourceError(f"{path}: sch:include without href")
        target, fragment = _resolve_href(path, href)
        if target in stack:
            chain = " -> ".join(p.name for p in [*stack, target])
            raise SchematronReferenceError(f"{path}: include cycle: {chain}")
        if len(stack) >= MAX_INCLUDE_DEPTH:
            raise SchematronReferenceError(f"{path}: includes nested deeper than {MAX_INCLUDE_DEPTH}")
        included_root = _read(target)
        if target not in loaded.files:
            loaded.files.append(target)
        if fragment is not None:
            found = _find_by_id(included_root, fragment)
            if found is None:
                raise SchematronReferenceError(f"{path}: {href!r}: no element with id {fragment!r}")
            included_root = copy.deepcopy(found)
        _expand_includes(included_root, target, loaded, [*stack, target])
        _rebase_xsl_hrefs(included_root, target)
        parent = inc.getparent()
        if parent is None:  # pragma: no cover - an include is never the root (root is sch:schema)
            raise SchematronSourceError(f"{path}: sch:include cannot be the root element")
        included_root.tail = inc.tail
        parent.replace(inc, included_root)


def _rebase_xsl_hrefs(root: etree._Element, path: Path) -> None:
    """Make ``xsl:include``/``xsl:import`` hrefs absolute, so they still resolve from the cache dir."""
    for el in root.iter(xsl("include"), xsl("import")):
        href = el.get("href")
        if href:
            target, _ = _resolve_href(path, href)
            el.set("href", target.as_uri())


def _collect_xsl_files(loaded: LoadedSchema) -> None:
    _rebase_xsl_hrefs(loaded.root, loaded.entry)
    for el in loaded.root.iter(xsl("include"), xsl("import")):
        href = el.get("href", "")
        target = Path(unquote(urlparse(href).path))
        if target not in loaded.xsl_files:
            loaded.xsl_files.append(target)
