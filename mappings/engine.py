"""The engine that applies a declarative spec in both directions (UBL tree <-> OCDS release)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Final

from lxml import etree

from mappings import paths
from mappings.errors import MappingError
from mappings.spec import Rule, Scope, Spec
from mappings.transforms import (
    DAYS_PER_UNIT,
    END_OF_DAY,
    START_OF_DAY,
    date_to_iso,
    fmt_number,
    from_ocds,
    iso_to_date_time,
    number,
    to_ocds,
)
from mappings.xmlbuild import create_step, ensure_path, split_steps
from mappings.xmlns import CBC, NS

_Element = etree._Element


@lru_cache(maxsize=4096)
def _compiled(expr: str) -> etree.XPath:
    try:
        return etree.XPath(expr, namespaces=NS)
    except etree.XPathError as exc:
        raise MappingError(f"bad XPath in spec: {exc}", expr) from exc


def compiled_xpath(expr: str) -> etree.XPath:
    """The compiled (cached) XPath of a spec expression, with the UBL/eForms namespaces."""
    return _compiled(expr)


def _xp(node: _Element, expr: str) -> list[Any]:
    res = _compiled(expr)(node)
    return res if isinstance(res, list) else [res]


def _text(item: Any) -> str:
    if isinstance(item, etree._Element):
        return "".join(str(t) for t in item.itertext())
    return str(item)


def _where(node: _Element) -> str:
    return node.getroottree().getpath(node)


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


# ---------------------------------------------------------------- lexical forms
#
# OCDS normalises values (codes through tables, durations to days, dates to ISO date-times, amounts to
# numbers), so the UBL lexical form is kept in the platform extension (``platform.eforms``), keyed by
# scope, key, rule and index. A writer uses it only while it still converts to the current OCDS value,
# so an edited release is written from OCDS and an unedited one is written back byte-for-byte.

RAW_TYPES = frozenset(
    {"code", "label", "bool", "int", "number", "percent", "date-start", "date-end", "amount", "duration-days"}
)


def _raw_key(scope: str, key: str, rule: Rule, index: int) -> str:
    return f"{scope}|{key}|{rule.id}|{index}"


def _raw_store(release: dict[str, Any], raw_ns: str) -> dict[str, Any]:
    platform = release.setdefault("platform", {})
    store: dict[str, Any] = platform.setdefault(raw_ns, {})
    return store


def _lexical(rule: Rule, ctx: _Element, match: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"text": _text(match)}
    if isinstance(match, etree._Element) and match.attrib:
        raw["attrs"] = {str(k): str(v) for k, v in match.attrib.items()}
    if rule.time:
        t = _xp(ctx, rule.time)
        if t:
            raw["time"] = _text(t[0])
    return raw


# ---------------------------------------------------------------- reading (UBL -> OCDS)


def _scope_objects(release: dict[str, Any], scope: Scope, key: str) -> dict[str, Any]:
    if not scope.ocds:
        return release
    if not scope.key:
        single = paths.get_value(release, release, scope.ocds)
        if not isinstance(single, dict):
            paths.set_value(release, release, scope.ocds, {})
            single = paths.get_value(release, release, scope.ocds)
        assert isinstance(single, dict)
        return single
    # keyed list
    lst = paths.get_value(release, release, scope.ocds)
    if not isinstance(lst, list):
        paths.set_value(release, release, scope.ocds + "[]", None)
        lst = paths.get_value(release, release, scope.ocds)
        assert isinstance(lst, list)
        lst.clear()
    if key:
        for item in lst:
            if isinstance(item, dict) and item.get("id") == key:
                found: dict[str, Any] = item
                return found
    obj: dict[str, Any] = {"id": key} if key else {}
    lst.append(obj)
    return obj


def _read_value(rule: Rule, ctx: _Element, match: Any, spec: Spec) -> Any:
    where = _where(match) if isinstance(match, etree._Element) else _where(ctx) + "/" + rule.xml
    if rule.type in ("date-start", "date-end"):
        time_text = None
        if rule.time:
            t = _xp(ctx, rule.time)
            time_text = _text(t[0]) if t else None
        default = START_OF_DAY if rule.type == "date-start" else END_OF_DAY
        return date_to_iso(_text(match), time_text, default, where)
    if rule.type == "amount":
        cur = match.get("currencyID") if isinstance(match, etree._Element) else None
        out: dict[str, Any] = {"amount": number(_text(match), where)}
        if cur:
            out["currency"] = cur
        return out
    if rule.type == "duration-days":
        unit = match.get("unitCode", "DAY") if isinstance(match, etree._Element) else "DAY"
        return int(number(_text(match), where) * DAYS_PER_UNIT.get(unit, 1))
    return to_ocds(rule.type, _text(match), rule.table, where)


def _reference_value(rule: Rule, match: Any, key: str) -> Any:
    spec_value = rule.value
    if spec_value == "$key":
        return key or None
    if isinstance(spec_value, str) and spec_value.startswith("xpath:"):
        if not isinstance(match, etree._Element):
            return None
        found = _xp(match, spec_value.removeprefix("xpath:"))
        text = _text(found[0]).strip() if found else ""
        if not text:
            return None
        if rule.type in ("int", "number", "percent"):
            return to_ocds(
                rule.type, text, {}, _where(found[0]) if isinstance(found[0], etree._Element) else ""
            )
        return rule.table.get(text) if rule.table else text
    return spec_value


def _read_join(
    rule: Rule,
    ctx: _Element,
    release: dict[str, Any],
    obj: dict[str, Any],
    key: str,
    index: int,
    spec: Spec,
    scope: str,
) -> None:
    """A value made of several elements (e.g. street, additional street, address lines) joined by ``sep``.

    Each part's text is kept, so an unedited value is written back element by element.
    """
    main = _xp(ctx, rule.xml)[:1]
    main_text = _text(main[0]).strip() if main else ""
    parts = [[_text(m).strip() for m in _xp(ctx, p)] for p in rule.join]
    texts = [t for t in (main_text, *(t for ps in parts for t in ps)) if t]
    if not texts:
        return
    _raw_store(release, spec.name)[_raw_key(scope, key, rule, index)] = {"text": main_text, "parts": parts}
    paths.set_value(release, obj, rule.ocds, rule.sep.join(texts), index=index, key=key)


def _write_join(
    rule: Rule,
    ctx_or_factory: _Element | Callable[[], _Element],
    value: Any,
    raw: dict[str, Any] | None,
    spec: Spec,
    env: dict[str, str],
) -> None:
    parts: list[list[str]] = (raw or {}).get("parts") or []
    main_text = str((raw or {}).get("text") or "")
    kept = [t for t in (main_text, *(t for ps in parts for t in ps)) if t]
    if raw is None or not parts or rule.sep.join(kept) != str(value):
        _write_leaf(rule, ctx_or_factory, value, spec, env, fresh=False)  # edited: one element holds it
        return
    node = ctx_or_factory if isinstance(ctx_or_factory, etree._Element) else ctx_or_factory()
    if main_text:
        _write_leaf(rule, node, main_text, spec, env, fresh=False)
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


def _apply_read(
    rule: Rule,
    ctx: _Element,
    release: dict[str, Any],
    obj: dict[str, Any],
    key: str,
    index: int,
    spec: Spec,
    scope: str = "",
) -> None:
    if rule.join:
        _read_join(rule, ctx, release, obj, key, index, spec, scope)
        return
    matches = _xp(ctx, rule.xml)
    if not matches:
        return
    many = rule.ocds.endswith("[]")
    if not many and rule.type == "text" and len(matches) > 1 and "$value" not in rule.ocds:
        # multilingual text: every language variant is kept, the first one is the OCDS value
        _raw_store(release, spec.name)[_raw_key(scope, key, rule, index)] = {
            "variants": [_lexical(rule, ctx, m) for m in matches]
        }
        # the OCDS value is the variant in the notice language (the first one when none is)
        main = _notice_language_variant(ctx, matches)
        matches = [matches[main], *matches[:main], *matches[main + 1 :]]
        _read_language_variants(rule, release, obj, key, index, spec, matches[1:])
    for match in matches if many else matches[:1]:
        if not _text(match).strip():
            if not many and "$value" not in rule.ocds:
                # an empty element has no OCDS value; its presence is kept for a faithful round trip
                _raw_store(release, spec.name)[_raw_key(scope, key, rule, index)] = _lexical(rule, ctx, match)
            continue
        # ``$index``: the position of the repeated (``each``) element, e.g. a prize's id
        target = rule.ocds.replace("$index", str(index))
        keep = rule.type in RAW_TYPES or spec.shares_target(rule)
        variants_kept = not many and rule.type == "text" and len(matches) > 1
        if keep and (not many or len(matches) == 1) and "$value" not in target and not variants_kept:
            _raw_store(release, spec.name)[_raw_key(scope, key, rule, index)] = _lexical(rule, ctx, match)
        value = _text(match).strip() if "$value" in target else _read_value(rule, ctx, match, spec)
        if rule.value == "$index":
            value = str(index)
        elif rule.value == "$key" and "$value" not in target:
            value = key or None
        if value is None:
            continue
        if "$value" in target:
            # the UBL value is a reference (e.g. an organisation or document id): it selects, and the
            # rule's ``value`` is set: a constant, ``$key`` (the scope key) or ``xpath:`` (relative to
            # the matched element, through the rule's table when it has one)
            target = target.replace("$value", str(value))
            value = _reference_value(rule, match, key)
            if value is None:
                continue
        paths.set_value(release, obj, target, value, index=index, key=key)
        for apath, avalue in rule.also:
            paths.set_value(release, obj, apath.replace("$index", str(index)), avalue, index=index, key=key)


#: ``env`` key of the OCDS language codes (ISO 639-1) that have language variations in the release.
VARIANT_LANGUAGES: Final = "variantLanguages"


def _variant_target(rule: Rule) -> bool:
    """Whether the rule's OCDS path can take an OCDS language variation (``title_fr``): a plain field."""
    return rule.type == "text" and "$value" not in rule.ocds and not rule.ocds.endswith("]")


