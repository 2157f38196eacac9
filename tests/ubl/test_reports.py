"""Report formats: JSON model, SVRL (verbatim or wrapped), JUnit, self-contained HTML, text."""

from __future__ import annotations

import json

from lxml import etree

from ubl.reports import FORMATS, Entry, render, render_text
from ubl.result import Item, Layer, LayerStatus, Severity, ValidationResult
from ubl.validate import Outcome

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
SVRL = (
    b'<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl" title="T016">'
    b'<svrl:failed-assert id="PEPPOL-T016-R034" flag="fatal" location="/a" test="x">'
    b"<svrl:text>Element MUST be provided</svrl:text></svrl:failed-assert></svrl:schematron-output>"
)


def _invalid() -> ValidationResult:
    return ValidationResult(
        source="invalid.xml",
        document_type="peppol-t016",
        layers=[
            Layer(name="XSD x", kind="xsd", status=LayerStatus.VALID, duration_ms=0.5),
            Layer(
                name="Schematron T016",
                kind="schematron",
                status=LayerStatus.INVALID,
                items=[
                    Item(
                        "PEPPOL-T016-R034",
                        Severity.FATAL,
                        "Element MUST be provided",
                        "/a",
                        "x",
                        flag="fatal",
                    ),
                    Item("PEPPOL-T016-W001", Severity.WARNING, "<script>alert(1)</script>", "/b"),
                ],
                duration_ms=12.0,
                svrl=SVRL,
            ),
        ],
    )


def _xsd_invalid() -> ValidationResult:
    return ValidationResult(
        source="broken.xml",
        document_type="peppol-t004",
        layers=[
            Layer(
                name="XSD cft",
                kind="xsd",
                status=LayerStatus.INVALID,
                items=[Item("XSD:SCHEMAV_ELEMENT_CONTENT", Severity.ERROR, "bad", "/x", line=3, column=2)],
            ),
            Layer(
                name="Schematron T004", kind="schematron", status=LayerStatus.SKIPPED, skip_reason="not run"
            ),
        ],
    )


def _valid() -> ValidationResult:
    return ValidationResult(
        source="ok.xml",
        document_type="eforms-cn-16",
        layers=[Layer(name="XSD cn", kind="xsd", status=LayerStatus.VALID)],
    )


ERROR = Outcome("missing.xml", error="missing.xml: No such file", error_code="unreadable")


def test_json_report_counters_and_items() -> None:
    data = json.loads(render([_valid(), _invalid(), ERROR], "json"))
    assert data["result"] == "ERROR"
    assert data["counters"] == {
        "documents": 3,
        "valid": 1,
        "invalid": 1,
        "errors": 1,
        "items": {"fatal": 1, "error": 0, "warning": 1, "info": 0},
    }
    doc = data["documents"][1]
    assert doc["documentType"] == "peppol-t016" and doc["result"] == "invalid"
    item = doc["layers"][1]["items"][0]
    assert item["ruleId"] == "PEPPOL-T016-R034" and item["severity"] == "fatal" and item["location"] == "/a"
    assert data["documents"][2]["error"] == {"code": "unreadable", "message": "missing.xml: No such file"}
    assert json.loads(render([_valid()], "json"))["result"] == "SUCCESS"


def test_svrl_single_schematron_layer_is_verbatim() -> None:
    root = etree.fromstring(render([_invalid()], "svrl"))
    assert root.tag == f"{{{SVRL_NS}}}schematron-output" and root.get("title") == "T016"
    assert [fa.get("id") for fa in root.iter(f"{{{SVRL_NS}}}failed-assert")] == ["PEPPOL-T016-R034"]


def test_svrl_many_documents_wrapped_with_xsd_findings() -> None:
    root = etree.fromstring(render([_invalid(), _xsd_invalid(), ERROR], "svrl"))
    docs = root.findall("{urn:procurement-access-point:validation-report:1}document")
    assert [d.get("result") for d in docs] == ["invalid", "invalid", "error"]
    xsd_asserts = docs[1].findall(f".//{{{SVRL_NS}}}failed-assert")
    assert [a.get("id") for a in xsd_asserts] == ["XSD:SCHEMAV_ELEMENT_CONTENT"]
    skipped = docs[1].find("{urn:procurement-access-point:validation-report:1}skipped")
    assert skipped is not None and skipped.text == "not run"


def test_junit_report_counts() -> None:
    root = etree.fromstring(render([_valid(), _invalid(), _xsd_invalid(), ERROR], "junit"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "6",
        "2",
        "1",
        "1",
    )
    suite = root.findall("testsuite")[1]
    failure = suite.find("testcase[@name='Schematron T016']/failure")
    assert failure is not None and "PEPPOL-T016-R034" in (failure.text or "")
    out = suite.find("testcase[@name='Schematron T016']/system-out")
    assert out is not None and "alert" in (out.text or "")


def test_html_report_is_self_contained_and_escaped() -> None:
    html = render([_valid(), _invalid(), ERROR], "html").decode()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "src=" not in html and "href=" not in html and "@import" not in html
    assert "PEPPOL-T016-R034" in html and "missing.xml" in html


def test_text_report_lists_verdicts_and_findings() -> None:
    text = render_text([Entry("ok.xml", _valid()), Entry("invalid.xml", _invalid())], width=200)
    assert "VALID   ok.xml" in text
    assert "INVALID invalid.xml" in text and "PEPPOL-T016-R034" in text
    assert "2 document(s): 1 valid, 1 invalid, 0 not validated" in text


def test_every_format_renders() -> None:
    """Every format carries both documents and the failed rule (was: output merely non-empty)."""
    assert FORMATS == ("text", "json", "svrl", "junit", "html")
    for fmt in FORMATS:
        out = render([_invalid(), ERROR], fmt)
        assert b"invalid.xml" in out and b"missing.xml" in out, fmt
        assert b"PEPPOL-T016-R034" in out, fmt


def test_plain_document_text_is_what_rich_prints_without_findings() -> None:
    """The CLI's rich-free path for piped output prints the same lines as the rich renderables."""
    import io

    from rich.console import Console, Group

    from ubl.reports import entries
    from ubl.reports.text import document_renderables, plain_document_text

    skipped = _xsd_invalid()
    skipped.layers[0] = Layer(name="XSD cft", kind="xsd", status=LayerStatus.VALID, duration_ms=0.25)
    for item in (_valid(), skipped, ERROR):
        entry = entries([item])[0]
        buf = io.StringIO()
        Console(file=buf, width=300, color_system=None, highlight=False).print(
            Group(*document_renderables(entry))
        )
        assert plain_document_text(entry) == buf.getvalue()
    assert plain_document_text(entries([_invalid()])[0]) is None  # findings: a table, rich prints it
