"""Running compiled Schematron with saxonche.

One ``PySaxonProcessor`` per process, created lazily, and ONE memo of compiled stylesheets: it keeps
executables within a budget of generated-XSLT bytes (:func:`set_memo_budget`; Saxon's heap for a
stylesheet is ~35x its size), least recently used first out. A schema with many phases (eForms: 51
notice subtypes) is compiled in groups of :data:`DEFAULT_PHASE_GROUP` phases per stylesheet, the phase
chosen at run time: the patterns the phases share are compiled once per group instead of once per
phase, while one group's heap stays well under the whole bundle's.

 Saxon's compiled executables are thread-safe for
transformations in Java, but the SaxonC/Python wrapper keeps per-call state on the executable object
(stylesheet parameters, global context item) and the processor objects are not documented as
thread-safe, so every call into Saxon is made under one process-wide lock (:data:`SAXON_LOCK`). Python
threads would serialise on the GIL anyway; use processes to validate in parallel.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from lxml import etree

from peppol.xml import DEFAULT_MAX_BYTES, make_parser, parse_bytes, parse_file
from ubl.result import Item, Layer, LayerStatus

from . import cache
from .compiler import ALL_PHASE, DEFAULT_PHASE, PHASE_PARAM, SCHXP_NS, build_model, generate_xslt
from .errors import (
    SchematronCacheError,
    SchematronCompileError,
    SchematronPhaseError,
    SchematronRuntimeError,
    SchematronSourceError,
)
from .source import load_schema
from .svrl import items_from_tree

log = logging.getLogger(__name__)

#: Guards every call into Saxon (see module docstring). Re-entrant: compile may nest lookups.
SAXON_LOCK: Final = threading.RLock()
#: Clark name of the run-time phase parameter of bundled stylesheets.
PHASE_PARAM_CLARK: Final = "{" + SCHXP_NS + "}" + PHASE_PARAM.split(":", 1)[1]
#: Largest document validated (same cap as the hardened XML parser's default).
MAX_DOCUMENT_BYTES: Final = DEFAULT_MAX_BYTES

#: What ``svrl``/``validate`` accept: raw bytes or a file (checked by ``peppol.xml`` here), or a tree
#: that already went through ``peppol.xml.parse_bytes``/``parse_file`` (saves the second parse).
Document = bytes | Path | etree._ElementTree | etree._Element

#: Default budget of the memo, in bytes of generated XSLT: an eForms phase group (~12 MB of XSLT,
#: ~0.9 GB of Saxon heap) plus the small Peppol rule sets (50-80 kB each).
DEFAULT_MEMO_BUDGET_BYTES: Final = 16 * 1024 * 1024
#: Phases compiled together for a schema with more phases than this (eForms: 51 → 4 stylesheets).
DEFAULT_PHASE_GROUP: Final = 13

_processor: Any = None
_xslt_compiler: Any = None
_memo_budget = DEFAULT_MEMO_BUDGET_BYTES
#: xslt path → (executable, Saxon compile seconds, XSLT bytes), least recently used first.
_executables: OrderedDict[Path, tuple[Any, float, int]] = OrderedDict()
#: (source as given, phase, bundle, group size) → (mtime_ns, size, compiled).
_compiled: dict[tuple[str, str | None, bool, int], tuple[int, int, CompiledSchematron]] = {}
#: (cache dir, index key) → its disk-cache entry, trusted while that stylesheet is in the memo: the other
#: phases of a phase group are served without re-hashing the sources.
_disk_hits: dict[tuple[Path, str], cache.CacheEntry] = {}
#: (entry, mtime_ns, size) → the schema's phase ids, sorted.
_phase_lists: dict[tuple[Path, int, int], list[str]] = {}


def set_memo_budget(budget_bytes: int) -> None:
    """Keep at most ``budget_bytes`` of generated XSLT compiled in this process (0: only the stylesheet
    in use). Evicts least recently used executables at once when the new budget is smaller."""
    global _memo_budget
    with SAXON_LOCK:
        _memo_budget = max(0, budget_bytes)
        _evict(0)


def memo_budget() -> int:
    """The memo budget in bytes of generated XSLT."""
    return _memo_budget


def _evict(incoming: int) -> None:
    """Drop least recently used executables until ``incoming`` more bytes fit the budget (under the
    lock). Compiled objects already handed out keep working; the memo just forgets them."""
    total = sum(size for _, _, size in _executables.values()) + incoming
    while _executables and total > _memo_budget:
        path, (_, _, size) = _executables.popitem(last=False)
        total -= size
        for key in [k for k, (_, _, c) in _compiled.items() if c.xslt_path == path]:
            del _compiled[key]


def _saxon() -> tuple[Any, Any]:
    """The process's Saxon processor and XSLT 3.0 compiler (created on first use)."""
    global _processor, _xslt_compiler
    with SAXON_LOCK:
        if _processor is None:
            from saxonche import PySaxonProcessor

            _processor = PySaxonProcessor(license=False)
            _xslt_compiler = _processor.new_xslt30_processor()
        return _processor, _xslt_compiler


