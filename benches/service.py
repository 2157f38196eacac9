"""The service end to end (marketplace API → queue → AS4 → partner ledger → receipt stored) against the
transport-only round trip (build + one POST to the same partner ``/as4``), measured in the same run.

Two services (``ap dev pair --static``, TLS, SQLite WAL, embedded Redis, validation off: the cost
measured is the service's): the marketplace in this process, the partner in a child process (as
deployed: one GIL each; sharing one made the bench measure the GIL, not the service — see
docs/performance.md "svc-sat"); CPU figures add the child's, ~10 KB T004 documents. Three runs:

1. **transport only** — the reference: ``build`` + one AS4 POST to the partner, sequential, N times;
2. **saturation** — N documents submitted through the API at once (8 client threads, keep-alive):
   the maximum sustained rate is N / (first submit → last delivered);
3. **open loop at half that rate** — N documents submitted at Poisson-distributed moments (mean rate =
   half the saturation rate; each submission in its own thread, so a slow answer does not delay the
   next: an open-loop load), p50/p99 of the end-to-end latency.

4. **one large document** (``AP_SERVICE_BENCH_LARGE_MB``, default 100; 0 skips it) uploaded as a raw
   body (``POST /v1/outbound/upload``) and delivered: the peak growth of this process's RSS (the
   marketplace and the client; the partner is a child process) while it travels, sampled every 20 ms.

Latency = the client's submit (just before the API POST) → the marketplace stored the verified receipt
(its ``delivered`` event; the partner's ledger commit happened before the receipt was sent). Completion
is watched in the marketplace database (one query per 20 ms), not by polling the API.

Usage: ``python -m benches service [N]``; ``AP_BENCH_QUICK=1`` runs 3 messages per run.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import requests

from benches._common import quick

DEFAULT_COUNT: Final = 100
QUICK_COUNT: Final = 3
PAD_BYTES: Final = 9000
CLIENT_THREADS: Final = 8
POLL_SECONDS: Final = 0.02
DEADLINE_SECONDS: Final = 600.0
LARGE_ENV: Final = "AP_SERVICE_BENCH_LARGE_MB"
DEFAULT_LARGE_MB: Final = 100
MIB: Final = 1024 * 1024


def _document(index: int) -> str:
    from access_point import demo as documents

    now = datetime.now().astimezone()
    text = documents.call_for_tenders("folder", f"call-{index}", now).decode()
    padding = "x" * PAD_BYTES  # ~10 KB documents
    return text.replace("</cbc:Description>", f" {padding}</cbc:Description>", 1)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float], q: float) -> str:
    return f"{_percentile(values, q) * 1000:.0f} ms"


class _Client:
    """The marketplace's API as a platform calls it: one keep-alive session per client thread."""

    def __init__(self, info: dict[str, Any], ca: str) -> None:
        self.url = info["marketplace"]["api_url"]
        self.headers = {"Authorization": f"Bearer {info['marketplace']['api_key']}"}
        self.receiver = info["partner"]["participant"]
        self.ca = ca
        self._local = threading.local()

    def submit(self, document: str) -> tuple[str, datetime]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        at = datetime.now(UTC)
        answer = session.post(
            f"{self.url}/v1/outbound",
            json={"receiver": self.receiver, "document": document},
            headers=self.headers,
            verify=self.ca,
            timeout=120,
        )
        answer.raise_for_status()
        return str(answer.json()["id"]), at


def _delivered_at(service: Any, ids: list[str]) -> dict[str, datetime]:
    """Wait until every outbound row of ``ids`` is delivered; their ``delivered`` event times."""
    from sqlalchemy import select

    from access_point.service import tables as t

    e = t.outbound_events
    wanted, found = set(ids), {}
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(found) < len(wanted):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(wanted) - len(found)} message(s) not delivered")
        time.sleep(POLL_SECONDS)
        pending = list(wanted - found.keys())
        with service.engine.connect() as conn:
            rows = conn.execute(
                select(e.c.outbound_id, e.c.at).where(e.c.status == "delivered", e.c.outbound_id.in_(pending))
            ).all()
        for outbound_id, at in rows:
            found[outbound_id] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return found


def _latencies(submitted: dict[str, datetime], delivered: dict[str, datetime]) -> list[float]:
    return [(delivered[i] - submitted[i]).total_seconds() for i in submitted]


