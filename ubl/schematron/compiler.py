"""ISO Schematron → XSLT 3.0 code generation (our own compiler; no skeleton, no SchXslt).

Shape of the generated stylesheet (see ``docs/schematron.md``):

* every (concrete) pattern is its own mode ``schxp:M<n>``, declared ``on-no-match="shallow-skip"`` so the
  built-in rule walks elements, attributes and text without output;
* each rule is a template rule in its pattern's mode whose priority falls with document order, so the
  first rule of a pattern whose context matches a node wins (ISO first-matching-rule semantics); after
  its checks the template keeps walking (``@*|node()``) so descendants are still visited;
* schema-level ``let`` → global ``xsl:param`` (overridable), phase- and pattern-level ``let`` → tunnel
  parameters bound once per document (context: the document root, per ISO), rule-level ``let`` →
  local ``xsl:variable`` in the rule's template;
* the entry template ``match="/"`` writes ``svrl:schematron-output`` and runs the active patterns of the
  phase; when several phases are compiled into one stylesheet the phase is chosen at run time by the
  global parameter ``schxp:phase``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from .errors import (
    SchematronPhaseError,
    SchematronReferenceError,
    SchematronSourceError,
    SchematronUnsupportedError,
)
from .expand import expand_abstract_patterns, expand_abstract_rules
from .source import SCH_NS, XSL_NS, sch, xsl

#: Bumped whenever the generated XSLT changes shape; part of the disk-cache key.
COMPILER_VERSION: Final = "1"
SVRL_NS: Final = "http://purl.oclc.org/dsdl/svrl"
XS_NS: Final = "http://www.w3.org/2001/XMLSchema"
#: Namespace of the compiler's own helper functions, modes and parameters in the generated XSLT.
SCHXP_NS: Final = "urn:procurement-access-point:schematron"
#: Name of the run-time phase parameter in stylesheets compiled with several phases.
PHASE_PARAM: Final = "schxp:phase"
ALL_PHASE: Final = "#ALL"
DEFAULT_PHASE: Final = "#DEFAULT"
#: Query bindings whose expressions an XSLT 3.0 / XPath 3.1 processor runs unchanged.
SUPPORTED_QUERY_BINDINGS: Final = frozenset(
    {"", "xslt", "xslt1", "xslt2", "xslt3", "xpath", "xpath2", "xpath3", "xpath31", "exslt"}
)
#: Top-level XSLT declarations passed through verbatim (xsl:import is always placed first).
PASSTHROUGH_XSL: Final = frozenset(
    {
        "function",
        "key",
        "include",
        "import",
        "variable",
        "param",
        "template",
        "decimal-format",
        "character-map",
        "accumulator",
        "use-package",
        "import-schema",
        "mode",
        "output",
        "strip-space",
        "preserve-space",
        "namespace-alias",
        "attribute-set",
        "global-context-item",
    }
)
_RESERVED_PREFIXES: Final = {
    "xsl": XSL_NS,
    "svrl": SVRL_NS,
    "schxp": SCHXP_NS,
    "xs": XS_NS,
    "map": "http://www.w3.org/2005/xpath-functions/map",
}
_NAME_CHARS: Final = r"[\w.\-]"
_ASSERTION_TEXT_ELEMENTS: Final = frozenset({"emph", "dir", "span"})


def _text_of(el: etree._Element) -> str:
    return "".join(str(t) for t in el.itertext())


def _tag(el: etree._Element) -> str | None:
    """The element's Clark name, or None for comments and processing instructions."""
    tag: object = el.tag
    return tag if isinstance(tag, str) else None


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _is_sch(el: etree._Element, *names: str) -> bool:
    tag = _tag(el)
    return tag is not None and tag in {sch(n) for n in names}


def _avt(text: str) -> str:
    """Escape ``text`` for use as a literal value in an attribute value template."""
    return text.replace("{", "{{").replace("}", "}}")


def _mentions(text: str, name: str) -> bool:
    return re.search(r"\$" + re.escape(name) + r"(?!" + _NAME_CHARS + ")", text) is not None


@dataclass(slots=True)
class _Let:
    name: str
    element: etree._Element


