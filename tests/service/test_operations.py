"""Operating the service: after a known sequence of messages (2 sent and delivered, 1 refused by the API)
``/metrics`` says exactly that on both sides, every message has its JSON log line (MessageId, sender,
receiver, document type, verdict, ebMS code, duration, request id), ``/healthz`` answers and ``/readyz``
names the check that fails (503 problem JSON)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from access_point.dev.network import start_network
from access_point.dev.pair import write_pair
from access_point.logs import JsonFormatter
from access_point.service.config import load_config
from access_point.service.metrics import days_to_expiry
from access_point.service.server import RunningService, start_service
from tests.service.conftest import Pair
from tests.service.documents import T004_EXAMPLE

pytestmark = pytest.mark.corpus
T004 = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2::CallForTenders"
    "##urn:fdc:peppol.eu:prac:trns:t004:1.2::2.2"
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, preaward_store: Path) -> Iterator[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("operations") / "pair"
    info = write_pair(directory)
    network = start_network(directory)
    patch = pytest.MonkeyPatch()
    patch.setenv("AP_ARTIFACTS_DIR", str(preaward_store))
    patch.delenv("REDIS_URL", raising=False)
    patch.delenv("DATABASE_URL", raising=False)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    messages = logging.getLogger("access_point.messages")
    messages.addHandler(handler)
    messages.setLevel(logging.INFO)
    running: list[RunningService] = []
    try:
        pair = Pair(directory, info)
        for side in ("marketplace", "partner"):
            running.append(start_service(load_config(Path(pair.side(side)["config"]))))
        yield {"pair": pair, "market": running[0], "partner": running[1], "lines": lines}
    finally:
        for service in running:
            service.stop()
        messages.removeHandler(handler)
        messages.setLevel(logging.NOTSET)
        patch.undo()
        network.stop()


def _metrics(pair: Pair, side: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = requests.get(pair.side(side)["api_url"] + "/metrics", verify=pair.ca, timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _value(metrics: dict[Any, float], name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_and_log_lines_after_two_sent_and_one_refused(setup: dict[str, Any], corpus: Path) -> None:
    pair: Pair = setup["pair"]
    partner = pair.side("partner")["participant"]
    call = (corpus / T004_EXAMPLE).read_text()
    ids = []
    for number in range(2):
        answer = pair.api(
            "marketplace", "POST", "/v1/outbound", json={"receiver": partner, "document": call},
            headers={"X-Request-ID": f"submit-{number}"},
        )  # fmt: skip
        assert answer.status_code == 202 and answer.headers["x-request-id"] == f"submit-{number}"
        ids.append(answer.json()["id"])
    refused = pair.api(
        "marketplace", "POST", "/v1/outbound", json={"receiver": partner, "document": "<not-xml"}
    )
    assert refused.status_code == 422
    for outbound_id in ids:
        done = pair.wait_for(
            "marketplace", f"/v1/outbound/{outbound_id}", lambda a: a["status"] == "delivered"
        )
        assert done["status"] == "delivered"
    deadline = time.monotonic() + 30
    while _value(market := _metrics(pair, "marketplace"), "ap_queue_depth", queue="outbound") != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    assert _value(market, "ap_messages_total", direction="outbound", status="queued", document_type=T004) == 2
    assert (
        _value(market, "ap_messages_total", direction="outbound", status="delivered", document_type=T004) == 2
    )
    assert (
        _value(market, "ap_messages_total", direction="outbound", status="refused", document_type="unknown")
        == 1
    )
    assert _value(market, "ap_outbound_messages", status="delivered") == 2
    assert _value(market, "ap_send_retries_total") == 0
    assert _value(market, "ap_message_duration_seconds_count", direction="outbound") == 2
    assert _value(market, "ap_stage_duration_seconds_count", stage="attempt") == 2
    assert _value(market, "ap_stage_duration_seconds_count", stage="prepare") == 2
    assert _value(market, "ap_stage_duration_seconds_count", stage="validate") == 3
    circuits = {labels: value for (name, labels), value in market.items() if name == "ap_circuit_open"}
    assert list(circuits.values()) == [0]  # the partner's AP: closed
    identity = setup["market"].service.identity.certificate
    days = _value(market, "ap_certificate_expiry_days", certificate="identity")
    assert abs(days - days_to_expiry(identity)) < 0.01
    assert _value(market, "ap_certificate_expiry_days", certificate="tls") > 0
    assert ("ap_revocation_soft_fails_total", ()) in market

    deadline = time.monotonic() + 30
    while _value(received := _metrics(pair, "partner"), "ap_validation_duration_seconds_count") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (
        _value(received, "ap_messages_total", direction="inbound", status="accepted", document_type=T004) == 2
    )
    assert _value(received, "ap_message_duration_seconds_count", direction="inbound") == 2
    assert _value(received, "ap_validation_duration_seconds_count") == 2
    assert (
        _value(received, "ap_messages_total", direction="outbound", status="delivered", document_type=T004)
        == 0
    )

    lines = [json.loads(line) for line in setup["lines"].getvalue().splitlines()]
    queued = [x for x in lines if x["direction"] == "outbound" and x["verdict"] == "queued"]
    assert sorted(x["request_id"] for x in queued) == ["submit-0", "submit-1"]
    assert sorted(x["outbound_id"] for x in queued) == sorted(ids)
    sent = [x for x in lines if x["direction"] == "outbound" and x["verdict"] == "delivered"]
    inbound = [x for x in lines if x["direction"] == "inbound"]
    assert len(sent) == 2 and len(inbound) == 2
    assert {x["message_id"] for x in sent} == {x["message_id"] for x in inbound} != {None}
    for line in sent + inbound:
        assert line["sender"] == pair.side("marketplace")["participant"] and line["receiver"] == partner
        assert line["document_type"] == T004 and line["ebms_code"] is None
        assert line["duration_ms"] > 0
    assert all(x["request_id"] for x in inbound)
    (refusal,) = [x for x in lines if x["verdict"] == "refused"]
    assert refusal["receiver"] == partner and refusal["code"]


def test_healthz_answers_and_readyz_names_the_failing_check(setup: dict[str, Any]) -> None:
    pair: Pair = setup["pair"]
    base = pair.side("marketplace")["api_url"]
    assert requests.get(base + "/healthz", verify=pair.ca, timeout=30).json() == {"status": "ok"}
    ready = requests.get(base + "/readyz", verify=pair.ca, timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "key": "ok", "certificate": "ok"}

    key = setup["market"].service.config.identity_key
    moved = key.with_name(key.name + ".away")
    key.rename(moved)
    try:
        ready = requests.get(base + "/readyz", verify=pair.ca, timeout=30)
    finally:
        moved.rename(key)
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith("application/problem+json")
    problem = ready.json()
    assert problem["status"] == 503 and problem["failed"] == ["key"]
    assert problem["checks"]["database"] == "ok" and problem["checks"]["key"].startswith("failed: ")
    assert "key" in problem["detail"]
    assert requests.get(base + "/readyz", verify=pair.ca, timeout=30).status_code == 200
