"""The REST API's contract, on services running in this process (real TLS, real embedded Redis, real
DNS + SMP): tenants are isolated (a tenant can neither send as nor read the documents of another
tenant's participants), every error is RFC 9457 problem JSON, an invalid document is refused with its
validation report and nothing queued, and an AS4 message for a participant no tenant serves gets
``PEPPOL:NOT_SERVICED``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from access_point.dev.network import start_network
from access_point.dev.pair import write_pair
from access_point.service import tables
from access_point.service.config import load_config
from access_point.service.keys import new_key
from access_point.service.server import RunningService, start_service
from tests.service.conftest import Pair
from tests.service.documents import T004_EXAMPLE, tender

pytestmark = pytest.mark.corpus
OTHER = "iso6523-actorid-upis::0009:11111111111111"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """One ``ap dev pair`` setup (DNS + SMP running) for the tests of this module."""
    directory = tmp_path_factory.mktemp("tenants") / "pair"
    info = write_pair(directory)
    network = start_network(directory)
    try:
        yield Pair(directory, info)
    finally:
        network.stop()


@pytest.fixture(scope="module")
def services(pair: Pair, preaward_store: Path) -> Iterator[dict[str, Any]]:
    """Marketplace (with a second tenant, ``other``) and partner services, in this process."""
    patch = pytest.MonkeyPatch()
    patch.setenv("AP_ARTIFACTS_DIR", str(preaward_store))
    patch.delenv("REDIS_URL", raising=False)
    patch.delenv("DATABASE_URL", raising=False)
    key = new_key()
    market_config = Path(pair.side("marketplace")["config"])
    two_tenants = market_config.with_name("two-tenants.toml")
    two_tenants.write_text(
        market_config.read_text()
        + f'\n[[tenants]]\nid = "other"\nparticipants = ["{OTHER}"]\ncountry = "FR"\n'
        + f'[[tenants.api_keys]]\nid = "{key.id}"\nhash = "{key.hash}"\n'
    )
    hook = _WebhookReceiver()
    partner_config = Path(pair.side("partner")["config"])
    with_hook = partner_config.with_name("webhook.toml")
    with_hook.write_text(
        partner_config.read_text().replace(
            "tender_receipt = false\n",
            f'tender_receipt = false\nwebhook_url = "{hook.url}"\nwebhook_secret = "{WEBHOOK_SECRET}"\n',
        )
    )
    running: list[RunningService] = []
    try:
        running.append(start_service(load_config(two_tenants)))
        running.append(start_service(load_config(with_hook)))
        yield {"market": running[0], "partner": running[1], "other_key": key.key, "hook": hook}
    finally:
        for service in running:
            service.stop()
        hook.stop()
        patch.undo()


WEBHOOK_SECRET = "webhook-secret-for-tests"


class _WebhookReceiver:
    """The partner platform's webhook endpoint: answers 503 to the first delivery, then 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(503 if len(received) == 1 else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _call(
    pair: Pair, side: str, method: str, path: str, key: str | None = None, **kw: Any
) -> requests.Response:
    url = pair.side(side)["api_url"] + path
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    headers.update(kw.pop("headers", {}))
    return requests.request(method, url, headers=headers, verify=pair.ca, timeout=60, **kw)


def _problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _outbound_rows(running: RunningService) -> int:
    with running.service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.outbound_messages)).scalar_one())


def test_a_tenant_can_neither_send_as_nor_read_another_tenants_participants(
    pair: Pair, services: dict[str, Any], corpus: Path
) -> None:
    market, partner = pair.side("marketplace"), pair.side("partner")
    other = services["other_key"]
    call = (corpus / T004_EXAMPLE).read_text()

    as_market = {"receiver": partner["participant"], "document": call, "sender": market["participant"]}
    before = _outbound_rows(services["market"])
    _problem(_call(pair, "marketplace", "POST", "/v1/outbound", other, json=as_market), 403)
    assert _outbound_rows(services["market"]) == before

    sent = _call(pair, "marketplace", "POST", "/v1/outbound", market["api_key"], json=as_market)
    assert sent.status_code == 202, sent.text
    outbound_id = sent.json()["id"]
    for method, path in (("GET", ""), ("POST", "/retry")):
        _problem(_call(pair, "marketplace", method, f"/v1/outbound/{outbound_id}{path}", other), 404)
    assert pair.wait_for("marketplace", f"/v1/outbound/{outbound_id}", lambda a: a["status"] == "delivered")

    answer = tender(str(uuid.uuid4()), str(uuid.uuid4())).decode()
    sent = _call(pair, "partner", "POST", "/v1/outbound", partner["api_key"],
                 json={"receiver": market["participant"], "document": answer})  # fmt: skip
    assert sent.status_code == 202, sent.text
    (received,) = pair.wait_for(
        "marketplace", "/v1/inbound", lambda items: [i for i in items if i["document"] == "Tender"]
    )
    assert _call(pair, "marketplace", "GET", "/v1/inbound", other).json() == []
    for method, path in (("GET", ""), ("GET", "?format=ubl"), ("GET", "?format=ocds"), ("POST", "/ack")):
        _problem(_call(pair, "marketplace", method, f"/v1/inbound/{received['id']}{path}", other), 404)
    # the owner reads it
    document = _call(
        pair, "marketplace", "GET", f"/v1/inbound/{received['id']}?format=ubl", market["api_key"]
    )
    assert document.status_code == 200 and b"<Tender" in document.content
    # the marketplace tenant answers tenders on its own: the partner gets a T006
    receipts = pair.wait_for(
        "partner", "/v1/inbound", lambda items: [i for i in items if i["document"] == "TenderReceipt"]
    )
    assert [i["sender"] for i in receipts if i["document"] == "TenderReceipt"] == [market["participant"]]


