"""Validation findings a person can act on: which rule, which field, and where to fix the *input*.

:func:`validate_conversion` runs the official validation of a conversion's result (XSD + Schematron
for UBL, the platform model's schema and the official OCDS 1.1 release schema for OCDS, the DECP
schema for DECP) and returns :class:`Finding` objects. An eForms rule is tied to its field through the
Schematron's diagnostics (``ND-Company_BT-514-Organization-Company``; the SVRL report carries them) or
its id (``BR-BT-00010-0036`` -> BT-10, ``ND-AwardingTerms-29`` -> node ``ND-AwardingTerms``); the
field's English name comes from the SDK translations (``schema/eforms-names.json``, derived by
:mod:`mappings.tools.gen_field_names`; the SDK has no translation of the rule texts, which are keys
``rule|text|…``). The input path is the traced OCDS value or object behind the finding's location,
completed with the field's OCDS path from ``specs/eforms.yaml`` (a missing value is reported on its
parent: ``parties[1]`` + ``address.country``), or, for tender-level rules written from nothing, the
field's path from the release root; from DECP input it also names the DECP field or the
organisation-profile key.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jsonschema

from mappings import decp, profiles
from mappings.convert import Conversion, decp_finding_input, release_input_path
from mappings.errors import MappingError
from mappings.model import dotted, release_errors
from mappings.spec import Rule, load_spec

NAMES_FILE: Final = "schema/eforms-names.json"
#: Rule ids of the JSON Schema findings (no rule of their own: the schema that reported them).
PLATFORM_RULE: Final = "platform-schema"
OCDS_RULE: Final = "ocds-1.1"
DECP_RULE: Final = "decp-schema"
#: What the input lacks for the target, found before writing (``Conversion.findings``: a profile key
#: or an input path to add).
INPUT_RULE: Final = "input"
JSON_RULES: Final = frozenset({PLATFORM_RULE, OCDS_RULE, DECP_RULE})
#: Diagnostic ids write a field id's parentheses as underscores: ``BT-01_c_-Procedure``.
_PAREN: Final = re.compile(r"_([a-z0-9]+)_")
_BR_RULE: Final = re.compile(r"^BR-(BT|OPT|OPP|OPA)-0*(\d+)-\d+$")
_NODE_RULE: Final = re.compile(r"^(ND-[A-Za-z]+)-[0-9A-Z]+$")
#: The organisation-profile key (``mappings.profiles``) of the eForms fields a profile supplies.
PROFILE_KEYS: Final[dict[str, str]] = {
    "BT-500": "name",
    "BT-513": "address.locality",
    "BT-512": "address.postalCode",
    "BT-514": "address.country",
    "BT-510": "address.streetAddress",
    "BT-507": "nuts",
    "BT-506": "contactPoint.email",
    "BT-503": "contactPoint.telephone",
    "BT-502": "contactPoint.name",
    "BT-505": "url",
    "BT-10": "mainActivity",
    "BT-11": "buyerLegalType",
    "BT-165": "companySize",
}
_PARTY: Final = re.compile(r"^parties\[(\d+)\]")
#: The buyer-profile key (or ``defaults`` key) of the procedure terms a buyer's profile supplies.
BUYER_PROFILE_KEYS: Final[dict[str, str]] = {
    "ND-LotReviewTerms": "reviewBody",
    "OPT-301": "reviewBody",
    "BT-99": "reviewDetails",
    "BT-740": "contractingEntity",
}
#: Where the platform's contract record (``contracts[…]`` of the profiles file) holds a field a DECP
#: contract lacks, when it is not the release path the spec reads.
RECORD_PATHS: Final[dict[str, str]] = {
    "ND-AwardingTerms": "tender.lots[0].awardCriteria",
    "BT-13713": "bids.statistics",
    "BT-759": "bids.statistics",
    "BT-760": "bids.statistics",
    "BT-727": "tender.deliveryAddresses",
    "BT-5071": "tender.deliveryAddresses",
    "OPT-170": "parties[id=<the lead's id>].roles (leadTenderer)",
    "OPT-210": "parties[id=<the lead's id>].roles (leadTenderer)",
}


@dataclass(frozen=True)
class Finding:
    """One validation finding: the ``rule`` that failed, the eForms ``field`` (or node) it checks and
    its English ``field_name``, the output ``location``, the ``input`` path to add or fix, the
    validator's ``message`` and the ``layer`` (XSD, Schematron phase, schema) that reported it."""

    rule: str
    message: str
    layer: str = ""
    field: str = ""
    field_name: str = ""
    location: str = ""
    input: str = ""

    def line(self) -> str:
        """One line. XML: ``LAYER: RULE FIELD (name) LOCATION [text] (input: PATH)`` (a rule text that is
        only an untranslated ``rule|text|…`` key is left out); a JSON schema finding:
        ``LOCATION: message (input: PATH)``, or ``PATH: message`` on the converted release."""
        tail = f" (input: {self.input})" if self.input else ""
        if self.rule == INPUT_RULE:
            return f"input: {self.input}: {self.message}"
        if self.rule in JSON_RULES:
            if self.location:
                return f"{self.location}: {self.message}{tail}"
            prefix = f"{self.layer}: " if self.rule == OCDS_RULE else ""
            return f"{prefix}{self.input}: {self.message}"
        parts = [f"{self.layer}:" if self.layer else "", self.rule]
        if self.field:
            parts.append(f"{self.field} ({self.field_name})" if self.field_name else self.field)
        parts.append(self.location)
        if not self.message.startswith("rule|text|"):
            parts.append(self.message)
        return " ".join(p for p in parts if p) + tail

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


