"""``schemathesis`` against the service's OpenAPI: whatever it generates (valid, invalid, hostile),
the API answers without a 5xx. Runs the ASGI application in this process on a real store and an
embedded Redis (no workers: what is queued stays queued)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from access_point.dev.pair import write_pair
from access_point.service.api import create_api
from access_point.service.config import load_config
from access_point.service.runtime import Service

API_KEY: dict[str, str] = {}
#: Generated requests per operation.
MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    patch = pytest.MonkeyPatch()
    patch.delenv("REDIS_URL", raising=False)
    patch.delenv("DATABASE_URL", raising=False)
    info = write_pair(Path(tmp_path_factory.mktemp("openapi")) / "pair", static=True)
    API_KEY["marketplace"] = info["marketplace"]["api_key"]
    service = Service(load_config(info["marketplace"]["config"]), validator=False)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", create_api(service))
    finally:
        service.close()
        patch.undo()


def test_the_api_never_answers_5xx(api_schema: Any) -> None:
    headers = {"Authorization": f"Bearer {API_KEY['marketplace']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
