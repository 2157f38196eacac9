"""Writes every report format and the evidence files of a run into one directory."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from conformance.model import Run

from .html_report import render_html
from .json_report import render_json
from .junit import render_junit

JUNIT_NAME: Final = "junit.xml"
JSON_NAME: Final = "report.json"
HTML_NAME: Final = "report.html"
EVIDENCE_DIR: Final = "evidence"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class ReportPaths:
    directory: Path
    junit: Path
    json: Path
    html: Path


def default_report_dir(suite: str, base: Path | None = None) -> Path:
    """A fresh folder ``conformance-<suite>-<UTC time>`` under ``base`` (the current directory)."""
    root = base or Path.cwd()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    candidate = root / f"conformance-{suite}-{stamp}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = root / f"conformance-{suite}-{stamp}-{n}"
    return candidate


def safe_name(text: str) -> str:
    """``text`` as one path component (case ids may hold ``/``, ``#`` or ``:``)."""
    return _UNSAFE.sub("_", text).strip("._") or "case"


def write_evidence(run: Run, directory: Path) -> dict[str, list[str]]:
    """Store each case's evidence under ``evidence/<case>/``; returns the relative paths per case id."""
    paths: dict[str, list[str]] = {}
    used: set[str] = set()
    for case in run.cases:
        listed: list[str] = []
        if case.evidence:
            folder = safe_name(case.id)
            while folder in used:
                folder += "_"
            used.add(folder)
            target = directory / EVIDENCE_DIR / folder
            target.mkdir(parents=True, exist_ok=True)
            for name, data in case.evidence.items():
                path = target / safe_name(name)
                path.write_bytes(data)
                listed.append(path.relative_to(directory).as_posix())
        paths[case.id] = listed
    return paths


def write_reports(run: Run, directory: Path) -> ReportPaths:
    """Write JUnit XML, JSON, HTML and the evidence of ``run`` into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    evidence = write_evidence(run, directory)
    paths = ReportPaths(directory, directory / JUNIT_NAME, directory / JSON_NAME, directory / HTML_NAME)
    paths.junit.write_bytes(render_junit(run, evidence))
    paths.json.write_text(render_json(run, evidence), encoding="utf-8")
    paths.html.write_text(render_html(run, evidence), encoding="utf-8")
    return paths
