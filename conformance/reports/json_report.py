"""The JSON report: a run header (system under test, profile, suite version, times, counters) and
one object per case (expected against actual, HTTP status, signal, ebMS code, reason)."""

from __future__ import annotations

import json
import time
from typing import Any

from conformance.model import Run, as_dict


def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp)) if timestamp else ""


def run_dict(run: Run, evidence: dict[str, list[str]]) -> dict[str, Any]:
    header = run.header
    return {
        "header": {
            "suite": header.suite,
            "suite_version": header.suite_version,
            "system_under_test": header.system_under_test,
            "profile": header.profile,
            "started": iso(header.started),
            "ended": iso(header.ended),
            "duration_seconds": round(max(0.0, header.ended - header.started), 3),
            "environment": dict(header.environment),
            "result": run.verdict,
            "exit_code": run.exit_code,
            "counters": run.counters(),
        },
        "cases": [as_dict(case, evidence.get(case.id, [])) for case in run.cases],
    }


def render_json(run: Run, evidence: dict[str, list[str]]) -> str:
    return json.dumps(run_dict(run, evidence), indent=2, ensure_ascii=False) + "\n"
