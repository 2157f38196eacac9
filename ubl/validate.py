"""The validation orchestrator: detect the document type, then run its layers in order.

Layers follow the phive "pyramid": well-formedness (only reported when it fails), XSD, then the
Schematron of the type (eForms: phase ``eforms-<subtype>``). When the XSD layer fails the Schematron
layers are not run but reported as skipped, with the reason. A layer whose artifact cannot exist in
a store built from the official releases (BIS 3 Schematron, ebXML RegRep XSDs) is also reported as
skipped with the reason; an artifact set that exists but is not installed is an error
(``ArtifactError(not-installed)``), never a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from lxml import etree

from peppol.xml import DEFAULT_MAX_BYTES, XmlError, parse_bytes
from ubl import registry
from ubl.artifacts import UNAVAILABLE_SETS, ArtifactError, ArtifactStore, default_store
from ubl.detect import UnknownDocumentType, detect
from ubl.registry import ArtifactRef, DocumentType
from ubl.result import Item, Layer, LayerStatus, Severity, ValidationResult
from ubl.schematron.errors import SchematronSourceError
from ubl.xsd import SchemaLoadError, validate_tree


class CompiledSchematron(Protocol):
    """What the orchestrator needs of ``ubl.schematron.CompiledSchematron``."""

    def validate(
        self,
        document: bytes | Path | etree._ElementTree,
        *,
        name: str | None = None,
        source_bytes: bytes | None = None,
    ) -> Layer: ...


#: ``ruleset`` value that detects the document type from the document.
AUTO: Final = "auto"
#: Label used for documents given as bytes.
BYTES_LABEL: Final = "<bytes>"


class DocumentReadError(OSError):
    """The document could not be read (missing file, permission, too large)."""

    code = "unreadable"


#: What a layer raises when its artifact file cannot be read (see :data:`_resolved`).
_ARTIFACT_LOAD_ERRORS: Final = (SchemaLoadError, SchematronSourceError)


class ValidationSetupError(ValueError):
    """The requested rule set cannot be used (unknown key, nothing to validate against)."""

    code = "ruleset"


def _read(source: bytes | Path, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label = BYTES_LABEL
    else:
        path = Path(source)
        label = str(path)
        try:
            if path.stat().st_size > max_bytes:
                raise DocumentReadError(f"{path}: larger than {max_bytes} bytes")
            data = path.read_bytes()
        except DocumentReadError:
            raise
        except OSError as exc:
            raise DocumentReadError(f"{path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise DocumentReadError(f"{label}: larger than {max_bytes} bytes")
    return data, label


def _skipped(name: str, kind: str, reason: str, artifact: str = "") -> Layer:
    return Layer(name=name, kind=kind, status=LayerStatus.SKIPPED, artifact=artifact, skip_reason=reason)


def _resolve_checked(ref: ArtifactRef, store: ArtifactStore) -> Path | str:
    """The installed path of ``ref``, or the reason it cannot exist (unavailable set); checks the
    set's metadata and the file (``ArtifactError`` not-installed / missing-files)."""
    if store.is_installed(ref.set):  # one stat of the set's metadata (path() would check again)
        path = store.root / ref.set / ref.path
    elif ref.set in UNAVAILABLE_SETS:
        return UNAVAILABLE_SETS[ref.set]
    else:
        path = store.path(ref.set) / ref.path  # raises not-installed
    if not path.is_file():
        raise ArtifactError(
            ArtifactError.MISSING_FILES, f"{ref}: not found in the installed set {path.parent}"
        )
    return path


#: (store root, set, path) → the checked installed file. The layers stat that file anyway (the XSD
#: cache and the Schematron memo key on its mtime and size), so a set removed or reinstalled after
#: the check is noticed there: a load error on a remembered path drops the memo and the document is
#: validated again with the full checks (which then name the missing set or file).
_resolved: dict[tuple[str, str, str], Path] = {}


def _resolve(ref: ArtifactRef, store: ArtifactStore) -> Path | str:
    """:func:`_resolve_checked`, remembered per store once the file was found (no stat per call)."""
    key = (str(store.root), ref.set, ref.path)
    found = _resolved.get(key)
    if found is not None:
        return found
    where = _resolve_checked(ref, store)
    if isinstance(where, Path):
        _resolved[key] = where
    return where


def _forget_resolved(store: ArtifactStore) -> bool:
    """Drop the remembered files of ``store``; True when there were any."""
    root = str(store.root)
    stale = [k for k in list(_resolved) if k[0] == root]  # list(): other threads may add meanwhile
    for key in stale:
        _resolved.pop(key, None)
    return bool(stale)


# -- Schematron (engine owned by ubl.schematron) -------------------------------------------------


