"""House rules of the code base, checked on the source (issue 11): one XML entrance, no import circle,
no test or bench code in the product packages."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The product packages (what ``pyproject.toml`` installs and mypy checks).
PRODUCT = ("peppol", "ubl", "mappings", "smp_client", "transport", "exchange", "conformance", "access_point")
#: The one module allowed to construct lxml parsers.
XML_ENTRANCE = "peppol/xml.py"
#: lxml constructors and parse functions whose parser settings are ours to decide.
_PARSER_CONSTRUCTORS = frozenset(
    {"XMLParser", "XMLPullParser", "HTMLParser", "ETCompatXMLParser", "iterparse"}
)
#: Parse functions that use lxml's default (entity-resolving) parser unless given ``parser=``.
_PARSE_FUNCTIONS = frozenset({"fromstring", "parse", "XML", "fromstringlist"})
#: Bench modules the ``cores-speed`` branch moves into ``benches/`` (issue 11); tolerated until then.
_PENDING_MOVE = frozenset({"transport/as4/bench.py", "ubl/schematron/bench.py"})


def product_files() -> Iterator[Path]:
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob("*.py"))


@cache
def tree_of(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def test_xml_is_parsed_only_through_peppol_xml() -> None:
    """No lxml parser is built outside ``peppol/xml.py``, and no lxml parse function runs with lxml's
    default parser: everything goes through the one hardened entrance."""
    offences: list[str] = []
    for path in product_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == XML_ENTRANCE or rel in _PENDING_MOVE:
            continue
        for node in ast.walk(tree_of(path)):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            if name in _PARSER_CONSTRUCTORS:
                offences.append(f"{rel}:{node.lineno}: {name}(...) outside {XML_ENTRANCE}")
            elif (
                name in _PARSE_FUNCTIONS
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "etree"
                and len(node.args) < 2
                and not any(k.arg == "parser" for k in node.keywords)
            ):
                offences.append(f"{rel}:{node.lineno}: etree.{name}(...) with lxml's default parser")
    assert not offences, "\n".join(offences)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Our modules that ``path`` imports, anywhere in the file (function-level imports included: a
    lazy import hides a circle, it does not remove it)."""
    found: set[str] = set()
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(tree_of(path)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import submodule`` imports the submodule; ``from pkg import name`` the package
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for name in names:
            # the longest prefix that is one of our modules
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != me:
                found.add(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_cycles_between_our_modules() -> None:
    files = {module_name(p): p for p in product_files()}
    modules = set(files)
    graph = {name: _imports(path, modules) for name, path in files.items()}
    cycles = _cycles(graph)
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_finds_a_lazy_circle() -> None:
    """The detector itself: two modules importing each other, one lazily, form a circle."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_test_or_bench_module_in_the_product_packages() -> None:
    """Test helpers live under ``tests/``, benchmarks under ``benches/``."""
    misplaced = [
        rel
        for path in product_files()
        if any(word in path.stem for word in ("bench", "testing", "conftest"))
        and (rel := path.relative_to(ROOT).as_posix()) not in _PENDING_MOVE
    ]
    assert not misplaced, misplaced


def _run_as_program(path: Path) -> bool:
    """``if __name__ == "__main__":`` or a package's ``__main__.py``: an entry point of its own."""
    if path.name == "__main__.py":
        return True
    for node in tree_of(path).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            left = node.test.left
            if isinstance(left, ast.Name) and left.id == "__name__":
                return True
    return False


def _named_in_strings(path: Path, modules: set[str]) -> set[str]:
    """Modules named in string constants (lazy imports such as the CLI's ``LazyCommand``)."""
    found: set[str] = set()
    for node in ast.walk(tree_of(path)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value.partition(":")[0]
            if name in modules:
                found.add(name)
    return found


def test_no_product_module_is_used_only_by_tests_or_benches() -> None:
    """Every product module that tests or benches import is also used by the product: imported or
    lazily named by product code, or a program of its own (``python -m``). Test helpers belong under
    ``tests/``, benchmark code under ``benches/``."""
    files = {module_name(p): p for p in product_files()}
    modules = set(files)
    used: set[str] = set()
    for name, path in files.items():
        for target in _imports(path, modules) | _named_in_strings(path, modules):
            parts = target.split(".")
            used.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        if _run_as_program(path):
            used.add(name)
    outside = [p for d in ("tests", "benches") for p in sorted((ROOT / d).rglob("*.py"))]
    wanted = set().union(*(_imports(p, modules) for p in outside))
    pending = {module_name(ROOT / rel) for rel in _PENDING_MOVE}
    only_theirs = sorted(wanted - used - set(PRODUCT) - pending)
    assert not only_theirs, f"product modules used only by tests/benches: {only_theirs}"