def _api_error() -> type[Exception]:
    from saxonche import PySaxonApiError

    err: type[Exception] = PySaxonApiError
    return err


def _executable(xslt_path: Path) -> tuple[Any, float]:
    """The compiled executable of ``xslt_path`` (compiled once while in the memo) and its compile
    seconds."""
    with SAXON_LOCK:
        found = _executables.get(xslt_path)
        if found is not None:
            _executables.move_to_end(xslt_path)
            return found[0], found[1]
        size = xslt_path.stat().st_size
        _evict(size)  # free the heap of old stylesheets before Saxon fills it with this one
        _, compiler = _saxon()
        start = time.perf_counter()
        try:
            executable = compiler.compile_stylesheet(stylesheet_file=str(xslt_path))
        except _api_error() as exc:
            raise SchematronCompileError(
                f"Saxon rejected the generated XSLT {xslt_path.name}: {exc}"
            ) from exc
        if executable is None:  # pragma: no cover - older saxonche returned None instead of raising
            raise SchematronCompileError(f"Saxon rejected the generated XSLT {xslt_path.name}")
        seconds = time.perf_counter() - start
        _executables[xslt_path] = (executable, seconds, size)
        return executable, seconds


@dataclass(eq=False)
class CompiledSchematron:
    """A Schematron compiled to XSLT 3.0 for one phase, ready to run.

    ``compile_seconds`` is the cost paid by this process: code generation (0 when the XSLT came from
    the disk cache) plus Saxon's compilation (0 when another phase of the same bundle compiled it).
    """

    source: Path
    phase: str | None
    xslt_path: Path
    compile_seconds: float
    from_disk_cache: bool
    generate_seconds: float = 0.0
    saxon_compile_seconds: float = 0.0
    bundled: bool = False
    _executable: Any = field(default=None, repr=False)

    def _load(self, document: Document, source_bytes: bytes | None = None) -> tuple[Any, str]:
        """Check ``document`` with the hardened parser, then hand it to Saxon. Returns (node, label).

        A tree is taken as already checked (it can only come from ``peppol.xml``'s parser or our own
        code): it is serialised, which is cheaper than parsing the bytes a second time; with
        ``source_bytes`` (the bytes the tree was parsed from) Saxon reads those instead, as it would
        without us.
        """
        processor, _ = _saxon()
        if isinstance(document, etree._ElementTree | etree._Element):
            if source_bytes is not None:
                return processor.parse_xml(xml_text=_decoded(source_bytes, document)), "<tree>"
            text = etree.tostring(document, encoding="unicode")
            return processor.parse_xml(xml_text=text), "<tree>"
        if isinstance(document, Path):
            try:
                parse_file(document, max_bytes=MAX_DOCUMENT_BYTES)
            except OSError as exc:
                raise SchematronRuntimeError(
                    f"{document}: cannot read: {exc.strerror or exc}", code="schematron-document-unreadable"
                ) from exc
            return processor.parse_xml(xml_file_name=str(document)), str(document)
        tree = parse_bytes(document, max_bytes=MAX_DOCUMENT_BYTES)
        return processor.parse_xml(xml_text=_decoded(document, tree)), "<bytes>"

    def svrl(self, document: Document, *, source_bytes: bytes | None = None) -> bytes:
        """Run the rules over ``document`` and return the SVRL report (UTF-8 bytes).

        Raises :class:`peppol.xml.XmlError` subclasses for unsafe or malformed input and
        :class:`SchematronRuntimeError` when a rule's XPath fails at run time.
        """
        with SAXON_LOCK:
            try:
                node, _label = self._load(document, source_bytes)
                return self._transform(node)
            except _api_error() as exc:
                raise SchematronRuntimeError(f"Schematron run failed: {exc}") from exc

    def _transform(self, node: Any) -> bytes:
        processor, _ = _saxon()
        executable = self._executable
        if self.bundled:
            executable.set_parameter(PHASE_PARAM_CLARK, processor.make_string_value(self.phase or ALL_PHASE))
        executable.set_global_context_item(xdm_item=node)
        result = executable.apply_templates_returning_string(xdm_value=node, encoding="UTF-8")
        if result is None:  # pragma: no cover - saxonche signals errors by raising
            raise SchematronRuntimeError("Saxon returned no result")
        return str(result).encode("utf-8")

    def validate(
        self, document: Document, *, name: str | None = None, source_bytes: bytes | None = None
    ) -> Layer:
        """Run the rules and return a ``schematron`` layer (items, status, SVRL kept). ``source_bytes``:
        see :meth:`_load` (the orchestrator passes the tree and the bytes it parsed it from)."""
        start = time.perf_counter()
        report = self.svrl(document, source_bytes=source_bytes)
        items = items_from_report(report)
        status = LayerStatus.INVALID if any(i.severity.is_failure for i in items) else LayerStatus.VALID
        return Layer(
            name=name or self.default_layer_name(),
            kind="schematron",
            status=status,
            items=items,
            artifact=str(self.source),
            duration_ms=(time.perf_counter() - start) * 1000.0,
            svrl=report,
        )

    def default_layer_name(self) -> str:
        return f"{self.source.name}" + (f" [{self.phase}]" if self.phase and self.phase != ALL_PHASE else "")


