"""``make demo``: the exchange through two running access point services.

``ap dev pair`` writes a test PKI and two service configurations; a real DNS server plays the SML and a
TLS SMP publishes both participants (discovery through SML + SMP, not a static file). Two services run
(TLS, SQLite, embedded Redis, in-process workers): the marketplace posts an OCDS consultation to its
API, its AP maps it to a Peppol T004 CallForTenders, validates, discovers, signs, encrypts and sends it;
the partner's AP receives it; the partner platform answers with a T005 Tender through its own API; the
marketplace's AP answers that tender with a T006 TenderReceipt on its own. The inbound documents are
read back as OCDS through the API.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import requests
from rich.console import Console
from rich.table import Table

DEMO_DIR: Final = Path("var/demo-service")
POLL_SECONDS: Final = 0.2
WAIT_SECONDS: Final = 60.0
LEGEND: Final = (
    "C1 = the marketplace platform (sends through its API), C2 = the marketplace's access point, "
    "C3 = the partner's access point, C4 = the partner platform (reads through its API). "
    "On the way back the roles swap: the partner is C1, the marketplace C4."
)


class _Api:
    def __init__(self, side: dict[str, str], ca: str) -> None:
        self.url, self.key, self.ca = side["api_url"], side["api_key"], ca

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method,
            self.url + path,
            headers={"Authorization": f"Bearer {self.key}"},
            verify=self.ca,
            timeout=60,
            **kwargs,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code} {response.text[:500]}")
        return response

    def wait(self, path: str, done: Callable[[Any], Any]) -> Any:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            answer = self(("GET"), path).json()
            found = done(answer)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(POLL_SECONDS)


def _first(document: str) -> Callable[[list[dict[str, Any]]], dict[str, Any] | None]:
    return lambda items: next((i for i in items if i["document"] == document), None)


def run(root: Path = DEMO_DIR, console: Console | None = None) -> int:
    """Run the exchange; returns the process exit code (0 when every leg was delivered)."""
    from access_point import demo as documents
    from access_point.dev.network import start_network
    from access_point.dev.pair import write_pair
    from access_point.service.config import load_config
    from access_point.service.server import RunningService, start_service
    from mappings.convert import convert

    console = console or Console(width=None if sys.stdout.isatty() else 160)
    started = time.monotonic()
    shutil.rmtree(root, ignore_errors=True)
    table = Table(title="Marketplace ↔ partner through two access point services", show_lines=False)
    for column in ("corner", "step", "result"):
        table.add_column(column, overflow="fold")

    def log(corner: str, step: str, text: str) -> None:
        table.add_row(corner, step, text)

    info = write_pair(root)
    market_side, partner_side = info["marketplace"], info["partner"]
    log("setup", "pair", f"test PKI, SML zone {info['discovery']['zone']}, configurations in {root}")
    store = documents._artifact_store(root)
    os.environ["AP_ARTIFACTS_DIR"] = str(store.root)
    network = start_network(root)
    log("setup", "discovery", f"SML (DNS) {network.nameserver}, SMP {network.smp_url} (TLS)")
    services: list[RunningService] = []
    ok = False
    try:
        services.append(start_service(load_config(market_side["config"])))
        services.append(start_service(load_config(partner_side["config"])))
        log("setup", "services", f"marketplace {market_side['api_url']}, partner {partner_side['api_url']}")
        ca = str(root / "pki" / "tls-truststore.pem")
        market, partner = _Api(market_side, ca), _Api(partner_side, ca)

        now = datetime.now(UTC)
        folder, call_id = str(uuid.uuid4()), str(uuid.uuid4())
        ocds = json.loads(
            convert(documents.call_for_tenders(folder, call_id, now), source="ubl", target="ocds").data
        )
        log("C1", "OCDS", f"consultation {ocds['ocid']}: {ocds['tender'].get('title', '')}")
        sent = market("POST", "/v1/outbound", json={"receiver": partner_side["participant"], "format": "ocds",
                                                    "document": ocds}).json()  # fmt: skip
        log("C2", "accepted", f"mapped to T004, validated, queued as {sent['id']}")
        outbound = market.wait(
            f"/v1/outbound/{sent['id']}",
            lambda a: a if a["status"] in ("delivered", "failed", "dead") else None,
        )
        for event in outbound["timeline"]:
            log("C2", event["status"], event["detail"] or "")
        call = partner.wait("/v1/inbound", _first("CallForTenders"))
        log("C3→C4", "received", f"{call['document']} from {call['sender']}, valid: {call['valid']}")
        as_ocds = partner("GET", f"/v1/inbound/{call['id']}?format=ocds").json()
        log("C4", "as OCDS", f"ocid {as_ocds.get('ocid')}, tender {as_ocds.get('tender', {}).get('id')}")

        answer = documents.tender(folder, call_id, datetime.now(UTC)).decode()
        sent = partner(
            "POST", "/v1/outbound", json={"receiver": market_side["participant"], "document": answer}
        ).json()
        log("C4→C3", "tender", f"T005 queued as {sent['id']}")
        outbound = partner.wait(
            f"/v1/outbound/{sent['id']}",
            lambda a: a if a["status"] in ("delivered", "failed", "dead") else None,
        )
        log("C3", outbound["status"], f"receipt {outbound['receipt_id']}")
        tender = market.wait("/v1/inbound", _first("Tender"))
        tender_ocds = market("GET", f"/v1/inbound/{tender['id']}?format=ocds").json()
        bids = (tender_ocds.get("bids") or {}).get("details") or [{}]
        log(
            "C2→C1",
            "received",
            f"Tender from {tender['sender']} as OCDS: bid {bids[0].get('id')}, valid: {tender['valid']}",
        )
        receipt = partner.wait("/v1/inbound", _first("TenderReceipt"))
        log(
            "C2→C3→C4", "automatic", f"T006 TenderReceipt from {receipt['sender']}, valid: {receipt['valid']}"
        )
        ok = all(x is not None for x in (call, tender, receipt)) and outbound["status"] == "delivered"
    except Exception as exc:  # the demo reports what failed instead of a traceback
        log("!", "failed", f"{type(exc).__name__}: {exc}")
    finally:
        for service in services:
            service.stop()
        network.stop()
    console.print(table)
    console.print(LEGEND, highlight=False)
    verdict = "[green]Exchange complete[/]" if ok else "[red]Exchange FAILED[/]"
    console.print(f"{verdict} in {time.monotonic() - started:.1f} s; files in {root}")
    return 0 if ok else 1


def main() -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
