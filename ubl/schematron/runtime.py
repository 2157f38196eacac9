"""Running compiled Schematron with saxonche.

One ``PySaxonProcessor`` per process, created lazily. Saxon's compiled executables are thread-safe for
transformations in Java, but the SaxonC/Python wrapper keeps per-call state on the executable object
(stylesheet parameters, global context item) and the processor objects are not documented as
thread-safe, so every call into Saxon is made under one process-wide lock (:data:`SAXON_LOCK`). Python
threads would serialise on the GIL anyway; use processes to validate in parallel.
"""

from __future__ import annotations

import logging
import threading
import time
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

_processor: Any = None
_xslt_compiler: Any = None
_executables: dict[Path, tuple[Any, float]] = {}
_compiled: dict[tuple[Path, str | None, bool, int, int], CompiledSchematron] = {}


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
    """The compiled executable of ``xslt_path`` (compiled once per process) and its compile seconds."""
    with SAXON_LOCK:
        found = _executables.get(xslt_path)
        if found is not None:
            return found
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
        found = (executable, time.perf_counter() - start)
        _executables[xslt_path] = found
        return found


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

    def _load(self, document: Document) -> tuple[Any, str]:
        """Check ``document`` with the hardened parser, then hand it to Saxon. Returns (node, label).

        A tree is taken as already checked (it can only come from ``peppol.xml``'s parser or our own
        code): it is serialised, which is cheaper than parsing the bytes a second time.
        """
        processor, _ = _saxon()
        if isinstance(document, etree._ElementTree | etree._Element):
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
        encoding = tree.docinfo.encoding or "utf-8"
        try:
            text = document.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise SchematronRuntimeError(f"cannot decode document as {encoding}: {exc}") from exc
        return processor.parse_xml(xml_text=text), "<bytes>"

    def svrl(self, document: Document) -> bytes:
        """Run the rules over ``document`` and return the SVRL report (UTF-8 bytes).

        Raises :class:`peppol.xml.XmlError` subclasses for unsafe or malformed input and
        :class:`SchematronRuntimeError` when a rule's XPath fails at run time.
        """
        with SAXON_LOCK:
            try:
                node, _label = self._load(document)
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

    def validate(self, document: Document, *, name: str | None = None) -> Layer:
        """Run the rules and return a ``schematron`` layer (items, status, SVRL kept)."""
        start = time.perf_counter()
        report = self.svrl(document)
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


def items_from_report(report: bytes) -> list[Item]:
    """Items of an SVRL report produced by our own stylesheets (trusted, so a plain fast parse).

    Most documents are valid: when neither element name occurs, skip parsing (the SVRL of an eForms
    notice holds hundreds of ``fired-rule`` elements).
    """
    if b"failed-assert" not in report and b"successful-report" not in report:
        return []
    parser = make_parser(huge_tree=True)
    return items_from_tree(etree.fromstring(report, parser))


def compile_schematron(
    source: Path,
    *,
    phase: str | None = None,
    cache_dir: Path | None = None,
    bundle_phases: bool = False,
) -> CompiledSchematron:
    """Compile ``source`` for ``phase`` (None → the schema's ``defaultPhase``, else ``#ALL``).

    ``bundle_phases=True`` compiles every phase of the schema into ONE stylesheet, shared by all the
    ``CompiledSchematron`` objects of that source, the phase being a run-time parameter: Saxon compiles the
    shared patterns once instead of once per phase (eForms: one bundle ≈ 20 single phases). Same
    arguments in one process → the same object.
    """
    entry = Path(source).resolve()
    try:
        stat = entry.stat()
    except OSError as exc:
        raise SchematronSourceError(f"{entry}: no such Schematron file") from exc
    # The entry file's mtime and size are part of the memo key so an edited source is recompiled.
    memo_key = (entry, phase, bundle_phases, stat.st_mtime_ns, stat.st_size)
    with SAXON_LOCK:
        found = _compiled.get(memo_key)
        if found is not None:
            return found
        directory = (cache_dir or cache.default_cache_dir()).expanduser()
        key = cache.index_key(entry, None if bundle_phases else phase, bundle_phases)
        hit = cache.lookup(directory, key)
        generate_seconds = 0.0
        if hit is not None:
            xslt_path, phases, default = hit.xslt_path, hit.phases, hit.default_phase
        else:
            start = time.perf_counter()
            loaded = load_schema(entry)
            model = build_model(loaded.root)
            default = model.resolve_phase(None if bundle_phases else phase)
            phases = [*model.phases, ALL_PHASE] if bundle_phases else [default]
            xslt = generate_xslt(model, phases)
            generate_seconds = time.perf_counter() - start
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
        resolved = default if phase is None or phase == DEFAULT_PHASE else phase
        if resolved not in phases:
            known = ", ".join(p for p in phases[:10])
            raise SchematronPhaseError(f"unknown phase {resolved!r} (known: {known})")
        was_compiled = xslt_path in _executables
        executable, saxon_seconds = _executable(xslt_path)
        if was_compiled:
            saxon_seconds = 0.0
        compiled = CompiledSchematron(
            source=entry,
            phase=resolved,
            xslt_path=xslt_path,
            compile_seconds=generate_seconds + saxon_seconds,
            from_disk_cache=hit is not None,
            generate_seconds=generate_seconds,
            saxon_compile_seconds=saxon_seconds,
            bundled=bundle_phases,
            _executable=executable,
        )
        _compiled[memo_key] = compiled
        return compiled


def forget_compiled() -> None:
    """Drop this process's memo of compiled objects and executables (tests, or to free memory)."""
    with SAXON_LOCK:
        _compiled.clear()
        _executables.clear()