def compiled_schematron(path: Path, phase: str | None, cache_dir: Path | None) -> CompiledSchematron:
    """The compiled rules of ``path`` for ``phase`` from the engine's memo (``ubl.schematron.runtime``
    owns it and its budget), compiling when needed; many-phase schemas compile by phase groups."""
    from ubl.schematron.runtime import DEFAULT_PHASE_GROUP, compile_schematron

    return compile_schematron(path, phase=phase, cache_dir=cache_dir, phase_group=DEFAULT_PHASE_GROUP)


def _schematron_layer(
    tree: etree._ElementTree, data: bytes, path: Path, phase: str | None, store: ArtifactStore, name: str
) -> Layer:
    try:
        compiled = compiled_schematron(path, phase, store.cache_dir / "schematron")
    except ImportError:
        return _skipped(
            name, "schematron", "the Schematron engine (ubl.schematron) is not available", str(path)
        )
    # the tree we parsed (no second hardened parse) and its bytes (Saxon reads them, no re-serialising)
    layer = compiled.validate(tree, name=name, source_bytes=data)
    if not layer.artifact:
        layer.artifact = str(path)
    return layer


# -- orchestration -------------------------------------------------------------------------------


def resolve_document_type(
    data: bytes | etree._ElementTree, ruleset: str, *, explicit: bool
) -> DocumentType | None:
    """The document type to validate against: detected (``auto``) or named by ``ruleset``.

    With ``explicit`` artifacts (``--xsd``/``--schematron``) an undetectable type is not an error.
    """
    if ruleset == AUTO:
        try:
            return detect(data)
        except UnknownDocumentType:
            if explicit:
                return None
            raise
    try:
        return registry.get(ruleset)
    except registry.UnknownDocumentTypeKey:
        raise ValidationSetupError(
            f"unknown rule set {ruleset!r}: use 'auto' or a document type key such as peppol-t004, "
            "eforms-cn-16, bis3-invoice (`ap validate --list-types`)"
        ) from None