def _stages(service: Any, submitted: dict[str, datetime]) -> dict[str, list[float]]:
    """Where the latency went, from the outbound timeline: the API (submit → ``queued`` committed),
    the queue and the build (→ the ``sending`` event of the stored build), the attempt (→ ``delivered``:
    the POST, the partner's ledger commit, the receipt verified and stored)."""
    from sqlalchemy import select

    from access_point.service import tables as t

    e = t.outbound_events
    first: dict[tuple[str, str], datetime] = {}
    with service.engine.connect() as conn:
        rows = conn.execute(
            select(e.c.outbound_id, e.c.status, e.c.at).where(e.c.outbound_id.in_(list(submitted)))
        ).all()
    for outbound_id, status, at in rows:
        first.setdefault((outbound_id, status), at if at.tzinfo else at.replace(tzinfo=UTC))
    marks = [("api", "queued"), ("queue + build", "sending"), ("attempt", "delivered")]
    stages: dict[str, list[float]] = {name: [] for name, _ in marks}
    for outbound_id, at in submitted.items():
        previous = at
        for name, status in marks:
            moment = first[(outbound_id, status)]
            stages[name].append((moment - previous).total_seconds())
            previous = moment
    return stages


def _saturation(client: _Client, service: Any, documents: list[str]) -> tuple[float, list[float]]:
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        submitted = dict(pool.map(client.submit, documents))
    delivered = _delivered_at(service, list(submitted))
    first = min(submitted.values())
    rate = len(documents) / (max(delivered.values()) - first).total_seconds()
    return rate, _latencies(submitted, delivered)


def _open_loop(
    client: _Client, service: Any, documents: list[str], rate: float
) -> tuple[float, list[float], dict[str, list[float]]]:
    """Submissions at Poisson moments of mean ``rate`` per second; (achieved submit rate, latencies,
    latency per stage)."""
    rand = random.Random(10)
    submitted: dict[str, datetime] = {}
    lock = threading.Lock()

    def one(document: str) -> None:
        outbound_id, at = client.submit(document)
        with lock:
            submitted[outbound_id] = at

    threads: list[threading.Thread] = []
    start = time.perf_counter()
    due = 0.0
    for document in documents:
        wait = start + due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        thread = threading.Thread(target=one, args=(document,))
        thread.start()
        threads.append(thread)
        due += rand.expovariate(rate)
    span = time.perf_counter() - start
    for thread in threads:
        thread.join()
    delivered = _delivered_at(service, list(submitted))
    return len(documents) / max(span, 1e-9), _latencies(submitted, delivered), _stages(service, submitted)


_PARTNER_CODE: Final = (
    "import sys\n"
    "from access_point.service.config import load_config\n"
    "from access_point.service.server import start_service\n"
    "running = start_service(load_config(sys.argv[1]), validator=False)\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
    "running.stop()\n"
)


