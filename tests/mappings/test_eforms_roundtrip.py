"""Round trip of the official eForms example notices: XML -> OCDS -> XML.

Acceptance: every notice of subtypes 16 and 29 (and E3/E4) maps to OCDS and back; the result is
XSD-valid, and every field in scope (the fields our spec writes, located by
their ``fields.json`` XPath) has the original's values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from mappings.eforms import build_notice, read_notice
from mappings.spec import load_spec
from mappings.xmlns import NS
from tests.conftest import CORPUS_DIR
from tests.mappings.conftest import EFORMS, IN_SCOPE_SUBTYPES, notice_subtype


def _notices() -> list[Path]:
    folder = CORPUS_DIR / EFORMS / "examples" / "notices"
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.xml")) if notice_subtype(p) in IN_SCOPE_SUBTYPES]


NOTICES = _notices()


def written_field_ids(fields: list[dict[str, Any]]) -> set[str]:
    """Field ids of ``fields.json`` implemented by a writing rule of the eForms spec."""
    rule_ids = {r.id for r in load_spec("eforms").rules if r.write}
    rule_ids |= {"BT-04-notice", "BT-05(a)-notice", "BT-05(b)-notice", "BT-701-notice", "OPP-070-notice"}
    return {f["id"] for f in fields if f["id"] in rule_ids or re.sub(r"\([a-z]\)", "", f["id"]) in rule_ids}


def values(doc: etree._Element, xpath: str) -> list[str] | None:
    """Sorted string values at ``xpath`` (None when lxml cannot evaluate the XPath 2 expression)."""
    try:
        found = doc.xpath(xpath, namespaces=NS)
    except etree.XPathError:
        return None
    if not isinstance(found, list):
        return [str(found)]
    out = []
    for item in found:
        text = "".join(str(t) for t in item.itertext()) if isinstance(item, etree._Element) else str(item)
        out.append(" ".join(text.split()))
    return sorted(out)


@pytest.mark.corpus
@pytest.mark.parametrize("notice", NOTICES, ids=[p.name for p in NOTICES])
def test_roundtrip_official_notice_xsd_and_fields(
    notice: Path, eforms_schemas: dict[str, etree.XMLSchema], eforms_fields: list[dict[str, Any]]
) -> None:
    original = notice.read_bytes()
    release = read_notice(original)
    kind = release["platform"]["notice"]["kind"]
    rebuilt = build_notice(release, kind)
    orig_doc = etree.fromstring(original)
    new_doc = etree.fromstring(rebuilt)
    schema = eforms_schemas[kind]
    assert schema.validate(orig_doc), "premise: every official example is XSD-valid"
    assert schema.validate(new_doc), str(schema.error_log.last_error)
    in_scope = written_field_ids(eforms_fields)
    diffs = []
    for field in eforms_fields:
        if field["id"] not in in_scope:
            continue
        before = values(orig_doc, field["xpathAbsolute"])
        if before is None:
            continue
        after = values(new_doc, field["xpathAbsolute"])
        # an empty element holds no value: the broken INVALID_* notices have some, OCDS keeps none
        if [v for v in before if v] != [v for v in after or [] if v]:
            diffs.append(f"{field['id']}: {before[:3]} != {(after or [])[:3]}")
    assert not diffs, "\n".join(diffs)
