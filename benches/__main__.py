"""``make bench``: run every benchmark module in ``benches/`` and print its figures.

``python -m benches [--quick] [NAME ...]``: only the named benches; ``--quick`` = tiny N (see
``benches/_common.py``). With several benches each runs in its own process: one bench's leftovers
(threads, servers, a large heap) must not slow the next (the service bench ran at half its rate after
the others in one process)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
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
    selected = [name for name in names if not only or name in only]
    if len(selected) > 1:
        failed = 0
        for name in selected:
            failed |= subprocess.call(
                [sys.executable, "-m", "benches", *[a for a in args if a.startswith("-")], name]
            )
        return 1 if failed else 0
    for name in selected:
        module = importlib.import_module(f"benches.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== benches/{name}.py  ({load_line()})", flush=True)
        run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
