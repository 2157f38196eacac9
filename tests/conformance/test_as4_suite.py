"""The receiving-side AS4 suite against our own receiver: ``ap as4 serve --participant`` over TLS on
loopback, in a child process, its deliveries observed through its ledger (what ``ap as4 inbox --json``
prints). Every MUST case passes and the suite exits 0: F1 (signed header values read as text only) and
the served-participant list have landed, so no case is expected to fail."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from conformance.as4 import context as context_module
from conformance.as4.cases import CASES
from conformance.as4.context import DEFAULT_RECEIVER, DeliveryObserver

STARTUP_SECONDS = 60.0
LARGE_BYTES = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def receiver(test_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("as4-target")
    inbox, log = work / "inbox", work / "serve.log"
    args = [
        sys.executable, "-m", "access_point.cli", "as4", "serve", "--port", "0", "--host", "127.0.0.1",
        "--key", str(test_pki.aps[1].key), "--cert", str(test_pki.aps[1].cert),
        "--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl), "--inbox", str(inbox),
        "--tls-cert", str(test_pki.tls_server_chain), "--tls-key", str(test_pki.tls_server.key),
    ]  # fmt: skip
    args += ["--participant", DEFAULT_RECEIVER]
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (m := re.search(r"listening on (https://127\.0\.0\.1:\d+/as4)", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield m.group(1), inbox
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_catalogue_has_40_cases_with_ids_levels_and_spec_references() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.spec and c.title and c.level for c in CASES)
    assert sum(1 for c in CASES if c.public_id) >= 15
    assert {"as4.comment.message-id", "as4.compression.damaged-gzip", "as4.reliability.duplicate"} <= {
        c.id for c in CASES
    }


def run_every_must_case_passes(args: list[str], report_dir: Path) -> dict[str, dict[str, Any]]:
    """Run ``ap ARGS`` (the suite) and check every case was judged, every MUST case passed and the exit
    code is 0; returns the report's cases by id."""
    result = CliRunner().invoke(app, args)
    assert (report_dir / "report.json").is_file(), (result.output, result.exception)
    report = json.loads((report_dir / "report.json").read_text())
    cases = {c["id"]: c for c in report["cases"]}
    assert len(cases) == len(CASES)
    errors = {k: c["reason"] for k, c in cases.items() if c["outcome"] in ("error", "skipped")}
    assert errors == {}
    must_not_passed = {
        k: c["reason"] for k, c in cases.items() if c["level"] == "MUST" and c["outcome"] != "passed"
    }
    assert must_not_passed == {}
    assert result.exit_code == 0, result.output
    return cases


class LedgerObserver(DeliveryObserver):
    """The deliveries of the ledger receiver, read in-process (what 'ap as4 inbox --json' prints)."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox

    def deliveries(self) -> list[dict[str, object]]:
        from access_point.store import open_store  # type: ignore[import-not-found,unused-ignore]

        store = open_store(self.inbox, None)
        try:
            return [
                {"message_id": r.message_id, "receiver": r.receiver, "instance_id": r.instance_id}
                for r in store.ledger.records()
            ]
        finally:
            store.close()


def test_suite_against_our_own_receiver(
    test_pki: Any, receiver: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, inbox = receiver
    report_dir = tmp_path / "report"
    args = [
        "conformance", "as4", "--target", url, "--target-cert", str(test_pki.aps[1].cert),
        "--key", str(test_pki.aps[0].key), "--cert", str(test_pki.aps[0].cert),
        "--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl),
        "--tls-ca", str(test_pki.tls_truststore), "--pki", str(test_pki.directory),
        "--large-size", str(LARGE_BYTES), "--report-dir", str(report_dir), "--no-progress",
    ]  # fmt: skip
    # The CLI route is --inbox-command 'ap as4 inbox DIR --json' (one process per look, slow in CI):
    # the same records are read here in-process from the ledger.
    command = [sys.executable, "-m", "access_point.cli", "as4", "inbox", str(inbox), "--json"]
    args += ["--inbox-command", shlex.join(command)]
    monkeypatch.setattr(context_module, "observer_for", lambda inbox_dir, cmd: LedgerObserver(inbox))
    cases = run_every_must_case_passes(args, report_dir)
    valid = cases["as4.valid.receipt"]
    assert (valid["http_status"], valid["signal"], valid["public_id"]) == (
        200,
        "receipt",
        "TC2A.2B, AS4_TA04",
    )
    assert any(p.endswith("request.mime") for p in valid["evidence"])
    assert cases["as4.compression.damaged-gzip"]["ebms_code"] == "EBMS:0303"
    duplicate = cases["as4.reliability.duplicate"]
    assert duplicate["reason"] == "The resend got the same receipt and the message was delivered once."
    assert (report_dir / "report.html").is_file() and (report_dir / "junit.xml").is_file()
