"""Mappings benchmark: conversions per second, each direction, on a 50-lot contract notice.

The 50-lot notice is built from the official ``cn_24_maximal_100_lots.xml`` (SDK 1.14.2) read into
OCDS and cut to its first 50 lots. Directions: eForms CN -> OCDS, OCDS -> eForms CN, OCDS -> Peppol
T004, T004 -> OCDS, DECP -> OCDS and OCDS -> DECP (50 marchés). Primitives measured in the same run:
hardened lxml parse of the notice, ``etree.tostring`` of it, and ``json.dumps``/``json.loads`` of the
release, so each figure has a ratio to what any converter must at least pay.

Run: ``.venv/bin/python -m benches mappings`` (needs ``../shared/corpus`` or ``AP_CORPUS_DIR``).
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from benches._common import quick, rounds
from mappings.decp import export_decp, import_decp
from mappings.eforms import build_notice, build_tree, read_notice
from mappings.model import decp_errors
from mappings.peppol import build_document, read_document
from peppol.xml import parse_bytes

LOTS = 50
ROUNDS = 5
CORPUS = Path(
    os.environ.get("AP_CORPUS_DIR", Path(__file__).resolve().parent.parent.parent / "shared" / "corpus")
)
SOURCE = CORPUS / "eforms-sdk-1.14.2/examples/notices/cn_24_maximal_100_lots.xml"


def _timed(fn: Callable[[], object], n: int = ROUNDS) -> float:
    """Median seconds of ``fn`` over ``n`` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(rounds(n)):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def fifty_lot_release(lots: int = LOTS) -> dict[str, Any]:
    release = read_notice(SOURCE.read_bytes())
    tender = release["tender"]
    keep = {lot["id"] for lot in tender["lots"][:lots]}
    tender["lots"] = tender["lots"][:lots]
    tender["items"] = [i for i in tender.get("items", []) if i.get("relatedLot") in (None, *keep)]
    raws = release["platform"]["eforms"]
    release["platform"]["eforms"] = {k: v for k, v in raws.items() if k.split("|")[1] in (*keep, "")}
    return release


def decp_document(n: int) -> dict[str, Any]:
    from tests.mappings.decp_samples import MARCHE

    marches = []
    for i in range(n):
        m = copy.deepcopy(MARCHE)
        m["id"] = f"2024-{i:04d}"
        marches.append(m)
    return {"marches": {"marche": marches}}


def main() -> None:
    if not SOURCE.is_file():
        print(f"skipped: {SOURCE} not found (set AP_CORPUS_DIR)")
        return
    lot_count = 3 if quick() else LOTS
    release = fifty_lot_release(lot_count)
    notice = build_notice(release, "cn")
    lots = len(read_notice(notice)["tender"]["lots"])
    for party in release.get("parties", []):
        release.setdefault("platform", {}).setdefault("peppol", {}).setdefault("parties", {})[party["id"]] = {
            "endpoint": {"scheme": "0009", "id": "21350238800019"},
            "identifier": {"scheme": "0009", "id": "21350238800019"},
        }
    t004 = build_document(release, "t004")
    decp_doc = decp_document(lot_count)
    decp_releases = import_decp(decp_doc)
    blob = json.dumps(release)

    prim = {
        "parse notice (lxml, hardened)": _timed(lambda: parse_bytes(notice)),
        "serialise notice (etree.tostring)": _timed(lambda: etree.tostring(parse_bytes(notice).getroot())),
        "json.dumps release": _timed(lambda: json.dumps(release)),
        "json.loads release": _timed(lambda: json.loads(blob)),
    }
    conv = {
        "eForms CN -> OCDS": _timed(lambda: read_notice(notice)),
        "OCDS -> eForms CN": _timed(lambda: build_notice(release, "cn")),
        "OCDS -> eForms CN, traced (--validate)": _timed(lambda: build_tree(release, "cn", trace={})),
        "OCDS -> Peppol T004": _timed(lambda: build_document(release, "t004")),
        "Peppol T004 -> OCDS": _timed(lambda: read_document(t004)),
        f"DECP ({lot_count} marchés) -> OCDS": _timed(lambda: import_decp(decp_doc)),
        f"  of which input validation ({lot_count} marchés)": _timed(lambda: decp_errors(decp_doc)),
        f"OCDS -> DECP ({lot_count} marchés)": _timed(lambda: export_decp(decp_releases)),
    }
    print(
        f"notice: {lots} lots, {len(notice) / 1024:.0f} KiB; T004 {len(t004) / 1024:.0f} KiB; release JSON "
        f"{len(blob) / 1024:.0f} KiB"
    )
    print(f"{'primitive':40} {'ms':>9}")
    for name, sec in prim.items():
        print(f"{name:40} {sec * 1000:9.2f}")
    base = prim["parse notice (lxml, hardened)"] + prim["serialise notice (etree.tostring)"]
    print(f"{'conversion':40} {'ms':>9} {'per s':>9} {'x (parse+serialise)':>20}")
    for name, sec in conv.items():
        print(f"{name:40} {sec * 1000:9.2f} {1 / sec:9.1f} {sec / base:20.1f}")


if __name__ == "__main__":
    main()
