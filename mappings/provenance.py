"""Which input value a validation finding on a converted document comes from.

A builder run with a trace (:func:`mappings.engine.write`) maps each element it wrote to the OCDS path
of its value. A finding's location is an XPath in the output (``/cn:ContractNotice/cac:Procurement
ProjectLot[2]/cac:TenderingProcess``, as XSD and Schematron report it); :func:`input_path` walks it
down the output tree and answers with the OCDS path of the nearest element written from the input
(the element itself, else its closest traced ancestor: a missing mandatory child is reported on its
parent, which came from an OCDS object such as ``tender.lots[1]``).
"""

from __future__ import annotations

import re
from typing import Any, Final

from lxml import etree

from mappings import paths
from mappings.engine import Trace, compiled_xpath
from mappings.spec import Spec

_STEP: Final = re.compile(r"^(?:(?P<prefix>[\w.-]+):)?(?P<name>[\w.-]+|\*)(?:\[(?P<index>\d+)\])?$")


def locate(root: etree._Element, location: str) -> etree._Element | None:
    """The element of ``root``'s tree an absolute location XPath names (prefixes ignored), or ``None``.

    Only the simple form validators report is understood: ``/a:b[2]/c:d/@attr`` (``*`` for any name,
    an index counted among the same-named siblings, an attribute step meaning its element).
    """
    steps = [s for s in location.split("/") if s]
    if not steps:
        return None
    node: etree._Element | None = None
    for step in steps:
        if step.startswith("@") or step.endswith("()"):
            break
        match = _STEP.match(step)
        if match is None:
            return node
        name, index = match["name"], int(match["index"] or 1)
        candidates = [root] if node is None else [c for c in node if isinstance(c.tag, str)]
        if name != "*":
            candidates = [c for c in candidates if etree.QName(c).localname == name]
        if len(candidates) < index:
            return node
        node = candidates[index - 1]
    return node


def input_path(root: etree._Element, trace: Trace, location: str) -> str | None:
    """The OCDS path the element at ``location`` (or its nearest traced ancestor) was written from."""
    node = locate(root, location)
    while node is not None:
        found = trace.get(node)
        if found is not None:
            return found or None
        node = node.getparent()
    return None


def scope_origins(root: etree._Element, spec: Spec, release: dict[str, Any]) -> dict[str, str]:
    """For a release read from ``root`` with ``spec``: OCDS object path -> input XPath.

    Each keyed scope element (a lot, an organisation, a result, a tender…) is matched by its key to
    the object of the OCDS list it was read into (``tender.lots[1]`` -> ``/*/cac:ProcurementProjectLot[2]``).
    """
    out: dict[str, str] = {}
    tree = root.getroottree()
    for scope in spec.scopes:
        if not scope.key or not scope.ocds:
            continue
        found = paths.get_value(release, release, scope.ocds)
        if not isinstance(found, list):
            continue
        index = {str(o.get("id")): i for i, o in enumerate(found) if isinstance(o, dict) and "id" in o}
        nodes = compiled_xpath(scope.xml)(root)
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, etree._Element):
                continue
            keys = compiled_xpath(scope.key)(node)
            key = _text(keys[0]).strip() if isinstance(keys, list) and keys else ""
            if key in index:
                out.setdefault(f"{scope.ocds}[{index[key]}]", tree.getpath(node))
    return out


def origin_of(origins: dict[str, str], path: str) -> str | None:
    """The input XPath of the deepest object of ``origins`` that ``path`` lies in."""
    best = ""
    for prefix in origins:
        if (path == prefix or path.startswith((prefix + ".", prefix + "["))) and len(prefix) > len(best):
            best = prefix
    return origins[best] if best else None


def _text(item: Any) -> str:
    if isinstance(item, etree._Element):
        return "".join(str(t) for t in item.itertext())
    return str(item)