def _notice_language_variant(ctx: _Element, matches: list[Any]) -> int:
    """Position of the variant whose ``languageID`` is the notice's ``cbc:NoticeLanguageCode``."""
    lang = (ctx.getroottree().getroot().findtext(f"{{{CBC}}}NoticeLanguageCode") or "").strip()
    for i, m in enumerate(matches):
        if lang and isinstance(m, etree._Element) and m.get("languageID") == lang:
            return i
    return 0


def _read_language_variants(
    rule: Rule,
    release: dict[str, Any],
    obj: dict[str, Any],
    key: str,
    index: int,
    spec: Spec,
    others: list[Any],
) -> None:
    """The other language variants of a multilingual text as OCDS language variations: the field
    name suffixed with the ISO 639-1 code (OCDS 1.1 multilingual fields, e.g. ``title_fr``)."""
    if not _variant_target(rule):
        return
    table = spec.tables.get("language") or {}
    for match in others:
        lang3 = match.get("languageID") if isinstance(match, etree._Element) else None
        text = _text(match).strip()
        lang2 = table.get(str(lang3 or ""))
        if lang2 and text:
            paths.set_value(release, obj, f"{rule.ocds}_{lang2}", text, index=index, key=key)


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


def _drop_anchors(node: Any) -> None:
    """Remove the ``_``-prefixed selector keys (``stats[_src=$key/$index]``) that only tie the values
    read from one repeated element to one OCDS object."""
    if isinstance(node, dict):
        for k in [k for k in node if isinstance(k, str) and k.startswith("_")]:
            del node[k]
        for v in node.values():
            _drop_anchors(v)
    elif isinstance(node, list):
        for v in node:
            _drop_anchors(v)


