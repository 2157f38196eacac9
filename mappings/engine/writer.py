"""Writing: an OCDS release through a spec into a UBL tree (:func:`write`), with the provenance of every
element written (``trace``) and the kept lexical forms of a release that was read from UBL."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, Final

from lxml import etree

from mappings import paths
from mappings.engine.forms import RAW_TYPES, compiled_xpath, raw_key, read_value, variant_target, xp
from mappings.errors import MappingError
from mappings.spec import Rule, Spec
from mappings.transforms import END_OF_DAY, START_OF_DAY, date_to_iso, fmt_number, from_ocds, iso_to_date_time
from mappings.xmlbuild import create_step, ensure_path, split_steps

_Element = etree._Element
#: Where a rule writes: an element, or a factory that creates the (repeated) element on first use.
_Node = _Element | Callable[[], _Element]

#: ``env`` key of the OCDS language codes (ISO 639-1) that have language variations in the release.
VARIANT_LANGUAGES: Final = "variantLanguages"

# ---------------------------------------------------------------- provenance
#
# A writer may ask which OCDS value each UBL element came from (``write(..., trace=...)``), so a
# validation finding on the output can name the input path that caused it. ``_LEAF`` holds the trace
# and the OCDS path of the rule being applied while its elements are written.

Trace = dict[_Element, str]
_LEAF: ContextVar[tuple[Trace, str] | None] = ContextVar("_LEAF", default=None)


def _traced(el: _Element) -> None:
    current = _LEAF.get()
    if current is not None:
        current[0].setdefault(el, current[1])


def _rule_path(scope_path: str, rule: Rule, index: int) -> str:
    """The OCDS path a rule writes from, e.g. ``tender.lots[0].tenderPeriod.endDate``."""
    ocds = rule.ocds
    if ocds.startswith("^"):
        return ocds[1:].replace("$index", str(index))
    path = ocds.replace("[]", f"[{index}]", 1) if rule.each else ocds
    path = path.replace("$index", str(index))
    return f"{scope_path}.{path}" if scope_path else path


@dataclass(frozen=True)
class WriteContext:
    """One scope object being written: the release, its kept lexical forms (``raws``), the spec, the
    attribute values ``$name`` stands for (``env``, e.g. ``lang``), the scope's name, the object and its
    key (``""`` for an unkeyed scope)."""

    release: dict[str, Any]
    raws: dict[str, Any]
    spec: Spec
    env: dict[str, str]
    scope: str
    obj: dict[str, Any]
    key: str

    def value(self, path: str, index: int) -> Any:
        """The OCDS value at ``path`` (relative to the object, or ``^`` from the release)."""
        return paths.get_value(self.release, self.obj, path, index=index, key=self.key)

    def raw(self, rule: Rule, index: int) -> dict[str, Any] | None:
        """The lexical form ``rule`` read at ``index``, if the release was read from UBL."""
        found: dict[str, Any] | None = self.raws.get(raw_key(self.scope, self.key, rule, index))
        return found


def _raw_value(rule: Rule, raw: dict[str, Any]) -> Any:
    """The OCDS value a kept lexical form converts to (``None`` when it cannot be converted)."""
    probe = etree.Element("probe")
    probe.text = str(raw.get("text", ""))
    for k, v in (raw.get("attrs") or {}).items():
        probe.set(k, v)
    try:
        if rule.type in ("date-start", "date-end"):
            default = START_OF_DAY if rule.type == "date-start" else END_OF_DAY
            return date_to_iso(probe.text, raw.get("time"), default, rule.id)
        return read_value(rule, probe, probe)
    except MappingError:
        return None


def _node(ctx: _Node) -> _Element:
    return ctx if isinstance(ctx, etree._Element) else ctx()


def _write_join(w: WriteContext, rule: Rule, ctx: _Node, value: Any, raw: dict[str, Any] | None) -> None:
    parts: list[list[str]] = (raw or {}).get("parts") or []
    main_text = str((raw or {}).get("text") or "")
    kept = [t for t in (main_text, *(t for ps in parts for t in ps)) if t]
    if raw is None or not parts or rule.sep.join(kept) != str(value):
        _write_leaf(w, rule, ctx, value, fresh=False)  # edited: one element holds it
        return
    node = _node(ctx)
    if main_text:
        _write_leaf(w, rule, node, main_text, fresh=False)
    for xpath, texts in zip(rule.join, parts, strict=False):
        steps = split_steps(xpath)
        for i, text in enumerate(texts):
            if i == 0 or len(steps) < 2:
                el = ensure_path(node, xpath, fresh_last=i > 0)
            else:
                # a repeated line repeats its container (cac:AddressLine/cbc:Line)
                parent = ensure_path(node, "/".join(steps[:-2])) if len(steps) > 2 else node
                el = ensure_path(create_step(parent, steps[-2]), steps[-1])
            el.text = text


def _write_leaf(
    w: WriteContext, rule: Rule, ctx: _Node, value: Any, *, fresh: bool, raw: dict[str, Any] | None = None
) -> bool:
    """Write ``value`` (True when an element was written; a value without UBL form writes nothing)."""
    steps = split_steps(rule.xml)
    attr = ""
    if steps and steps[-1].startswith("@"):
        attr = steps[-1][1:]
        steps = steps[:-1]
    elem_path = "/".join(steps)
    attrs = dict(rule.attrs)
    text: str | None
    time_text = ""
    if raw is not None and _raw_value(rule, raw) == value:
        # unchanged since read: write the original lexical form
        text = str(raw.get("text", ""))
        attrs.update(raw.get("attrs") or {})
        if rule.time and raw.get("time"):
            time_text = str(raw["time"])
    elif rule.type in ("date-start", "date-end"):
        day, clock, tz = iso_to_date_time(value, rule.ocds)
        text = day + tz
        # the companion time is written unless it is the implied end of day of a date-only value
        if rule.time and clock and clock != END_OF_DAY:
            time_text = clock + tz
    elif rule.type == "amount":
        if not isinstance(value, dict) or "amount" not in value:
            raise MappingError("amount must be an object with 'amount'", rule.ocds)
        text = fmt_number(value["amount"])
        if value.get("currency"):
            attrs["currencyID"] = str(value["currency"])
    elif rule.type == "duration-days":
        text = fmt_number(value)
        attrs.setdefault("unitCode", "DAY")
    else:
        reverse = w.spec.reverse(rule.table, value) if rule.table else None
        text = from_ocds(rule.type, value, rule.table, reverse)
    if text is None:
        return False
    node = _node(ctx)
    if fresh and rule.variant_at and elem_path.startswith(rule.variant_at + "/"):
        # another language variant repeats an ancestor (e.g. cac:PartyName), not the leaf
        head = split_steps(rule.variant_at)
        parent = ensure_path(node, "/".join(head[:-1])) if len(head) > 1 else node
        repeated = create_step(parent, head[-1])
        el = ensure_path(repeated, elem_path[len(rule.variant_at) + 1 :])
    else:
        el = node if not elem_path else ensure_path(node, elem_path, fresh_last=fresh)
    if time_text:
        time_el = ensure_path(node, rule.time)
        time_el.text = time_text
        _traced(time_el)
    if attr:
        el.set(attr, text)
    else:
        el.text = text
    _traced(el)
    for k, v in attrs.items():
        if v.startswith("$"):
            v = w.env.get(v[1:], "")
            if not v:
                continue
        el.set(k, v)
    return True


def _owned_by_other(
    w: WriteContext, rule: Rule, index: int, value: Any, root: _Element | None, here: _Element | None
) -> bool:
    """True when another rule of the scope read this OCDS value from its own element.

    Several eForms fields can fill one OCDS field (e.g. BT-131 and BT-1311 both give
    ``tenderPeriod.endDate``); the value is written back only by the rule that read it.
    """
    spec = w.spec
    if not spec.shares_target(rule):
        return False
    kept_by_other = False
    for other in spec.same_target(rule):
        if other is rule:
            continue
        oraw = w.raw(other, index)
        if oraw is not None and oraw.get("variants"):
            oraw = oraw["variants"][0]
        if oraw is not None and "text" in oraw and _raw_value(other, oraw) == value:
            return True
        kept_by_other = kept_by_other or (other.write and oraw is not None and "text" in oraw)
    if rule.ocds.endswith("[]"):
        return False  # a shared list: each rule writes the items it has a UBL form for
    if kept_by_other:
        return True  # an edited value goes back to the element that held it
    # a value from OCDS alone (no kept form says which element held it) goes to one element: the
    # writer whose ``prefer_when`` holds on the document (BT-1311 for procedures with a participation
    # stage), else the last writer without a condition (BT-131 tender deadline, BT-18 submission URL)
    writers = [r for r in spec.same_target(rule) if r.write]
    chosen = next(
        (
            r
            for r in writers
            if (r.prefer_when and _holds(root, r.prefer_when))
            or (r.prefer_here and _holds(here, r.prefer_here))
        ),
        None,
    )
    if chosen is None:
        plain = [r for r in writers if not r.prefer_when and not r.prefer_here]
        chosen = plain[-1] if plain else None
    return chosen is not None and chosen is not rule


def _holds(root: _Element | None, condition: str) -> bool:
    return root is not None and bool(compiled_xpath(f"boolean({condition})")(root))


def _underived(w: WriteContext, rule: Rule, value: Any, index: int) -> Any:
    """The rule's own value when ``value`` is still the one a ``last`` join rule derived from it."""
    if not w.spec.shares_target(rule):
        return value
    for other in w.spec.same_target(rule):
        if other is rule or not other.last or not other.join:
            continue
        oraw = w.raw(other, index)
        if not oraw or "parts" not in oraw:
            continue
        kept = [t for t in (oraw.get("text", ""), *(t for ps in oraw["parts"] for t in ps)) if t]
        if other.sep.join(kept) == value and oraw.get("text"):
            return oraw["text"]
    return value


