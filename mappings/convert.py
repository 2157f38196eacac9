"""One entry point for every conversion: ``convert(data, source=..., target=...)``.

Sources: ``ocds`` (a release, a release package or a list of releases, validated against the platform
model), ``decp`` (DECP v2 JSON, with an optional enrichment mapping), ``ubl`` (eForms CN/CAN or Peppol
T004/T005/T006/T018, detected from the root element). Targets: ``ocds``, ``decp``, ``eforms-cn``,
``eforms-can``, ``peppol-t004``, ``peppol-t005``, ``peppol-t006``, ``peppol-t018``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from lxml import etree

from mappings import decp, doctypes, eforms, ocds_merge, ocds_prepare, peppol, profiles, provenance
from mappings.engine import Trace
from mappings.errors import InputTooLarge, InputValidationError, MappingError, UnsupportedConversion
from mappings.model import release_errors
from mappings.spec import load_spec
from mappings.xmlbuild import serialise
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
#: Contract ids listed in the message of an input with several contracts.
MAX_LISTED_IDS: Final = 10
MAX_NAME_LENGTH: Final = 100
#: Targets an OCDS release is prepared for (``mappings.ocds_prepare``: implied lot, CPV, procedure…).
PREPARED_TARGETS: Final = frozenset({"eforms-cn", "eforms-can", "peppol-t004"})


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
        if self.source == "ocds":
            return f"{self.origin}.{found}" if self.origin else found
        # DECP and UBL inputs are read into OCDS first: the path is named in that release, and for
        # UBL input after the input element it was read from
        if self.source == "ubl":
            element = provenance.origin_of(self.origins, found)
            return f"{element} (OCDS {found})" if element else f"OCDS {found}"
        return f"{self.origin} (OCDS {found})" if self.origin else f"OCDS {found}"


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
    if source == "ubl":
        return [_read_ubl(data, origins)], ""
    parsed = parse_json(data)
    if source == "decp":
        if not isinstance(parsed, dict) or "marches" not in parsed:
            raise MappingError("a DECP document is an object with 'marches'", "$")
        return decp.import_decp(parsed, enrich=enrich), ""
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
        if enrich is not None:  # the organisation profiles complete the parties
            directory = profiles.Directory.load(enrich)
            releases = [profiles.apply_profiles(r, directory) for r in releases]
        return releases, prefix
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
    except RecursionError as exc:
        raise MappingError("not JSON we accept: nested too deeply", "$") from exc


def _releases_of(parsed: Any) -> tuple[list[dict[str, Any]], str]:
    """One release per contracting process: record packages give their compiled releases, several
    releases of one ocid are merged (``mappings.ocds_merge``; the paths then name the merged release)."""
    if isinstance(parsed, dict) and "records" in parsed and "releases" not in parsed:
        return ocds_merge.record_releases(parsed["records"]), ""
    releases, prefix = _listed_releases(parsed)
    merged = ocds_merge.group_by_ocid(releases)
    return (releases, prefix) if len(merged) == len(releases) else (merged, "")


def _listed_releases(parsed: Any) -> tuple[list[dict[str, Any]], str]:
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


def _read_ubl(data: bytes, origins: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        root = parse_bytes(data).getroot()
    except XmlError as exc:
        raise MappingError(f"not well-formed or unsafe XML: {exc}", "/") from exc
    local = etree.QName(root).localname
    if local in (doctypes.eforms(kind).root for kind in eforms.NOTICE_KINDS):
        release = eforms.read_tree(root)
        if origins is not None:
            origins.update(provenance.scope_origins(root, load_spec(eforms.SPEC_NAME), release))
        return release
    if peppol.target_of_root(local):
        return peppol.read_document(data)
    raise MappingError(f"unsupported UBL document {local}", "/*")


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
    if conversion.source == "decp":
        release = conversion.releases[index] if index < len(conversion.releases) else {}
        concessions = sum(
            1 for r in conversion.releases[:index] if "decpConcession" in (r.get("platform") or {})
        )
        where = (
            f"marches.contrat-concession[{concessions}]"
            if "decpConcession" in (release.get("platform") or {})
            else f"marches.marche[{index - concessions}]"
        )
        return f"{where} (OCDS {path})"
    if conversion.source == "ubl":
        return f"OCDS {path}"
    head = f"{conversion.origin}[{index}]" if conversion.origin else ""
    return f"{head}.{path}" if head and path != "$" else (head or path)


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


def _origin(data_source: str, list_path: str, releases: list[dict[str, Any]], index: int) -> str:
    """Where the ``index``-th release lies in the input: ``marches.marche[3]``, ``releases[2]``."""
    if data_source == "decp":
        return release_input_path(Conversion(b"", "", releases, source="decp"), index, "$").removesuffix(
            " (OCDS $)"
        )
    return f"{list_path}[{index}]" if list_path else ""


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
    if target not in TARGETS:
        raise UnsupportedConversion(f"unknown target {target!r} (one of {', '.join(TARGETS)})")
    origins: dict[str, str] = {}
    releases, list_path = _load(
        data, source, enrich=enrich, validate_input=True, origins=origins if trace else None
    )
    if target == "ocds":
        out: Any = releases[0] if len(releases) == 1 else {"releases": releases}
        data_out = json.dumps(out, ensure_ascii=False, indent=2).encode() + b"\n"
        return Conversion(data_out, target, releases, origin=list_path, source=source)
    if target == "decp":
        doc = decp.export_decp(releases)
        data_out = json.dumps(doc, ensure_ascii=False, indent=2).encode() + b"\n"
        return Conversion(data_out, target, releases, origin=list_path, source=source)
    index = _pick(releases, target, contract)
    return _build(releases, index, source, target, subtype, trace, list_path, origins, enrich)


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
    origins: dict[str, str] = {}
    releases, list_path = _load(
        data, source, enrich=enrich, validate_input=True, origins=origins if trace else None
    )
    return [
        _build(releases, i, source, target, subtype, trace, list_path, origins, enrich)
        for i in range(len(releases))
    ]


def _build(
    releases: list[dict[str, Any]],
    index: int,
    source: str,
    target: str,
    subtype: str | None,
    trace: bool,
    list_path: str,
    origins: dict[str, str],
    enrich: dict[str, Any] | None = None,
) -> Conversion:
    release = releases[index]
    findings: list[profiles.Finding] = []
    if source == "ocds" and target in PREPARED_TARGETS:
        directory = profiles.Directory.load(enrich)
        release, findings = ocds_prepare.prepare(release, target, directory)
        if directory:  # again: prepare may have added parties (a buyer named without id)
            release = profiles.apply_profiles(release, directory)
        findings += profiles.missing(release, target, directory)
    traced: Trace | None = {} if trace else None
    if target in ("eforms-cn", "eforms-can"):
        kind: eforms.NoticeKind = "cn" if target == "eforms-cn" else "can"
        written, default_subtype = decp.eforms_release(release, kind) if source == "decp" else (release, None)
        tree = eforms.build_tree(written, kind, subtype=subtype or default_subtype, trace=traced)
    else:
        ptarget: peppol.PeppolTarget = target.removeprefix("peppol-")  # type: ignore[assignment]
        tree = peppol.build_tree(release, ptarget, trace=traced)
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
        target,
        releases,
        tree=tree if trace else None,
        trace=traced or {},
        origin=_origin(source, list_path, releases, index),
        source=source,
        origins=origins,
        findings=findings,
    )
