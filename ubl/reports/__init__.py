"""Validation reports: text (rich), JSON (GITB TAR/phive-like), SVRL, JUnit XML and self-contained HTML.

Every renderer takes a sequence of :class:`~ubl.reports.model.Entry` (build them with
:func:`entries` from ``ValidationResult`` or ``ubl.validate.Outcome`` objects); :func:`render`
dispatches by format name and returns bytes ready to write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from ubl.reports.html import render_html
from ubl.reports.json_report import render_json
from ubl.reports.junit import render_junit
from ubl.reports.model import Entry, entries, report_dict
from ubl.reports.svrl import render_svrl
from ubl.reports.text import render_text

FORMATS: Final = ("text", "json", "svrl", "junit", "html")


class UnknownReportFormat(ValueError):
    code = "report-format"


def render(items: Iterable[Any], fmt: str) -> bytes:
    """Render results/outcomes in format ``fmt`` (one of :data:`FORMATS`)."""
    docs = entries(items)
    if fmt == "text":
        return render_text(docs).encode("utf-8")
    if fmt == "json":
        return render_json(docs).encode("utf-8")
    if fmt == "svrl":
        return render_svrl(docs)
    if fmt == "junit":
        return render_junit(docs)
    if fmt == "html":
        return render_html(docs).encode("utf-8")
    raise UnknownReportFormat(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")


__all__ = [
    "FORMATS",
    "Entry",
    "UnknownReportFormat",
    "entries",
    "render",
    "render_html",
    "render_json",
    "render_junit",
    "render_svrl",
    "render_text",
    "report_dict",
]