@dataclass(slots=True)
class _Pattern:
    index: int
    element: etree._Element
    ident: str | None
    lets: list[_Let] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return f"schxp:M{self.index}"

    @property
    def entry(self) -> str:
        return f"schxp:pattern-{self.index}"


@dataclass(slots=True)
class _Phase:
    ident: str
    patterns: list[_Pattern]
    lets: list[_Let] = field(default_factory=list)


@dataclass(slots=True)
class SchemaModel:
    """The expanded schema, indexed for code generation."""

    root: etree._Element
    namespaces: list[tuple[str, str]]
    lets: list[_Let]
    patterns: list[_Pattern]
    phases: dict[str, etree._Element]
    diagnostics: dict[str, etree._Element]
    properties: dict[str, etree._Element]
    default_phase: str | None
    title: str

    def resolve_phase(self, phase: str | None) -> str:
        """Map ``None``/``#DEFAULT`` to the schema's ``defaultPhase`` (or ``#ALL``); check the id exists."""
        if phase is None or phase == DEFAULT_PHASE:
            phase = self.default_phase or ALL_PHASE
        if phase != ALL_PHASE and phase not in self.phases:
            known = ", ".join(sorted(self.phases)[:10]) or "none"
            raise SchematronPhaseError(f"unknown phase {phase!r} (known: {known})")
        return phase

    def phase(self, phase_id: str) -> _Phase:
        if phase_id == ALL_PHASE:
            return _Phase(ALL_PHASE, list(self.patterns))
        el = self.phases[phase_id]
        wanted: set[str] = set()
        for active in el.findall(sch("active")):
            pid = active.get("pattern", "")
            if not any(p.ident == pid for p in self.patterns):
                raise SchematronPhaseError(f"phase {phase_id!r} activates unknown pattern {pid!r}")
            wanted.add(pid)
        lets = [_Let(_let_name(let), let) for let in el.findall(sch("let"))]
        return _Phase(phase_id, [p for p in self.patterns if p.ident in wanted], lets)


def _let_name(el: etree._Element) -> str:
    name = el.get("name")
    if not name:
        raise SchematronSourceError("sch:let without name")
    return name


def build_model(root: etree._Element) -> SchemaModel:
    """Expand abstract patterns and rules in ``root`` (in place) and index it."""
    binding = (root.get("queryBinding") or "").lower()
    if binding not in SUPPORTED_QUERY_BINDINGS:
        raise SchematronUnsupportedError(f"queryBinding {root.get('queryBinding')!r} is not supported")
    expand_abstract_patterns(root)
    expand_abstract_rules(root)
    _reject_unknown(root)
    namespaces: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for ns in root.iter(sch("ns")):
        prefix, uri = ns.get("prefix"), ns.get("uri")
        if not prefix or uri is None:
            raise SchematronSourceError("sch:ns needs prefix and uri")
        if prefix in seen and seen[prefix] != uri:
            raise SchematronSourceError(f"prefix {prefix!r} declared with two URIs")
        reserved = _RESERVED_PREFIXES.get(prefix)
        if reserved is not None and reserved != uri:
            raise SchematronUnsupportedError(f"prefix {prefix!r} is reserved for {reserved}")
        if prefix not in seen:
            seen[prefix] = uri
            namespaces.append((prefix, uri))
    patterns: list[_Pattern] = []
    for pat in root.iter(sch("pattern")):
        if pat.get("documents"):
            raise SchematronUnsupportedError(
                "pattern/@documents (ISO 2016 subordinate documents) is not supported"
            )
        lets = [_Let(_let_name(let), let) for let in pat.findall(sch("let"))]
        patterns.append(_Pattern(len(patterns), pat, pat.get("id"), lets))
    ids = [p.ident for p in patterns if p.ident]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise SchematronSourceError(f"duplicate pattern ids: {', '.join(dup[:5])}")
    phases = {}
    for ph in root.findall(sch("phase")):
        pid = ph.get("id")
        if not pid:
            raise SchematronSourceError("sch:phase without id")
        if ph.get("from"):
            raise SchematronUnsupportedError("phase/@from is not supported")
        phases[pid] = ph
    diagnostics = {d.get("id", ""): d for d in root.iter(sch("diagnostic"))}
    properties = {d.get("id", ""): d for d in root.iter(sch("property"))}
    title_el = root.find(sch("title"))
    title = _text_of(title_el).strip() if title_el is not None else ""
    default_phase = root.get("defaultPhase")
    if default_phase is not None and default_phase != ALL_PHASE and default_phase not in phases:
        raise SchematronPhaseError(f"defaultPhase {default_phase!r} names no phase")
    lets = [_Let(_let_name(let), let) for let in root.findall(sch("let"))]
    return SchemaModel(
        root, namespaces, lets, patterns, phases, diagnostics, properties, default_phase, title
    )