def read(root: _Element, spec: Spec) -> dict[str, Any]:
    """Apply ``spec`` to a UBL tree: the OCDS release fragment it describes."""
    release: dict[str, Any] = {}
    for scope in spec.scopes:
        # read-only rules first: when several rules fill one OCDS field, the writable one wins, so the
        # value written back is the one its own element held
        rules = sorted(spec.rules_of(scope.name), key=lambda r: (r.last, r.write))
        for node in _xp(root, scope.xml):
            if not isinstance(node, etree._Element):
                continue
            key = ""
            if scope.key:
                k = _xp(node, scope.key)
                key = _text(k[0]).strip() if k else ""
            obj = _scope_objects(release, scope, key)
            if scope.role:
                roles = obj.setdefault("roles", [])
                if scope.role not in roles:
                    roles.append(scope.role)
            for rule in rules:
                if rule.each:
                    for i, enode in enumerate(_xp(node, rule.each)):
                        _apply_read(rule, enode, release, obj, key, i, spec, scope.name)
                else:
                    _apply_read(rule, node, release, obj, key, 0, spec, scope.name)
    _drop_anchors(release)
    return release


# ---------------------------------------------------------------- writing (OCDS -> UBL)


def _raw_value(rule: Rule, raw: dict[str, Any], spec: Spec) -> Any:
    """The OCDS value a kept lexical form converts to (``None`` when it cannot be converted)."""
    probe = etree.Element("probe")
    probe.text = str(raw.get("text", ""))
    for k, v in (raw.get("attrs") or {}).items():
        probe.set(k, v)
    try:
        if rule.type in ("date-start", "date-end"):
            default = START_OF_DAY if rule.type == "date-start" else END_OF_DAY
            return date_to_iso(probe.text, raw.get("time"), default, rule.id)
        return _read_value(rule, probe, probe, spec)
    except MappingError:
        return None


