"""What every bench shares: the tiny-N mode that keeps benches from rotting.

``AP_BENCH_QUICK=1`` (or ``python -m benches --quick``) makes every bench run each of its code paths a
couple of times only: figures are meaningless then, but a bench that no longer runs fails at once
(``tests/benches/test_benches.py`` runs them all this way).
"""

from __future__ import annotations

import os
from typing import Final

QUICK_ENV: Final = "AP_BENCH_QUICK"


def quick() -> bool:
    """True in tiny-N mode (read at call time, so a test can set it)."""
    return os.environ.get(QUICK_ENV) == "1"


def rounds(normal: int, tiny: int = 1) -> int:
    """``normal`` repetitions, or ``tiny`` in quick mode."""
    return tiny if quick() else normal


def load_line() -> str:
    """The machine's CPU count and load average, printed at the head of every bench."""
    one, five, fifteen = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} CPUs, load average {one:.2f} {five:.2f} {fifteen:.2f}"
        " (a load above the CPU count inflates every wall-clock figure)"
    )
