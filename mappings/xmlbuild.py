"""Building UBL trees: schema-ordered child insertion and path materialisation.

``ensure_path`` walks a simple relative XPath (``a:B[pred]/c:D``), reusing the first existing match
of each step or creating it, so writers never need to know the XSD sequence: new children are placed
with ``insert_ordered`` using the child order derived from the XSDs (``schema/element-order.json``).
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from lxml import etree

from mappings.xmlns import NS, PREFIX_OF

_Element = etree._Element

_STEP_RE = re.compile(r"^([A-Za-z]+:[A-Za-z]+)((?:\[[^\]]*\])*)$")
_PRED_RE = re.compile(r"\[([^\]]*)\]")
# Predicates materialised on creation: [@a='v'], [x:Y/@a='v'], [x:Y/text()='v'], [x:Y='v']
_ATTR_PRED = re.compile(r"^@([A-Za-z]+)\s*=\s*'([^']*)'$")
_CHILD_ATTR_PRED = re.compile(
    r"^([A-Za-z]+:[A-Za-z]+(?:/[A-Za-z]+:[A-Za-z]+)*)/@([A-Za-z]+)\s*=\s*'([^']*)'$"
)
_CHILD_TEXT_PRED = re.compile(r"^([A-Za-z]+:[A-Za-z]+)(?:/text\(\))?\s*=\s*'([^']*)'$")


@cache
def _order() -> dict[str, Any]:
    data = resources.files("mappings").joinpath("schema/element-order.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def serialise(tree: etree._ElementTree) -> bytes:
    """UTF-8 bytes with an XML declaration, pretty-printed: every document the mappings build."""
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def qname(prefixed: str) -> str:
    """Clark notation of ``cbc:ID``-style names."""
    prefix, _, local = prefixed.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def prefixed_name(el: _Element) -> str:
    """``cbc:ID`` for an element (``root:X`` for a document root)."""
    return _prefixed_tag(str(el.tag))


@lru_cache(maxsize=4096)
def _prefixed_tag(tag: str) -> str:
    q = etree.QName(tag)
    return f"{PREFIX_OF.get(q.namespace or '', 'root')}:{q.localname}"


def child_order(el: _Element) -> list[str]:
    """The XSD order of the children of ``el`` (empty when unknown)."""
    return list(_rank_of(prefixed_name(el), el.getparent() is None))


@lru_cache(maxsize=2048)
def _rank_of(name: str, is_root: bool) -> dict[str, int]:
    order = _order()
    typ = order["elements"].get(name)
    if typ is None and is_root:
        typ = order["elements"].get("root:" + name.partition(":")[2])
    seq: list[str] = order["types"].get(typ, []) if typ else []
    return {n: i for i, n in enumerate(seq)}


def insert_ordered(parent: _Element, child: _Element) -> _Element:
    """Insert ``child`` into ``parent`` after every sibling that precedes it in XSD order."""
    rank = _rank_of(prefixed_name(parent), parent.getparent() is None)
    name = prefixed_name(child)
    if name not in rank:
        parent.append(child)
        return child
    mine = rank[name]
    pos = 0
    for i, sib in enumerate(parent):
        tag: object = sib.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        r = rank.get(prefixed_name(sib), -1)
        if r <= mine:
            pos = i + 1
    parent.insert(pos, child)
    return child


def new_child(parent: _Element, prefixed: str, text: str | None = None, **attrs: str) -> _Element:
    """Create ``prefixed`` under ``parent`` in schema order."""
    el = etree.Element(qname(prefixed), nsmap=None)
    if text is not None:
        el.text = text
    for k, v in attrs.items():
        el.set(k, v)
    return insert_ordered(parent, el)


def split_steps(path: str) -> list[str]:
    """Split a relative XPath on ``/`` outside predicates."""
    return list(_split_steps(path))


@lru_cache(maxsize=4096)
def _split_steps(path: str) -> tuple[str, ...]:
    steps: list[str] = []
    depth = 0
    cur = ""
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "/" and depth == 0:
            steps.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        steps.append(cur)
    return tuple(steps)


def _materialise(el: _Element, predicates: str) -> None:
    for pred in _PRED_RE.findall(predicates):
        pred = pred.strip()
        if m := _ATTR_PRED.match(pred):
            el.set(m.group(1), m.group(2))
        elif m := _CHILD_ATTR_PRED.match(pred):
            child = ensure_path(el, m.group(1))
            child.set(m.group(2), m.group(3))
        elif m := _CHILD_TEXT_PRED.match(pred):
            found = el.find(qname(m.group(1)))
            child = found if found is not None else new_child(el, m.group(1))
            child.text = m.group(2)
        # other predicates (not(...), positions) constrain reading only


def create_step(parent: _Element, step: str) -> _Element:
    """Create a new element for one path step (with its predicates materialised)."""
    m = _STEP_RE.match(step)
    if m is None:
        raise ValueError(f"unsupported path step {step!r}")
    el = new_child(parent, m.group(1))
    _materialise(el, m.group(2))
    return el


@lru_cache(maxsize=4096)
def _step_xpath(step: str) -> etree.XPath:
    return etree.XPath(step, namespaces=NS)


def ensure_path(base: _Element, path: str, *, fresh_last: bool = False) -> _Element:
    """The element at ``path`` under ``base``, creating missing steps (the last anew if ``fresh_last``)."""
    cur = base
    steps = split_steps(path)
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if not (last and fresh_last):
            found = _step_xpath(step)(cur)
            if isinstance(found, list) and found and isinstance(found[0], etree._Element):
                cur = found[0]
                continue
        cur = create_step(cur, step)
    return cur
