"""Withheld information (eForms ``efac:FieldsPrivacy``, BT-195/196/197/198) -> OCDS ``withheldInformation``.

A FieldsPrivacy element may appear under many structures; it is found wherever it is and named after
its field code and the identifier of the structure that owns it (lot, lots group, result, procedure).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Final

import yaml
from lxml import etree

from mappings.transforms import START_OF_DAY, date_to_iso
from mappings.xmlns import EFAC, NS

JUSTIFICATION_SCHEME: Final = "eu-non-publication-justification"
JUSTIFICATION_URI: Final = "http://publications.europa.eu/resource/authority/non-publication-justification/"
#: The non-publication code BT-541 uses for its three award-criterion parameters (fixed, threshold, weight).
SHARED_PARAMETER_CODE: Final = "awa-cri-num"
_OWNERS: Final = (
    f"{{{NS['cac']}}}ProcurementProjectLot",
    f"{{{EFAC}}}LotResult",
    f"{{{EFAC}}}LotTender",
    f"{{{EFAC}}}SettledContract",
    f"{{{EFAC}}}TenderingParty",
)


@cache
def _tables() -> dict[str, dict[str, str]]:
    text = resources.files("mappings").joinpath("specs/withheld.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


def _text(node: etree._Element, path: str) -> str:
    found = node.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _owner_id(fp: etree._Element) -> str:
    for anc in fp.iterancestors():
        if anc.tag in _OWNERS:
            return _text(anc, "cbc:ID")
    root = fp.getroottree().getroot()
    return _text(root, "cbc:ContractFolderID")


def read_withheld(root: etree._Element, release: dict[str, Any]) -> None:
    """Add a ``withheldInformation`` item for every FieldsPrivacy of the notice."""
    tables = _tables()
    items = []
    for fp in root.iter(f"{{{EFAC}}}FieldsPrivacy"):
        item: dict[str, Any] = {}
        code = _text(fp, "efbc:FieldIdentifierCode")
        if code:
            parent = fp.getparent()
            suffix = ""
            # BT-541 is one code for three parameters, so its id names the parameter (guidance:
            # awa-cri-num-weight-LOT-0001); the other codes (awa-cri-wei, awa-cri-fix, ...) name theirs
            if (
                code == SHARED_PARAMETER_CODE
                and parent is not None
                and parent.tag == f"{{{EFAC}}}AwardCriterionParameter"
            ):
                pc = parent.find("efbc:ParameterCode", NS)
                if pc is not None:
                    suffix = (pc.get("listName") or "").removeprefix("number-")
            owner = _owner_id(fp)
            item["id"] = "-".join(p for p in (code, suffix, owner) if p)
            item["field"] = code
            name = tables["fields"].get(f"{code}-{suffix}") or tables["fields"].get(code)
            if name:
                item["name"] = name
        reason = _text(fp, "efbc:ReasonDescription")
        if reason:
            item["rationale"] = reason
        rcode = _text(fp, "cbc:ReasonCode")
        if rcode:
            cls = {"scheme": JUSTIFICATION_SCHEME, "id": rcode, "uri": JUSTIFICATION_URI + rcode}
            if rcode in tables["justifications"]:
                cls["description"] = tables["justifications"][rcode]
            item["rationaleClassifications"] = [cls]
        pub = _text(fp, "efbc:PublicationDate")
        if pub:
            item["availabilityDate"] = date_to_iso(pub, None, START_OF_DAY, fp.getroottree().getpath(fp))
        if item:
            items.append(item)
    if items:
        release.setdefault("withheldInformation", []).extend(items)
