"""One self-contained HTML page (inline CSS, no script, no external resource): the run header, the
counters and one row per case with its reason; expected/actual, details and evidence links fold out."""

from __future__ import annotations

from html import escape
from typing import Final

from conformance.model import CaseResult, Level, Outcome, Run

from .json_report import iso

_CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .5rem}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;color:#fff;font-weight:700}
.SUCCESS{background:#1a7f37}.FAILURE{background:#cf222e}.WARNING{background:#9a6700}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.9rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.badge{display:inline-block;min-width:4.2rem;text-align:center;border-radius:.25rem;padding:.05rem .3rem;
color:#fff;font-size:.8rem;font-weight:600}
.passed{background:#1a7f37}.failed{background:#cf222e}.error{background:#8250df}.skipped{background:#6e7781}
dl.head{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:.5rem 0}
dl.head dt{font-weight:600}
.counters span{margin-right:1rem}
details pre{white-space:pre-wrap;background:#f6f8fa;padding:.4rem;margin:.3rem 0}
code{font-size:.85rem}
"""


def _cell(text: object) -> str:
    return escape("" if text is None else str(text))


def _case_row(case: CaseResult, evidence: list[str]) -> str:
    facts = [
        ("Expected", case.expected),
        ("Actual", case.actual),
        ("Spec", case.spec),
        ("HTTP status", case.http_status),
        ("Signal", case.signal),
        ("ebMS code", case.ebms_code),
        ("Duration", f"{case.duration:.3f} s"),
    ]
    fact_html = "".join(f"<dt>{k}</dt><dd>{_cell(v)}</dd>" for k, v in facts if v not in (None, ""))
    details = "\n".join(case.details)
    links = "".join(f'<li><a href="{escape(p)}">{escape(p)}</a></li>' for p in evidence)
    fold = (
        f"<details><summary>details</summary><dl class='head'>{fact_html}</dl>"
        + (f"<pre>{escape(details)}</pre>" if details else "")
        + (f"<ul>{links}</ul>" if links else "")
        + "</details>"
    )
    return (
        f"<tr id='{escape(case.id)}'><td><span class='badge {case.outcome.value}'>{case.outcome.value}"
        f"</span></td><td><code>{_cell(case.id)}</code></td><td>{_cell(case.public_id or '')}</td>"
        f"<td>{case.level.value}</td><td>{_cell(case.title)}</td><td>{_cell(case.reason)}{fold}</td></tr>"
    )


def render_html(run: Run, evidence: dict[str, list[str]]) -> str:
    header = run.header
    counters = run.counters()
    head_facts = [
        ("System under test", header.system_under_test),
        ("Profile", header.profile),
        ("Suite version", header.suite_version),
        ("Started", iso(header.started)),
        ("Ended", iso(header.ended)),
        *sorted(header.environment.items()),
    ]
    head_html = "".join(f"<dt>{_cell(k)}</dt><dd>{_cell(v)}</dd>" for k, v in head_facts)
    counter_html = "".join(
        f"<span>{escape(name)}: <b>{counters[name]}</b></span>"
        for name in ("total", *(o.value for o in Outcome), "must_not_passed")
    )
    # Cases that need attention first (MUST before SHOULD before MAY), then the rest in run order.
    levels = [level.value for level in Level]
    order = sorted(
        run.cases,
        key=lambda c: (
            c.outcome is Outcome.PASSED,
            c.outcome is Outcome.SKIPPED,
            levels.index(c.level.value),
        ),
    )
    rows = "\n".join(_case_row(case, evidence.get(case.id, [])) for case in order)
    title = f"Conformance report: {header.suite}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)} <span class='verdict {run.verdict}'>{run.verdict}</span></h1>"
        f"<dl class='head'>{head_html}</dl><p class='counters'>{counter_html}</p>"
        "<table><thead><tr><th>Outcome</th><th>Case</th><th>Public id</th><th>Level</th><th>Title</th>"
        f"<th>Reason</th></tr></thead><tbody>\n{rows}\n</tbody></table></body></html>\n"
    )
