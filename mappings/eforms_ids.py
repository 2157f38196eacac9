"""eForms technical identifiers for a release whose ids are the platform's own.

eForms requires patterned ids: organisations ``ORG-nnnn`` (touch points ``TPO-nnnn``), results
``RES-nnnn``, tenders ``TEN-nnnn``, contracts ``CON-nnnn`` (OPT-200/321/322/316 patterns). A release
read from a notice has them; one the platform makes (or imports from DECP, whose organisations are
SIRETs and whose contract is the marché id) may not. :func:`with_eforms_ids` renumbers the ids that do
not follow the pattern and every reference to them, leaving company identifiers, classifications and
the procedure id alone (a SIRET stays the organisation's company id, BT-501).
"""

from __future__ import annotations

import copy
import re
from typing import Any, Final

#: (list path in the release, id prefix, pattern an id must already match to be kept)
ID_KINDS: Final = (
    (("parties",), "ORG", re.compile(r"(ORG|TPO)-\d{4}")),
    (("awards",), "RES", re.compile(r"RES-\d{4}")),
    (("bids", "details"), "TEN", re.compile(r"TEN-\d{4}")),
    (("contracts",), "CON", re.compile(r"CON-\d{4}")),
)
#: Subtrees whose strings are not technical ids: company / contract identifiers, classifications, and
#: the kept source data.
NOT_REFERENCES: Final = frozenset(
    {
        "identifier",
        "additionalIdentifiers",
        "identifiers",
        "classification",
        "additionalClassifications",
        "decp",
        "decpConcession",
        "eforms",
        "peppol",
        "notice",
    }
)


def _objects(release: dict[str, Any], path: tuple[str, ...]) -> list[dict[str, Any]]:
    node: Any = release
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return [o for o in node or [] if isinstance(o, dict)] if isinstance(node, list) else []


def eforms_id_map(release: dict[str, Any]) -> dict[str, str]:
    """Old id -> eForms id for every organisation, result, tender and contract id off its pattern.

    New numbers follow the highest already used. An id shared by objects of two kinds (a party and a
    contract both ``1``) is left as it is: its references could not be told apart.
    """
    kinds: dict[str, set[str]] = {}
    for path, prefix, _ in ID_KINDS:
        for o in _objects(release, path):
            if o.get("id") is not None:
                kinds.setdefault(str(o["id"]), set()).add(prefix)
    mapping: dict[str, str] = {}
    for path, prefix, pattern in ID_KINDS:
        objs = _objects(release, path)
        used = [int(m.group(0)[-4:]) for o in objs if (m := pattern.fullmatch(str(o.get("id", ""))))]
        n = max(used, default=0)
        for o in objs:
            old = str(o.get("id"))
            if o.get("id") is None or pattern.fullmatch(old) or len(kinds[old]) > 1 or old in mapping:
                continue
            n += 1
            mapping[old] = f"{prefix}-{n:04d}"
    return mapping


def with_eforms_ids(release: dict[str, Any], mapping: dict[str, str] | None = None) -> dict[str, Any]:
    """A copy of ``release`` with eForms ids (``mapping``, default :func:`eforms_id_map`) and its
    references renamed (``release`` itself when nothing is renamed).

    Renamed: the ``id`` of the organisations, results, tenders and contracts themselves and of
    reference objects (``{"id", "name"}``-shaped: buyer, suppliers, tenderers, publishers, …), and
    string references (``awardID``, ``relatedBids``, the platform extension's party references). The
    ``id`` of other objects (items, statistics, documents, milestones) is their own and stays.
    """
    mapping = eforms_id_map(release) if mapping is None else mapping
    if not mapping:
        return release
    out: dict[str, Any] = copy.deepcopy(release)
    owned = {id(o) for path, _, _ in ID_KINDS for o in _objects(out, path)}
    renamed: dict[str, Any] = _rename(out, mapping, owned)
    tender = release.get("tender")
    if isinstance(tender, dict) and "id" in tender:
        renamed["tender"]["id"] = tender["id"]  # the procedure id (BT-04) is not a technical id
    return renamed


#: Keys of an OCDS reference object (OrganizationReference, eForms tenderer / subcontractor entries).
REFERENCE_KEYS: Final = frozenset({"id", "name", "groupLead", "mainContractors"})
#: Lists whose objects carry ids of their own, never references, however few their keys.
OWN_ID_LISTS: Final = frozenset(
    {
        "items",
        "lots",
        "lotGroups",
        "documents",
        "statistics",
        "milestones",
        "amendments",
        "finance",
        "charges",
        "relatedProcesses",
        "deliveryLocations",
        "deliveryAddresses",
        "subcontracts",
    }
)


def _rename(node: Any, mapping: dict[str, str], owned: set[int], own_ids: bool = False) -> Any:
    if isinstance(node, dict):
        is_ref = id(node) in owned or (not own_ids and set(node) <= REFERENCE_KEYS)
        return {
            k: v
            if k in NOT_REFERENCES or (k == "id" and not is_ref)
            else _rename(v, mapping, owned, k in OWN_ID_LISTS)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename(v, mapping, owned, own_ids) for v in node]
    if isinstance(node, str):
        return mapping.get(node, node)
    return node