@cache
def names() -> dict[str, Any]:
    """The SDK names: ``fields``, ``businessTerms``, ``nodes`` (see :mod:`mappings.tools.gen_field_names`)."""
    loaded: dict[str, Any] = json.loads(resources.files("mappings").joinpath(NAMES_FILE).read_text("utf-8"))
    return loaded


def field_name(field: str) -> str:
    """The English name of an eForms field, business term or node (``''`` if unknown)."""
    known = names()
    if field in known["fields"]:
        name = str(known["fields"][field])
        term = known["businessTerms"].get(_business_term(field) or "")
        return f"{term}: {name}" if term and term.casefold() != name.casefold() else name
    if field in known["businessTerms"]:
        return str(known["businessTerms"][field])
    node = known["nodes"].get(field)
    if node:
        held = ", ".join(f"{f} {known['fields'].get(f, '')}".strip() for f in node["holds"])
        return f"{node['xpath']}" + (f", holding {held}" if held else "")
    return ""


def _business_term(field: str) -> str | None:
    match = re.match(r"^((?:BT|OPT|OPP|OPA)-\d+)", field)
    return match.group(1) if match else None


def field_of(rule: str, diagnostics: list[str], location: str = "") -> str:
    """The eForms field (or node) a rule checks, from its diagnostics, its id or its location."""
    known = names()
    for diag in diagnostics:
        node, _, rest = diag.partition("_") if diag.startswith("ND-") else ("", "", diag)
        candidate = _PAREN.sub(r"(\1)", rest) if rest else ""
        if candidate in known["fields"]:
            return candidate
        if diag in known["nodes"]:
            return diag
        if node in known["nodes"] and not rest:
            return node
    match = _BR_RULE.match(rule)
    if match:
        return f"{match.group(1)}-{int(match.group(2)):02d}"
    match = _NODE_RULE.match(rule)
    if match and match.group(1) in known["nodes"]:
        return match.group(1)
    return node_at(location)


def node_at(location: str) -> str:
    """The eForms node whose absolute XPath (predicates aside) is ``location`` or its nearest ancestor:
    the field of a generic rule (``element-not-empty``) that names only the element."""
    steps = [re.sub(r"\[\d+\]$", "", step) for step in location.split("/") if step]
    by_path = _nodes_by_path()
    while len(steps) > 1:
        found = by_path.get("/*/" + "/".join(steps[1:]))
        if found:
            return found
        steps.pop()
    return ""


@cache
def _nodes_by_path() -> dict[str, str]:
    out: dict[str, str] = {}
    for node, info in names()["nodes"].items():
        path = re.sub(r"\[[^\]]*\]", "", str(info.get("path", "")))
        out.setdefault(path, node)
    return out


@cache
def _rules_by_field() -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    for rule in load_spec("eforms").rules:
        out.setdefault(rule.id, rule)
    return out


