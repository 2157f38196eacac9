"""``python -m tests.service.sigkill_after_commit serve --config F``: ``ap serve`` whose process kills
itself with SIGKILL right after the N-th inbound message it accepts is committed to its ledger (N =
``$AP_TEST_SIGKILL_AFTER_COMMITS``): the receipt of that message never leaves. The fault tests use it
for the moment the issue names ("after commit, before the receipt reaches the sender"), which a kill
from outside hits only by chance."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from access_point.cli import main
from access_point.store.ledger import SqlInboundLedger
from transport.receiver import LedgerResult, LedgerStatus

ENV: str = "AP_TEST_SIGKILL_AFTER_COMMITS"


def _install(after: int) -> None:
    accept = SqlInboundLedger.accept
    lock = threading.Lock()
    committed = [0]

    def accept_then_die(self: SqlInboundLedger, message: Any, receipt: bytes) -> LedgerResult:
        result = accept(self, message, receipt)
        if result.status is LedgerStatus.ACCEPTED:
            with lock:
                committed[0] += 1
                if committed[0] >= after:
                    os.kill(os.getpid(), signal.SIGKILL)
        return result

    SqlInboundLedger.accept = accept_then_die  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get(ENV):
        _install(int(os.environ[ENV]))
    main()
