"""Every bench in ``benches/`` runs to the end in its tiny-N mode, so a bench cannot rot unnoticed
(``python -m benches as4`` once crashed for months because nothing ran it). No timing is asserted."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import benches
from benches._common import QUICK_ENV
from tests.conftest import CORPUS_DIR

NAMES = sorted(
    m.name for m in pkgutil.iter_modules([str(Path(benches.__file__).parent)]) if not m.name.startswith("_")
)
#: Benches that read the shared corpus.
NEEDS_CORPUS = {"mappings", "schematron", "validation"}


def test_every_bench_module_is_covered() -> None:
    assert {"as4", "lookup", "pki", "validation"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_bench_runs_with_a_tiny_n(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if name in NEEDS_CORPUS and not CORPUS_DIR.is_dir():
        pytest.skip("needs the shared corpus")
    monkeypatch.setenv(QUICK_ENV, "1")
    monkeypatch.setattr("sys.argv", ["benches", name])
    module = importlib.import_module(f"benches.{name}")
    module.main()
    out = capsys.readouterr().out
    assert out.strip(), f"benches/{name}.py printed nothing"
