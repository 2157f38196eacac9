"""SVRL report.

One document whose only SVRL-producing layer is a Schematron: that layer's SVRL verbatim. Otherwise
an ``ap:validation-reports`` wrapper holding, per document, each Schematron layer's SVRL verbatim
and a synthetic ``svrl:schematron-output`` for XSD/well-formedness findings (the KoSIT style of
embedding SVRL per layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lxml import etree

from peppol.xml import XmlError, parse_bytes
from ubl.reports.model import Entry
from ubl.result import Layer, LayerStatus

SVRL_NS: Final = "http://purl.oclc.org/dsdl/svrl"
AP_NS: Final = "urn:procurement-access-point:validation-report:1"
_S: Final = f"{{{SVRL_NS}}}"
_A: Final = f"{{{AP_NS}}}"


def _synthetic(layer: Layer) -> etree._Element:
    out = etree.Element(f"{_S}schematron-output", nsmap={"svrl": SVRL_NS}, title=layer.name)
    etree.SubElement(out, f"{_S}active-pattern", id=layer.kind, name=layer.name)
    for item in layer.items:
        fa = etree.SubElement(
            out,
            f"{_S}failed-assert",
            id=item.rule_id,
            flag=item.flag or item.severity.value,
            location=item.location or (f"{item.line}:{item.column}" if item.line else ""),
            test=item.test,
        )
        if item.role:
            fa.set("role", item.role)
        etree.SubElement(fa, f"{_S}text").text = item.text
    return out


def _layer_svrl(layer: Layer) -> etree._Element | None:
    if layer.status is LayerStatus.SKIPPED:
        return None
    if layer.svrl:
        try:
            return parse_bytes(layer.svrl).getroot()
        except XmlError:
            return _synthetic(layer)
    if layer.items or layer.status is LayerStatus.INVALID:
        return _synthetic(layer)
    return None


def render_svrl(docs: Sequence[Entry]) -> bytes:
    per_doc = [
        (
            doc,
            [
                e
                for layer in (doc.result.layers if doc.result else [])
                if (e := _layer_svrl(layer)) is not None
            ],
        )
        for doc in docs
    ]
    if len(per_doc) == 1 and len(per_doc[0][1]) == 1:
        only = per_doc[0][1][0]
        return etree.tostring(only, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    root = etree.Element(f"{_A}validation-reports", nsmap={"ap": AP_NS, "svrl": SVRL_NS})
    for doc, outputs in per_doc:
        el = etree.SubElement(root, f"{_A}document", source=doc.source, result=doc.verdict)
        if doc.result is not None and doc.result.document_type:
            el.set("document-type", doc.result.document_type)
        if doc.result is None:
            etree.SubElement(el, f"{_A}error", code=doc.error_code).text = doc.error
        else:
            for layer in doc.result.layers:
                if layer.status is LayerStatus.SKIPPED:
                    etree.SubElement(el, f"{_A}skipped", layer=layer.name).text = layer.skip_reason
        el.extend(outputs)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
