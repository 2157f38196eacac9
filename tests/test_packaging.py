"""Packaging: ``[project.dependencies]`` is exactly what the product packages import, the licence is
an SPDX expression, and ``constraints.txt`` pins every declared dependency."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = (
    "peppol", "ubl", "mappings", "smp_client", "transport", "exchange", "conformance", "access_point",
)  # fmt: skip

#: Declared but never imported by name: loaded at run time — uvicorn takes httptools when it is
#: installed (``http="auto"``, the faster HTTP parser), SQLAlchemy loads psycopg for
#: ``postgresql+psycopg://`` URLs (the store).
RUNTIME_PLUGINS = {"httptools", "psycopg"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return _normalise(match.group(1))


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared() -> set[str]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    return {_requirement_name(r) for r in project["dependencies"]}


def _imported_top_levels() -> set[str]:
    names: set[str] = set()
    for package in PRODUCT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - set(PRODUCT_PACKAGES) - {"__future__"}


def _imported_distributions() -> dict[str, str]:
    """Third-party distribution (normalised) → the import name that needs it."""
    by_module = packages_distributions()
    out: dict[str, str] = {}
    for module in _imported_top_levels():
        dists = by_module.get(module)
        out[_normalise(dists[0]) if dists else _normalise(module)] = module
    return out


def test_every_imported_third_party_package_is_declared() -> None:
    undeclared = set(_imported_distributions()) - _declared()
    assert not undeclared, f"imported but not in [project.dependencies]: {sorted(undeclared)}"


def test_every_declared_dependency_is_imported() -> None:
    unused = _declared() - set(_imported_distributions()) - RUNTIME_PLUGINS
    assert not unused, f"declared in [project.dependencies] but never imported: {sorted(unused)}"


def test_licence_is_an_spdx_expression_with_its_file() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert project["license"] == "Apache-2.0"
    for pattern in project["license-files"]:
        assert list(ROOT.glob(pattern)), pattern


def test_constraints_pin_every_declared_dependency() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt: {line!r} is not pinned with =="
            pins[_normalise(name)] = version
    missing = _declared() - set(pins)
    assert not missing, f"constraints.txt does not pin {sorted(missing)} (run make constraints)"
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text(encoding="utf-8")
