"""Macro expansion done before code generation: abstract patterns (``is-a`` + ``sch:param``) and
abstract rules (``sch:extends``). Works in place on the include-resolved schema tree."""

from __future__ import annotations

import copy
import re
from typing import Final

from lxml import etree

from .errors import SchematronReferenceError, SchematronSourceError, SchematronUnsupportedError
from .source import sch

#: Attributes holding XPath (or text that may mention a parameter) in which ``$param`` is replaced.
PARAM_ATTRIBUTES: Final = ("context", "test", "select", "path", "value", "subject")
#: Deepest chain of ``extends`` accepted (cycles are reported separately).
MAX_EXTENDS_DEPTH: Final = 32


def _substitute(text: str, params: dict[str, str]) -> str:
    if "$" not in text or not params:
        return text
    names = sorted(params, key=len, reverse=True)
    pattern = re.compile(r"\$(" + "|".join(re.escape(n) for n in names) + r")(?![\w.\-])")
    return pattern.sub(lambda m: params[m.group(1)], text)


def expand_abstract_patterns(root: etree._Element) -> None:
    """Replace every ``<pattern is-a="x">`` by a copy of abstract pattern ``x`` with its params applied,
    then drop the abstract patterns (they never run by themselves)."""
    abstract: dict[str, etree._Element] = {}
    for pat in root.iter(sch("pattern")):
        if pat.get("abstract") == "true":
            ident = pat.get("id")
            if not ident:
                raise SchematronSourceError("abstract pattern without id")
            if pat.get("is-a"):
                raise SchematronUnsupportedError(f"abstract pattern {ident!r} may not itself use is-a")
            abstract[ident] = pat
    for pat in list(root.iter(sch("pattern"))):
        base_id = pat.get("is-a")
        if base_id is None:
            continue
        base = abstract.get(base_id)
        if base is None:
            raise SchematronReferenceError(
                f"pattern {pat.get('id')!r}: is-a={base_id!r} names no abstract pattern"
            )
        params: dict[str, str] = {}
        for p in pat.findall(sch("param")):
            name, value = p.get("name"), p.get("value")
            if not name or value is None:
                raise SchematronSourceError(f"pattern {pat.get('id')!r}: sch:param needs name and value")
            params[name] = value
        instance = etree.Element(sch("pattern"))
        for key, val in pat.attrib.items():
            if key != "is-a":
                instance.set(key, val)
        for child in base:
            if child.tag == sch("param"):
                continue
            dup = copy.deepcopy(child)
            for el in dup.iter():
                tag: object = el.tag
                if not isinstance(tag, str):
                    continue
                for attr in PARAM_ATTRIBUTES:
                    current = el.get(attr)
                    if current is not None:
                        el.set(attr, _substitute(current, params))
            instance.append(dup)
        # Children the instance carries itself (title, p) come first, as in the source.
        own = [child for child in pat if child.tag != sch("param")]
        for offset, child in enumerate(own):
            instance.insert(offset, copy.deepcopy(child))
        instance.tail = pat.tail
        parent = pat.getparent()
        assert parent is not None
        parent.replace(pat, instance)
    for pat in abstract.values():
        parent = pat.getparent()
        if parent is not None:
            parent.remove(pat)


def expand_abstract_rules(root: etree._Element) -> None:
    """Inline ``<extends rule="x"/>`` with the content of abstract rule ``x``; drop abstract rules."""
    abstract: dict[str, etree._Element] = {}
    for rule in root.iter(sch("rule")):
        if rule.get("abstract") == "true":
            ident = rule.get("id")
            if not ident:
                raise SchematronSourceError("abstract rule without id")
            if rule.get("context"):
                raise SchematronSourceError(f"abstract rule {ident!r} may not have a context")
            abstract[ident] = rule

    def inline(rule: etree._Element, chain: list[str]) -> None:
        for ext in list(rule.findall(sch("extends"))):
            if ext.get("href"):
                raise SchematronUnsupportedError("sch:extends with href (external rule) is not supported")
            target_id = ext.get("rule")
            if not target_id:
                raise SchematronSourceError("sch:extends without rule attribute")
            if target_id in chain:
                raise SchematronReferenceError(f"extends cycle: {' -> '.join([*chain, target_id])}")
            if len(chain) >= MAX_EXTENDS_DEPTH:
                raise SchematronReferenceError(f"extends nested deeper than {MAX_EXTENDS_DEPTH}")
            target = abstract.get(target_id)
            if target is None:
                raise SchematronReferenceError(f"extends rule={target_id!r} names no abstract rule")
            body = copy.deepcopy(target)
            inline(body, [*chain, target_id])
            index = rule.index(ext)
            rule.remove(ext)
            children = [c for c in body if c.tag != sch("title")]
            for offset, child in enumerate(children):
                rule.insert(index + offset, child)

    for rule in list(root.iter(sch("rule"))):
        if rule.get("abstract") != "true":
            inline(rule, [])
    for rule in abstract.values():
        parent = rule.getparent()
        if parent is not None:
            parent.remove(rule)
    # A schema-level sch:rules container (ISO 2016) only holds abstract rules; it is empty now.
    for container in list(root.iter(sch("rules"))):
        parent = container.getparent()
        if parent is not None:
            parent.remove(container)
