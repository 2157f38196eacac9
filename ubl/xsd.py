"""XSD validation layer on lxml.

Building an ``XMLSchema`` costs 70–150 ms (UBL maindoc, eForms), validating a 10 kB document well
under a millisecond, so schemas are built once per process and cached by (path, mtime, size).
An lxml schema object keeps the error log of its last call on itself, so each cached schema carries
a lock held for validate-and-read-errors: the objects are safe to share between threads.
(xmlschema is ~80× slower and not used here.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from lxml import etree

from peppol.xml import XmlError, parse_bytes, parse_file
from ubl.result import Item, Layer, LayerStatus, Severity

#: Rule id given to XSD findings (the libxml2 error type name is appended).
XSD_RULE_PREFIX: Final = "XSD"
#: At most this many XSD findings are kept per document (libxml2 can emit thousands).
MAX_ITEMS: Final = 500


class SchemaLoadError(Exception):
    """An XSD could not be read or compiled."""

    code = "xsd-load"


@dataclass(slots=True)
class CachedSchema:
    path: Path
    schema: etree.XMLSchema
    build_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_cache: dict[tuple[str, int, int], CachedSchema] = {}
_cache_lock = threading.Lock()


def load_schema(path: Path) -> CachedSchema:
    """The compiled schema at ``path``, built on first use and cached per process."""
    try:
        st = path.stat()
    except OSError as exc:
        raise SchemaLoadError(f"{path}: {exc.strerror or exc}") from exc
    key = (str(path), st.st_mtime_ns, st.st_size)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    resolved = path.resolve()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            start = time.perf_counter()
            try:
                schema = etree.XMLSchema(parse_file(resolved))
            except (XmlError, etree.XMLSchemaParseError) as exc:
                raise SchemaLoadError(f"{path}: cannot load schema: {exc}") from exc
            cached = CachedSchema(resolved, schema, time.perf_counter() - start)
            _cache[key] = cached
    return cached


def clear_cache() -> None:
    """Drop every cached schema (tests, benchmarks)."""
    with _cache_lock:
        _cache.clear()


def _items(log: etree._ListErrorLog) -> list[Item]:
    items: list[Item] = []
    for entry in log:
        if len(items) >= MAX_ITEMS:
            items.append(
                Item(
                    rule_id=f"{XSD_RULE_PREFIX}:truncated",
                    severity=Severity.INFO,
                    text=f"more than {MAX_ITEMS} schema errors; the rest are not listed",
                )
            )
            break
        level = entry.level_name
        severity = (
            Severity.FATAL if level == "FATAL" else Severity.WARNING if level == "WARNING" else Severity.ERROR
        )
        items.append(
            Item(
                rule_id=f"{XSD_RULE_PREFIX}:{entry.type_name}",
                severity=severity,
                text=entry.message,
                location=getattr(entry, "path", None) or f"{entry.line}:{entry.column}",
                line=entry.line or None,
                column=entry.column,
            )
        )
    return items


def validate_tree(tree: etree._ElementTree, schema_path: Path, *, name: str | None = None) -> Layer:
    """Validate a parsed document against the XSD at ``schema_path``; return the XSD layer."""
    cached = load_schema(schema_path)
    start = time.perf_counter()
    with cached.lock:
        ok = cached.schema.validate(tree)
        items = [] if ok else _items(cached.schema.error_log)
    return Layer(
        name=name or f"XSD {schema_path.name}",
        kind="xsd",
        status=LayerStatus.VALID if ok else LayerStatus.INVALID,
        items=items,
        artifact=str(schema_path),
        duration_ms=(time.perf_counter() - start) * 1000,
    )


def validate_xsd(document: bytes | Path, schema_path: Path, *, name: str | None = None) -> Layer:
    """Parse ``document`` with the hardened parser and validate it against ``schema_path``."""
    tree = parse_file(document) if isinstance(document, Path) else parse_bytes(document)
    return validate_tree(tree, schema_path, name=name)
