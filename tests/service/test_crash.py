"""Nothing lost, nothing delivered twice: a burst from the marketplace to the partner while the sending
service (its in-process workers and embedded Redis included) and then the receiving service are killed
with ``kill -9`` and restarted on the same data directories."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import Pair
from tests.service.documents import T004_EXAMPLE

pytestmark = pytest.mark.corpus
BURST = 24


def _statuses(pair: Pair, ids: list[str]) -> list[str]:
    return [pair.api("marketplace", "GET", f"/v1/outbound/{i}").json()["status"] for i in ids]


def test_kill_9_of_sender_and_receiver_mid_burst_loses_nothing_and_delivers_once(
    pair: Pair, serve: Any, corpus: Path
) -> None:
    market = serve("marketplace")
    partner = serve("partner")
    call = (corpus / T004_EXAMPLE).read_text()
    body = {"receiver": pair.side("partner")["participant"], "document": call}
    ids = []
    for _ in range(BURST):
        answer = pair.api("marketplace", "POST", "/v1/outbound", json=body)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])

    deadline = time.monotonic() + 60
    while _statuses(pair, ids).count("delivered") < BURST // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    market.kill9()  # mid-burst: some delivered, some in flight, some queued
    market.start()
    deadline = time.monotonic() + 60
    while _statuses(pair, ids).count("delivered") < BURST // 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    partner.kill9()  # the receiver dies while messages arrive
    partner.start()

    deadline = time.monotonic() + 240
    while (statuses := _statuses(pair, ids)).count("delivered") < BURST and time.monotonic() < deadline:
        time.sleep(0.5)
    assert statuses == ["delivered"] * BURST, statuses
    received = pair.api("partner", "GET", "/v1/inbound?all=true&limit=1000").json()
    instances = [item["instance_id"] for item in received]
    sent = {pair.api("marketplace", "GET", f"/v1/outbound/{i}").json()["instance_id"] for i in ids}
    assert len(instances) == BURST and set(instances) == sent  # each document once, none lost