def _spec_rule(field: str) -> Rule | None:
    """The spec rule writing ``field`` (a field id, a business term's first field, a node's first
    held field that the spec writes)."""
    rules = _rules_by_field()
    if field in rules:
        return rules[field]
    node = names()["nodes"].get(field)
    candidates = list(node["holds"]) if node else [r for r in rules if _business_term(r) == field]
    return next((rules[c] for c in candidates if c in rules), None)


def field_input(conversion: Conversion, location: str, field: str) -> str:
    """Where to add or fix ``field`` in the input, for a finding at ``location`` (``''`` if unknown)."""
    traced = conversion.ocds_path(location)
    rule = _spec_rule(field) if field else None
    path = traced or ""
    if rule is not None:
        own = rule.ocds.replace("$key", "id")
        if own.startswith("^"):
            path = own[1:]
        elif not rule.scope:  # a release-level field: its path from the release root
            path = own
        elif traced:
            path = _join(traced, own)
        else:  # nothing of the scope was written: the scope's list, any item
            scope = next((s for s in load_spec("eforms").scopes if s.name == rule.scope), None)
            path = f"{scope.ocds}[].{own}" if scope and scope.ocds else own
    if not path:
        return conversion.name_input("$") if conversion.source != "ocds" else (conversion.origin or "$")
    return conversion.name_input(path) + _decp_hint(conversion, path, field)


def _join(traced: str, own: str) -> str:
    """``traced`` (an object, or a value inside it) + ``own`` (a path relative to the object), without
    repeating the part they share (``parties[1].address`` + ``address.country``)."""
    parts = own.split(".")
    for k in range(len(parts), 0, -1):
        head = ".".join(parts[:k])
        if traced == head or traced.endswith("." + head):
            return ".".join([traced, *parts[k:]])
    return f"{traced}.{own}"


def _decp_hint(conversion: Conversion, path: str, field: str) -> str:
    """For DECP input, the profile key of an organisation field (``organisations["<siret>"].nuts``) or
    the DECP field a release path comes from."""
    if conversion.source != "decp" or not conversion.releases:
        return ""
    party = _PARTY.match(path)
    key = PROFILE_KEYS.get(_business_term(field) or field)
    if party and key:
        release = _written_release(conversion)
        parties = release.get("parties") or []
        index = int(party.group(1))
        if index < len(parties):
            ident = parties[index].get("identifier") or {}
            org = ident.get("id") or parties[index].get("id")
            return f'; profile: organisations["{org}"].{key}'
    name = next((k for k, v in decp.FIELD_SOURCES.items() if path == v), None)
    if name:
        return f"; DECP: {name}"
    return _platform_hint(conversion, path, _business_term(field) or field)


def _platform_hint(conversion: Conversion, path: str, term: str) -> str:
    """What DECP does not carry: the buyer's profile key (or the platform ``defaults``) of a procedure
    term, else the path in the platform's record of the contract (``mappings.profiles``)."""
    release = _written_release(conversion)
    if term in BUYER_PROFILE_KEYS:
        key = BUYER_PROFILE_KEYS[term]
        buyer = str((release.get("buyer") or {}).get("id") or "")
        platform = f" or defaults.{key}" if key in profiles.DEFAULT_BUYER_KEYS else ""
        return f'; profile: organisations["{buyer}"].{key}{platform}'
    contract = str(((release.get("contracts") or [{}])[0]).get("id") or "")
    return f'; platform record: contracts["{contract}"].{RECORD_PATHS.get(term, path)}' if contract else ""


def _written_release(conversion: Conversion) -> dict[str, Any]:
    index = _release_index(conversion)
    return conversion.releases[index] if index < len(conversion.releases) else {}


def _release_index(conversion: Conversion) -> int:
    match = re.search(r"\[(\d+)\]$", conversion.origin)
    if not match:
        return 0
    n = int(match.group(1))
    if conversion.source != "decp":
        return n
    concession = "contrat-concession" in conversion.origin
    kinds = [decp.is_concession(r) == concession for r in conversion.releases]
    positions = [i for i, same in enumerate(kinds) if same]
    return positions[n] if n < len(positions) else 0


