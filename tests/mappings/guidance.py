"""The official eForms -> OCDS mapping examples (``guidance.yaml``) as test cases.

Each in-scope entry (not "Discard", both examples present and not "N/A") gives an XML snippet and the
expected OCDS fragment. The snippet is a fragment, so it is placed at the field's ``xpathAbsolute``
before mapping: under the ancestors the XPath names (with their predicates), and with the XPath's
simple predicates made true on the snippet's own nodes when the snippet leaves out the code the field
is selected by. The expected fragment must be a JSON subset of the result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from mappings.eforms import read_tree
from mappings.xmlbuild import child_order, create_step, new_child, qname, split_steps
from mappings.xmlns import NS, doc_ns

GUIDANCE = Path("ocds-eforms-mapping/output/mapping/eforms/guidance.yaml")
_NSDECL = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())
_KEEP_PRED = re.compile(r"^\[(@[A-Za-z]+\s*=\s*'[^']*'|[A-Za-z]+:[A-Za-z]+/@[A-Za-z]+\s*=\s*'[^']*')\]$")


@dataclass(frozen=True)
class Case:
    id: str
    xpath: str
    xml: str
    ocds_text: str


def load_cases(corpus: Path) -> list[Case]:
    return list(_load(str(corpus / GUIDANCE)))


@cache
def _load(path: str) -> tuple[Case, ...]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for e in data:
        guidance = str(e.get("eForms guidance") or "")
        if guidance.strip().startswith("Discard"):
            continue
        if not _is_example(e.get("eForms example")) or not _is_example(e.get("OCDS example")):
            continue
        out.append(Case(e["id"], e["xpathAbsolute"], e["eForms example"], e["OCDS example"]))
    return tuple(out)


def _is_example(text: object) -> bool:
    """An entry "has an example" unless it is empty or the placeholder ``N/A``."""
    return bool(text) and str(text).strip().upper() != "N/A"


def _clean_step(step: str) -> str:
    """A step with only the predicates that can be materialised (others are XPath 2 or positional)."""
    m = re.match(r"^([A-Za-z]+:[A-Za-z]+)(.*)$", step)
    if not m:
        return step
    preds = re.findall(r"\[(?:[^\[\]]|\[[^\]]*\])*\]", m.group(2))
    return m.group(1) + "".join(p for p in preds if _KEEP_PRED.match(p))


def embed(case: Case, *, complete: bool = True) -> etree._Element:
    """A notice root with the snippet placed under its ancestors (and the field's predicates made true)."""
    snippet = etree.fromstring(f"<w {_NSDECL}>{case.xml}</w>")
    first = next((c for c in snippet if isinstance(c.tag, str)), None)
    if first is None:
        raise ValueError("empty snippet")
    first_name = etree.QName(first)
    steps = [s for s in split_steps(case.xpath.removeprefix("/*/")) if s]
    names = [re.sub(r"\[.*$", "", s) for s in steps]
    prefix = {v: k for k, v in NS.items()}[first_name.namespace or ""]
    target = f"{prefix}:{first_name.localname}"
    if target in names:
        idx = names.index(target)
    else:
        # place the snippet under the deepest ancestor that can contain its first element
        idx = len(names) - 1
        root_probe = etree.Element(f"{{{doc_ns('ContractNotice')}}}ContractNotice")
        if target in child_order(root_probe):
            idx = 0  # a root child (e.g. cbc:ContractFolderID) given with its siblings
        for i in range(len(names) - 1, -1, -1) if idx else ():
            probe = etree.Element(qname(names[i]))
            if target in child_order(probe):
                idx = i + 1
                break
    root_name = "ContractAwardNotice" if "efac:NoticeResult" in case.xpath else "ContractNotice"
    root = etree.Element(f"{{{doc_ns(root_name)}}}{root_name}", nsmap={None: doc_ns(root_name), **NS})
    cur = root
    for step in steps[:idx]:
        cur = create_step(cur, _clean_step(step))
    for child in list(snippet):
        cur.append(child)
    if complete:
        _complete_predicates(cur, steps[idx:])
    return root


# Predicates a snippet node can be given: [@a='v'], [x:E/@a='v'], [x:E/text()='v'], [x:E='v'] and the
# same on the parent with ``../``
_SIMPLE_PRED = re.compile(
    r"^(?P<up>\.\./)?(?:@(?P<attr>[A-Za-z]+)|(?P<el>[A-Za-z]+:[A-Za-z]+)(?:/@(?P<elattr>[A-Za-z]+)|/text\(\))?)"
    r"\s*=\s*'(?P<value>[^']*)'$"
)


def _complete_predicates(parent: etree._Element, steps: list[str]) -> None:
    """Make the field XPath's simple predicates true on the snippet's own nodes along the path.

    A snippet illustrates one field but often leaves out the code its XPath selects on (e.g. BT-1351's
    ``ProcessJustification[cbc:ProcessReasonCode/@listName='accelerated-procedure']``). Only a
    predicate that is false is materialised; values the snippet has are never changed.
    """
    node = parent
    for step in steps:
        name = re.sub(r"\[.*$", "", step)
        if ":" not in name:
            return
        child = node.find(qname(name))
        if child is None:
            return
        for pred in re.findall(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]", step[len(name) :]):
            m = _SIMPLE_PRED.match(pred.strip())
            if m is None or child.xpath(f"boolean(self::node()[{pred}])", namespaces=NS):
                continue
            target = node if m["up"] else child
            if m["attr"]:
                target.set(m["attr"], m["value"])
                continue
            el = target.find(qname(m["el"]))
            taken = el is not None and (
                el.get(m["elattr"]) is not None if m["elattr"] else bool((el.text or "").strip())
            )
            if el is None or taken:  # never change what the snippet says: add a sibling instead
                el = new_child(target, m["el"])
            if m["elattr"]:
                el.set(m["elattr"], m["value"])
            else:
                el.text = m["value"]
        node = child


def is_subset(expected: Any, actual: Any) -> bool:
    """JSON subset: every key/value of ``expected`` is in ``actual``; list items match some actual item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and is_subset(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(any(is_subset(e, a) for a in actual) for e in expected)
    if isinstance(expected, bool) or isinstance(actual, bool):  # JSON true is not 1
        return type(expected) is type(actual) and expected == actual
    if (
        isinstance(expected, int | float)
        and isinstance(actual, int | float)
        and not isinstance(expected, bool)
    ):
        return float(expected) == float(actual)
    return bool(expected == actual)


def run_case(case: Case) -> tuple[bool, str]:
    """``(passed, reason)``."""
    try:
        expected = json.loads(case.ocds_text)
    except json.JSONDecodeError:
        return False, "official OCDS example is not valid JSON"
    try:
        root = embed(case)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return False, f"snippet cannot be embedded: {exc}"
    try:
        actual = read_tree(root)
    except Exception as exc:
        return False, f"mapping error: {exc}"
    if is_subset(expected, actual):
        return True, ""
    return False, "result differs: " + json.dumps(actual, sort_keys=True)[:300]