_KNOWN_SCH: Final = frozenset(
    {
        "schema",
        "title",
        "ns",
        "p",
        "let",
        "phase",
        "active",
        "pattern",
        "rule",
        "rules",
        "assert",
        "report",
        "param",
        "diagnostics",
        "diagnostic",
        "properties",
        "property",
        "value-of",
        "name",
        "emph",
        "dir",
        "span",
        "extends",
        "include",
        "library",
    }
)


def _reject_unknown(root: etree._Element) -> None:
    for el in root.iter():
        tag = _tag(el)
        if tag is None:
            continue
        if tag.startswith("{" + SCH_NS + "}") and _local(el) not in _KNOWN_SCH:
            raise SchematronUnsupportedError(f"unsupported Schematron element sch:{_local(el)}")
        if _is_sch(el, "library"):
            raise SchematronUnsupportedError("sch:library is not supported")
        if (
            tag.startswith("{" + XSL_NS + "}")
            and (parent := el.getparent()) is not None
            and parent.tag in (sch("rule"), sch("pattern"), sch("phase"))
        ):
            raise SchematronUnsupportedError(
                f"xsl:{_local(el)} inside sch:{_local(parent)} is not supported (only at schema level)"
            )


class _Emitter:
    """Builds the XSLT tree for a set of phases."""

    def __init__(self, model: SchemaModel, phase_ids: Sequence[str]) -> None:
        self.model = model
        self.phases = [model.phase(p) for p in phase_ids]
        nsmap: dict[str, str] = dict(_RESERVED_PREFIXES)
        for prefix, uri in model.namespaces:
            nsmap[prefix] = uri
        self.root = etree.Element(xsl("stylesheet"), nsmap=nsmap)
        self.root.set("version", "3.0")
        self.root.set("exclude-result-prefixes", "#all")
        # Phase lets visible to each pattern: union over the compiled phases that activate it.
        self.phase_lets: dict[int, list[str]] = {}
        for ph in self.phases:
            for pat in ph.patterns:
                names = self.phase_lets.setdefault(pat.index, [])
                names.extend(let.name for let in ph.lets if let.name not in names)

    # -- helpers ---------------------------------------------------------------------------------
    def _let(self, parent: etree._Element, let: _Let, tag: str) -> etree._Element:
        var = etree.SubElement(parent, xsl(tag), name=let.name)
        value = let.element.get("value")
        if let.element.get("as"):
            var.set("as", let.element.get("as", ""))
        if value is not None:
            var.set("select", value)
        else:
            for child in let.element:
                var.append(_copy_foreign(child))
            var.text = let.element.text
        return var

    def _text(self, parent: etree._Element, source: etree._Element) -> None:
        """Emit the mixed content of an assertion/diagnostic: text, value-of, name, emph/dir/span."""
        if source.text:
            etree.SubElement(parent, xsl("text")).text = source.text
        for child in source:
            tag = _tag(child)
            if tag is not None:
                if _is_sch(child, "value-of"):
                    select = child.get("select")
                    if not select:
                        raise SchematronSourceError("sch:value-of without select")
                    etree.SubElement(parent, xsl("value-of"), select=select, separator=" ")
                elif _is_sch(child, "name"):
                    path = child.get("path")
                    expr = f"name({path})" if path else "name()"
                    etree.SubElement(parent, xsl("value-of"), select=expr)
                elif not tag.startswith("{" + SCH_NS + "}") or _local(child) in _ASSERTION_TEXT_ELEMENTS:
                    self._text(parent, child)
                else:
                    raise SchematronUnsupportedError(f"sch:{_local(child)} inside assertion text")
            if child.tail:
                etree.SubElement(parent, xsl("text")).text = child.tail

    # -- top level -------------------------------------------------------------------------------
    def emit(self) -> etree._Element:
        top = [el for el in self.model.root if (_tag(el) or "").startswith("{" + XSL_NS + "}")]
        for el in top:
            if _local(el) not in PASSTHROUGH_XSL:
                raise SchematronUnsupportedError(f"top-level xsl:{_local(el)} is not supported")
        for el in [e for e in top if _local(e) == "import"] + [e for e in top if _local(e) != "import"]:
            self.root.append(_copy_foreign(el))
        if not any(_local(e) == "output" for e in top):
            etree.SubElement(self.root, xsl("output"), method="xml", encoding="UTF-8", indent="no")
        if len(self.phases) > 1:
            param = etree.SubElement(self.root, xsl("param"), name=PHASE_PARAM)
            param.set("as", "xs:string")
            param.set("select", _xpath_string(self.phases[0].ident))
        for let in self.model.lets:
            self._let(self.root, let, "param")
        self._helpers()
        self._entry()
        for pat in self._compiled_patterns():
            self._pattern(pat)
        return self.root

    def _compiled_patterns(self) -> list[_Pattern]:
        wanted = {p.index for ph in self.phases for p in ph.patterns}
        return [p for p in self.model.patterns if p.index in wanted]

    def _helpers(self) -> None:
        """``schxp:location``: an XPath to a node in the official reports' form, e.g.
        ``/cn:ContractNotice/cac:ProcurementProjectLot[2]/cbc:ID`` (prefixes from ``sch:ns``; ``[n]`` only
        when the element has same-named siblings; ``*:x[namespace-uri()='…']`` for undeclared namespaces)."""
        prefixes: dict[str, str] = {}
        for prefix, uri in self.model.namespaces:
            prefixes.setdefault(uri, prefix)
        entries = ", ".join(f"{_xpath_string(uri)}: {_xpath_string(p)}" for uri, p in prefixes.items())
        etree.SubElement(self.root, xsl("variable"), name="schxp:prefixes", select=f"map{{{entries}}}").set(
            "as", "map(xs:string, xs:string)"
        )
        qname = etree.SubElement(self.root, xsl("function"), name="schxp:qname")
        qname.set("as", "xs:string")
        etree.SubElement(qname, xsl("param"), name="n").set("as", "node()")
        etree.SubElement(qname, xsl("sequence")).set(
            "select",
            "let $uri := namespace-uri($n) return "
            "if ($uri eq '') then local-name($n) "
            "else if (map:contains($schxp:prefixes, $uri)) "
            "then $schxp:prefixes($uri) || ':' || local-name($n) "
            "else '*:' || local-name($n) || '[namespace-uri()=' || codepoints-to-string(39) || $uri "
            "|| codepoints-to-string(39) || ']'",
        )
        fn = etree.SubElement(self.root, xsl("function"), name="schxp:location")
        fn.set("as", "xs:string")
        etree.SubElement(fn, xsl("param"), name="node").set("as", "node()?")
        etree.SubElement(fn, xsl("sequence")).set(
            "select",
            "if (empty($node)) then '' else if ($node instance of document-node()) then '/' "
            "else string-join(for $a in $node/ancestor-or-self::node()[not(. instance of document-node())] "
            "return schxp:step($a), '')",
        )
        step = etree.SubElement(self.root, xsl("function"), name="schxp:step")
        step.set("as", "xs:string")
        etree.SubElement(step, xsl("param"), name="n").set("as", "node()")
        etree.SubElement(step, xsl("sequence")).set(
            "select",
            "if ($n instance of element()) then "
            "  let $same := $n/../*[node-name(.) eq node-name($n)] return "
            "  '/' || schxp:qname($n) || (if (count($same) gt 1) then "
            "    '[' || (count($n/preceding-sibling::*[node-name(.) eq node-name($n)]) + 1) || ']' else '') "
            "else if ($n instance of attribute()) then '/@' || schxp:qname($n) "
            "else if ($n instance of text()) "
            "then '/text()[' || (count($n/preceding-sibling::text()) + 1) || ']' "
            "else if ($n instance of comment()) then "
            "  '/comment()[' || (count($n/preceding-sibling::comment()) + 1) || ']' "
            "else if ($n instance of processing-instruction()) then "
            "  '/processing-instruction(' || name($n) || ')[' "
            "  || (count($n/preceding-sibling::processing-instruction()) + 1) || ']' "
            "else '/namespace::' || name($n)",
        )

    def _entry(self) -> None:
        tpl = etree.SubElement(self.root, xsl("template"), match="/")
        if len(self.phases) == 1:
            self._phase_body(tpl, self.phases[0])
            return
        choose = etree.SubElement(tpl, xsl("choose"))
        for ph in self.phases:
            when = etree.SubElement(choose, xsl("when"), test=f"${PHASE_PARAM} = {_xpath_string(ph.ident)}")
            self._phase_body(when, ph)
        other = etree.SubElement(choose, xsl("otherwise"))
        msg = etree.SubElement(other, xsl("message"), terminate="yes")
        msg.set("error-code", "schxp:unknown-phase")
        etree.SubElement(msg, xsl("value-of"), select=f"'unknown phase: ' || ${PHASE_PARAM}")

    def _phase_body(self, parent: etree._Element, ph: _Phase) -> None:
        for let in ph.lets:
            self._let(parent, let, "variable")
        out = etree.SubElement(parent, f"{{{SVRL_NS}}}schematron-output")
        if self.model.title:
            out.set("title", _avt(self.model.title))
        if self.model.root.get("schemaVersion"):
            out.set("schemaVersion", _avt(self.model.root.get("schemaVersion", "")))
        if ph.ident != ALL_PHASE:
            out.set("phase", _avt(ph.ident))
        for prefix, uri in self.model.namespaces:
            ns = etree.SubElement(out, f"{{{SVRL_NS}}}ns-prefix-in-attribute-values")
            ns.set("prefix", _avt(prefix))
            ns.set("uri", _avt(uri))
        for pat in ph.patterns:
            active = etree.SubElement(out, f"{{{SVRL_NS}}}active-pattern")
            if pat.ident:
                active.set("id", _avt(pat.ident))
            title = pat.element.find(sch("title"))
            if title is not None:
                active.set("name", _avt(_text_of(title).strip()))
            call = etree.SubElement(out, xsl("call-template"), name=pat.entry)
            for let in ph.lets:
                wp = etree.SubElement(call, xsl("with-param"), name=let.name, select=f"${let.name}")
                wp.set("tunnel", "yes")

    # -- patterns and rules ----------------------------------------------------------------------
    def _pattern(self, pat: _Pattern) -> None:
        mode = etree.SubElement(self.root, xsl("mode"), name=pat.mode)
        mode.set("on-no-match", "shallow-skip")
        entry = etree.SubElement(self.root, xsl("template"), name=pat.entry)
        phase_names = self.phase_lets.get(pat.index, [])
        pattern_names = [let.name for let in pat.lets]
        for name in phase_names:
            if name not in pattern_names:
                etree.SubElement(entry, xsl("param"), name=name, tunnel="yes")
        for let in pat.lets:
            self._let(entry, let, "variable")
        apply = etree.SubElement(entry, xsl("apply-templates"), select="/", mode=pat.mode)
        for name in pattern_names:
            etree.SubElement(apply, xsl("with-param"), name=name, select=f"${name}", tunnel="yes")
        visible = list(dict.fromkeys([*phase_names, *pattern_names]))
        rules = [r for r in pat.element.iter(sch("rule"))]
        for position, rule in enumerate(rules):
            self._rule(pat, rule, len(rules) - position, visible)

    def _rule(self, pat: _Pattern, rule: etree._Element, priority: int, visible: list[str]) -> None:
        context = rule.get("context")
        if not context:
            raise SchematronSourceError(f"rule without context in pattern {pat.ident!r}")
        tpl = etree.SubElement(
            self.root, xsl("template"), match=context, mode=pat.mode, priority=str(priority)
        )
        text = etree.tostring(rule, encoding="unicode")
        for name in visible:
            if _mentions(text, name):
                etree.SubElement(tpl, xsl("param"), name=name, tunnel="yes")
        fired = None
        for child in rule:
            tag = _tag(child)
            if tag is None:
                continue
            if _is_sch(child, "let"):
                self._let(tpl, _Let(_let_name(child), child), "variable")
                continue
            if fired is None:
                fired = self._fired_rule(tpl, rule, context)
            if _is_sch(child, "assert", "report"):
                self._check(tpl, child, rule)
            elif _is_sch(child, "p", "title"):
                continue
            elif tag.startswith("{" + SCH_NS + "}"):
                raise SchematronUnsupportedError(f"sch:{_local(child)} inside sch:rule")
        if fired is None:
            self._fired_rule(tpl, rule, context)
        etree.SubElement(tpl, xsl("apply-templates"), select="@*|node()", mode="#current")

    def _fired_rule(self, tpl: etree._Element, rule: etree._Element, context: str) -> etree._Element:
        fired = etree.SubElement(tpl, f"{{{SVRL_NS}}}fired-rule", context=_avt(context))
        for attr in ("id", "role", "flag"):
            if rule.get(attr):
                fired.set(attr, _avt(rule.get(attr, "")))
        return fired

    def _check(self, tpl: etree._Element, check: etree._Element, rule: etree._Element) -> None:
        test = check.get("test")
        if not test:
            raise SchematronSourceError(f"sch:{_local(check)} {check.get('id')!r} without test")
        is_assert = _is_sch(check, "assert")
        cond = etree.SubElement(tpl, xsl("if"), test=f"not({test})" if is_assert else test)
        out = etree.SubElement(cond, f"{{{SVRL_NS}}}{'failed-assert' if is_assert else 'successful-report'}")
        out.set("test", _avt(test))
        for attr in ("id", "flag", "role", "see", "icon", "fpi"):
            if check.get(attr):
                out.set(attr, _avt(check.get(attr, "")))
        subject = check.get("subject") or rule.get("subject")
        out.set("location", f"{{schxp:location(({subject})[1])}}" if subject else "{schxp:location(.)}")
        text = etree.SubElement(out, f"{{{SVRL_NS}}}text")
        self._text(text, check)
        for diag_id in (check.get("diagnostics") or "").split():
            diag = self.model.diagnostics.get(diag_id)
            if diag is None:
                raise SchematronReferenceError(
                    f"{check.get('id')!r}: diagnostics={diag_id!r} names no diagnostic"
                )
            ref = etree.SubElement(out, f"{{{SVRL_NS}}}diagnostic-reference", diagnostic=_avt(diag_id))
            if diag.get("see"):
                ref.set("see", _avt(diag.get("see", "")))
            self._text(etree.SubElement(ref, f"{{{SVRL_NS}}}text"), diag)
        for prop_id in (check.get("properties") or "").split():
            prop = self.model.properties.get(prop_id)
            if prop is None:
                raise SchematronReferenceError(
                    f"{check.get('id')!r}: properties={prop_id!r} names no property"
                )
            ref = etree.SubElement(out, f"{{{SVRL_NS}}}property-reference", property=_avt(prop_id))
            for attr in ("role", "scheme"):
                if prop.get(attr):
                    ref.set(attr, _avt(prop.get(attr, "")))
            self._text(etree.SubElement(ref, f"{{{SVRL_NS}}}text"), prop)


def _xpath_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _copy_foreign(el: etree._Element) -> etree._Element:
    return copy.deepcopy(el)


def generate_xslt(model: SchemaModel, phases: Iterable[str]) -> bytes:
    """Return the XSLT 3.0 stylesheet (UTF-8 bytes) running ``phases`` (already resolved ids)."""
    phase_ids = list(dict.fromkeys(phases))
    if not phase_ids:
        raise SchematronPhaseError("no phase to compile")
    root = _Emitter(model, phase_ids).emit()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
