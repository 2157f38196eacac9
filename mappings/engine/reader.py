"""Reading: a UBL tree through a spec into an OCDS release fragment (:func:`read`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from mappings import paths
from mappings.engine.forms import RAW_TYPES, raw_key, read_value, text_of, variant_target, where, xp
from mappings.spec import Rule, Scope, Spec
from mappings.transforms import to_ocds
from mappings.xmlns import CBC

_Element = etree._Element


@dataclass(frozen=True)
class ReadContext:
    """One scope object being read: the release it goes into, the spec, the scope's name, the object
    and its key (the scope key's text, ``""`` for an unkeyed scope)."""

    release: dict[str, Any]
    spec: Spec
    scope: str
    obj: dict[str, Any]
    key: str

    def keep(self, rule: Rule, index: int, form: dict[str, Any]) -> None:
        """Keep the lexical ``form`` ``rule`` read at ``index`` (``platform.<spec name>``)."""
        platform = self.release.setdefault("platform", {})
        store: dict[str, Any] = platform.setdefault(self.spec.name, {})
        store[raw_key(self.scope, self.key, rule, index)] = form

    def set(self, path: str, value: Any, index: int) -> None:
        paths.set_value(self.release, self.obj, path, value, index=index, key=self.key)


def _lexical(rule: Rule, ctx: _Element, match: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"text": text_of(match)}
    if isinstance(match, etree._Element) and match.attrib:
        raw["attrs"] = {str(k): str(v) for k, v in match.attrib.items()}
    if rule.time:
        t = xp(ctx, rule.time)
        if t:
            raw["time"] = text_of(t[0])
    return raw


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


def _reference_value(rule: Rule, match: Any, key: str) -> Any:
    spec_value = rule.value
    if spec_value == "$key":
        return key or None
    if isinstance(spec_value, str) and spec_value.startswith("xpath:"):
        if not isinstance(match, etree._Element):
            return None
        found = xp(match, spec_value.removeprefix("xpath:"))
        text = text_of(found[0]).strip() if found else ""
        if not text:
            return None
        if rule.type in ("int", "number", "percent"):
            return to_ocds(
                rule.type, text, {}, where(found[0]) if isinstance(found[0], etree._Element) else ""
            )
        return rule.table.get(text) if rule.table else text
    return spec_value


def _read_join(r: ReadContext, rule: Rule, ctx: _Element, index: int) -> None:
    """A value made of several elements (e.g. street, additional street, address lines) joined by ``sep``.

    Each part's text is kept, so an unedited value is written back element by element.
    """
    main = xp(ctx, rule.xml)[:1]
    main_text = text_of(main[0]).strip() if main else ""
    parts = [[text_of(m).strip() for m in xp(ctx, p)] for p in rule.join]
    texts = [t for t in (main_text, *(t for ps in parts for t in ps)) if t]
    if not texts:
        return
    r.keep(rule, index, {"text": main_text, "parts": parts})
    r.set(rule.ocds, rule.sep.join(texts), index)


def _apply_read(r: ReadContext, rule: Rule, ctx: _Element, index: int) -> None:
    if rule.join:
        _read_join(r, rule, ctx, index)
        return
    matches = xp(ctx, rule.xml)
    if not matches:
        return
    many = rule.ocds.endswith("[]")
    if not many and rule.type == "text" and len(matches) > 1 and "$value" not in rule.ocds:
        # multilingual text: every language variant is kept, the first one is the OCDS value
        r.keep(rule, index, {"variants": [_lexical(rule, ctx, m) for m in matches]})
        # the OCDS value is the variant in the notice language (the first one when none is)
        main = _notice_language_variant(ctx, matches)
        matches = [matches[main], *matches[:main], *matches[main + 1 :]]
        _read_language_variants(r, rule, index, matches[1:])
    for match in matches if many else matches[:1]:
        if not text_of(match).strip():
            if not many and "$value" not in rule.ocds:
                # an empty element has no OCDS value; its presence is kept for a faithful round trip
                r.keep(rule, index, _lexical(rule, ctx, match))
            continue
        # ``$index``: the position of the repeated (``each``) element, e.g. a prize's id
        target = rule.ocds.replace("$index", str(index))
        keep = rule.type in RAW_TYPES or r.spec.shares_target(rule)
        variants_kept = not many and rule.type == "text" and len(matches) > 1
        if keep and (not many or len(matches) == 1) and "$value" not in target and not variants_kept:
            r.keep(rule, index, _lexical(rule, ctx, match))
        value = text_of(match).strip() if "$value" in target else read_value(rule, ctx, match)
        if rule.value == "$index":
            value = str(index)
        elif rule.value == "$key" and "$value" not in target:
            value = r.key or None
        if value is None:
            continue
        if "$value" in target:
            # the UBL value is a reference (e.g. an organisation or document id): it selects, and the
            # rule's ``value`` is set: a constant, ``$key`` (the scope key) or ``xpath:`` (relative to
            # the matched element, through the rule's table when it has one)
            target = target.replace("$value", str(value))
            value = _reference_value(rule, match, r.key)
            if value is None:
                continue
        r.set(target, value, index)
        for apath, avalue in rule.also:
            r.set(apath.replace("$index", str(index)), avalue, index)


def _notice_language_variant(ctx: _Element, matches: list[Any]) -> int:
    """Position of the variant whose ``languageID`` is the notice's ``cbc:NoticeLanguageCode``."""
    lang = (ctx.getroottree().getroot().findtext(f"{{{CBC}}}NoticeLanguageCode") or "").strip()
    for i, m in enumerate(matches):
        if lang and isinstance(m, etree._Element) and m.get("languageID") == lang:
            return i
    return 0


def _read_language_variants(r: ReadContext, rule: Rule, index: int, others: list[Any]) -> None:
    """The other language variants of a multilingual text as OCDS language variations: the field
    name suffixed with the ISO 639-1 code (OCDS 1.1 multilingual fields, e.g. ``title_fr``)."""
    if not variant_target(rule):
        return
    table = r.spec.tables.get("language") or {}
    for match in others:
        lang3 = match.get("languageID") if isinstance(match, etree._Element) else None
        text = text_of(match).strip()
        lang2 = table.get(str(lang3 or ""))
        if lang2 and text:
            r.set(f"{rule.ocds}_{lang2}", text, index)


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
        for node in xp(root, scope.xml):
            if not isinstance(node, etree._Element):
                continue
            key = ""
            if scope.key:
                k = xp(node, scope.key)
                key = text_of(k[0]).strip() if k else ""
            obj = _scope_objects(release, scope, key)
            if scope.role:
                roles = obj.setdefault("roles", [])
                if scope.role not in roles:
                    roles.append(scope.role)
            context = ReadContext(release, spec, scope.name, obj, key)
            for rule in rules:
                if rule.each:
                    for i, enode in enumerate(xp(node, rule.each)):
                        _apply_read(context, rule, enode, i)
                else:
                    _apply_read(context, rule, node, 0)
    _drop_anchors(release)
    return release