def validate_document(
    source: bytes | Path,
    *,
    ruleset: str = AUTO,
    store: ArtifactStore | None = None,
    schematron: Path | None = None,
    phase: str | None = None,
    xsd: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ValidationResult:
    """Validate one document and return every layer's result.

    ``ruleset`` is ``auto`` (detect from the document) or a registry key; ``xsd``/``schematron``
    (+ ``phase``) replace the type's own artifacts. Raises :class:`DocumentReadError`,
    :class:`UnknownDocumentType`, :class:`ValidationSetupError`, ``ArtifactError`` (set not
    installed), ``SchemaLoadError`` or ``SchematronError``; a document that is not well-formed XML is
    an invalid result, not an exception.
    """
    store = store or default_store()
    data, label = _read(source, max_bytes)
    args = (data, label, ruleset, store, schematron, phase, xsd, max_bytes)
    try:
        return _validate(*args)
    except _ARTIFACT_LOAD_ERRORS:
        if not _forget_resolved(store):
            raise
        return _validate(*args)  # a remembered artifact went away: check the store again


def _validate(
    data: bytes,
    label: str,
    ruleset: str,
    store: ArtifactStore,
    schematron: Path | None,
    phase: str | None,
    xsd: Path | None,
    max_bytes: int,
) -> ValidationResult:
    result = ValidationResult(source=label, document_type=None)
    try:
        tree = parse_bytes(data, max_bytes=max_bytes)
    except XmlError as exc:
        result.layers.append(
            Layer(
                name="XML well-formedness",
                kind="xml",
                status=LayerStatus.INVALID,
                items=[Item(rule_id=exc.code, severity=Severity.FATAL, text=str(exc))],
            )
        )
        return result
    doc_type = resolve_document_type(tree, ruleset, explicit=xsd is not None or schematron is not None)
    result.document_type = doc_type.key if doc_type else None

    # XSD layer
    xsd_layer: Layer | None = None
    if xsd is not None:
        xsd_layer = validate_tree(tree, xsd, name=f"XSD {xsd.name}")
    elif doc_type is not None:
        where = _resolve(doc_type.xsd, store)
        name = f"XSD {doc_type.xsd}"
        xsd_layer = (
            validate_tree(tree, where, name=name)
            if isinstance(where, Path)
            else _skipped(name, "xsd", where, str(doc_type.xsd))
        )
    if xsd_layer is not None:
        result.layers.append(xsd_layer)

    # Schematron layer
    sch_path: Path | str | None = None
    sch_phase = phase
    sch_name = ""
    if schematron is not None:
        sch_path, sch_name = schematron, f"Schematron {schematron.name}"
    elif doc_type is not None:
        if doc_type.schematron is None:
            reason = doc_type.note or f"no Schematron is registered for {doc_type.key}"
            result.layers.append(_skipped(f"Schematron {doc_type.key}", "schematron", reason))
        else:
            sch_path = _resolve(doc_type.schematron, store)
            sch_phase = phase or doc_type.phase
            sch_name = f"Schematron {doc_type.schematron}"
    if sch_path is not None:
        if sch_phase:
            sch_name += f" phase {sch_phase}"
        if isinstance(sch_path, str):
            result.layers.append(_skipped(sch_name, "schematron", sch_path))
        elif xsd_layer is not None and xsd_layer.status is LayerStatus.INVALID:
            result.layers.append(
                _skipped(sch_name, "schematron", "not run: the document is not schema-valid", str(sch_path))
            )
        else:
            result.layers.append(_schematron_layer(tree, data, sch_path, sch_phase, store, sch_name))
    if not result.layers:
        raise ValidationSetupError(f"{label}: nothing to validate against")
    return result


# -- many documents ------------------------------------------------------------------------------

#: Exceptions that make one file's outcome an error rather than a verdict.
SETUP_ERRORS: Final = (
    DocumentReadError,
    UnknownDocumentType,
    ValidationSetupError,
    ArtifactError,
    SchemaLoadError,
    XmlError,
)


@dataclass(slots=True)
class Outcome:
    """The result of one file of a batch, or why it could not be validated."""

    source: str
    result: ValidationResult | None = None
    error: str = ""
    error_code: str = ""


def _one(path: Path, options: dict[str, Any]) -> Outcome:
    try:
        return Outcome(str(path), result=validate_document(path, **options))
    except SETUP_ERRORS as exc:
        return Outcome(str(path), error=str(exc), error_code=str(getattr(exc, "code", type(exc).__name__)))
    except Exception as exc:  # engine errors (SchematronError) are per-file outcomes too
        return Outcome(str(path), error=f"{type(exc).__name__}: {exc}", error_code=type(exc).__name__)


def _pool_one(args: tuple[Path, dict[str, Any]]) -> Outcome:
    return _one(*args)


#: Largest number of same-type documents sent to a worker in one task.
AFFINITY_CHUNK: Final = 16


def _type_key(path: Path) -> tuple[str, str, str]:
    """Rule set, phase and registry key of ``path`` (header only), or empty strings when unknown: work
    is sorted by it, so the phases the engine compiles together (sorted phase ids) come one after the
    other. A tuple, not a joined string: ``"eforms-2|…"`` would sort after ``"eforms-29|…"`` (``|``
    follows the digits) while the engine groups ``eforms-2`` with ``eforms-20``, and every group
    would be compiled twice."""
    try:
        found = detect(path)
    except (UnknownDocumentType, XmlError, OSError):
        return ("", "", "")
    return (str(found.schematron), found.phase or "", found.key)


def processing_order(files: list[Path]) -> list[int]:
    """Indexes of ``files`` in the order they are validated: by rule set, phase and type (see
    :func:`_type_key`), input order within a type."""
    if len(files) < 2:
        return list(range(len(files)))
    keys = [_type_key(f) for f in files]
    return sorted(range(len(files)), key=lambda i: (keys[i], i))


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for every ``*.xml`` file under it (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() == ".xml"))
        else:
            out.append(p)
    return out


def validate_files(
    paths: Iterable[Path],
    *,
    workers: int = 1,
    on_outcome: Callable[[Outcome], None] | None = None,
    **options: Any,
) -> list[Outcome]:
    """Validate many files (directories expanded), in ``workers`` processes when > 1.

    Work is sorted by document type (so a worker compiles each rule set once) and ``on_outcome`` sees
    outcomes in that processing order; the returned list is in input order.
    """
    files = expand_paths(paths)
    order = processing_order(files)
    done: dict[int, Outcome] = {}
    iterator: Iterator[Outcome]
    pool: ProcessPoolExecutor | None = None
    if workers > 1 and len(files) > 1:
        n = min(workers, len(files))
        pool = ProcessPoolExecutor(max_workers=n)
        # contiguous runs of one type per task: each worker compiles a phase once, not every worker
        chunk = max(1, min(AFFINITY_CHUNK, len(files) // (n * 2)))
        iterator = pool.map(_pool_one, [(files[i], options) for i in order], chunksize=chunk)
    else:
        iterator = (_one(files[i], options) for i in order)
    try:
        for index, outcome in zip(order, iterator, strict=True):
            done[index] = outcome
            if on_outcome is not None:
                on_outcome(outcome)
    finally:
        if pool is not None:
            pool.shutdown()
    return [done[i] for i in range(len(files))]