def _write_empty(rule: Rule, ctx: _Node, raw: dict[str, Any]) -> None:
    steps = split_steps(rule.xml)
    if steps and steps[-1].startswith("@"):
        return
    el = ensure_path(_node(ctx), "/".join(steps))
    el.text = str(raw.get("text") or "") or None
    for k, v in (raw.get("attrs") or {}).items():
        el.set(k, v)
    _traced(el)


def _apply_write(w: WriteContext, rule: Rule, ctx: _Node, index: int) -> None:
    value = w.value(rule.ocds, index)
    raw = w.raw(rule, index)
    if rule.join:
        if rule.each and rule.ocds.endswith("[]"):
            raise MappingError("a joined value cannot fill a list", rule.ocds)
        if value is not None:
            _write_join(w, rule, ctx, value, raw)
        return
    if value is None:
        if raw is not None and "text" in raw and not str(raw["text"]).strip():
            _write_empty(rule, ctx, raw)
            return
        if raw is not None and "text" in raw and rule.type in RAW_TYPES and _raw_value(rule, raw) is None:
            # a code OCDS has no value for (e.g. 'none'): written back as it was read
            _write_leaf(w, rule, ctx, None, fresh=False, raw=raw)
        elif rule.default and not w.raws and not rule.each:
            doc = ctx.getroottree().getroot() if isinstance(ctx, etree._Element) else None
            if not rule.default_when or _holds(doc, rule.default_when):
                literal = {k: v for k, v in rule.attrs if not v.startswith("$")}
                _write_empty(rule, ctx, {"text": rule.default, "attrs": literal})
        return
    value = _underived(w, rule, value, index)
    if raw is not None and "variants" in raw:
        variants = raw["variants"]
        if any(str(v.get("text", "")).strip() == str(value).strip() for v in variants):
            for i, variant in enumerate(variants):
                _write_leaf(w, rule, ctx, variant.get("text", ""), fresh=i > 0, raw=variant)
            return
        raw = None
    if rule.type not in RAW_TYPES and rule.type != "text":
        raw = None
    if raw is None and w.spec.shares_target(rule):
        doc = ctx.getroottree().getroot() if isinstance(ctx, etree._Element) else None
        here = ctx if isinstance(ctx, etree._Element) else None
        if _owned_by_other(w, rule, index, value, doc, here):
            return
    if rule.each and rule.ocds.endswith("[]") and rule.ocds.count("[]") == 1:
        # one repeated UBL element per list item: the i-th element holds item i
        if not isinstance(value, list) or index >= len(value):
            return
        _write_leaf(w, rule, ctx, value[index], fresh=False)
        return
    if rule.also and not all(w.value(p, index) == v for p, v in rule.also):
        return
    if rule.ocds.endswith("[]"):
        if not isinstance(value, list):
            raise MappingError("expected a list", rule.ocds)
        if raw is not None and len(value) == 1 and _raw_value(rule, raw) == value[0]:
            _write_leaf(w, rule, ctx, value[0], fresh=False, raw=raw)
            return
        written = 0
        for item in value:
            # items without a UBL form here (another rule's codes in a shared list) take no element
            written += _write_leaf(w, rule, ctx, item, fresh=written > 0)
        return
    written = _write_leaf(w, rule, ctx, value, fresh=False, raw=raw)
    if written and raw is None and w.env.get(VARIANT_LANGUAGES) and variant_target(rule):
        _write_language_variants(w, rule, ctx, index)