def _svrl_diagnostics(svrl: bytes | None) -> dict[tuple[str, str], list[str]]:
    """``(rule id, location) -> diagnostic ids`` of the failed assertions of an SVRL report."""
    if not svrl:
        return {}
    from peppol.xml import parse_bytes

    ns = "{http://purl.oclc.org/dsdl/svrl}"
    out: dict[tuple[str, str], list[str]] = {}
    for failed in parse_bytes(svrl).getroot().iter(f"{ns}failed-assert", f"{ns}successful-report"):
        diags = [str(d.get("diagnostic")) for d in failed.iter(f"{ns}diagnostic-reference")]
        out.setdefault((str(failed.get("id")), str(failed.get("location"))), diags)
    return out


def xml_findings(conversion: Conversion, store_dir: Path | None = None) -> list[Finding]:
    """Findings of the XSD and Schematron validation of an XML conversion."""
    from ubl.artifacts import ArtifactStore, default_store
    from ubl.validate import validate_document

    store = ArtifactStore(store_dir) if store_dir else default_store()
    result = validate_document(conversion.data, store=store)
    out: list[Finding] = []
    eforms = conversion.target.startswith("eforms-")
    for layer in result.layers:
        diagnostics = _svrl_diagnostics(layer.svrl) if eforms else {}
        for item in layer.failures:
            location = item.location or ""
            diags = diagnostics.get((item.rule_id, location), [])
            field = field_of(item.rule_id, diags, location) if eforms else ""
            out.append(
                Finding(
                    rule=item.rule_id,
                    message=item.text,
                    layer=layer.name,
                    field=field,
                    field_name=field_name(field) if field else "",
                    location=location,
                    input=field_input(conversion, location, field)
                    if eforms
                    else conversion.input_path(location) or "",
                )
            )
        if layer.status.value == "invalid" and not layer.failures:
            out.append(Finding(rule="invalid", message=f"{layer.name}: invalid", layer=layer.name))
    return out


def ocds_findings(conversion: Conversion, official_schema: Path | None = None) -> list[Finding]:
    """Findings of the platform model's schema and, given its file, the official OCDS release schema
    (``release-schema.json`` of OCDS 1.1, draft-04) on every release of an OCDS result."""
    out = [
        Finding(
            rule=PLATFORM_RULE,
            message=reason,
            layer="platform",
            input=release_input_path(conversion, i, p),
        )
        for i, r in enumerate(conversion.releases)
        for p, reason in release_errors(r)
    ]
    if official_schema is not None:
        schema = json.loads(official_schema.read_text(encoding="utf-8"))
        validator = jsonschema.Draft4Validator(
            schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
        )
        for i, release in enumerate(conversion.releases):
            for e in validator.iter_errors(release):
                path = dotted(e.absolute_path)
                out.append(
                    Finding(
                        rule=OCDS_RULE,
                        message=e.message,
                        layer="OCDS 1.1 release schema",
                        input=release_input_path(conversion, i, path),
                    )
                )
    return out


def decp_findings(conversion: Conversion, schema_file: Path) -> list[Finding]:
    """Findings of the DECP schema (``schema_decp_v2.0.3.json``) on a DECP result."""
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    doc: Any = json.loads(conversion.data)
    out = []
    for e in jsonschema.Draft7Validator(schema).iter_errors(doc):
        where = ".".join(str(p) for p in e.absolute_path) or "$"
        found = decp_finding_input(conversion, list(e.absolute_path), e.message)
        out.append(
            Finding(rule=DECP_RULE, message=e.message, layer="DECP", location=where, input=found or "")
        )
    return out


def validate_conversion(
    conversion: Conversion,
    *,
    store_dir: Path | None = None,
    decp_schema: Path | None = None,
    ocds_schema: Path | None = None,
) -> list[Finding]:
    """What the input lacks for the target (found while converting), then the findings of the official
    validation of the conversion's result (empty = valid)."""
    lacking = [
        Finding(rule=INPUT_RULE, message=f.message, layer="input", input=f.path) for f in conversion.findings
    ]
    if conversion.is_xml:
        return lacking + xml_findings(conversion, store_dir)
    if conversion.target == "ocds":
        return lacking + ocds_findings(conversion, ocds_schema)
    if decp_schema is None:
        raise MappingError(
            "--validate with --to decp needs --decp-schema (schema_decp_v2.0.3.json)", "--decp-schema"
        )
    return lacking + decp_findings(conversion, decp_schema)
