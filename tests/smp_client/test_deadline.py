"""F7: a lookup has a total deadline. Per-read timeouts alone let an SMP trickling one byte at a time
hold ``ap lookup … --read-timeout 5`` for minutes; the deadline cuts the connection wherever the read
is blocked (headers or body) and fails with ``LookupDeadlineExceeded`` (exit code 12)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from smp_client import Discovery, DiscoveryConfig, LookupDeadlineExceeded
from smp_client.http import HttpSettings
from tests.smp_client.world import DOCTYPE, PROCESS
from tests.trickle import trickling_server

PARTICIPANT = "iso6523-actorid-upis::9915:trickle"
#: Generous bound on the wall time of a lookup whose deadline is 1 s (the trickle lasts ~5 hours).
BOUND = 20.0


@pytest.mark.parametrize("where", ["head", "body"])
def test_trickling_smp_is_cut_at_the_lookup_deadline(test_pki: Any, where: str) -> None:
    config = DiscoveryConfig(
        http=HttpSettings(allow_http=True, connect_timeout=5, read_timeout=5),
        skip_smp_signer_trust=True,
        deadline=1.0,
    )
    discovery = Discovery(config, smp_validator=None, ap_validator=test_pki.ap_validator())
    started = time.monotonic()
    with trickling_server(where=where) as url, pytest.raises(LookupDeadlineExceeded) as caught:
        discovery.lookup(
            ParticipantId.parse(PARTICIPANT),
            DocumentTypeId.parse(DOCTYPE),
            ProcessId.parse(PROCESS),
            smp_url=url,
        )
    assert time.monotonic() - started < BOUND
    assert "deadline of 1 s" in str(caught.value)
    assert caught.value.retryable and caught.value.exit_code == 12
    assert caught.value.steps and caught.value.steps[-1].ok is False  # the steps taken are kept


def test_ap_lookup_deadline_option(test_pki: Any) -> None:
    args = [
        "lookup", PARTICIPANT, "--doctype", DOCTYPE, "--process", PROCESS,
        "--smp-trust", str(test_pki.smp_truststore), "--ap-trust", str(test_pki.ap_truststore),
        "--legacy-cname", "--no-fetch", "--read-timeout", "5", "--deadline", "1",
    ]  # fmt: skip
    with trickling_server() as url:
        result = CliRunner().invoke(app, [*args, "--smp-url", url])
    assert result.exit_code == 12, result.output
    assert "LOOKUP_DEADLINE_EXCEEDED" in result.stderr and "deadline of 1 s" in result.stderr