def _decoded(data: bytes, tree: etree._ElementTree | etree._Element) -> str:
    """``data`` as text, in the encoding the parser found (its declaration or BOM)."""
    docinfo = (tree if isinstance(tree, etree._ElementTree) else tree.getroottree()).docinfo
    encoding = docinfo.encoding or "utf-8"
    try:
        return data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise SchematronRuntimeError(f"cannot decode document as {encoding}: {exc}") from exc


def items_from_report(report: bytes) -> list[Item]:
    """Items of an SVRL report produced by our own stylesheets (trusted, so a plain fast parse).

    Most documents are valid: when neither element name occurs, skip parsing (the SVRL of an eForms
    notice holds hundreds of ``fired-rule`` elements).
    """
    if b"failed-assert" not in report and b"successful-report" not in report:
        return []
    parser = make_parser(huge_tree=True)
    return items_from_tree(etree.fromstring(report, parser))


def _phase_list(entry: Path, stat: os.stat_result) -> list[str]:
    """The phase ids of the schema at ``entry``, sorted (its model is built once per process)."""
    key = (entry, stat.st_mtime_ns, stat.st_size)
    found = _phase_lists.get(key)
    if found is None:
        found = sorted(build_model(load_schema(entry).root).phases)
        _phase_lists[key] = found
    return found


def _group_of(entry: Path, stat: os.stat_result, phase: str | None, size: int) -> list[str] | None:
    """The phases compiled together with ``phase``: the slice of ``size`` sorted phase ids holding it,
    or None when the schema is not split (few phases, or no specific phase asked for)."""
    if size < 2 or phase is None or phase in (DEFAULT_PHASE, ALL_PHASE):
        return None
    phases = _phase_list(entry, stat)
    if len(phases) <= size or phase not in phases:
        return None  # an unknown phase fails below with the usual message
    start = phases.index(phase) // size * size
    return phases[start : start + size]


def compile_schematron(
    source: Path,
    *,
    phase: str | None = None,
    cache_dir: Path | None = None,
    bundle_phases: bool = False,
    phase_group: int = 0,
) -> CompiledSchematron:
    """Compile ``source`` for ``phase`` (None → the schema's ``defaultPhase``, else ``#ALL``).

    ``bundle_phases=True`` compiles every phase of the schema into ONE stylesheet, shared by all the
    ``CompiledSchematron`` objects of that source, the phase being a run-time parameter: Saxon compiles the
    shared patterns once instead of once per phase (eForms: one bundle ≈ 20 single phases).
    ``phase_group=N`` does the same for the N phases (in sorted id order) around ``phase`` when the schema
    has more than N phases (the orchestrator passes :data:`DEFAULT_PHASE_GROUP`). Same arguments in
    one process → the same object, while it stays in the memo.
    """
    fast_key = (str(source), phase, bundle_phases, phase_group)
    try:
        stat = os.stat(source)
    except OSError as exc:
        raise SchematronSourceError(f"{Path(source).resolve()}: no such Schematron file") from exc
    with SAXON_LOCK:
        # The file's mtime and size are part of the memo key so an edited source is recompiled.
        hit = _compiled.get(fast_key)
        if hit is not None and hit[0] == stat.st_mtime_ns and hit[1] == stat.st_size:
            if hit[2].xslt_path in _executables:
                _executables.move_to_end(hit[2].xslt_path)
            return hit[2]
        compiled = _compile(Path(source).resolve(), stat, phase, cache_dir, bundle_phases, phase_group)
        _compiled[fast_key] = (stat.st_mtime_ns, stat.st_size, compiled)
        return compiled


