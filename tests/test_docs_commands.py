"""The commands the documentation shows work (issue 14 item 9).

Every fenced block in ``README.md`` and ``docs/*.md`` preceded by the line ``<!-- check -->`` is run,
line by line, with ``bash`` in a fresh directory: ``ap`` is this interpreter's ``ap``, ``../shared/corpus``
is the corpus (``tests/conftest.py`` ``CORPUS_DIR``), and the artifact store and caches are private
(``AP_ARTIFACTS_DIR``, ``AP_CACHE_DIR``). A line ending in ``# exit N`` must exit with ``N``; every
other line with 0. Lines that are empty or only a comment are skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS_DIR

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- check -->"
_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
#: Longest a documented command may take (validation compiles Schematron on first use).
TIMEOUT_SECONDS = 600


def checked_blocks() -> list[tuple[str, int, list[str]]]:
    """(file, line of the block, command lines) of every marked block."""
    blocks = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line.strip() != MARKER:
                continue
            assert i + 1 < len(lines) and lines[i + 1].startswith("```"), f"{path.name}:{i + 1}: no block"
            end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
            commands = [c for c in lines[i + 2 : end] if c.strip() and not c.lstrip().startswith("#")]
            blocks.append((str(path.relative_to(ROOT)), i + 2, commands))
    return blocks


def test_the_documentation_marks_a_meaningful_subset() -> None:
    files = {name for name, _, _ in checked_blocks()}
    assert {"README.md", "docs/cli.md", "docs/pki.md"} <= files
    assert sum(len(commands) for _, _, commands in checked_blocks()) >= 15


@pytest.mark.corpus
@pytest.mark.parametrize(("doc", "line", "commands"), checked_blocks(), ids=lambda v: str(v)[:40])
def test_documented_commands_exit_as_documented(
    doc: str, line: int, commands: list[str], tmp_path: Path
) -> None:
    if not CORPUS_DIR.is_dir():
        pytest.skip("corpus not available")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "corpus").symlink_to(CORPUS_DIR)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AP_", "COLUMNS"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        AP_ARTIFACTS_DIR=str(tmp_path / "store"),
        AP_CACHE_DIR=str(tmp_path / "cache"),
        AP_CORPUS_DIR=str(CORPUS_DIR),
    )
    for command in commands:
        match = _EXIT.search(command)
        expected = int(match.group(1)) if match else 0
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
        assert proc.returncode == expected, (
            f"{doc}:{line}: `{command}` exited {proc.returncode}, documented {expected}\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
        )
