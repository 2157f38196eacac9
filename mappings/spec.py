"""Loading the declarative mapping specs (``mappings/specs/*.yaml``).

A spec has ``tables`` (code-list tables, eForms/UBL code -> OCDS code), ``scopes`` (repeated UBL
structures and the OCDS object each maps to) and ``rules`` (one line per field: target XPath relative
to the scope, OCDS path relative to the scope object, and the transform). See ``docs/mappings.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

from mappings.errors import SpecError

TYPES: Final = frozenset(
    {
        "text",
        "bool",
        "int",
        "number",
        "percent",
        "code",
        "date-start",
        "date-end",
        "amount",
        "duration-days",
        "lang",
        "label",
    }
)


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    xml: str
    ocds: str
    key: str = ""
    key_attrs: tuple[tuple[str, str], ...] = ()
    role: str = ""
    require: tuple[str, ...] = ()
    #: objects of the OCDS list that are not written (all fields of one of these patterns equal)
    exclude: tuple[tuple[tuple[str, Any], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    scope: str
    xml: str
    ocds: str
    type: str = "text"
    table: dict[str, Any] = field(default_factory=dict)
    time: str = ""
    each: str = ""
    also: tuple[tuple[str, Any], ...] = ()
    write: bool = True
    attrs: tuple[tuple[str, str], ...] = ()
    value: Any = None
    variant_at: str = ""
    #: XPaths (relative like ``xml``) whose texts are appended to the value, joined by ``sep``
    join: tuple[str, ...] = ()
    sep: str = " "
    #: read after the writable rules (a derived value that replaces theirs, e.g. "name - department");
    #: their own kept forms are still written back while the derived value is unchanged
    last: bool = False
    #: among the rules sharing an OCDS path, the one to write a value that comes from OCDS alone (no
    #: kept form says which element held it) when this XPath, on the document being written, is true;
    #: otherwise the last writable rule without a condition writes it
    prefer_when: str = ""
    #: as ``prefer_when``, but an XPath on the scope's element being written (e.g. the lot: BT-745
    #: non-electronic submission when its BT-17 says electronic submission is not allowed)
    prefer_here: str = ""
    #: the eForms code written when the release has no value for the rule and was made without kept
    #: UBL forms (by the platform, not read from a notice): the "none" codes eForms requires, e.g.
    #: BT-71 reserved procurement ``none``; only while ``default_when`` (an XPath on the document being
    #: written) holds, when given
    default: str = ""
    default_when: str = ""


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    tables: dict[str, dict[str, Any]]
    scopes: tuple[Scope, ...]
    rules: tuple[Rule, ...]

    def rules_of(self, scope: str) -> tuple[Rule, ...]:
        return self.by_scope.get(scope, ())

    shared: frozenset[tuple[str, str]] = frozenset()
    by_scope: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    #: the rules of a scope filling one OCDS path, keyed (scope, ocds)
    by_target: dict[tuple[str, str], tuple[Rule, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        grouped: dict[str, list[Rule]] = {}
        for r in self.rules:
            grouped.setdefault(r.scope, []).append(r)
        object.__setattr__(self, "by_scope", {k: tuple(v) for k, v in grouped.items()})
        counts: dict[tuple[str, str], int] = {}
        for r in self.rules:
            counts[(r.scope, r.ocds)] = counts.get((r.scope, r.ocds), 0) + 1
        object.__setattr__(self, "shared", frozenset(k for k, n in counts.items() if n > 1))
        targets: dict[tuple[str, str], list[Rule]] = {}
        for r in self.rules:
            targets.setdefault((r.scope, r.ocds), []).append(r)
        object.__setattr__(self, "by_target", {k: tuple(v) for k, v in targets.items()})

    def same_target(self, rule: Rule) -> tuple[Rule, ...]:
        """The rules of ``rule``'s scope that fill its OCDS path (itself included)."""
        return self.by_target.get((rule.scope, rule.ocds), ())

    def shares_target(self, rule: Rule) -> bool:
        """True when another rule of the same scope fills the same OCDS path."""
        return (rule.scope, rule.ocds) in self.shared

    def reverse(self, table: dict[str, Any], value: Any) -> str | None:
        """The first eForms code mapping to ``value`` (``None`` when none)."""
        for k, v in table.items():
            if v == value:
                return str(k)
        return None


