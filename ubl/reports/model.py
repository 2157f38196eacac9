"""The report model shared by every format: documents, layers, items, counters (GITB TAR/phive-like)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Final

from ubl.result import Item, Layer, LayerStatus, Severity, ValidationResult

#: Version of the JSON report layout.
REPORT_VERSION: Final = 1
DIST_NAME: Final = "procurement-access-point"

VALID: Final = "valid"
INVALID: Final = "invalid"
ERROR: Final = "error"


@dataclass(frozen=True, slots=True)
class Entry:
    """One document of a report: its result, or the reason it could not be validated."""

    source: str
    result: ValidationResult | None = None
    error: str = ""
    error_code: str = ""

    @property
    def verdict(self) -> str:
        if self.result is None:
            return ERROR
        return VALID if self.result.valid else INVALID


def entries(items: Iterable[Any]) -> list[Entry]:
    """Normalise ``ValidationResult``s and ``ubl.validate.Outcome``s (anything with ``source``,
    ``result``, ``error``, ``error_code``) into :class:`Entry` objects."""
    out: list[Entry] = []
    for it in items:
        if isinstance(it, ValidationResult):
            out.append(Entry(it.source, it))
        else:
            out.append(Entry(it.source, it.result, it.error, it.error_code))
    return out


def tool_version() -> str:
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:  # pragma: no cover - always installed in practice
        return "unknown"


def severity_counts(items: Iterable[Item]) -> dict[str, int]:
    counts = Counter(i.severity.value for i in items)
    return {s.value: counts.get(s.value, 0) for s in Severity}


def overall(docs: Sequence[Entry]) -> str:
    """``ERROR`` if a document was not validated, else ``FAILURE`` if one is invalid, else ``SUCCESS``."""
    verdicts = {d.verdict for d in docs}
    if ERROR in verdicts:
        return "ERROR"
    return "FAILURE" if INVALID in verdicts else "SUCCESS"


def counters(docs: Sequence[Entry]) -> dict[str, Any]:
    verdicts = Counter(d.verdict for d in docs)
    all_items = [i for d in docs if d.result for i in d.result.items]
    return {
        "documents": len(docs),
        "valid": verdicts.get(VALID, 0),
        "invalid": verdicts.get(INVALID, 0),
        "errors": verdicts.get(ERROR, 0),
        "items": severity_counts(all_items),
    }


def item_dict(item: Item) -> dict[str, Any]:
    return {
        "ruleId": item.rule_id,
        "severity": item.severity.value,
        "text": item.text,
        "location": item.location,
        "test": item.test,
        "line": item.line,
        "column": item.column,
        "role": item.role,
        "flag": item.flag,
    }


def layer_dict(layer: Layer) -> dict[str, Any]:
    return {
        "name": layer.name,
        "kind": layer.kind,
        "status": layer.status.value,
        "artifact": layer.artifact,
        "durationMs": round(layer.duration_ms, 3),
        "skipReason": layer.skip_reason,
        "counters": severity_counts(layer.items),
        "items": [item_dict(i) for i in layer.items],
    }


def document_dict(doc: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {"source": doc.source, "result": doc.verdict}
    if doc.result is None:
        out["error"] = {"code": doc.error_code, "message": doc.error}
        return out
    out["documentType"] = doc.result.document_type
    out["durationMs"] = round(sum(layer.duration_ms for layer in doc.result.layers), 3)
    out["layers"] = [layer_dict(layer) for layer in doc.result.layers]
    return out


def report_dict(docs: Sequence[Entry], *, created: datetime | None = None) -> dict[str, Any]:
    """The whole report as plain data (the JSON format)."""
    return {
        "report": "ap-validation",
        "reportVersion": REPORT_VERSION,
        "tool": {"name": DIST_NAME, "version": tool_version()},
        "created": (created or datetime.now(UTC)).isoformat(timespec="seconds"),
        "result": overall(docs),
        "counters": counters(docs),
        "documents": [document_dict(d) for d in docs],
    }


def layer_failed(layer: Layer) -> bool:
    return layer.status is LayerStatus.INVALID
