"""F7: an AS4 send attempt has a total deadline (``As4Sender(deadline=…)``). A receiver trickling its
answer one byte at a time never trips the per-read timeout; the deadline cuts it and the attempt is a
retryable EBMS:0005 ConnectionFailure naming the deadline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.transport.test_receiver_support import build_message
from tests.trickle import trickling_server
from transport.sender import As4Sender

#: Generous bound on the wall time of an attempt whose deadline is 1 s (the trickle lasts ~5 hours).
BOUND = 20.0


@pytest.mark.parametrize("where", ["head", "body"])
def test_trickling_receiver_is_cut_at_the_send_deadline(test_pki: Any, where: str) -> None:
    message = build_message(test_pki)
    started = time.monotonic()
    with (
        trickling_server(where=where) as url,
        As4Sender(allow_http=True, read_timeout=5, deadline=1.0) as sender,
    ):
        outcome = sender.post(message, f"{url}/as4", test_pki.aps[1].certificate())
    assert time.monotonic() - started < BOUND
    assert not outcome.delivered and outcome.retryable and outcome.code == "EBMS:0005"
    assert "deadline of 1 s" in (outcome.detail or "")
