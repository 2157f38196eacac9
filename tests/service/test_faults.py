"""The fault matrix (issue 10): a burst of 200 messages from the marketplace to the partner over TLS
while one fault is injected into real processes, and the invariant "nothing lost, nothing delivered
twice" checked from both databases (``tests/service/faults.py``). The Redis restart is in
``test_external.py``; ``test_crash.py`` kills the sending service."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from access_point.service import tables as t
from access_point.store import BlobStore
from access_point.store.orphans import ORPHAN_GRACE_SECONDS
from access_point.store.schema import inbound_messages
from tests.servers import PostgresServer
from tests.service.conftest import Pair
from tests.service.faults import (
    FAST_RETRIES,
    MESSAGES,
    Burst,
    assert_nothing_lost_nothing_twice,
    blobs_dir,
    delivered_count,
    engines,
    kill_all,
    receipts_lost_after_commit,
    timed,
    unreferenced_payloads,
)
from tests.service.sigkill_after_commit import ENV as SIGKILL_AFTER_COMMITS
from tests.service.test_external import RedisServer, redis_server

pytestmark = [pytest.mark.corpus, pytest.mark.faults]
__all__ = ["redis_server"]
#: Seconds the receiver stays down, and PostgreSQL.
DOWN_SECONDS = 5.0
DATABASE_DOWN_SECONDS = 2.0
#: Kills of the receiver, of which some right after a commit (the receipt of the message never leaves).
KILLS = 10
KILLS_AFTER_COMMIT = 4
#: ``AP_FAULT_SEED=N`` replays the random schedule of a failed run (its message prints the seed).
SEED_ENV = "AP_FAULT_SEED"
SIGKILL_MODULE = "tests.service.sigkill_after_commit"


def _stored(partner: Engine) -> int:
    with partner.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inbound_messages)).scalar_one())


def _sending(market: Engine) -> list[str]:
    o = t.outbound_messages
    with market.connect() as conn:
        return list(conn.execute(select(o.c.id).where(o.c.status == "sending")).scalars())


def _wait(condition: Any, what: str, timeout: float = 120.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


def _plant_orphan(pair: Pair, side: str) -> Path:
    """A payload file no row refers to, written two hours ago (the grace period is one)."""
    blobs = BlobStore(blobs_dir(pair.side(side)["config"], dict(os.environ)))
    path = blobs.path(blobs.put(f"orphan of {side}".encode()).sha256)
    moment = time.time() - 2 * ORPHAN_GRACE_SECONDS
    os.utime(path, (moment, moment))
    return path


def test_receiver_down_for_a_while_and_back_loses_nothing_and_delivers_once(
    pair: Pair, serve: Any, corpus: Path
) -> None:
    """Also: an orphan payload file (written by a run that crashed before its row was committed) in
    each side's store is removed by the service's first periodic sweep."""
    figures: dict[str, Any] = {}
    done = timed("seconds", figures)
    orphans = [_plant_orphan(pair, side) for side in ("marketplace", "partner")]
    market = serve("marketplace", **FAST_RETRIES)
    partner = serve("partner", **FAST_RETRIES)
    with engines(pair, market.env, partner.env) as (market_db, partner_db):
        burst = Burst(pair, corpus).start()
        _wait(lambda: delivered_count(market_db) >= MESSAGES // 4, "a quarter delivered", step=0.1)
        partner.stop()  # down: connections refused, attempts fail, the circuit opens
        time.sleep(1.0)  # receipts that left before the stop are recorded
        figures["delivered_before"] = delivered_count(market_db)
        time.sleep(DOWN_SECONDS - 1.0)
        figures["delivered_while_down"] = delivered_count(market_db) - figures["delivered_before"]
        partner.start()
        ids = burst.ids()
        figures.update(assert_nothing_lost_nothing_twice(market_db, partner_db, ids))
        _wait(lambda: not any(o.exists() for o in orphans), "the orphan sweep", step=0.2)
        for side, db in (("marketplace", market_db), ("partner", partner_db)):
            assert unreferenced_payloads(db, blobs_dir(pair.side(side)["config"], market.env)) == []
    kill_all(market, partner)
    done()
    assert figures["delivered_while_down"] == 0, figures
    assert figures["attempts"] > MESSAGES, figures  # attempts failed while it was down, and were retried
    print(f"receiver down {DOWN_SECONDS} s: {figures}")


def test_kill_9_of_the_receiver_at_10_random_moments_loses_nothing_and_delivers_once(
    pair: Pair, serve: Any, corpus: Path
) -> None:
    """The partner is killed when its ledger reaches 10 random counts; 4 of those kills happen inside
    the process right after the commit of a message (before its receipt is sent), the others from
    outside at whatever point the work is. Each time it is restarted at once on the same data."""
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**31))
    rng = random.Random(seed)
    thresholds = sorted(rng.sample(range(5, MESSAGES - 10), KILLS))
    after_commit = set(rng.sample(range(1, KILLS), KILLS_AFTER_COMMIT))  # the first life is the fixture's
    context = (
        f"{SEED_ENV}={seed}: kills at ledger counts {thresholds}, after a commit: {sorted(after_commit)}"
    )
    print(f"schedule: {context}")  # shown with any failure, whatever raised it
    figures: dict[str, Any] = {}
    done = timed("seconds", figures)
    market = serve("marketplace", **FAST_RETRIES)
    partner = serve("partner", module=SIGKILL_MODULE, **FAST_RETRIES)
    killed_at: list[int] = []
    with engines(pair, market.env, partner.env) as (market_db, partner_db):
        burst = Burst(pair, corpus).start()
        for number, threshold in enumerate(thresholds):
            if number in after_commit:  # this life kills itself after committing up to `threshold`
                _wait(lambda: not partner.running, f"kill {number} after a commit ({context})")
            else:
                _wait(lambda n=threshold: _stored(partner_db) >= n, f"ledger count {threshold} ({context})")
                partner.kill9()
            killed_at.append(_stored(partner_db))
            extra = {}
            if number + 1 in after_commit:
                extra[SIGKILL_AFTER_COMMITS] = str(max(1, thresholds[number + 1] - killed_at[-1]))
            partner.start(**extra)
        ids = burst.ids()
        figures.update(assert_nothing_lost_nothing_twice(market_db, partner_db, ids, context=context))
        figures["receipts_lost_after_commit"] = lost = receipts_lost_after_commit(market_db, partner_db)
    kill_all(market, partner)
    done()
    assert lost >= KILLS_AFTER_COMMIT, (figures, context)  # each such kill lost at least that receipt
    print(f"receiver killed at ledger counts {killed_at} [{context}]: {figures}")


def test_kill_9_of_a_lone_worker_mid_send_loses_nothing_and_delivers_once(
    redis_server: RedisServer, pair: Pair, serve: Any, ap_worker: Any, corpus: Path, tmp_path: Path
) -> None:
    """The marketplace's only ``ap worker`` (external Redis) is killed while it holds messages it is
    sending; a new worker takes them over once their lease (4 s here) has run out."""
    figures: dict[str, Any] = {}
    done = timed("seconds", figures)
    partner = serve("partner", **FAST_RETRIES)
    market = serve("marketplace", REDIS_URL=redis_server.url, **FAST_RETRIES)
    config, log = pair.side("marketplace")["config"], tmp_path / "worker.log"
    worker = ap_worker(config, market.env, log)
    with engines(pair, market.env, partner.env) as (market_db, partner_db):
        burst = Burst(pair, corpus).start()
        _wait(lambda: delivered_count(market_db) >= MESSAGES // 4, "a quarter delivered", step=0.1)
        _wait(lambda: bool(_sending(market_db)), "a message in the worker's hands", step=0.005)
        worker.kill()  # SIGKILL
        worker.wait(timeout=30)
        held = _sending(market_db)
        figures["held_by_the_killed_worker"] = len(held)
        worker = ap_worker(config, market.env, log)
        ids = burst.ids()
        figures.update(assert_nothing_lost_nothing_twice(market_db, partner_db, ids))
    kill_all(worker, market, partner)
    done()
    assert held, figures
    print(f"lone worker killed mid-send: {figures}")


def test_postgresql_restarted_during_the_run_loses_nothing_and_delivers_once(
    pair: Pair, serve: Any, corpus: Path, postgres_server: PostgresServer
) -> None:
    """Both sides keep their store in PostgreSQL (one database each, one cluster); the cluster is
    stopped mid-burst (connections dropped) and started again: submissions get 503, inbound messages
    a retryable ebMS error, workers' database errors are retried; nothing is lost or doubled."""
    figures: dict[str, Any] = {}
    done = timed("seconds", figures)
    market = serve("marketplace", DATABASE_URL=postgres_server.create_database(), **FAST_RETRIES)
    partner = serve("partner", DATABASE_URL=postgres_server.create_database(), **FAST_RETRIES)
    with engines(pair, market.env, partner.env) as (market_db, partner_db):
        burst = Burst(pair, corpus).start()
        burst.wait_accepted(MESSAGES // 4)  # submissions, sends and receptions under way
        postgres_server.stop()
        time.sleep(DATABASE_DOWN_SECONDS)
        postgres_server.start()
        ids = burst.ids()
        figures.update(assert_nothing_lost_nothing_twice(market_db, partner_db, ids))
        figures["refused_submissions"] = dict(burst.refusals)
    kill_all(market, partner)
    done()
    assert burst.refusals, figures  # the API felt the outage (503), and the clients tried again
    for log in (market.log, partner.log):  # workers hit by the outage: one line each, no traceback
        assert "Failed to process message" not in log.read_text(), log
    print(f"PostgreSQL restarted mid-run: {figures}")
