"""The small OCDS path language of the mapping specs.

``a.b.c``        nested objects
``a[]``          list; at the end: append each value; in the middle: the ``index``-th object
``a[k=v]``       the object of list ``a`` whose ``k`` equals ``v`` (created when writing)
``^a.b``         from the release root instead of the scope object
``$key``         replaced by the scope object's key before parsing
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_SEG_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\]|\+\]|[A-Za-z_]+=[^\]]*\]))?$")

#: Lists whose objects get an incremental string ``id`` when created by a selector.
AUTO_ID_LISTS = frozenset({"items", "relatedProcesses", "milestones", "finance", "parties", "statistics"})


@dataclass(frozen=True, slots=True)
class Seg:
    name: str
    kind: str  # "" | "list" | "select"
    sel_key: str = ""
    sel_value: str = ""


@lru_cache(maxsize=4096)
def parse(path: str) -> tuple[Seg, ...]:
    """The segments of ``path`` (cached: specs reuse a few hundred paths)."""
    out: list[Seg] = []
    for raw in path.split("."):
        m = _SEG_RE.match(raw)
        if m is None:
            raise ValueError(f"bad OCDS path segment {raw!r} in {path!r}")
        name, sel = m.group(1), m.group(2)
        if sel is None:
            out.append(Seg(name, ""))
        elif sel == "]":
            out.append(Seg(name, "list"))
        elif sel == "+]":
            out.append(Seg(name, "append"))
        else:
            k, _, v = sel[:-1].partition("=")
            out.append(Seg(name, "select", k, v))
    return tuple(out)


def _base(root: dict[str, Any], scope: dict[str, Any], path: str, key: str) -> tuple[dict[str, Any], str]:
    if "$key" in path:
        path = path.replace("$key", key)
    if path.startswith("^"):
        return root, path[1:]
    return scope, path


def set_value(
    root: dict[str, Any], scope: dict[str, Any], path: str, value: Any, *, index: int = 0, key: str = ""
) -> None:
    """Set ``value`` at ``path`` (creating objects and lists on the way)."""
    cur, path = _base(root, scope, path, key)
    segs = parse(path)
    first_list = True
    for seg in segs[:-1]:
        if seg.kind == "":
            nxt = cur.get(seg.name)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[seg.name] = nxt
            cur = nxt
        elif seg.kind == "append":
            lst = cur.setdefault(seg.name, [])
            lst.append({})
            cur = lst[-1]
        elif seg.kind == "list":
            # the first [] is addressed by ``index``; deeper ones hold one object per parent
            at = index if first_list else 0
            first_list = False
            lst = cur.setdefault(seg.name, [])
            while len(lst) <= at:
                lst.append({})
            cur = lst[at]
        else:
            lst = cur.setdefault(seg.name, [])
            for item in lst:
                if isinstance(item, dict) and str(item.get(seg.sel_key)) == seg.sel_value:
                    cur = item
                    break
            else:
                item = {}
                if seg.name in AUTO_ID_LISTS and seg.sel_key != "id":
                    item["id"] = str(len(lst) + 1)
                item[seg.sel_key] = seg.sel_value
                lst.append(item)
                cur = item
    last = segs[-1]
    if last.kind in ("list", "append"):
        lst = cur.setdefault(last.name, [])
        # a list value (a code mapped to several OCDS codes, e.g. 'result' -> award and contract tags)
        # adds each of its items
        for item in value if isinstance(value, list) else [value]:
            if item not in lst:
                lst.append(item)
    elif last.kind == "select":
        raise ValueError(f"path {path!r} cannot end with a selector")
    else:
        cur[last.name] = value


def get_value(
    root: dict[str, Any], scope: dict[str, Any], path: str, *, index: int = 0, key: str = ""
) -> Any:
    """The value at ``path`` or ``None``."""
    cur: Any
    cur, path = _base(root, scope, path, key)
    segs = parse(path)
    first_list = True
    for pos, seg in enumerate(segs):
        if not isinstance(cur, dict):
            return None
        nxt = cur.get(seg.name)
        if nxt is None:
            return None
        if seg.kind in ("list", "append") and pos < len(segs) - 1:
            at = index if first_list else 0
            first_list = False
            if not isinstance(nxt, list) or len(nxt) <= at:
                return None
            nxt = nxt[at]
        elif seg.kind == "select":
            if not isinstance(nxt, list):
                return None
            nxt = next(
                (i for i in nxt if isinstance(i, dict) and str(i.get(seg.sel_key)) == seg.sel_value), None
            )
            if nxt is None:
                return None
        cur = nxt
    return cur


def list_length(root: dict[str, Any], scope: dict[str, Any], path: str, *, key: str = "") -> int:
    """Length of the first ``[]`` list along ``path`` (0 when absent)."""
    cur: Any
    cur, path = _base(root, scope, path, key)
    for seg in parse(path):
        if not isinstance(cur, dict):
            return 0
        nxt = cur.get(seg.name)
        if seg.kind in ("list", "append"):
            return len(nxt) if isinstance(nxt, list) else 0
        if seg.kind == "select":
            if not isinstance(nxt, list):
                return 0
            nxt = next(
                (i for i in nxt if isinstance(i, dict) and str(i.get(seg.sel_key)) == seg.sel_value), None
            )
        cur = nxt
    return 0