def _write_leaf(
    rule: Rule,
    ctx_or_factory: _Element | Callable[[], _Element],
    value: Any,
    spec: Spec,
    env: dict[str, str],
    fresh: bool,
    raw: dict[str, Any] | None = None,
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
    if raw is not None and _raw_value(rule, raw, spec) == value:
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
        reverse = spec.reverse(rule.table, value) if rule.table else None
        text = from_ocds(rule.type, value, rule.table, reverse)
    if text is None:
        return False
    ctx = ctx_or_factory if isinstance(ctx_or_factory, etree._Element) else ctx_or_factory()
    if fresh and rule.variant_at and elem_path.startswith(rule.variant_at + "/"):
        # another language variant repeats an ancestor (e.g. cac:PartyName), not the leaf
        head = split_steps(rule.variant_at)
        parent = ensure_path(ctx, "/".join(head[:-1])) if len(head) > 1 else ctx
        repeated = create_step(parent, head[-1])
        el = ensure_path(repeated, elem_path[len(rule.variant_at) + 1 :])
    else:
        el = ctx if not elem_path else ensure_path(ctx, elem_path, fresh_last=fresh)
    if time_text:
        time_el = ensure_path(ctx, rule.time)
        time_el.text = time_text
        _traced(time_el)
    if attr:
        el.set(attr, text)
    else:
        el.text = text
    _traced(el)
    for k, v in attrs.items():
        if v.startswith("$"):
            v = env.get(v[1:], "")
            if not v:
                continue
        el.set(k, v)
    return True


def _owned_by_other(
    rule: Rule,
    release: dict[str, Any],
    obj: dict[str, Any],
    key: str,
    index: int,
    value: Any,
    spec: Spec,
    scope: str,
    raws: dict[str, Any],
    root: _Element | None = None,
    here: _Element | None = None,
) -> bool:
    """True when another rule of the scope read this OCDS value from its own element.

    Several eForms fields can fill one OCDS field (e.g. BT-131 and BT-1311 both give
    ``tenderPeriod.endDate``); the value is written back only by the rule that read it.
    """
    if not spec.shares_target(rule):
        return False
    kept_by_other = False
    for other in spec.same_target(rule):
        if other is rule:
            continue
        oraw = raws.get(_raw_key(scope, key, other, index))
        if oraw is not None and oraw.get("variants"):
            oraw = oraw["variants"][0]
        if oraw is not None and "text" in oraw and _raw_value(other, oraw, spec) == value:
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
    return root is not None and bool(_compiled(f"boolean({condition})")(root))


def _underived(
    rule: Rule, value: Any, raws: dict[str, Any], spec: Spec, scope: str, key: str, index: int
) -> Any:
    """The rule's own value when ``value`` is still the one a ``last`` join rule derived from it."""
    if not spec.shares_target(rule):
        return value
    for other in spec.same_target(rule):
        if other is rule or not other.last or not other.join:
            continue
        oraw = raws.get(_raw_key(scope, key, other, index))
        if not oraw or "parts" not in oraw:
            continue
        kept = [t for t in (oraw.get("text", ""), *(t for ps in oraw["parts"] for t in ps)) if t]
        if other.sep.join(kept) == value and oraw.get("text"):
            return oraw["text"]
    return value


def _write_empty(rule: Rule, ctx_or_factory: _Element | Callable[[], _Element], raw: dict[str, Any]) -> None:
    steps = split_steps(rule.xml)
    if steps and steps[-1].startswith("@"):
        return
    ctx = ctx_or_factory if isinstance(ctx_or_factory, etree._Element) else ctx_or_factory()
    el = ensure_path(ctx, "/".join(steps))
    el.text = str(raw.get("text") or "") or None
    for k, v in (raw.get("attrs") or {}).items():
        el.set(k, v)
    _traced(el)


def _apply_write(
    rule: Rule,
    ctx: _Element | Callable[[], _Element],
    release: dict[str, Any],
    obj: dict[str, Any],
    key: str,
    index: int,
    spec: Spec,
    env: dict[str, str],
    scope: str = "",
) -> None:
    value = paths.get_value(release, obj, rule.ocds, index=index, key=key)
    raws = (release.get("platform") or {}).get(spec.name) or {}
    raw = raws.get(_raw_key(scope, key, rule, index))
    if rule.join:
        if rule.each and rule.ocds.endswith("[]"):
            raise MappingError("a joined value cannot fill a list", rule.ocds)
        if value is not None:
            _write_join(rule, ctx, value, raw, spec, env)
        return
    if value is None:
        if raw is not None and "text" in raw and not str(raw["text"]).strip():
            _write_empty(rule, ctx, raw)
            return
        if (
            raw is not None
            and "text" in raw
            and rule.type in RAW_TYPES
            and _raw_value(rule, raw, spec) is None
        ):
            # a code OCDS has no value for (e.g. 'none'): written back as it was read
            _write_leaf(rule, ctx, None, spec, env, fresh=False, raw=raw)
        elif rule.default and not raws and not rule.each:
            doc = ctx.getroottree().getroot() if isinstance(ctx, etree._Element) else None
            if not rule.default_when or _holds(doc, rule.default_when):
                literal = {k: v for k, v in rule.attrs if not v.startswith("$")}
                _write_empty(rule, ctx, {"text": rule.default, "attrs": literal})
        return
    value = _underived(rule, value, raws, spec, scope, key, index)
    if raw is not None and "variants" in raw:
        variants = raw["variants"]
        if any(str(v.get("text", "")).strip() == str(value).strip() for v in variants):
            for i, variant in enumerate(variants):
                _write_leaf(rule, ctx, variant.get("text", ""), spec, env, fresh=i > 0, raw=variant)
            return
        raw = None
    if rule.type not in RAW_TYPES and rule.type != "text":
        raw = None
    if raw is None and spec.shares_target(rule):
        doc = ctx.getroottree().getroot() if isinstance(ctx, etree._Element) else None
        here = ctx if isinstance(ctx, etree._Element) else None
        if _owned_by_other(rule, release, obj, key, index, value, spec, scope, raws, doc, here):
            return
    if rule.each and rule.ocds.endswith("[]") and rule.ocds.count("[]") == 1:
        # one repeated UBL element per list item: the i-th element holds item i
        if not isinstance(value, list) or index >= len(value):
            return
        _write_leaf(rule, ctx, value[index], spec, env, fresh=False)
        return
    if rule.also and not all(
        paths.get_value(release, obj, p, index=index, key=key) == v for p, v in rule.also
    ):
        return
    if rule.ocds.endswith("[]"):
        if not isinstance(value, list):
            raise MappingError("expected a list", rule.ocds)
        if raw is not None and len(value) == 1 and _raw_value(rule, raw, spec) == value[0]:
            _write_leaf(rule, ctx, value[0], spec, env, fresh=False, raw=raw)
            return
        written = 0
        for item in value:
            # items without a UBL form here (another rule's codes in a shared list) take no element
            written += _write_leaf(rule, ctx, item, spec, env, fresh=written > 0)
        return
    written = _write_leaf(rule, ctx, value, spec, env, fresh=False, raw=raw)
    if written and raw is None and env.get(VARIANT_LANGUAGES) and _variant_target(rule):
        _write_language_variants(rule, ctx, release, obj, key, index, spec, env)


def _write_language_variants(
    rule: Rule,
    ctx: _Element | Callable[[], _Element],
    release: dict[str, Any],
    obj: dict[str, Any],
    key: str,
    index: int,
    spec: Spec,
    env: dict[str, str],
) -> None:
    """Each OCDS language variation of the value (``title_fr``) as another variant of its element,
    with the eForms language code (a release without the kept UBL forms)."""
    lang3_of = {v: k for k, v in (spec.tables.get("language") or {}).items()}
    for lang2 in env[VARIANT_LANGUAGES].split(","):
        text = paths.get_value(release, obj, f"{rule.ocds}_{lang2}", index=index, key=key)
        if isinstance(text, str) and text.strip() and lang2 in lang3_of:
            _write_leaf(rule, ctx, text, spec, {**env, "lang": lang3_of[lang2]}, fresh=True)


def _each_factory(node: _Element, each: str, index: int) -> Callable[[], _Element]:
    """The ``index``-th ``each`` element under ``node``, created only when a value is written."""

    def make() -> _Element:
        existing = [e for e in _xp(node, each) if isinstance(e, etree._Element)]
        while len(existing) <= index:
            # the first one may come with its parent (whose predicate materialises it); later ones are new
            ensure_path(node, each, fresh_last=bool(existing))
            existing = [e for e in _xp(node, each) if isinstance(e, etree._Element)]
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
            for rule in rules:
                n = paths.list_length(release, obj, rule.ocds, key=key) if rule.each else 1
                for i in range(n):
                    token = _LEAF.set((trace, _rule_path(scope_path, rule, i))) if trace is not None else None
                    try:
                        if rule.each:
                            factory = _each_factory(node, rule.each, i)
                            _apply_write(rule, factory, release, obj, key, i, spec, env, scope.name)
                        else:
                            _apply_write(rule, node, release, obj, key, 0, spec, env, scope.name)
                    except MappingError as exc:
                        if exc.path and exc.path != rule.ocds:
                            raise
                        # name the input value: tender.lots[0].value, not the rule's relative path
                        where = _rule_path(_scope_path(origin, scope.ocds, obj), rule, i)
                        raise MappingError(exc.reason, where) from exc
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
