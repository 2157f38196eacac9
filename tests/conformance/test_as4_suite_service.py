"""The receiving-side AS4 suite against the service: the partner side of an ``ap dev pair`` setup run by
``ap serve`` (child process, TLS on loopback), its ``/as4`` endpoint attacked with the keys of the pair's
test PKI (the suite signs as the marketplace AP). Every MUST case passes; deliveries are not observed
(the suite judges the signals only)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from access_point.dev.pair import write_pair
from tests.conformance.test_as4_suite import run_every_must_case_passes
from tests.service.conftest import ServeProcess

LARGE_BYTES = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    work = tmp_path_factory.mktemp("service-target")
    directory = work / "pair"
    info = write_pair(directory, static=True)
    side = info["partner"]
    env = {**os.environ, "AP_ARTIFACTS_DIR": str(work / "artifacts")}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    tls_ca = str(directory / "pki" / "tls-truststore.pem")
    process = ServeProcess(side["config"], env, side["api_url"], tls_ca, work / "partner.log").start()
    try:
        yield directory, info
    finally:
        process.stop()


def test_suite_against_ap_serve_passes_every_must_case(
    partner: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    directory, info = partner
    pki = directory / "pki"
    report_dir = tmp_path / "report"
    args = [
        "conformance", "as4", "--target", info["partner"]["api_url"] + "/as4",
        "--target-cert", str(pki / "ap-PFR000002.pem"),
        "--key", str(pki / "ap-PFR000001.key"), "--cert", str(pki / "ap-PFR000001.pem"),
        "--trust", str(pki / "ap-truststore.pem"), "--crl", str(pki / "ap-ca.crl"),
        "--tls-ca", str(pki / "tls-truststore.pem"), "--pki", str(pki),
        "--receiver", info["partner"]["participant"],
        "--large-size", str(LARGE_BYTES), "--report-dir", str(report_dir), "--no-progress",
    ]  # fmt: skip
    cases = run_every_must_case_passes(args, report_dir)
    assert cases["as4.routing.not-served"]["ebms_code"] == "EBMS:0004"
