"""The AS4 suite against deliberately broken builds of our own receiver (in-process, loopback HTTP,
broken through the receiver's own configuration): each build fails exactly the cases its defect lets
through, with reasons naming the defect; the correctly configured build passes them all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.as4.cases import select
from conformance.as4.context import Context, InboxObserver, TestSigners
from conformance.as4.runner import run_as4
from conformance.model import Outcome
from transport.receiver import DirectoryInbox, ReceiverConfig
from transport.server import create_app, start_server

CASES = "as4.valid.receipt,as4.cert.*,as4.routing.not-served,as4.reliability.duplicate"
CERT_CASES = {"as4.cert.expired", "as4.cert.revoked", "as4.cert.smp", "as4.cert.untrusted-ca"}


class ForgetfulStore:
    """A duplicate store that remembers nothing (the 'accept duplicates' defect)."""

    def get(self, message_id: str) -> bytes | None:
        return None

    def put(self, message_id: str, receipt: bytes) -> None:
        return None


@dataclass
class Build:
    accept_any_signer: bool = False
    accept_duplicates: bool = False
    serve_everyone: bool = False


def _run(pki: Any, work: Path, build: Build) -> dict[str, tuple[Outcome, str]]:
    context = Context(
        url="",
        target_certificate=pki.aps[1].certificate(),
        identity=pki.aps[0].identity(),
        signers=TestSigners(
            expired=pki.expired_ap.identity(), revoked=pki.revoked_ap.identity(), smp=pki.smp.identity()
        ),
        observer=InboxObserver(work / "inbox"),
    )
    served = context.receiver
    inbox = DirectoryInbox(
        work / "inbox",
        is_served_fn=(lambda r, d, p: True) if build.serve_everyone else (lambda r, d, p: r == served),
    )
    config = ReceiverConfig(
        identity=pki.aps[1].identity(),
        validate_signer=(lambda cert: None) if build.accept_any_signer else pki.ap_validator().validate,
        duplicates=ForgetfulStore() if build.accept_duplicates else inbox,
        work_dir=work,
    )
    server = start_server(create_app(config, inbox))
    try:
        context.url = server.url
        run = run_as4(context, select(CASES))
    finally:
        server.stop()
    return {c.id: (c.outcome, c.reason) for c in run.cases}


def _failed(results: dict[str, tuple[Outcome, str]]) -> set[str]:
    return {k for k, (outcome, _) in results.items() if outcome is not Outcome.PASSED}


@pytest.fixture()
def work(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_correct_build_passes_every_case(test_pki: Any, work: Path) -> None:
    results = _run(test_pki, work, Build())
    assert _failed(results) == set(), results
    assert results["as4.routing.not-served"][1] == (
        "The target rejected a message for a participant it does not serve with EBMS:0004."
    )


def test_build_accepting_any_signer_fails_exactly_the_certificate_cases(test_pki: Any, work: Path) -> None:
    results = _run(test_pki, work, Build(accept_any_signer=True))
    assert _failed(results) == CERT_CASES
    assert results["as4.cert.revoked"][1] == (
        "The target accepted a revoked signer certificate, returned a receipt and delivered it to its inbox."
    )


def test_build_accepting_duplicates_fails_exactly_the_duplicate_case(test_pki: Any, work: Path) -> None:
    results = _run(test_pki, work, Build(accept_duplicates=True))
    assert _failed(results) == {"as4.reliability.duplicate"}
    assert results["as4.reliability.duplicate"][1].startswith("The resend got ")


def test_build_serving_everyone_fails_exactly_the_not_served_case(test_pki: Any, work: Path) -> None:
    results = _run(test_pki, work, Build(serve_everyone=True))
    assert _failed(results) == {"as4.routing.not-served"}
    assert results["as4.routing.not-served"][1] == (
        "The target accepted a message for a participant it does not serve, returned a receipt and "
        "delivered it to its inbox."
    )