def test_every_error_is_problem_json_and_invalid_documents_are_not_queued(
    pair: Pair, services: dict[str, Any], corpus: Path
) -> None:
    market, partner = pair.side("marketplace"), pair.side("partner")
    key = market["api_key"]
    before = _outbound_rows(services["market"])
    _problem(_call(pair, "marketplace", "GET", "/v1/inbound"), 401)
    _problem(_call(pair, "marketplace", "GET", "/v1/inbound", "apk_nope_nothing"), 401)
    _problem(_call(pair, "marketplace", "GET", "/v1/nowhere", key), 404)
    _problem(_call(pair, "marketplace", "DELETE", "/v1/inbound", key), 405)
    _problem(_call(pair, "marketplace", "GET", "/v1/outbound/not-an-id", key), 404)
    _problem(_call(pair, "marketplace", "GET", "/v1/inbound?limit=0", key), 422)
    json_type = {"Content-Type": "application/json"}
    bad_json = _call(pair, "marketplace", "POST", "/v1/outbound", key, data=b"{not json", headers=json_type)
    _problem(bad_json, 422)
    _problem(_call(pair, "marketplace", "POST", "/v1/outbound", key, json={"document": "<x/>"}), 422)
    call = (corpus / T004_EXAMPLE).read_text()
    bad_receiver = {"receiver": "no such id", "document": call}
    _problem(_call(pair, "marketplace", "POST", "/v1/outbound", key, json=bad_receiver), 422)
    _problem(_call(pair, "marketplace", "POST", "/v1/outbound", key, json={"receiver": partner["participant"],
             "document": "<not-xml", "format": "ubl"}), 422)  # fmt: skip

    # a T004 without its mandatory ContractFolderID: the validation report comes back, nothing queued
    invalid = call.replace("<cbc:ContractFolderID>", "<cbc:Note>").replace(
        "</cbc:ContractFolderID>", "</cbc:Note>"
    )
    refused = _problem(
        _call(pair, "marketplace", "POST", "/v1/outbound", key,
              json={"receiver": partner["participant"], "document": invalid}), 422)  # fmt: skip
    assert refused["validation"]["valid"] is False
    assert any(item["severity"] in ("error", "fatal") for layer in refused["validation"]["layers"]
               for item in layer["items"])  # fmt: skip
    assert _outbound_rows(services["market"]) == before

    too_big = services["market"].service.config.limits.max_api_body_bytes + 1
    _problem(_call(pair, "marketplace", "POST", "/v1/outbound", key, data=b"x" * too_big), 413)


def test_a_participant_no_tenant_serves_gets_not_serviced(
    pair: Pair, services: dict[str, Any], corpus: Path
) -> None:
    from exchange.outbound import OutboundRequest, attempt, build, prepare_document
    from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2, Endpoint
    from peppol.identifiers import ParticipantId
    from peppol.pki import Identity
    from transport.sender import As4Sender

    partner_config = load_config(pair.side("partner")["config"])
    market_service = services["market"].service
    request = OutboundRequest(
        payload=(corpus / T004_EXAMPLE).read_bytes(),
        sender=ParticipantId.parse(pair.side("partner")["participant"]),
        receiver=ParticipantId.parse("iso6523-actorid-upis::0009:99999999999999"),
        c1_country="DE",
    )
    endpoint = Endpoint(
        pair.side("marketplace")["api_url"] + "/as4",
        TRANSPORT_PROFILE_AS4_V2,
        market_service.identity.certificate,
    )
    identity = Identity.load(partner_config.identity_cert, partner_config.identity_key)
    message = build(prepare_document(request, validator=None), endpoint, identity=identity)
    before = market_service.ledger.count()
    with As4Sender(ca_bundle=Path(pair.ca), validate_signer=market_service.ap_validator.validate) as client:
        outcome = attempt(message, endpoint, sender=client)
    assert not outcome.delivered and outcome.permanent
    assert outcome.code == "EBMS:0004" and "NOT_SERVICED" in (outcome.detail or "")
    assert market_service.ledger.count() == before


def test_webhook_deliveries_are_hmac_signed_and_retried(
    pair: Pair, services: dict[str, Any], corpus: Path
) -> None:
    """The partner tenant has a webhook: what it received reaches it signed; the delivery its endpoint
    refused (a 503) was retried. The test sends its own document (xdist may run it before, or apart
    from, the tests of this module that also send to the partner)."""
    call = {"receiver": pair.side("partner")["participant"], "document": (corpus / T004_EXAMPLE).read_text()}
    sent = _call(pair, "marketplace", "POST", "/v1/outbound", pair.side("marketplace")["api_key"], json=call)
    assert sent.status_code == 202, sent.text
    hook = services["hook"]
    partner = services["partner"].service
    deliveries = tables.webhook_deliveries
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with partner.engine.connect() as conn:
            rows = conn.execute(select(deliveries)).all()
        received = partner.ledger.count()
        if received and len(rows) == received and all(row.status == "delivered" for row in rows):
            break
        time.sleep(0.3)
    assert rows and [row.status for row in rows] == ["delivered"] * received, rows
    assert max(row.attempts for row in rows) == 2 and len(hook.received) == sum(row.attempts for row in rows)
    for headers, body in hook.received:
        expected = hmac.new(
            WEBHOOK_SECRET.encode(), headers["x-ap-timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["x-ap-signature"] == f"sha256={expected}"
        event = json.loads(body)
        assert event["event"] == "inbound.received" and event["format"] == "ubl"
        assert event["inbound"]["document"] in ("CallForTenders", "TenderReceipt")
        assert base64.b64decode(event["document"]).startswith(b"<?xml")
