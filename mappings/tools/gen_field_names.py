"""Derive ``mappings/schema/eforms-names.json`` from the eForms SDK 1.14.2 (CC BY 4.0).

Findings name the eForms field behind a rule in English. The SDK's translations hold the field names
(``translations/field_en.xml``: ``field|name|BT-514-Organization-Company``) and the business-term names
(``business-term_en.xml``: ``business-term|name|BT-514``); nodes (``ND-*``) have no translation key
(``group_en.xml`` names form groups ``GR-*``, not nodes), so a node is described by its XPath and the
names of the first fields it holds (``fields/fields.json``). Derived data (ids and names only).

Usage: ``python -m mappings.tools.gen_field_names CORPUS_DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lxml import etree

from peppol.xml import make_parser

OUT = Path(__file__).resolve().parent.parent / "schema" / "eforms-names.json"
SDK = "eforms-sdk-1.14.2"
#: Fields named in a node's description.
FIELDS_PER_NODE = 3


def _entries(path: Path, kind: str) -> dict[str, str]:
    # the SDK's translations are Java properties XML with an external DOCTYPE: the hardened parser
    # reads them without loading it (trusted corpus input of a developer tool, not received data)
    root = etree.parse(str(path), make_parser()).getroot()
    prefix = f"{kind}|name|"
    return {
        str(e.get("key"))[len(prefix) :]: (e.text or "").strip()
        for e in root.iter("entry")
        if str(e.get("key", "")).startswith(prefix)
    }


def build(corpus: Path) -> dict[str, Any]:
    sdk = corpus / SDK
    fields = _entries(sdk / "translations" / "field_en.xml", "field")
    terms = _entries(sdk / "translations" / "business-term_en.xml", "business-term")
    model = json.loads((sdk / "fields" / "fields.json").read_text(encoding="utf-8"))
    children: dict[str, list[str]] = {}
    for f in model["fields"]:
        children.setdefault(str(f.get("parentNodeId")), []).append(str(f["id"]))
    subnodes: dict[str, list[str]] = {}
    for node in model["xmlStructure"]:
        subnodes.setdefault(str(node.get("parentId")), []).append(str(node["id"]))
    nodes = {}
    for node in model["xmlStructure"]:
        held: list[str] = []
        queue = [str(node["id"])]
        while queue and len(held) < FIELDS_PER_NODE:  # its own fields first, then its sub-nodes'
            current = queue.pop(0)
            held += [f for f in children.get(current, []) if f in fields and not f.endswith("-Language")]
            queue += subnodes.get(current, [])
        nodes[node["id"]] = {
            "xpath": node["xpathRelative"],
            "path": node["xpathAbsolute"],
            "holds": held[:FIELDS_PER_NODE],
        }
    return {
        "source": f"{SDK} translations/field_en.xml, business-term_en.xml, fields/fields.json (CC BY 4.0)",
        "fields": dict(sorted(fields.items())),
        "businessTerms": dict(sorted(terms.items())),
        "nodes": dict(sorted(nodes.items())),
    }


def main() -> None:
    corpus = Path(sys.argv[1])
    OUT.write_text(json.dumps(build(corpus), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
