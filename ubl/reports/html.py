"""Self-contained HTML report (inline CSS, no script, no external resource), readable offline."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from ubl.reports.model import ERROR, INVALID, Entry, report_dict
from ubl.result import Layer, LayerStatus

_CSS: Final = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#1d2433;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin:0}
.muted{color:#5b6475}.badge{display:inline-block;border-radius:4px;padding:1px 8px;font-weight:600;
font-size:.85em;color:#fff}
.valid,.SUCCESS{background:#1f883d}.invalid,.FAILURE{background:#cf222e}.error,.ERROR{background:#9a6700}
.skipped{background:#6e7781}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}th,td{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa}
td.loc,td.rule{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.sev-fatal,.sev-error{color:#cf222e;font-weight:600}.sev-warning{color:#9a6700;font-weight:600}
.sev-info{color:#5b6475}
details.doc{border:1px solid #d0d7de;border-radius:6px;margin:.8em 0;padding:.6em 1em}
details.doc>summary{cursor:pointer;list-style:none}details.doc>summary::-webkit-details-marker{display:none}
.layer{margin:.8em 0 .2em}
"""


def _badge(text: str, cls: str) -> str:
    return f'<span class="badge {escape(cls)}">{escape(text)}</span>'


def _layer(layer: Layer) -> str:
    parts = [
        f'<div class="layer">{_badge(layer.status.value, layer.status.value)}'
        f" <strong>{escape(layer.name)}</strong>"
        f' <span class="muted">({escape(layer.kind)}, {layer.duration_ms:.1f} ms)</span></div>'
    ]
    if layer.status is LayerStatus.SKIPPED:
        parts.append(f'<div class="muted">Skipped: {escape(layer.skip_reason)}</div>')
    if layer.artifact:
        parts.append(f'<div class="muted">Artifact: <code>{escape(layer.artifact)}</code></div>')
    if layer.items:
        rows = "".join(
            f'<tr><td class="sev-{escape(i.severity.value)}">{escape(i.severity.value)}</td>'
            f'<td class="rule">{escape(i.rule_id)}</td><td>{escape(i.text)}</td>'
            f'<td class="loc">{escape(i.location)}'
            f"{escape(f' (line {i.line}, col {i.column})') if i.line else ''}</td></tr>"
            for i in layer.items
        )
        parts.append(
            "<table><thead><tr><th>Severity</th><th>Rule</th><th>Message</th><th>Location</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return "\n".join(parts)


def _document(doc: Entry) -> str:
    verdict = doc.verdict
    dtype = doc.result.document_type if doc.result and doc.result.document_type else ""
    head = (
        f"<summary><h2>{_badge(verdict, verdict)} {escape(doc.source)}"
        f' <span class="muted">{escape(dtype)}</span></h2></summary>'
    )
    if doc.result is None:
        body = f"<p><strong>Could not validate</strong> ({escape(doc.error_code)}): {escape(doc.error)}</p>"
    else:
        body = "\n".join(_layer(layer) for layer in doc.result.layers)
    opened = " open" if verdict in (INVALID, ERROR) else ""
    return f'<details class="doc"{opened}>{head}\n{body}</details>'


def render_html(docs: Sequence[Entry], *, title: str = "Validation report") -> str:
    data = report_dict(docs)
    c = data["counters"]
    items = c["items"]
    summary = (
        f"{c['documents']} document(s): {c['valid']} valid, {c['invalid']} invalid,"
        f" {c['errors']} not validated"
        f" &middot; findings: {items['fatal']} fatal, {items['error']} error, {items['warning']} warning,"
        f" {items['info']} info"
    )
    body = "\n".join(_document(d) for d in docs)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{escape(title)} {_badge(data['result'], data['result'])}</h1>\n"
        f'<p class="muted">{escape(data["tool"]["name"])} {escape(data["tool"]["version"])} &middot; '
        f"{escape(data['created'])}</p>\n<p>{summary}</p>\n{body}\n</body></html>\n"
    )
