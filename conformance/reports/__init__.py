"""Report writers: JUnit XML (CI), JSON (machines), one self-contained HTML page (people), and the
raw evidence of every case, all in one report directory (:func:`write_reports`)."""

from __future__ import annotations

from .writer import (
    EVIDENCE_DIR,
    HTML_NAME,
    JSON_NAME,
    JUNIT_NAME,
    ReportPaths,
    default_report_dir,
    write_reports,
)

__all__ = [
    "EVIDENCE_DIR",
    "HTML_NAME",
    "JSON_NAME",
    "JUNIT_NAME",
    "ReportPaths",
    "default_report_dir",
    "write_reports",
]
