"""One entry point for every conversion: ``convert(data, source=..., target=...)``.

A conversion is read -> model -> write over the tables of :mod:`mappings.formats`: the input format
reads the input into OCDS releases (the platform model) and readies one for the output document it is
written to; it also names input locations (:meth:`Conversion.input_path`).

Sources: ``ocds`` (a release, a release package or a list of releases, validated against the platform
model), ``decp`` (DECP v2 JSON, with an optional enrichment mapping), ``ubl`` (eForms CN/CAN or Peppol
T004/T005/T006/T018, detected from the root element). Targets: ``ocds``, ``decp``, ``eforms-cn``,
``eforms-can``, ``peppol-t004``, ``peppol-t005``, ``peppol-t006``, ``peppol-t018``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from lxml import etree

from mappings import decp, profiles, provenance
from mappings.engine import Trace
from mappings.errors import InputTooLarge, MappingError, UnsupportedConversion
from mappings.formats import (
    INPUT_FORMATS,
    OUTPUT_DOCUMENTS,
    OutputDocument,
    input_format,
    output_document,
)

# the names of the formats, as callers know them from here
from mappings.formats import PREPARED_TARGETS as PREPARED_TARGETS
from mappings.formats import SOURCES as SOURCES
from mappings.formats import TARGETS as TARGETS
from mappings.formats import XML_TARGETS as XML_TARGETS
from mappings.formats import parse_json as parse_json
from mappings.model import ENRICH_PREFIX
from mappings.xmlbuild import serialise

#: Largest input accepted (bytes). A 100-lot eForms notice is ~1 MB and a year of a platform's DECP
#: a few MB; the cap keeps a runaway file from exhausting memory (XML also has the parser's caps).
MAX_INPUT_BYTES: Final = 64 * 1024 * 1024
#: Contract ids listed in the message of an input with several contracts.
MAX_LISTED_IDS: Final = 10
MAX_NAME_LENGTH: Final = 100


@dataclass
class Conversion:
    """The converted document and the releases it was made from.

    For an XML result built with ``trace=True``, ``tree`` and ``trace`` tell which OCDS value each
    element came from and :meth:`input_path` names the input location behind an output location.
    """

    data: bytes
    target: str
    releases: list[dict[str, Any]] = field(default_factory=list)
    tree: etree._ElementTree | None = None
    trace: Trace = field(default_factory=dict)
    #: where the release lies in the input: ``releases[0]`` (package), ``marches.marche[0]`` (DECP);
    #: for an OCDS or DECP result, the input path of the list of releases (``releases``, ``$``) if any
    origin: str = ""
    source: str = "ocds"
    #: for UBL input: OCDS object path -> the input element it was read from (XPath)
    origins: dict[str, str] = field(default_factory=dict)
    #: what the input lacks for the target, found while converting (OCDS input: see
    #: ``mappings.ocds_prepare`` and ``mappings.profiles.missing``); each names where to add it
    findings: list[profiles.Finding] = field(default_factory=list)

    @property
    def is_xml(self) -> bool:
        return self.target in XML_TARGETS

    def input_path(self, location: str) -> str | None:
        """The input path behind an output location (a validation finding's XPath), if known."""
        found = self.ocds_path(location)
        return None if found is None else self.name_input(found)

    def ocds_path(self, location: str) -> str | None:
        """The path in the written release of the value behind an output location, if traced."""
        if self.tree is None or not location:
            return None
        return provenance.input_path(self.tree.getroot(), self.trace, location)

    def name_input(self, found: str) -> str:
        """The input location of ``found``, a path in the written release (``tender.lots[0]``)."""
        return INPUT_FORMATS[self.source].name_input(self.origin, self.origins, found)


def load_releases(
    data: bytes, source: str, *, enrich: dict[str, Any] | None = None, validate_input: bool = True
) -> list[dict[str, Any]]:
    """The OCDS releases described by ``data`` (a :class:`MappingError` names the input path)."""
    return _load(data, source, enrich=enrich, validate_input=validate_input)[0]


def _load(
    data: bytes,
    source: str,
    *,
    enrich: dict[str, Any] | None,
    validate_input: bool,
    origins: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """The releases and, for an OCDS list or package, the input path of the list (``releases``);
    for UBL input, ``origins`` receives the input XPath of each object read (see ``provenance``)."""
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLarge(len(data), MAX_INPUT_BYTES)
    return input_format(source).read(data, enrich, validate_input, origins)


def read_input_file(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path``; :class:`InputTooLarge` (its path the file) without reading a file larger
    than ``limit`` bytes."""
    size = path.stat().st_size
    if size > limit:
        too_large = InputTooLarge(size, limit)
        too_large.path = str(path)  # the file is the input location here
        raise too_large
    return path.read_bytes()


def error_location(path: str, input_name: str, profiles_name: str) -> str:
    """Where an input validation error lies: ``<profiles file>: <path>`` for an error in the organisation
    profiles (its path prefixed with ``ENRICH_PREFIX``), else ``<input file>: <path>``."""
    if path.startswith(ENRICH_PREFIX):
        return f"{profiles_name}: {path.removeprefix(ENRICH_PREFIX)}"
    return f"{input_name}: {path}"


def contract_id(release: dict[str, Any]) -> str:
    """The id a release is picked by (``--contract``) and named after: its first contract's id (a DECP
    marché or concession id), else its tender id, else its ocid."""
    contracts = release.get("contracts") or []
    first = contracts[0] if contracts and isinstance(contracts[0], dict) else {}
    return str(first.get("id") or (release.get("tender") or {}).get("id") or release.get("ocid") or "")


def _pick(releases: list[dict[str, Any]], target: str, contract: str | None) -> int:
    """The index of the release a one-document target is made from."""
    if contract is not None:
        found = [
            i
            for i, r in enumerate(releases)
            if contract in (contract_id(r), str(r.get("ocid")), str(r.get("id")))
            or contract in {str(c.get("id")) for c in r.get("contracts") or [] if isinstance(c, dict)}
        ]
        if len(found) == 1:
            return found[0]
        known = ", ".join(contract_id(r) for r in releases[:MAX_LISTED_IDS])
        more = f" (and {len(releases) - MAX_LISTED_IDS} more)" if len(releases) > MAX_LISTED_IDS else ""
        reason = "names several contracts" if found else "names no contract"
        raise MappingError(f"--contract {contract!r} {reason} of the input: {known}{more}", "--contract")
    if len(releases) != 1:
        ids = ", ".join(contract_id(r) for r in releases[:MAX_LISTED_IDS])
        raise MappingError(
            f"{target} is made from one release and the input holds {len(releases)} ({ids}"
            f"{', …' if len(releases) > MAX_LISTED_IDS else ''}): pick one with --contract ID, or write "
            "one file per contract with --output DIR",
            "$",
        )
    return 0


def output_names(releases: list[dict[str, Any]], suffix: str) -> list[str]:
    """One file name per release (``--output DIR``): its contract id made safe for a file name,
    prefixed by the buyer id when two releases share it (DECP ids are unique per buyer only)."""
    stems = [_safe_name(contract_id(r)) or f"release-{i + 1}" for i, r in enumerate(releases)]
    clash = {s for s in stems if stems.count(s) > 1}
    out = []
    for i, (stem, r) in enumerate(zip(stems, releases, strict=True)):
        if stem in clash:
            stem = f"{_safe_name(str((r.get('buyer') or {}).get('id') or ''))}-{stem}"
            if stem in out or stems.count(stem) > 1:
                stem = f"{stem}-{i + 1}"
        out.append(stem)
    return [f"{stem}{suffix}" for stem in out]


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:MAX_NAME_LENGTH]


def release_input_path(conversion: Conversion, index: int, path: str) -> str:
    """The input location of ``path`` in the ``index``-th release of an OCDS or DECP result."""
    fmt = INPUT_FORMATS[conversion.source]
    return fmt.release_input(conversion.origin, conversion.releases, index, path)


def decp_finding_input(conversion: Conversion, path: list[Any], message: str = "") -> str | None:
    """The input path behind a DECP schema finding on an exported marché (``path`` as jsonschema
    gives it, ``['marches', 'marche', 0, 'montant']``; for a missing field, ``message`` names it)."""
    if len(path) < 3 or path[:2] != ["marches", "marche"] or not isinstance(path[2], int):
        return None
    marches = [r for r in conversion.releases if "decpConcession" not in (r.get("platform") or {})]
    if path[2] >= len(marches):
        return None
    release = marches[path[2]]
    index = next(i for i, r in enumerate(conversion.releases) if r is release)
    missing = re.fullmatch(r"'([^']+)' is a required property", message)
    field = str(path[3]) if len(path) > 3 else (missing.group(1) if missing else "")
    return release_input_path(conversion, index, decp.field_source(release, field) if field else "$")


def convert(
    data: bytes,
    *,
    source: str,
    target: str,
    subtype: str | None = None,
    enrich: dict[str, Any] | None = None,
    trace: bool = False,
    contract: str | None = None,
) -> Conversion:
    """Convert ``data`` from ``source`` to ``target``.

    An XML target is one document, made from the one release of ``data`` or the one ``contract``
    names (:func:`contract_id`, an ocid or a release id); :func:`convert_all` makes one per release.
    ``trace=True`` keeps, for an XML result, which input value each element came from
    (:meth:`Conversion.input_path`), for naming the input behind validation findings.
    """
    out = output_document(target)
    origins: dict[str, str] = {}
    releases, list_path = _load(
        data, source, enrich=enrich, validate_input=True, origins=origins if trace else None
    )
    if out.write_all is not None:
        return Conversion(out.write_all(releases), target, releases, origin=list_path, source=source)
    index = _pick(releases, target, contract)
    return _build(releases, index, source, out, subtype, trace, list_path, origins, enrich)


def convert_all(
    data: bytes,
    *,
    source: str,
    target: str,
    subtype: str | None = None,
    enrich: dict[str, Any] | None = None,
    trace: bool = False,
) -> list[Conversion]:
    """One document per release of ``data`` (a DECP file's marchés and concessions, a release
    package's releases) for an XML ``target``: see :func:`convert` and :func:`output_names`."""
    if target not in XML_TARGETS:
        raise UnsupportedConversion(f"one document per contract is for XML targets, not {target!r}")
    out = OUTPUT_DOCUMENTS[target]
    origins: dict[str, str] = {}
    releases, list_path = _load(
        data, source, enrich=enrich, validate_input=True, origins=origins if trace else None
    )
    return [
        _build(releases, i, source, out, subtype, trace, list_path, origins, enrich)
        for i in range(len(releases))
    ]


def _build(
    releases: list[dict[str, Any]],
    index: int,
    source: str,
    out: OutputDocument,
    subtype: str | None,
    trace: bool,
    list_path: str,
    origins: dict[str, str],
    enrich: dict[str, Any] | None = None,
) -> Conversion:
    """The XML document ``out`` of the ``index``-th release: read -> readied for ``out`` -> written."""
    assert out.build is not None
    fmt = INPUT_FORMATS[source]
    release, default_subtype, findings = fmt.ready(releases[index], out, enrich)
    traced: Trace | None = {} if trace else None
    tree = out.build(release, subtype or default_subtype, traced)
    prefix = f"{list_path}[{index}]" if list_path else ""
    if prefix:  # input paths name the release in the package; profile keys stay as they are
        findings = [
            f
            if f.path.startswith(profiles.PROFILE_KEY_ROOT)
            else profiles.Finding(f"{prefix}.{f.path}", f.message)
            for f in findings
        ]
    return Conversion(
        serialise(tree),
        out.name,
        releases,
        tree=tree if trace else None,
        trace=traced or {},
        origin=fmt.origin(list_path, releases, index),
        source=source,
        origins=origins,
        findings=findings,
    )