def _start_partner(config: Path) -> subprocess.Popen[str]:
    """The partner service in a child process; it stops when its stdin is closed."""
    child = subprocess.Popen(
        [sys.executable, "-c", _PARTNER_CODE, str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == "ready":
            return child
    raise RuntimeError(f"the partner service did not start (exit {child.wait()})")


def _stop_partner(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.close()
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _cpu(child: subprocess.Popen[str]) -> float:
    """CPU seconds of this process and of ``child`` so far."""
    with open(f"/proc/{child.pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return time.process_time() + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def _large_document(path: Path, size: int) -> None:
    """A T004 of about ``size`` bytes, written in pieces: many notes of random hex (gzip cannot shrink
    it much; no single huge text node)."""
    head, tag, tail = _document(-1).partition("</cbc:Description>")
    with path.open("w") as out:
        out.write(head + tag)
        written = len(head) + len(tag) + len(tail)
        block_size = 100 * len(f"<cbc:Note>{'0' * 1000}</cbc:Note>\n")
        while written + block_size <= size:
            out.write("".join(f"<cbc:Note>{secrets.token_hex(500)}</cbc:Note>\n" for _ in range(100)))
            written += block_size
        out.write(tail)


def _large_upload(client: _Client, service: Any, path: Path) -> tuple[float, float, float]:
    """Upload ``path`` and wait for its delivery: (seconds, RSS before, peak RSS growth) in MiB."""
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], _rss_mib())

    before = peak[0] = _rss_mib()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    with path.open("rb") as body:
        answer = requests.post(
            f"{client.url}/v1/outbound/upload",
            params={"receiver": client.receiver},
            data=body,
            headers={**client.headers, "Content-Type": "application/xml"},
            verify=client.ca,
            timeout=DEADLINE_SECONDS,
        )
    answer.raise_for_status()
    _delivered_at(service, [str(answer.json()["id"])])
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    return seconds, before, peak[0] - before


def _transport_only(
    service: Any, info: dict[str, Any], ca: str, documents: list[str]
) -> tuple[float, list[float]]:
    from exchange.outbound import OutboundRequest, attempt, build, discover, prepare_document
    from peppol.identifiers import ParticipantId
    from transport.sender import As4Sender

    def request(document: str) -> OutboundRequest:
        return OutboundRequest(
            payload=document.encode(),
            sender=ParticipantId.parse(info["marketplace"]["participant"]),
            receiver=ParticipantId.parse(info["partner"]["participant"]),
            c1_country="FR",
        )

    prepared = [prepare_document(request(d), validator=None) for d in documents]
    endpoint = discover(prepared[0], resolver=service.resolver)
    latencies: list[float] = []
    with As4Sender(ca_bundle=Path(ca), validate_signer=service.ap_validator.validate) as client:
        started = time.perf_counter()
        for document in prepared:
            t0 = time.perf_counter()
            message = build(document, endpoint, identity=service.identity)
            assert attempt(message, endpoint, sender=client).delivered
            latencies.append(time.perf_counter() - t0)
        rate = len(prepared) / (time.perf_counter() - started)
    return rate, latencies


def main() -> None:
    from access_point.dev.pair import write_pair
    from access_point.service.config import load_config
    from access_point.service.server import start_service

    count = QUICK_COUNT if quick() else int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_COUNT
    large_mb = 1 if quick() else int(os.environ.get(LARGE_ENV, DEFAULT_LARGE_MB))
    large: tuple[float, float, float] | None = None
    large_size = 0
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        info = write_pair(Path(tmp) / "pair", static=True)
        market = start_service(load_config(info["marketplace"]["config"]), validator=False)
        partner = _start_partner(Path(info["partner"]["config"]))
        ca = str(Path(tmp) / "pair" / "pki" / "tls-truststore.pem")
        client = _Client(info, ca)
        serial = iter(range(10**6))
        try:
            client.submit(_document(next(serial)))  # warm-up: connections, caches, lazy imports
            cpu = _cpu(partner)
            transport_rate, transport = _transport_only(
                market.service, info, ca, [_document(next(serial)) for _ in range(count)]
            )
            cpu_transport, cpu = _cpu(partner) - cpu, _cpu(partner)
            max_rate, burst = _saturation(
                client, market.service, [_document(next(serial)) for _ in range(count)]
            )
            cpu_service = _cpu(partner) - cpu
            paced_rate, paced, stages = _open_loop(
                client, market.service, [_document(next(serial)) for _ in range(count)], max_rate / 2
            )
            if large_mb > 0:
                big = Path(tmp) / "large.xml"
                _large_document(big, large_mb * MIB)
                large_size = big.stat().st_size
                large = _large_upload(client, market.service, big)
        finally:
            market.stop()
            _stop_partner(partner)
    size = len(_document(0)) // 1024
    print(
        f"messages: {count} x ~{size} KB per run, durability on (SQLite WAL, fsync), validation off; "
        "partner in its own process"
    )
    print(
        f"transport only (build + POST, sequential): {transport_rate:.1f} msg/s, "
        f"p50 {_ms(transport, 0.5)}, p99 {_ms(transport, 0.99)}; "
        f"CPU {cpu_transport / count * 1000:.1f} ms/msg (sender + receiver)"
    )
    print(
        f"service, saturation ({count} submitted at once): {max_rate:.1f} msg/s = "
        f"{max_rate / transport_rate:.2f} x transport (goal >= 0.5); "
        f"p50 {_ms(burst, 0.5)}, p99 {_ms(burst, 0.99)} (queueing included); "
        f"CPU {cpu_service / count * 1000:.1f} ms/msg (both services + the API client)"
    )
    print(
        f"service, open loop at half that rate ({paced_rate:.1f} msg/s submitted, Poisson): "
        f"p50 {_ms(paced, 0.5)}, p99 {_ms(paced, 0.99)} (goal p99 < 500 ms), "
        f"mean {statistics.mean(paced) * 1000:.0f} ms; latency = submit -> receipt stored"
    )
    print(
        "  stages (p50 / p99): "
        + ", ".join(f"{name} {_ms(values, 0.5)} / {_ms(values, 0.99)}" for name, values in stages.items())
    )
    if large is not None:
        seconds, before, growth = large
        print(
            f"one {large_size / MIB:.0f} MiB document (upload -> delivered, streamed): {seconds:.1f} s; "
            f"peak RSS growth {growth:.0f} MiB over {before:.0f} MiB (marketplace + client)"
        )


if __name__ == "__main__":
    main()
