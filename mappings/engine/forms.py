"""What reading and writing share: the spec's XPaths, element text, the key of a kept lexical form and
the OCDS value a UBL lexical form converts to.

OCDS normalises values (codes through tables, durations to days, dates to ISO date-times, amounts to
numbers), so the UBL lexical form is kept in the platform extension (``platform.<spec name>``, e.g.
``platform.eforms``), keyed by scope, key, rule and index (:func:`raw_key`). A writer uses it only while
it still converts to the current OCDS value, so an edited release is written from OCDS and an unedited
one is written back byte-for-byte.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import etree

from mappings.errors import MappingError
from mappings.spec import Rule
from mappings.transforms import DAYS_PER_UNIT, END_OF_DAY, START_OF_DAY, date_to_iso, number, to_ocds
from mappings.xmlns import NS

_Element = etree._Element

#: Rule types whose UBL lexical form is kept when read (their OCDS value is normalised).
RAW_TYPES = frozenset(
    {"code", "label", "bool", "int", "number", "percent", "date-start", "date-end", "amount", "duration-days"}
)


@lru_cache(maxsize=4096)
def _compiled(expr: str) -> etree.XPath:
    try:
        return etree.XPath(expr, namespaces=NS)
    except etree.XPathError as exc:
        raise MappingError(f"bad XPath in spec: {exc}", expr) from exc


def compiled_xpath(expr: str) -> etree.XPath:
    """The compiled (cached) XPath of a spec expression, with the UBL/eForms namespaces."""
    return _compiled(expr)


def xp(node: _Element, expr: str) -> list[Any]:
    """The results of a spec XPath on ``node``, always as a list."""
    res = _compiled(expr)(node)
    return res if isinstance(res, list) else [res]


def text_of(item: Any) -> str:
    """The text of an element (all its text nodes) or of an XPath result."""
    if isinstance(item, etree._Element):
        return "".join(str(t) for t in item.itertext())
    return str(item)


def where(node: _Element) -> str:
    """The XPath of ``node`` in its document (named in mapping errors)."""
    return node.getroottree().getpath(node)


def raw_key(scope: str, key: str, rule: Rule, index: int) -> str:
    """The key of the lexical form kept for ``rule`` in one scope object (``key``) at ``index``."""
    return f"{scope}|{key}|{rule.id}|{index}"


def variant_target(rule: Rule) -> bool:
    """Whether the rule's OCDS path can take an OCDS language variation (``title_fr``): a plain field."""
    return rule.type == "text" and "$value" not in rule.ocds and not rule.ocds.endswith("]")


def read_value(rule: Rule, ctx: _Element, match: Any) -> Any:
    """The OCDS value of a matched element (or attribute) ``match`` of ``rule``, read at ``ctx``."""
    at = where(match) if isinstance(match, etree._Element) else where(ctx) + "/" + rule.xml
    if rule.type in ("date-start", "date-end"):
        time_text = None
        if rule.time:
            t = xp(ctx, rule.time)
            time_text = text_of(t[0]) if t else None
        default = START_OF_DAY if rule.type == "date-start" else END_OF_DAY
        return date_to_iso(text_of(match), time_text, default, at)
    if rule.type == "amount":
        cur = match.get("currencyID") if isinstance(match, etree._Element) else None
        out: dict[str, Any] = {"amount": number(text_of(match), at)}
        if cur:
            out["currency"] = cur
        return out
    if rule.type == "duration-days":
        unit = match.get("unitCode", "DAY") if isinstance(match, etree._Element) else "DAY"
        return int(number(text_of(match), at) * DAYS_PER_UNIT.get(unit, 1))
    return to_ocds(rule.type, text_of(match), rule.table, at)
