"""``make demo``: the four-corner exchange on loopback."""

from __future__ import annotations

import sys


def main() -> int:
    print("make demo: the four-corner exchange is not yet available (it lands with the service issue).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