def _compile(
    entry: Path,
    stat: os.stat_result,
    phase: str | None,
    cache_dir: Path | None,
    bundle_phases: bool,
    phase_group: int,
) -> CompiledSchematron:
    """Generate (or find in the disk cache) and compile; see :func:`compile_schematron`."""
    directory = (cache_dir or cache.default_cache_dir()).expanduser()
    group = None if bundle_phases else _group_of(entry, stat, phase, phase_group)
    bundled = bundle_phases or group is not None
    if group is not None:
        key = cache.index_key(entry, "group:" + ",".join(group), True)
    else:
        key = cache.index_key(entry, None if bundle_phases else phase, bundle_phases)
    hit = _disk_hits.get((directory, key))
    if hit is None or hit.xslt_path not in _executables:
        # re-read (hashes every source file: ~30 ms for eForms) unless the stylesheet is compiled here
        hit = cache.lookup(directory, key)
    generate_seconds = 0.0
    if hit is None:
        # in a function of its own: the source trees and the generated text are freed before Saxon
        # compiles (an eForms schema's trees weigh ~100 MB, held for nothing during the compile)
        start = time.perf_counter()
        hit = _generate(entry, phase, group, bundle_phases, directory, key)
        generate_seconds = time.perf_counter() - start
        from_disk = False
    else:
        from_disk = True
    xslt_path, phases, default = hit.xslt_path, hit.phases, hit.default_phase
    _disk_hits[(directory, key)] = cache.CacheEntry(xslt_path, phases, default)
    resolved = default if phase is None or phase == DEFAULT_PHASE else phase
    if resolved not in phases:
        known = ", ".join(p for p in phases[:10])
        raise SchematronPhaseError(f"unknown phase {resolved!r} (known: {known})")
    was_compiled = xslt_path in _executables
    executable, saxon_seconds = _executable(xslt_path)
    if was_compiled:
        saxon_seconds = 0.0
    return CompiledSchematron(
        source=entry,
        phase=resolved,
        xslt_path=xslt_path,
        compile_seconds=generate_seconds + saxon_seconds,
        from_disk_cache=from_disk,
        generate_seconds=generate_seconds,
        saxon_compile_seconds=saxon_seconds,
        bundled=bundled,
        _executable=executable,
    )


def _generate(
    entry: Path,
    phase: str | None,
    group: list[str] | None,
    bundle_phases: bool,
    directory: Path,
    key: str,
) -> cache.CacheEntry:
    """Generate the XSLT for ``phase`` (or ``group``, or every phase) and store it in the disk cache."""
    loaded = load_schema(entry)
    model = build_model(loaded.root)
    if group is not None:
        default, phases = group[0], list(group)
    else:
        default = model.resolve_phase(None if bundle_phases else phase)
        phases = [*model.phases, ALL_PHASE] if bundle_phases else [default]
    xslt = generate_xslt(model, phases)
    files = [*loaded.files, *loaded.xsl_files]
    try:
        xslt_path = cache.store(directory, key, files, phases, default, xslt)
    except OSError:
        fallback = cache.fallback_cache_dir()
        log.warning("Schematron cache dir %s is not writable; using %s", directory, fallback)
        try:
            xslt_path = cache.store(fallback, key, files, phases, default, xslt)
        except OSError as exc:
            raise SchematronCacheError(
                f"cannot write the compiled XSLT to {directory} or {fallback}: {exc}"
            ) from exc
    return cache.CacheEntry(xslt_path, phases, default)


def forget_compiled() -> None:
    """Drop this process's memo of compiled objects and executables (tests, or to free memory)."""
    with SAXON_LOCK:
        _compiled.clear()
        _executables.clear()
        _phase_lists.clear()
        _disk_hits.clear()
