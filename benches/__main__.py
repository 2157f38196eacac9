"""``make bench``: run every benchmark module in ``benches/`` and print its figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    only = set(sys.argv[1:])
    for name in names:
        if only and name not in only:
            continue
        module = importlib.import_module(f"benches.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== benches/{name}.py")
        run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