def _write_language_variants(w: WriteContext, rule: Rule, ctx: _Node, index: int) -> None:
    """Each OCDS language variation of the value (``title_fr``) as another variant of its element,
    with the eForms language code (a release without the kept UBL forms)."""
    lang3_of = {v: k for k, v in (w.spec.tables.get("language") or {}).items()}
    for lang2 in w.env[VARIANT_LANGUAGES].split(","):
        text = w.value(f"{rule.ocds}_{lang2}", index)
        if isinstance(text, str) and text.strip() and lang2 in lang3_of:
            variant = replace(w, env={**w.env, "lang": lang3_of[lang2]})
            _write_leaf(variant, rule, ctx, text, fresh=True)


def language_variations(release: Any, codes: frozenset[str]) -> list[str]:
    """The language codes of ``codes`` used as OCDS language-variation suffixes anywhere in ``release``."""
    found: set[str] = set()
    stack = [release]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and len(k) > 3 and k[-3] == "_" and k[-2:] in codes:
                    found.add(k[-2:])
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found)


def _each_factory(node: _Element, each: str, index: int) -> Callable[[], _Element]:
    """The ``index``-th ``each`` element under ``node``, created only when a value is written."""

    def make() -> _Element:
        existing = [e for e in xp(node, each) if isinstance(e, etree._Element)]
        while len(existing) <= index:
            # the first one may come with its parent (whose predicate materialises it); later ones are new
            ensure_path(node, each, fresh_last=bool(existing))
            existing = [e for e in xp(node, each) if isinstance(e, etree._Element)]
        return existing[index]

    return make


