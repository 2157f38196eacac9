"""The input formats a conversion reads and the output documents it writes (:mod:`mappings.convert`).

A conversion is read -> model -> write: an :class:`InputFormat` reads the input into OCDS releases
(the platform model), readies one for the :class:`OutputDocument` it is written to (OCDS input:
``mappings.ocds_prepare`` and the organisation profiles; DECP input to an eForms notice:
``mappings.decp.eforms_release``) and names input locations; the output document writes all releases
(OCDS, DECP) or builds the XML tree of one (eForms, Peppol). :data:`INPUT_FORMATS` and
:data:`OUTPUT_DOCUMENTS` are the tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from lxml import etree

from mappings import decp, doctypes, eforms, ocds_merge, ocds_prepare, peppol, profiles, provenance
from mappings.engine import Trace
from mappings.errors import InputValidationError, MappingError, UnsupportedConversion
from mappings.model import release_errors
from mappings.spec import load_spec
from peppol.xml import XmlError, parse_bytes

Source = Literal["ocds", "decp", "ubl"]
Target = Literal[
    "ocds", "decp", "eforms-cn", "eforms-can", "peppol-t004", "peppol-t005", "peppol-t006", "peppol-t018"
]
SOURCES: Final = get_args(Source)
TARGETS: Final = get_args(Target)
XML_TARGETS: Final = frozenset(t for t in TARGETS if t.startswith(("eforms-", "peppol-")))
#: Targets an OCDS release is prepared for (``mappings.ocds_prepare``: implied lot, CPV, procedure…).
PREPARED_TARGETS: Final = frozenset({"eforms-cn", "eforms-can", "peppol-t004"})


#: A release readied for an output document: the release written, its default eForms subtype (``None``:
#: the document's own default) and what the input lacks for the document.
Readied = tuple[dict[str, Any], str | None, list[profiles.Finding]]


@dataclass(frozen=True)
class OutputDocument:
    """What a conversion writes: one document for all releases (``write_all``: OCDS, DECP) or one XML
    document per release (``build``: its tree, from the release, the subtype and the trace)."""

    name: str
    write_all: Callable[[list[dict[str, Any]]], bytes] | None = None
    build: Callable[[dict[str, Any], str | None, Trace | None], etree._ElementTree] | None = None
    #: ``cn`` / ``can`` for an eForms notice (it takes ``--subtype``)
    notice_kind: eforms.NoticeKind | None = None
    #: an OCDS release is readied for it first (``mappings.ocds_prepare``: implied lot, CPV, procedure…)
    prepared: bool = False


@dataclass(frozen=True)
class InputFormat:
    """How an input format is read into OCDS releases and readied for an output document, and how its
    locations are named."""

    name: str
    #: (data, organisation profiles, validate, origins) -> the releases and the input path of their list
    read: Callable[
        [bytes, dict[str, Any] | None, bool, dict[str, str] | None], tuple[list[dict[str, Any]], str]
    ]
    #: (release, output document, organisation profiles) -> the release written, its default subtype,
    #: what the input lacks
    ready: Callable[[dict[str, Any], OutputDocument, dict[str, Any] | None], Readied]
    #: (where the release lies in the input, input element of each object read, path in the written
    #: release) -> the input location
    name_input: Callable[[str, dict[str, str], str], str]
    #: (input path of the list of releases, the releases, index of one, path in it) -> the input location
    release_input: Callable[[str, list[dict[str, Any]], int, str], str]
    #: (list path, releases, index) -> where the release lies in the input (``releases[2]``)
    origin: Callable[[str, list[dict[str, Any]], int], str]
    #: organisation profiles complete its parties (``--enrich``)
    takes_profiles: bool = True


def input_format(source: str) -> InputFormat:
    """The input format ``source`` names (:class:`UnsupportedConversion` for another name)."""
    if source not in INPUT_FORMATS:
        raise UnsupportedConversion(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
    return INPUT_FORMATS[source]


def output_document(target: str) -> OutputDocument:
    """The output document ``target`` names (:class:`UnsupportedConversion` for another name)."""
    if target not in OUTPUT_DOCUMENTS:
        raise UnsupportedConversion(f"unknown target {target!r} (one of {', '.join(TARGETS)})")
    return OUTPUT_DOCUMENTS[target]


# ---------------------------------------------------------------- OCDS input


def _read_ocds(
    data: bytes, enrich: dict[str, Any] | None, validate_input: bool, origins: dict[str, str] | None
) -> tuple[list[dict[str, Any]], str]:
    releases, prefix = _releases_of(parse_json(data))
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


def _ready_ocds(release: dict[str, Any], out: OutputDocument, enrich: dict[str, Any] | None) -> Readied:
    if not out.prepared:
        return release, None, []
    directory = profiles.Directory.load(enrich)
    release, findings = ocds_prepare.prepare(release, out.name, directory)
    if directory:  # again: prepare may have added parties (a buyer named without id)
        release = profiles.apply_profiles(release, directory)
    findings += profiles.missing(release, out.name, directory)
    return release, None, findings


def _name_ocds_input(origin: str, origins: dict[str, str], found: str) -> str:
    return f"{origin}.{found}" if origin else found


def _ocds_release_input(origin: str, releases: list[dict[str, Any]], index: int, path: str) -> str:
    head = f"{origin}[{index}]" if origin else ""
    return f"{head}.{path}" if head and path != "$" else (head or path)


def _listed_origin(list_path: str, releases: list[dict[str, Any]], index: int) -> str:
    return f"{list_path}[{index}]" if list_path else ""


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


# ---------------------------------------------------------------- DECP input


def _read_decp(
    data: bytes, enrich: dict[str, Any] | None, validate_input: bool, origins: dict[str, str] | None
) -> tuple[list[dict[str, Any]], str]:
    parsed = parse_json(data)
    if not isinstance(parsed, dict) or "marches" not in parsed:
        raise MappingError("a DECP document is an object with 'marches'", "$")
    return decp.import_decp(parsed, enrich=enrich), ""


def _ready_decp(release: dict[str, Any], out: OutputDocument, enrich: dict[str, Any] | None) -> Readied:
    if out.notice_kind is None:
        return release, None, []
    written, subtype = decp.eforms_release(release, out.notice_kind)
    return written, subtype, []


def _decp_location(releases: list[dict[str, Any]], index: int) -> str:
    """Where the ``index``-th release lies in the DECP input: ``marches.marche[3]``,
    ``marches.contrat-concession[0]`` (the releases hold the marchés, then the concessions)."""
    release = releases[index] if index < len(releases) else {}
    concessions = sum(1 for r in releases[:index] if "decpConcession" in (r.get("platform") or {}))
    if "decpConcession" in (release.get("platform") or {}):
        return f"marches.contrat-concession[{concessions}]"
    return f"marches.marche[{index - concessions}]"


def _name_decp_input(origin: str, origins: dict[str, str], found: str) -> str:
    # DECP input is read into OCDS first: the path is named in that release
    return f"{origin} (OCDS {found})" if origin else f"OCDS {found}"


def _decp_release_input(origin: str, releases: list[dict[str, Any]], index: int, path: str) -> str:
    return f"{_decp_location(releases, index)} (OCDS {path})"


def _decp_origin(list_path: str, releases: list[dict[str, Any]], index: int) -> str:
    return _decp_location(releases, index)


# ---------------------------------------------------------------- UBL input


def _read_ubl(
    data: bytes, enrich: dict[str, Any] | None, validate_input: bool, origins: dict[str, str] | None
) -> tuple[list[dict[str, Any]], str]:
    try:
        root = parse_bytes(data).getroot()
    except XmlError as exc:
        raise MappingError(f"not well-formed or unsafe XML: {exc}", "/") from exc
    local = etree.QName(root).localname
    if local in (doctypes.eforms(kind).root for kind in eforms.NOTICE_KINDS):
        release = eforms.read_tree(root)
        if origins is not None:
            origins.update(provenance.scope_origins(root, load_spec(eforms.SPEC_NAME), release))
        return [release], ""
    if peppol.target_of_root(local):
        return [peppol.read_document(data)], ""
    raise MappingError(f"unsupported UBL document {local}", "/*")


def _ready_as_read(release: dict[str, Any], out: OutputDocument, enrich: dict[str, Any] | None) -> Readied:
    return release, None, []


def _name_ubl_input(origin: str, origins: dict[str, str], found: str) -> str:
    # read into OCDS first: the path is named in that release, after the input element it was read from
    element = provenance.origin_of(origins, found)
    return f"{element} (OCDS {found})" if element else f"OCDS {found}"


def _ubl_release_input(origin: str, releases: list[dict[str, Any]], index: int, path: str) -> str:
    return f"OCDS {path}"


INPUT_FORMATS: Final[dict[str, InputFormat]] = {
    "ocds": InputFormat(
        "ocds", _read_ocds, _ready_ocds, _name_ocds_input, _ocds_release_input, _listed_origin
    ),
    "decp": InputFormat("decp", _read_decp, _ready_decp, _name_decp_input, _decp_release_input, _decp_origin),
    "ubl": InputFormat(
        "ubl",
        _read_ubl,
        _ready_as_read,
        _name_ubl_input,
        _ubl_release_input,
        _listed_origin,
        takes_profiles=False,
    ),
}


# ---------------------------------------------------------------- output documents


def _json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode() + b"\n"


def _write_ocds(releases: list[dict[str, Any]]) -> bytes:
    return _json(releases[0] if len(releases) == 1 else {"releases": releases})


def _write_decp(releases: list[dict[str, Any]]) -> bytes:
    return _json(decp.export_decp(releases))


def _notice(kind: eforms.NoticeKind) -> OutputDocument:
    def build(release: dict[str, Any], subtype: str | None, trace: Trace | None) -> etree._ElementTree:
        return eforms.build_tree(release, kind, subtype=subtype, trace=trace)

    return OutputDocument(
        f"eforms-{kind}", build=build, notice_kind=kind, prepared=f"eforms-{kind}" in PREPARED_TARGETS
    )


def _peppol_document(target: peppol.PeppolTarget) -> OutputDocument:
    def build(release: dict[str, Any], subtype: str | None, trace: Trace | None) -> etree._ElementTree:
        return peppol.build_tree(release, target, trace=trace)

    return OutputDocument(f"peppol-{target}", build=build, prepared=f"peppol-{target}" in PREPARED_TARGETS)


OUTPUT_DOCUMENTS: Final[dict[str, OutputDocument]] = {
    "ocds": OutputDocument("ocds", write_all=_write_ocds),
    "decp": OutputDocument("decp", write_all=_write_decp),
    **{f"eforms-{kind}": _notice(kind) for kind in eforms.NOTICE_KINDS},
    **{f"peppol-{target}": _peppol_document(target) for target in peppol.TARGETS},
}
