"""JSON report: the report model as JSON (stable keys, ``reportVersion`` 1)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ubl.reports.model import Entry, report_dict


def render_json(docs: Sequence[Entry]) -> str:
    return json.dumps(report_dict(docs), indent=2, ensure_ascii=False) + "\n"
