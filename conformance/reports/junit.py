"""JUnit XML for CI: one ``<testcase>`` per case, ``<failure>`` when it does not hold, ``<error>``
when the suite could not judge it, ``<skipped>`` with the reason; expected/actual and the evidence
paths in ``<system-out>``."""

from __future__ import annotations

from lxml import etree

from conformance.model import Outcome, Run

from .json_report import iso


def render_junit(run: Run, evidence: dict[str, list[str]]) -> bytes:
    counters = run.counters()
    header = run.header
    suites = etree.Element("testsuites", name=f"conformance {header.suite}")
    suite = etree.SubElement(
        suites,
        "testsuite",
        name=header.suite,
        tests=str(counters["total"]),
        failures=str(counters["failed"]),
        errors=str(counters["error"]),
        skipped=str(counters["skipped"]),
        time=f"{max(0.0, header.ended - header.started):.3f}",
        timestamp=iso(header.started),
    )
    props = etree.SubElement(suite, "properties")
    for name, value in (
        ("system_under_test", header.system_under_test),
        ("profile", header.profile),
        ("suite_version", header.suite_version),
        ("result", run.verdict),
    ):
        etree.SubElement(props, "property", name=name, value=value)
    for case in run.cases:
        element = etree.SubElement(
            suite,
            "testcase",
            classname=f"{header.suite}.{case.group}" if case.group else header.suite,
            name=f"{case.id} [{case.level.value}]",
            time=f"{case.duration:.3f}",
        )
        if case.outcome is Outcome.FAILED:
            failure = etree.SubElement(element, "failure", message=case.reason, type=case.level.value)
            failure.text = "\n".join(case.details) or case.reason
        elif case.outcome is Outcome.ERROR:
            error = etree.SubElement(element, "error", message=case.reason, type="suite-error")
            error.text = "\n".join(case.details) or case.reason
        elif case.outcome is Outcome.SKIPPED:
            etree.SubElement(element, "skipped", message=case.reason)
        lines = [
            f"title: {case.title}",
            f"public id: {case.public_id or '-'}",
            f"spec: {case.spec or '-'}",
            f"expected: {case.expected}",
            f"actual: {case.actual}",
            f"reason: {case.reason}",
        ]
        if case.http_status is not None or case.signal or case.ebms_code:
            lines.append(f"http: {case.http_status} signal: {case.signal} ebms: {case.ebms_code}")
        lines += [f"evidence: {path}" for path in evidence.get(case.id, [])]
        if case.outcome is Outcome.PASSED:
            lines += case.details
        etree.SubElement(element, "system-out").text = "\n".join(lines)
    out: bytes = etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out
