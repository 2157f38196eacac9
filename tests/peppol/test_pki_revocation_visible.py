"""Revocation made visible (issue 14 item 3): a message signed by the generated REVOKED AP certificate,
whose CRL distribution point is unreachable (loopback port 9), reaches a receiver. Soft-fail accepts
it but never silently (a WARNING record, the SOFT_FAILS counter and its listeners); hard-fail refuses
it with EBMS:0101."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

from peppol.pki import SOFT_FAILS, CertificateValidator, Purpose, RevocationPolicy
from tests.transport.test_receiver_support import Recorder, body_of, build_message
from transport.as4 import parse_signal
from transport.receiver import ReceiverConfig, Verdict, receive


def _receive_from_revoked(pki: Any, work: Path, policy: RevocationPolicy) -> Any:
    # online validator: no CRL supplied, fetching allowed; the certificate's CRL URL refuses at once
    validator = CertificateValidator(pki.ap_trust(), purpose=Purpose.AP, revocation=policy)
    config = ReceiverConfig(
        identity=pki.aps[1].identity(),
        validate_signer=validator.validate,
        work_dir=work,
    )
    message = build_message(pki, signer=pki.revoked_ap.identity())
    return receive(
        {"Content-Type": message.content_type}, io.BytesIO(body_of(message)), config, Recorder().hooks()
    )


def test_soft_fail_accepts_the_revoked_sender_but_warns_counts_and_notifies(
    test_pki: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str]] = []

    def listener(subject: str, reason: str) -> None:
        seen.append((subject, reason))

    SOFT_FAILS.add_listener(listener)
    before = SOFT_FAILS.count
    try:
        with caplog.at_level(logging.WARNING, logger="peppol.pki"):
            response = _receive_from_revoked(test_pki, tmp_path, RevocationPolicy.SOFT_FAIL)
    finally:
        SOFT_FAILS.remove_listener(listener)
    assert response.decision.verdict is Verdict.ACCEPTED
    assert SOFT_FAILS.count == before + 1
    assert len(seen) == 1 and "PFR000998" in seen[0][0]
    warnings = [r for r in caplog.records if r.name == "peppol.pki" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not be checked" in warnings[0].getMessage()


def test_hard_fail_refuses_the_revoked_sender_whose_crl_is_unreachable(test_pki: Any, tmp_path: Path) -> None:
    response = _receive_from_revoked(test_pki, tmp_path, RevocationPolicy.HARD_FAIL)
    assert response.decision.verdict is Verdict.REJECTED
    error = parse_signal(response.body, response.content_type).errors[0]
    assert error.code == "EBMS:0101"
