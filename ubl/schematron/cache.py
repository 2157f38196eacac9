"""The on-disk cache of generated XSLT.

Saxon-HE cannot export compiled stylesheets, so what is cached is our generated XSLT (which saves the
Python side of compilation: include resolution, expansion, code generation). An *index* entry, keyed by
the compiler version, the entry file's path and content, the requested phase and the bundling mode,
names the XSLT file and records the sha256 of every source file it was built from (entry, includes,
``xsl:include``/``xsl:import`` targets); a hit is only used when all of them still match.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .compiler import COMPILER_VERSION

CACHE_ENV: Final = "AP_CACHE_DIR"
DEFAULT_CACHE_DIR: Final = Path("~/.cache/procurement-access-point/schematron")
CACHE_SUBDIR: Final = "schematron"


def default_cache_dir() -> Path:
    """``$AP_CACHE_DIR/schematron`` when that variable is set,
    else ``~/.cache/procurement-access-point/schematron``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser() / CACHE_SUBDIR
    return DEFAULT_CACHE_DIR.expanduser()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fallback_cache_dir() -> Path:
    """A private per-user directory under the system temp dir, used when the configured one is not
    writable (the XSLT must live in a file for Saxon to resolve it)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"procurement-access-point-{uid}" / CACHE_SUBDIR


def index_key(entry: Path, phase: str | None, bundle: bool) -> str:
    parts = [
        COMPILER_VERSION,
        str(entry),
        phase if phase is not None else "\x00",
        "bundle" if bundle else "single",
    ]
    parts.append(file_sha256(entry))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


@dataclass(slots=True)
class CacheEntry:
    xslt_path: Path
    phases: list[str]
    default_phase: str


def lookup(cache_dir: Path, key: str) -> CacheEntry | None:
    """The cached XSLT for ``key``, or None when absent or when any source file changed."""
    index = cache_dir / f"{key}.json"
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
        xslt = cache_dir / Path(str(data["xslt"])).name
        for name, sha in data["files"]:
            if file_sha256(Path(name)) != sha:
                return None
        # The XSLT is named after its own hash: a truncated or edited file is not used.
        if not xslt.is_file() or not file_sha256(xslt).startswith(xslt.stem):
            return None
        return CacheEntry(xslt, [str(p) for p in data["phases"]], str(data["default_phase"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store(
    cache_dir: Path, key: str, files: list[Path], phases: list[str], default_phase: str, xslt: bytes
) -> Path:
    """Write the XSLT (named by its own hash) and the index entry; return the XSLT path."""
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    xslt_path = cache_dir / f"{hashlib.sha256(xslt).hexdigest()[:40]}.xsl"
    if not xslt_path.is_file() or not file_sha256(xslt_path).startswith(xslt_path.stem):
        _atomic_write(xslt_path, xslt)
    index = {
        "compiler": COMPILER_VERSION,
        "xslt": xslt_path.name,
        "phases": phases,
        "default_phase": default_phase,
        "files": [[str(f), file_sha256(f)] for f in files],
    }
    _atomic_write(cache_dir / f"{key}.json", json.dumps(index, indent=1).encode())
    return xslt_path
