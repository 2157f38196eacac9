"""Human-readable text report with rich (colours on a terminal, plain text otherwise)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Final

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from ubl.reports.model import ERROR, INVALID, VALID, Entry, counters
from ubl.result import Layer, LayerStatus, Severity

#: Findings shown per layer before summarising (the JSON/HTML formats list all of them).
MAX_ITEMS_SHOWN: Final = 50

_VERDICT_STYLE: Final = {VALID: "bold green", INVALID: "bold red", ERROR: "bold yellow"}
_STATUS_STYLE: Final = {LayerStatus.VALID: "green", LayerStatus.INVALID: "red", LayerStatus.SKIPPED: "dim"}
_SEV_STYLE: Final = {
    Severity.FATAL: "bold red",
    Severity.ERROR: "red",
    Severity.WARNING: "yellow",
    Severity.INFO: "dim",
}


def _items_table(layer: Layer, limit: int) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, padding=(0, 1))
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("location", overflow="fold", max_width=60)
    table.add_column("message", overflow="fold")
    for item in layer.items[:limit]:
        where = item.location
        if item.line is not None:
            where = f"{item.line}:{item.column} {where}".strip()
        table.add_row(Text(item.severity.value, _SEV_STYLE[item.severity]), item.rule_id, where, item.text)
    return table


def renderables(docs: Sequence[Entry], *, limit: int = MAX_ITEMS_SHOWN) -> Iterator[RenderableType]:
    """What the text report prints, one piece at a time (the CLI prints them as results arrive)."""
    for doc in docs:
        yield from document_renderables(doc, limit=limit)
    yield summary_text(docs)


def document_renderables(doc: Entry, *, limit: int = MAX_ITEMS_SHOWN) -> Iterator[RenderableType]:
    verdict = doc.verdict
    line = Text()
    line.append(f"{verdict.upper():8}", _VERDICT_STYLE[verdict])
    line.append(doc.source)
    if doc.result is not None and doc.result.document_type:
        line.append(f"  [{doc.result.document_type}]", "cyan")
    yield line
    if doc.result is None:
        yield Text(f"    {doc.error_code}: {doc.error}", "yellow")
        return
    for layer in doc.result.layers:
        row = Text("    ")
        row.append(f"{layer.status.value:8}", _STATUS_STYLE[layer.status])
        row.append(f"{layer.name}")
        row.append(_layer_tail(layer), "dim")
        yield row
        if layer.items:
            yield _items_table(layer, limit)
            if len(layer.items) > limit:
                yield Text(f"      … {len(layer.items) - limit} more (use --format json or html)", "dim")


def _layer_tail(layer: Layer) -> str:
    if layer.status is LayerStatus.SKIPPED:
        return f" — {layer.skip_reason}"
    failed = len(layer.failures)
    return f"  ({failed} failed, {len(layer.items) - failed} other, {layer.duration_ms:.1f} ms)"


def plain_document_text(doc: Entry) -> str | None:
    """What :func:`document_renderables` prints for ``doc``, as plain unwrapped lines, when it has no
    findings table (else None: use rich). Rich costs ~0.5 ms per document for these few lines, as
    much as a third of a small document's validation; output that is not a terminal needs no styling.
    """
    lines = [f"{doc.verdict.upper():8}{doc.source}"]
    if doc.result is not None and doc.result.document_type:
        lines[0] += f"  [{doc.result.document_type}]"
    if doc.result is None:
        lines.append(f"    {doc.error_code}: {doc.error}")
    else:
        for layer in doc.result.layers:
            if layer.items:
                return None
            lines.append(f"    {layer.status.value:8}{layer.name}{_layer_tail(layer)}")
    lines.append("")
    return "\n".join(lines)


def summary_text(docs: Sequence[Entry]) -> Text:
    c = counters(docs)
    text = Text(f"{c['documents']} document(s): ")
    text.append(f"{c['valid']} valid", "green")
    text.append(", ")
    text.append(f"{c['invalid']} invalid", "red" if c["invalid"] else "")
    text.append(", ")
    text.append(f"{c['errors']} not validated", "yellow" if c["errors"] else "")
    return text


def render_text(docs: Sequence[Entry], *, width: int = 120, limit: int = MAX_ITEMS_SHOWN) -> str:
    """The text report as a plain string (no colour codes)."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, color_system=None, highlight=False)
    for part in renderables(docs, limit=limit):
        console.print(part)
    return buf.getvalue()
