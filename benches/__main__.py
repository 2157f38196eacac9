"""``make bench``: run every benchmark module in ``benches/`` and print its figures.

``python -m benches [--quick] [NAME ...]``: only the named benches; ``--quick`` = tiny N (see
``benches/_common.py``)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

from benches._common import QUICK_ENV, load_line


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    args = sys.argv[1:]
    if "--quick" in args:
        os.environ[QUICK_ENV] = "1"
    only = {a for a in args if not a.startswith("-")}
    for name in names:
        if only and name not in only:
            continue
        module = importlib.import_module(f"benches.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== benches/{name}.py  ({load_line()})", flush=True)
        run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
