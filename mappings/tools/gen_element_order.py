"""Derive ``mappings/schema/element-order.json`` from the UBL / eForms XSDs.

The writers insert children in XSD sequence order; this file holds, for each element, the ordered
list of its possible children (prefixed names). It is derived data (names and order only).

Usage: ``python -m mappings.tools.gen_element_order CORPUS_DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mappings.xmlns import PREFIX_OF
from peppol.xml import parse_file

XS = "{http://www.w3.org/2001/XMLSchema}"
OUT = Path(__file__).resolve().parent.parent / "schema" / "element-order.json"

COMMON = (
    "eforms-sdk-1.14.2/schemas/common/UBL-CommonAggregateComponents-2.3.xsd",
    "eforms-sdk-1.14.2/schemas/common/UBL-CommonExtensionComponents-2.3.xsd",
    "eforms-sdk-1.14.2/schemas/common/EFORMS-ExtensionAggregateComponents-2.3.xsd",
    "eforms-sdk-1.14.2/schemas/common/EFORMS-ExtensionApex-2.3.xsd",
    "ubl-2.2/xsdrt/common/UBL-CommonAggregateComponents-2.2.xsd",
)
ROOTS = (
    "eforms-sdk-1.14.2/schemas/maindoc/UBL-ContractNotice-2.3.xsd",
    "eforms-sdk-1.14.2/schemas/maindoc/UBL-ContractAwardNotice-2.3.xsd",
    "ubl-2.2/xsdrt/maindoc/UBL-CallForTenders-2.2.xsd",
    "ubl-2.2/xsdrt/maindoc/UBL-Tender-2.2.xsd",
    "ubl-2.2/xsdrt/maindoc/UBL-TenderReceipt-2.2.xsd",
    "ubl-2.2/xsdrt/maindoc/UBL-ApplicationResponse-2.2.xsd",
)


def _merge(old: list[str], new: list[str]) -> list[str]:
    """Merge two sequences keeping both orders (2.2 is a subsequence of 2.3 in practice)."""
    out = list(old)
    for i, name in enumerate(new):
        if name in out:
            continue
        prev = new[i - 1] if i else None
        pos = out.index(prev) + 1 if prev in out else 0
        out.insert(pos, name)
    return out


def _prefixed(ref: str, nsmap: dict[str | None, str]) -> str:
    prefix, _, local = ref.rpartition(":")
    ns = nsmap[prefix or None]
    return f"{PREFIX_OF[ns]}:{local}"


def build(corpus: Path) -> dict[str, dict[str, object]]:
    elements: dict[str, str] = {}
    types: dict[str, list[str]] = {}
    for rel in COMMON + ROOTS:
        tree = parse_file(corpus / rel)
        root = tree.getroot()
        tns = root.get("targetNamespace", "")
        pfx = PREFIX_OF.get(tns, "root")
        nsmap = dict(root.nsmap)
        for el in root.iterfind(f"{XS}element"):
            name = f"{pfx}:{el.get('name')}" if pfx != "root" else f"root:{el.get('name')}"
            typ = el.get("type")
            if typ is not None:
                tname = f"{pfx}:{typ.rpartition(':')[2]}"
                elements[name] = tname
            else:
                tname = name
                elements[name] = tname
                seq = [
                    _prefixed(r.get("ref", ""), nsmap)
                    for r in el.iterfind(f"{XS}complexType/{XS}sequence/{XS}element")
                ]
                types[tname] = _merge(types.get(tname, []), seq)
        for ct in root.iterfind(f"{XS}complexType"):
            tname = f"{pfx}:{ct.get('name')}"
            seq = [_prefixed(r.get("ref", ""), nsmap) for r in ct.iterfind(f"{XS}sequence/{XS}element")]
            types[tname] = _merge(types.get(tname, []), seq)
    return {"elements": dict(sorted(elements.items())), "types": dict(sorted(types.items()))}


def main() -> None:
    corpus = Path(sys.argv[1])
    OUT.write_text(json.dumps(build(corpus), indent=0, sort_keys=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