def write(
    release: dict[str, Any],
    spec: Spec,
    root: _Element,
    env: dict[str, str] | None = None,
    *,
    trace: Trace | None = None,
    origin: dict[str, Any] | None = None,
) -> None:
    """Apply ``spec`` in reverse: add the UBL elements describing ``release`` to ``root``.

    With ``trace``, every element written is mapped to the OCDS path of its value (scope elements to
    their object, e.g. ``tender.lots[0]``), positions counted in ``origin`` (default ``release``) when
    ``release`` is a filtered copy of it.
    """
    env = env or {}
    origin = release if origin is None else origin
    raws: dict[str, Any] = (release.get("platform") or {}).get(spec.name) or {}
    for scope in spec.scopes:
        rules = [r for r in spec.rules_of(scope.name) if r.write]
        if not rules and scope.ocds:
            continue  # a read-only scope (e.g. parts): nothing to write, no element to create
        targets: list[tuple[dict[str, Any], str]] = []
        if not scope.ocds:
            targets = [(release, "")]
        else:
            found = paths.get_value(release, release, scope.ocds)
            if isinstance(found, dict):
                targets = [(found, "")]
            elif isinstance(found, list):
                targets = [
                    (o, str(o.get("id", "")))
                    for o in found
                    if isinstance(o, dict)
                    and (not scope.role or scope.role in (o.get("roles") or []))
                    and (not scope.require or any(k in o for k in scope.require))
                    and not any(all(o.get(k) == v for k, v in pattern) for pattern in scope.exclude)
                ]
        for obj, key in targets:
            if scope.xml in (".", ""):
                node = root
            else:
                node = ensure_path(root, scope.xml, fresh_last=bool(scope.key))
            scope_path = _scope_path(origin, scope.ocds, obj) if trace is not None else ""
            if trace is not None and node is not root:
                trace.setdefault(node, scope_path)
            if scope.key:
                kel = ensure_path(node, scope.key)
                kel.text = key
                for a, v in scope.key_attrs:
                    kel.set(a, v)
                if trace is not None:
                    trace.setdefault(kel, f"{scope_path}.id")
            context = WriteContext(release, raws, spec, env, scope.name, obj, key)
            for rule in rules:
                n = paths.list_length(release, obj, rule.ocds, key=key) if rule.each else 1
                for i in range(n):
                    token = _LEAF.set((trace, _rule_path(scope_path, rule, i))) if trace is not None else None
                    try:
                        if rule.each:
                            _apply_write(context, rule, _each_factory(node, rule.each, i), i)
                        else:
                            _apply_write(context, rule, node, 0)
                    except MappingError as exc:
                        if exc.path and exc.path != rule.ocds:
                            raise
                        # name the input value: tender.lots[0].value, not the rule's relative path
                        at = _rule_path(_scope_path(origin, scope.ocds, obj), rule, i)
                        raise MappingError(exc.reason, at) from exc
                    finally:
                        if token is not None:
                            _LEAF.reset(token)


def _scope_path(origin: dict[str, Any], ocds: str, obj: dict[str, Any]) -> str:
    """``tender.lots[2]`` for the third lot of ``origin``; the scope's path for an object scope."""
    if not ocds:
        return ""
    found = paths.get_value(origin, origin, ocds)
    if isinstance(found, list):
        index = next((i for i, o in enumerate(found) if o is obj), None)
        if index is None and obj.get("id") is not None:  # a copy of the object: found by its id
            index = next(
                (i for i, o in enumerate(found) if isinstance(o, dict) and o.get("id") == obj["id"]), None
            )
        if index is not None:
            return f"{ocds}[{index}]"
    return ocds
