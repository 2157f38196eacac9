"""The service end to end (marketplace API → queue → AS4 → partner ledger → inbound processing) against the
transport-only round trip (build + one POST to the same partner ``/as4``), measured in the same run.

Two services in this process (``ap dev pair --static``, TLS, SQLite WAL, embedded Redis, validation
off: the cost measured is the service's). ``N`` documents of ~10 KB are posted to the API at once; the
figures are messages per second until the last is delivered, and p50/p99 of submit → delivered (from
the outbound timeline). Usage: ``python -m benches service [N]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

DEFAULT_COUNT = 40
PAD_BYTES = 9000


def _document() -> str:
    from access_point import demo as documents

    now = datetime.now().astimezone()
    text = documents.call_for_tenders("folder", "call", now).decode()
    padding = "x" * PAD_BYTES  # ~10 KB documents
    return text.replace("</cbc:Description>", f" {padding}</cbc:Description>", 1)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    from access_point.dev.pair import write_pair
    from access_point.service.config import load_config
    from access_point.service.server import start_service
    from exchange.outbound import OutboundRequest, attempt, build, prepare_document
    from peppol.identifiers import ParticipantId
    from transport.sender import As4Sender

    count = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_COUNT
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        info = write_pair(Path(tmp) / "pair", static=True)
        market = start_service(load_config(info["marketplace"]["config"]), validator=False)
        partner = start_service(load_config(info["partner"]["config"]), validator=False)
        ca = str(Path(tmp) / "pair" / "pki" / "tls-truststore.pem")
        document = _document()
        try:
            # transport only: the same kind of message built and posted, one after the other
            service = market.service
            request = OutboundRequest(
                payload=document.encode(),
                sender=ParticipantId.parse(info["marketplace"]["participant"]),
                receiver=ParticipantId.parse(info["partner"]["participant"]),
                c1_country="FR",
            )
            endpoint = service.resolver.lookup(
                request.receiver, *_ids(prepare_document(request, validator=None))
            )
            endpoint = endpoint.endpoint
            latencies: list[float] = []
            with As4Sender(ca_bundle=Path(ca), validate_signer=service.ap_validator.validate) as client:
                started = time.perf_counter()
                for _ in range(count):
                    t0 = time.perf_counter()
                    message = build(
                        prepare_document(request, validator=None), endpoint, identity=service.identity
                    )
                    assert attempt(message, endpoint, sender=client).delivered
                    latencies.append(time.perf_counter() - t0)
                transport_rate = count / (time.perf_counter() - started)
            # the service: all submitted at once through the API, delivered by the workers
            headers = {"Authorization": f"Bearer {info['marketplace']['api_key']}"}
            body = {"receiver": info["partner"]["participant"], "document": document}
            url = info["marketplace"]["api_url"]

            def submit(_: int) -> str:
                answer = requests.post(
                    f"{url}/v1/outbound", json=body, headers=headers, verify=ca, timeout=120
                )
                return str(answer.json()["id"])

            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                ids = list(pool.map(submit, range(count)))
            outcomes = _wait_delivered(url, ids, headers, ca)
            service_rate = count / (time.perf_counter() - started)
        finally:
            market.stop()
            partner.stop()
    service_latencies = [_latency(o) for o in outcomes]
    print(f"messages: {count} x ~{len(document) // 1024} KB, durability on (SQLite WAL, fsync)")
    print(
        f"transport only (build + POST, sequential): {transport_rate:.1f} msg/s, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {_percentile(latencies, 0.99) * 1000:.0f} ms"
    )
    print(
        f"service end to end (API → delivered): {service_rate:.1f} msg/s "
        f"({service_rate / transport_rate:.2f} x transport), "
        f"p50 {statistics.median(service_latencies) * 1000:.0f} ms, "
        f"p99 {_percentile(service_latencies, 0.99) * 1000:.0f} ms (submitted all at once: queueing included)"
    )


def _ids(document: Any) -> tuple[Any, Any]:
    return document.document_type, document.process


def _wait_delivered(url: str, ids: list[str], headers: dict[str, str], ca: str) -> list[dict[str, Any]]:
    pending, done = list(ids), []
    deadline = time.monotonic() + 600
    while pending and time.monotonic() < deadline:
        still = []
        for outbound_id in pending:
            answer = requests.get(
                f"{url}/v1/outbound/{outbound_id}", headers=headers, verify=ca, timeout=60
            ).json()
            (done if answer["status"] == "delivered" else still).append(
                answer if answer["status"] == "delivered" else outbound_id
            )
        pending = still
        if pending:
            time.sleep(0.1)
    if pending:
        raise RuntimeError(f"{len(pending)} message(s) not delivered")
    return done


def _latency(outbound: dict[str, Any]) -> float:
    timeline = outbound["timeline"]
    start = datetime.fromisoformat(timeline[0]["at"])
    end = datetime.fromisoformat(timeline[-1]["at"])
    return (end - start).total_seconds()


if __name__ == "__main__":
    main()