def _pairs(raw: Any) -> tuple[tuple[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise SpecError("expected a mapping", "")
    return tuple((str(k), v) for k, v in raw.items())


def parse_spec(name: str, data: Any) -> Spec:
    """Validate and build a spec from its YAML data."""
    if not isinstance(data, dict):
        raise SpecError("spec must be a mapping", name)
    tables: dict[str, dict[str, Any]] = {}
    for tname, table in (data.get("tables") or {}).items():
        if not isinstance(table, dict):
            raise SpecError("table must be a mapping", f"{name}:tables.{tname}")
        tables[str(tname)] = {str(k): v for k, v in table.items()}
    scopes = []
    for sname, s in (data.get("scopes") or {}).items():
        scopes.append(
            Scope(
                name=str(sname),
                xml=str(s["xml"]),
                ocds=str(s.get("ocds", "")),
                key=str(s.get("key", "")),
                key_attrs=tuple((str(k), str(v)) for k, v in _pairs(s.get("key_attrs"))),
                role=str(s.get("role", "")),
                require=tuple(str(k) for k in (s.get("require") or ())),
                exclude=tuple(_pairs(e) for e in (s.get("exclude") or ())),
            )
        )
    scope_names = {s.name for s in scopes}
    rules = []
    for i, r in enumerate(data.get("rules") or []):
        where = f"{name}:rules[{i}]"
        if not isinstance(r, dict) or "xml" not in r or "ocds" not in r:
            raise SpecError("rule needs xml and ocds", where)
        scope = str(r.get("scope", "notice"))
        if scope not in scope_names:
            raise SpecError(f"unknown scope {scope!r}", where)
        typ = str(r.get("type", "text"))
        if typ not in TYPES:
            raise SpecError(f"unknown type {typ!r}", where)
        table_raw = r.get("table", {})
        if isinstance(table_raw, str):
            if table_raw not in tables:
                raise SpecError(f"unknown table {table_raw!r}", where)
            table = tables[table_raw]
        else:
            table = {str(k): v for k, v in (table_raw or {}).items()}
        rules.append(
            Rule(
                id=str(r.get("id", where)),
                scope=scope,
                xml=str(r["xml"]),
                ocds=str(r["ocds"]),
                type=typ,
                table=table,
                time=str(r.get("time", "")),
                each=str(r.get("each", "")),
                also=_pairs(r.get("also")),
                write=bool(r.get("write", True)) and "$value" not in str(r["ocds"]),
                value=r.get("value"),
                variant_at=str(r.get("variant_at", "")),
                join=tuple(str(j) for j in (r.get("join") or ())),
                sep=str(r.get("sep", " ")),
                last=bool(r.get("last", False)),
                prefer_when=str(r.get("prefer_when", "")),
                prefer_here=str(r.get("prefer_here", "")),
                default=str(r.get("default", "")),
                default_when=str(r.get("default_when", "")),
                attrs=tuple((str(k), str(v)) for k, v in _pairs(r.get("attrs"))),
            )
        )
    # ``expand: {lot: [lotsgroup, part]}``: the same relative rules read the sibling structures (lots
    # groups, parts); they are read-only (the writer emits lots only).
    for src, targets in (data.get("expand") or {}).items():
        suffix = {"lot": "-Lot"}.get(str(src), "")
        for tgt in targets:
            if tgt not in scope_names:
                raise SpecError(f"unknown scope {tgt!r}", f"{name}:expand")
            tsuffix = {"lotsgroup": "-LotsGroup", "part": "-Part"}.get(str(tgt), "-" + str(tgt))
            for r in [
                r for r in rules if r.scope == src and not r.ocds.startswith("^") and "$" not in r.ocds
            ]:
                rid = r.id[: -len(suffix)] + tsuffix if suffix and r.id.endswith(suffix) else f"{r.id}@{tgt}"
                rules.append(replace(r, id=rid, scope=str(tgt), write=False))
    return Spec(name=name, tables=tables, scopes=tuple(scopes), rules=tuple(rules))


@cache
def load_spec(name: str) -> Spec:
    """Load ``mappings/specs/<name>.yaml`` (cached)."""
    text = resources.files("mappings").joinpath(f"specs/{name}.yaml").read_text(encoding="utf-8")
    return parse_spec(name, yaml.safe_load(text))
