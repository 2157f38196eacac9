"""OCDS packages and merging: the releases a publisher's file describes, one per contracting process.

Publishers hand over a single release, a list of releases, a *release package* (``{"releases": […]}``,
often several releases of one ``ocid``: the tender, then an amendment, then the award) or a *record
package* (``{"records": [{"ocid", "compiledRelease", "releases"}]}``). A document is made from the
current state of a process, so the releases of one ocid are merged as OCDS 1.1 merging defines
(https://standard.open-contracting.org/1.1/en/schema/merging/):

* releases are applied in ``date`` order (a later release overrides an earlier one; equal dates keep
  the file order);
* objects are merged field by field; a ``null`` value removes the field;
* an array of objects that all have an ``id`` is merged by ``id`` (an object of a later release
  updates the object with the same id; a new id is appended); any other array is replaced whole.

A record's ``compiledRelease`` is used as it is; a record without one has its embedded releases merged
(linked releases, which hold only a ``url``, cannot be merged and are reported).
"""

from __future__ import annotations

import copy
from typing import Any, Final

from mappings.errors import MappingError

#: ``tag`` of a merged release (OCDS: a compiled release).
COMPILED_TAG: Final = "compiled"


def _is_identified(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "id" in i for i in items)


def merge_value(old: Any, new: Any) -> Any:
    """``new`` applied over ``old`` (objects field by field, identified arrays by id)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = dict(old)
        for key, value in new.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge_value(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(old, list) and isinstance(new, list) and _is_identified(old) and _is_identified(new):
        merged = [dict(o) for o in old]
        index = {str(o["id"]): i for i, o in enumerate(merged)}
        for item in new:
            at = index.get(str(item["id"]))
            if at is None:
                index[str(item["id"])] = len(merged)
                merged.append(copy.deepcopy(item))
            else:
                merged[at] = merge_value(merged[at], item)
        return merged
    return copy.deepcopy(new)


def compile_releases(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The compiled release of several releases of one ocid (see the module docstring).

    The result's ``id`` is ``<ocid>-<latest date>`` and its ``tag`` ``["compiled"]``; one release is
    returned unchanged.
    """
    if len(releases) == 1:
        return releases[0]
    ordered = sorted(enumerate(releases), key=lambda p: (str(p[1].get("date") or ""), p[0]))
    out: dict[str, Any] = {}
    for _, release in ordered:
        out = merge_value(out, release)
    latest = str(ordered[-1][1].get("date") or "")
    out["id"] = f"{out.get('ocid', '')}-{latest}" if latest else str(out.get("id", ""))
    out["tag"] = [COMPILED_TAG]
    return out


def group_by_ocid(releases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One release per ocid, in the order ocids first appear: several releases of one ocid compiled."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for i, release in enumerate(releases):
        groups.setdefault(str(release.get("ocid") or f"#{i}"), []).append(release)
    return [compile_releases(group) for group in groups.values()]


def record_releases(records: Any) -> list[dict[str, Any]]:
    """The compiled release of each record of a record package."""
    if not isinstance(records, list) or not records:
        raise MappingError("a record package's 'records' is a non-empty list", "records")
    out = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise MappingError(f"a record is an object, not {type(record).__name__}", f"records[{i}]")
        compiled = record.get("compiledRelease")
        if isinstance(compiled, dict):
            out.append(compiled)
            continue
        embedded = [r for r in record.get("releases") or [] if isinstance(r, dict) and "tag" in r]
        if not embedded:
            raise MappingError(
                "the record has no compiledRelease and no embedded releases to merge (linked releases "
                "hold only a url)",
                f"records[{i}]",
            )
        out.append(compile_releases(embedded))
    return out
