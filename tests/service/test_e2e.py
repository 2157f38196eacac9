"""The service end to end over real HTTP with TLS: two ``ap serve`` processes set up by ``ap dev pair``
(embedded Redis each, SQLite), discovery through a real DNS server (SML) and SMP. The marketplace sends
an OCDS consultation as a T004, the partner answers with a T005, the marketplace's AP answers that with
a T006 on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.service.conftest import Pair, as_json, cli
from tests.service.documents import ocds_consultation, tender

pytestmark = pytest.mark.corpus
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _settled(answer: dict[str, Any]) -> bool:
    return answer["status"] in ("delivered", "failed", "dead")


def _inbound(pair: Pair, name: str, document: str, count: int = 1) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = pair.wait_for(
        name,
        "/v1/inbound?all=true",
        lambda items: len([i for i in items if i["document"] == document]) >= count,
    )
    return [i for i in found if i["document"] == document]


def test_consultation_tender_and_receipt_travel_through_two_services(
    pair: Pair, serve: Any, corpus: Path, tmp_path: Path
) -> None:
    serve("marketplace")
    serve("partner")
    market, partner = pair.side("marketplace"), pair.side("partner")

    consultation = tmp_path / "consultation.json"
    consultation.write_bytes(ocds_consultation(corpus))
    sent = as_json(
        cli("send", str(consultation), "--to", partner["participant"], "--config", market["config"], "--json")
    )
    outbound = pair.wait_for("marketplace", f"/v1/outbound/{sent['id']}", _settled)
    assert outbound["status"] == "delivered", outbound
    assert outbound["receipt_id"] and outbound["message_id"] and outbound["attempts"] == 1
    assert outbound["timeline"][0]["status"] == "queued"
    assert outbound["timeline"][-1]["status"] == "delivered"
    assert outbound["endpoint"] == partner["api_url"] + "/as4"  # found through SML + SMP
    shown = cli("outbound", "get", sent["id"], "--config", market["config"])
    assert shown.returncode == 0 and "delivered" in shown.stdout

    (call,) = _inbound(pair, "partner", "CallForTenders")
    assert call["valid"] is True and call["sender"] == market["participant"] and call["country_c1"] == "FR"
    as_ocds = json.loads(
        cli("inbound", "get", call["id"], "--format", "ocds", "--config", partner["config"]).stdout
    )
    assert as_ocds["tender"]["id"]
    ubl = pair.api("partner", "GET", f"/v1/inbound/{call['id']}?format=ubl")
    root = etree.fromstring(ubl.content)
    folder, call_id = root.findtext(f"{{{CBC}}}ContractFolderID"), root.findtext(f"{{{CBC}}}ID")
    assert folder and call_id

    answer = tmp_path / "tender.xml"
    answer.write_bytes(tender(folder, call_id))
    sent = as_json(
        cli("send", str(answer), "--to", market["participant"], "--config", partner["config"], "--json")
    )
    assert pair.wait_for("partner", f"/v1/outbound/{sent['id']}", _settled)["status"] == "delivered"
    (received,) = _inbound(pair, "marketplace", "Tender")
    assert received["valid"] is True and received["sender"] == partner["participant"]
    # the marketplace's AP answered the tender with a T006 on its own
    (receipt,) = _inbound(pair, "partner", "TenderReceipt")
    assert receipt["sender"] == market["participant"] and receipt["valid"] is True

    listed = as_json(cli("inbound", "list", "--config", partner["config"], "--json"))
    assert {i["document"] for i in listed} == {"CallForTenders", "TenderReceipt"}
    as_json(cli("inbound", "ack", call["id"], "--config", partner["config"], "--json"))
    listed = as_json(cli("inbound", "list", "--config", partner["config"], "--json"))
    assert [i["document"] for i in listed] == ["TenderReceipt"]
