"""The whole-lookup memo behind a cached lookup: served only while nothing it was derived from changed.

Discovery's clock (``smp_client.discovery.datetime``) is moved; the AP validator keeps the real one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

import pytest

import smp_client.discovery as discovery_module
from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from smp_client import Discovery, LookupResult, NoMatchingEndpoint
from tests.smp_client.world import DOCTYPE, PROCESS, P, World

Ids = tuple[ParticipantId, DocumentTypeId, ProcessId]


class _Clock(datetime):
    at: datetime | None = None

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Clock:
        real = datetime.now(tz) if cls.at is None else cls.at
        return cls.fromtimestamp(real.timestamp(), tz)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> type[_Clock]:
    _Clock.at = None
    monkeypatch.setattr(discovery_module, "datetime", _Clock)
    return _Clock


def _ids(scenario: str) -> Ids:
    return ParticipantId.parse(P[scenario]), DocumentTypeId.parse(DOCTYPE), ProcessId.parse(PROCESS)


def _memoised(disco: Discovery, ids: Ids) -> LookupResult:
    disco.lookup(*ids)  # fetches
    second = disco.lookup(*ids)  # answered by the caches: memoised
    assert disco.lookup(*ids) is second  # served by the memo
    return second


def test_memoised_lookup_is_not_served_after_the_certificate_expires(
    smp_world: World, clock: type[_Clock]
) -> None:
    disco = smp_world.discovery()
    memo = _memoised(disco, _ids("good"))
    clock.at = memo.endpoint.certificate.not_valid_after_utc + timedelta(seconds=1)
    assert disco.lookup(*_ids("good")) is not memo
    clock.at = memo.endpoint.certificate.not_valid_before_utc - timedelta(seconds=1)
    assert disco.lookup(*_ids("good")) is not memo


@pytest.mark.parametrize(
    ("scenario", "then", "refusal"),
    [
        ("expiredep", datetime(2019, 6, 1, tzinfo=UTC), "expired"),  # expiration 2020-01-01
        ("future", datetime(3000, 1, 1, tzinfo=UTC), "not active"),  # activation 2999-01-01
    ],
)
def test_memoised_lookup_is_not_served_outside_the_endpoint_dates(
    smp_world: World, clock: type[_Clock], scenario: str, then: datetime, refusal: str
) -> None:
    disco = smp_world.discovery()
    clock.at = then  # the endpoint is active then: the lookup succeeds and is memoised
    _memoised(disco, _ids(scenario))
    clock.at = None
    with pytest.raises(NoMatchingEndpoint, match=refusal):
        disco.lookup(*_ids(scenario))


def test_memo_follows_the_caches_being_cleared(smp_world: World) -> None:
    disco = smp_world.discovery()
    memo = _memoised(disco, _ids("good"))
    disco.ap_validator.clear_cache()
    assert disco.lookup(*_ids("good")) is not memo
    memo = _memoised(disco, _ids("good"))
    disco.clear_cache()
    again = disco.lookup(*_ids("good"))
    assert again is not memo and not again.cached
