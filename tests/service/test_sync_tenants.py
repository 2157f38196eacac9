"""Several processes of one cluster start at once on one PostgreSQL database: each rewrites the tenant
tables from the configuration, and none of them fails (they take turns on an advisory lock)."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import func, select

from access_point.service import tables
from access_point.service.config import ApiKey, Tenant
from access_point.service.keys import new_key
from access_point.service.runtime import Service
from access_point.store import open_store
from peppol.identifiers import ParticipantId

STARTS = 6
ROUNDS = 5


def test_concurrent_tenant_synchronisation_on_postgresql_never_fails(
    postgres_url: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path, postgres_url)
    keys = [new_key() for _ in range(3)]
    tenants = tuple(
        Tenant(
            id=f"tenant-{n}",
            participants=(ParticipantId.parse(f"iso6523-actorid-upis::0088:579800000000{n}"),),
            api_keys=(ApiKey(keys[n].id, keys[n].hash),),
        )
        for n in range(3)
    )
    process = SimpleNamespace(engine=store.engine, config=SimpleNamespace(tenants=tenants))
    errors: list[BaseException] = []
    barrier = threading.Barrier(STARTS)

    def start() -> None:
        barrier.wait()
        for _ in range(ROUNDS):
            try:
                Service.sync_tenants(process)  # type: ignore[arg-type]
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(tables.tenants)).scalar_one() == 3
            assert conn.execute(select(func.count()).select_from(tables.api_keys)).scalar_one() == 3
    finally:
        store.close()
