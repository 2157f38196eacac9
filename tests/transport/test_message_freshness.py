"""Replay protection beyond the duplicate window: a new message's signed eb:Timestamp must be fresh.

Security test list (conformance.md §12 item 7): "same MessageId resent (inside and outside the
duplicate window)". While the ledger holds the message the stored receipt answers (test_security_suite);
once a ledger has forgotten it (a purge of old records), only the signed timestamp stops a captured
message from being delivered twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.transport.test_receiver import error_of, post
from tests.transport.test_receiver_support import Recorder, body_of, build_message, receiver_config
from transport.receiver import InMemoryLedger, ReceiverConfig, ReceiverResponse, Verdict


class Clocks:
    """One fake "now" driving the receiver's wall clock."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def wall(self) -> datetime:
        return self.now


def deliver(
    config: ReceiverConfig, message: Any, recorder: Recorder, body: bytes | None = None
) -> ReceiverResponse:
    return post(None, Path(), message, recorder, body, config=config)


def accepted_then_later(
    pki: Any, work: Path, *, forgotten: bool, later_hours: float
) -> tuple[ReceiverConfig, Any, bytes, Recorder, ReceiverResponse]:
    """A message accepted now; then the receiver's clock moves ``later_hours`` on, and with
    ``forgotten`` the ledger loses its record (as after a purge)."""
    clocks = Clocks()
    recorder = Recorder()
    config = receiver_config(pki, work, recorder=recorder, clock=clocks.wall)
    message = build_message(pki)
    body = body_of(message)
    first = deliver(config, message, recorder, body)
    assert first.decision.verdict is Verdict.ACCEPTED
    clocks.now += timedelta(hours=later_hours)
    if forgotten:
        recorder.ledger = InMemoryLedger()
    return config, message, body, recorder, first


def test_stale_timestamp_is_refused_with_ebms_0004_and_not_delivered(test_pki: Any, tmp_path: Path) -> None:
    stamp = datetime.now(UTC) - timedelta(hours=25)
    message = build_message(test_pki, header_overrides={"timestamp": stamp})
    recorder = Recorder()
    response = deliver(receiver_config(test_pki, tmp_path), message, recorder)
    code, text = error_of(response)
    assert code == "EBMS:0004"
    assert "h old" in text
    assert response.decision.verdict is Verdict.REJECTED
    assert recorder.persisted == []


def test_replay_after_duplicate_window_is_refused_not_delivered_twice(test_pki: Any, tmp_path: Path) -> None:
    config, message, body, recorder, _ = accepted_then_later(
        test_pki, tmp_path, forgotten=True, later_hours=25
    )
    assert config.ledger.find(message.message_id) is None  # the ledger has forgotten the MessageId
    code, _ = error_of(deliver(config, message, recorder, body))
    assert code == "EBMS:0004"
    assert [m.message_id for m in recorder.persisted] == [message.message_id]


def test_old_resend_of_a_stored_message_still_gets_its_receipt(test_pki: Any, tmp_path: Path) -> None:
    # older than the age limit, still in the ledger
    config, message, body, recorder, first = accepted_then_later(
        test_pki, tmp_path, forgotten=False, later_hours=30
    )
    second = deliver(config, message, recorder, body)
    assert second.decision.verdict is Verdict.DUPLICATE
    assert second.body == first.body
    assert len(recorder.persisted) == 1


def test_timestamp_ahead_beyond_clock_skew_is_refused(test_pki: Any, tmp_path: Path) -> None:
    recorder = Recorder()
    ahead = build_message(test_pki, header_overrides={"timestamp": datetime.now(UTC) + timedelta(hours=3)})
    code, text = error_of(deliver(receiver_config(test_pki, tmp_path), ahead, recorder))
    assert code == "EBMS:0004"
    assert "ahead" in text
    slightly = build_message(
        test_pki, header_overrides={"timestamp": datetime.now(UTC) + timedelta(minutes=20)}
    )
    assert (
        deliver(receiver_config(test_pki, tmp_path), slightly, recorder).decision.verdict is Verdict.ACCEPTED
    )
    assert [m.message_id for m in recorder.persisted] == [slightly.message_id]


def test_age_check_can_be_turned_off(test_pki: Any, tmp_path: Path) -> None:
    stamp = datetime.now(UTC) - timedelta(days=30)
    message = build_message(test_pki, header_overrides={"timestamp": stamp})
    recorder = Recorder()
    config = receiver_config(test_pki, tmp_path, max_message_age=None)
    assert deliver(config, message, recorder).decision.verdict is Verdict.ACCEPTED
