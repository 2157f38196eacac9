"""JUnit XML report for CI: one ``testsuite`` per document, one ``testcase`` per layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lxml import etree

from ubl.reports.model import Entry
from ubl.result import LayerStatus

#: Findings listed in one ``failure`` body at most.
MAX_LISTED: Final = 200


def _line(item_text: str, rule: str, location: str, severity: str) -> str:
    where = f" at {location}" if location else ""
    return f"[{severity}] {rule}{where}: {item_text}"


def render_junit(docs: Sequence[Entry]) -> bytes:
    root = etree.Element("testsuites", name="ap validate")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for doc in docs:
        suite = etree.SubElement(root, "testsuite", name=doc.source)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        if doc.result is None:
            case = etree.SubElement(suite, "testcase", classname="document", name="validation", time="0")
            etree.SubElement(case, "error", message=doc.error, type=doc.error_code or "error")
            counts["tests"] += 1
            counts["errors"] += 1
        else:
            props = etree.SubElement(suite, "properties")
            etree.SubElement(props, "property", name="documentType", value=doc.result.document_type or "")
            for layer in doc.result.layers:
                seconds = layer.duration_ms / 1000
                suite_time += seconds
                case = etree.SubElement(
                    suite,
                    "testcase",
                    classname=doc.result.document_type or "document",
                    name=layer.name,
                    time=f"{seconds:.6f}",
                )
                counts["tests"] += 1
                failures = layer.failures
                others = [i for i in layer.items if not i.severity.is_failure]
                if layer.status is LayerStatus.SKIPPED:
                    etree.SubElement(case, "skipped", message=layer.skip_reason)
                    counts["skipped"] += 1
                elif layer.status is LayerStatus.INVALID:
                    fail = etree.SubElement(
                        case,
                        "failure",
                        message=f"{len(failures)} failed assertion(s) in {layer.name}",
                        type=layer.kind,
                    )
                    lines = [_line(i.text, i.rule_id, i.location, i.severity.value) for i in failures]
                    if len(lines) > MAX_LISTED:
                        lines = [*lines[:MAX_LISTED], f"... and {len(lines) - MAX_LISTED} more"]
                    fail.text = "\n".join(lines)
                    counts["failures"] += 1
                if others:
                    etree.SubElement(case, "system-out").text = "\n".join(
                        _line(i.text, i.rule_id, i.location, i.severity.value) for i in others
                    )
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{suite_time:.6f}")
        total_time += suite_time
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.6f}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
