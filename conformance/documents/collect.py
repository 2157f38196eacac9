"""Turns the command line's PATHs (and ``--expect``) into rule unit tests."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .sources import TestSourceError, UnitTest, is_vefa, load_testset, load_with_svrl, load_yaml

_YAML_SUFFIXES = (".yaml", ".yml")


def builtin_testsets() -> Path:
    """The folder of our own testSets for the Peppol pre-award rules (written from the rule texts)."""
    return Path(str(resources.files("conformance.documents").joinpath("testsets")))


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".xml", *_YAML_SUFFIXES) and p.is_file())
        elif path.is_file():
            out.append(path)
        else:
            raise TestSourceError(f"{path}: no such file or directory")
    return out


def collect(paths: list[Path], expect: Path | None = None) -> list[UnitTest]:
    """Tests from ``paths``: VEFA testSet/test files and expectation YAMLs as they are; with ``expect``
    a folder of official SVRL reports, the plain XML documents among ``paths`` checked against them;
    with ``expect`` a YAML file, the documents it lists (only those among ``paths`` when given)."""
    files = _expand(paths)
    if expect is not None and expect.is_dir():
        return load_with_svrl([f for f in files if f.suffix == ".xml" and not is_vefa(f)], expect)
    tests: list[UnitTest] = []
    if expect is not None:
        wanted = {f.resolve() for f in files}
        listed = load_yaml(expect)
        tests += [t for t in listed if not wanted or (expect.parent / t.id).resolve() in wanted]
        files = [f for f in files if f.suffix in _YAML_SUFFIXES or is_vefa(f)]
    for file in files:
        if file.suffix in _YAML_SUFFIXES:
            tests += load_yaml(file)
        elif is_vefa(file):
            tests += load_testset(file)
        elif expect is None:
            raise TestSourceError(
                f"{file}: not a VEFA testSet; give --expect (a YAML or a folder of SVRL reports)"
            )
    return tests
