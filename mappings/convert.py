"""One entry point for every conversion: ``convert(data, source=..., target=...)``.

Sources: ``ocds`` (a release, a release package or a list of releases, validated against the platform
model), ``decp`` (DECP v2 JSON, with an optional enrichment mapping), ``ubl`` (eForms CN/CAN or Peppol
T004/T005/T006/T018, detected from the root element). Targets: ``ocds``, ``decp``, ``eforms-cn``,
``eforms-can``, ``peppol-t004``, ``peppol-t005``, ``peppol-t006``, ``peppol-t018``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from lxml import etree

from mappings import decp, eforms, peppol
from mappings.errors import InputTooLarge, InputValidationError, MappingError, UnsupportedConversion
from mappings.model import release_errors
from peppol.xml import XmlError, parse_bytes

Source = Literal["ocds", "decp", "ubl"]
Target = Literal[
    "ocds", "decp", "eforms-cn", "eforms-can", "peppol-t004", "peppol-t005", "peppol-t006", "peppol-t018"
]
SOURCES: Final = get_args(Source)
TARGETS: Final = get_args(Target)
XML_TARGETS: Final = frozenset(t for t in TARGETS if t.startswith(("eforms-", "peppol-")))
#: Largest input accepted (bytes). A 100-lot eForms notice is ~1 MB and a year of a platform's DECP
#: a few MB; the cap keeps a runaway file from exhausting memory (XML also has the parser's caps).
MAX_INPUT_BYTES: Final = 64 * 1024 * 1024


@dataclass
class Conversion:
    """The converted document and the releases it was made from."""

    data: bytes
    target: str
    releases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_xml(self) -> bool:
        return self.target in XML_TARGETS


def load_releases(
    data: bytes, source: str, *, enrich: dict[str, Any] | None = None, validate_input: bool = True
) -> list[dict[str, Any]]:
    """The OCDS releases described by ``data`` (a :class:`MappingError` names the input path)."""
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLarge(len(data), MAX_INPUT_BYTES)
    if source == "ubl":
        return [_read_ubl(data)]
    parsed = parse_json(data)
    if source == "decp":
        if not isinstance(parsed, dict) or "marches" not in parsed:
            raise MappingError("a DECP document is an object with 'marches'", "$")
        return decp.import_decp(parsed, enrich=enrich)
    if source == "ocds":
        releases, prefix = _releases_of(parsed)
        if validate_input:
            errors = [
                (f"{prefix}[{i}].{path}" if prefix else path, reason)
                for i, release in enumerate(releases)
                for path, reason in release_errors(release)
            ]
            if errors:
                raise InputValidationError(errors)
        return releases
    raise UnsupportedConversion(f"unknown source {source!r} (one of {', '.join(SOURCES)})")


def parse_json(data: bytes) -> Any:
    """JSON text in UTF-8 (RFC 8259; a BOM is tolerated), else a :class:`MappingError` at ``$``.

    ``json.loads`` would also guess UTF-16/32 from the bytes; platform data is UTF-8, so another
    encoding is reported rather than guessed.
    """
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MappingError(f"not JSON: not UTF-8 ({exc})", "$") from exc
    except json.JSONDecodeError as exc:
        raise MappingError(f"not JSON: {exc}", "$") from exc


def _releases_of(parsed: Any) -> tuple[list[dict[str, Any]], str]:
    if isinstance(parsed, dict) and "releases" in parsed:
        items, prefix = parsed["releases"], "releases"
        if not isinstance(items, list):
            raise MappingError("a release package's 'releases' is a list", prefix)
    elif isinstance(parsed, list):
        items, prefix = parsed, "$"
    elif isinstance(parsed, dict):
        return [parsed], ""
    else:
        raise MappingError("expected an OCDS release, a release package or a list of releases", "$")
    if not items:
        raise MappingError("no release", prefix)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise MappingError(f"a release is an object, not {type(item).__name__}", f"{prefix}[{i}]")
    return items, prefix


def _read_ubl(data: bytes) -> dict[str, Any]:
    try:
        root = parse_bytes(data).getroot()
    except XmlError as exc:
        raise MappingError(f"not well-formed or unsafe XML: {exc}", "/") from exc
    local = etree.QName(root).localname
    if local in ("ContractNotice", "ContractAwardNotice"):
        return eforms.read_tree(root)
    if local in peppol.TARGET_OF_ROOT:
        return peppol.read_document(data)
    raise MappingError(f"unsupported UBL document {local}", "/*")


def _one(releases: list[dict[str, Any]], target: str) -> dict[str, Any]:
    if len(releases) != 1:
        raise MappingError(f"{target} is made from exactly one release ({len(releases)} given)", "$")
    return releases[0]


def convert(
    data: bytes,
    *,
    source: str,
    target: str,
    subtype: str | None = None,
    enrich: dict[str, Any] | None = None,
) -> Conversion:
    """Convert ``data`` from ``source`` to ``target``."""
    if target not in TARGETS:
        raise UnsupportedConversion(f"unknown target {target!r} (one of {', '.join(TARGETS)})")
    releases = load_releases(data, source, enrich=enrich)
    if target == "ocds":
        out: Any = releases[0] if len(releases) == 1 else {"releases": releases}
        return Conversion(json.dumps(out, ensure_ascii=False, indent=2).encode() + b"\n", target, releases)
    if target == "decp":
        doc = decp.export_decp(releases)
        return Conversion(json.dumps(doc, ensure_ascii=False, indent=2).encode() + b"\n", target, releases)
    release = _one(releases, target)
    if target in ("eforms-cn", "eforms-can"):
        kind: eforms.NoticeKind = "cn" if target == "eforms-cn" else "can"
        return Conversion(eforms.build_notice(release, kind, subtype=subtype), target, releases)
    ptarget: peppol.PeppolTarget = target.removeprefix("peppol-")  # type: ignore[assignment]
    return Conversion(peppol.build_document(release, ptarget), target, releases)
