"""Regenerate the shipped SHA-256 manifests of the official artifact sets from the team corpus.

Usage: ``python -m ubl.artifacts.generate_manifests [CORPUS_DIR]`` (default ``../shared/corpus``).
A manifest records, for each file of the set the project uses, its path relative to the set and its
SHA-256; it is written to ``ubl/artifacts/manifests/<name>.json``. Re-run it only when a pinned
release changes, and review the diff.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import sys
from pathlib import Path

from ubl.artifacts.catalog import OFFICIAL_SETS, OfficialSet

MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"
DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def _matches(rel: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern.endswith("/**"):
            if rel.startswith(pattern[:-2]):
                return True
        elif fnmatch.fnmatchcase(rel, pattern):
            return True
    return False


def manifest_for(spec: OfficialSet, set_dir: Path) -> dict[str, object]:
    """The manifest of ``spec`` computed from the files in ``set_dir``."""
    files: dict[str, str] = {}
    for path in sorted(p for p in set_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(set_dir).as_posix()
        if _matches(rel, spec.include):
            files[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    if not files:
        raise SystemExit(f"{spec.name}: no file of {set_dir} matches {spec.include}")
    return {"name": spec.name, "version": spec.version, "url": spec.url, "files": files}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    MANIFEST_DIR.mkdir(exist_ok=True)
    for spec in OFFICIAL_SETS.values():
        manifest = manifest_for(spec, corpus / spec.name)
        out = MANIFEST_DIR / f"{spec.name}.json"
        out.write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        count = len(manifest["files"])  # type: ignore[arg-type]
        print(f"{spec.name}: {count} files -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
