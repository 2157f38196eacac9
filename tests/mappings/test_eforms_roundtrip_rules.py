"""Round trip acceptance, rules part: the rebuilt notice fails no more eForms rules than the original.

Each notice of subtypes 16/29/E3/E4 goes XML -> OCDS -> XML and both are checked with the official
static Schematron, phase ``eforms-<subtype>`` (``ubl.schematron``).

- A valid notice must gain no failure at all: every rule id fails no more often than in the original.
- The intentionally broken ``INVALID_*`` notices that fail rules must fail no more rules in total
  ("no more than the original's"). They cannot keep every failure as it was: OCDS has no place for
  an empty container (``<cac:TenderingProcess/>``, an empty ``efac:Organizations``), so the rebuilt
  notice lacks the node instead, and a "node mandatory" rule (``ND-*``) replaces the empty-content
  rules the original broke.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from mappings.eforms import build_notice, read_notice
from tests.conftest import CORPUS_DIR
from tests.mappings.conftest import EFORMS, IN_SCOPE_SUBTYPES, notice_subtype
from ubl.schematron import compile_schematron


def _params() -> list[object]:
    folder = CORPUS_DIR / EFORMS / "examples" / "notices"
    if not folder.is_dir():
        return []
    out: list[object] = []
    for path in sorted(folder.glob("*.xml")):
        if notice_subtype(path) not in IN_SCOPE_SUBTYPES:
            continue
        marks = []
        if path.name == "cn_24_maximal_100_lots.xml":
            marks.append(pytest.mark.slow)
        out.append(pytest.param(path, id=path.name, marks=marks))
    return out


@pytest.mark.corpus
@pytest.mark.parametrize("notice", _params())
def test_roundtrip_schematron_failures_not_more_than_original(corpus: Path, notice: Path) -> None:
    original = notice.read_bytes()
    release = json.loads(json.dumps(read_notice(original)))  # through JSON, as a platform would store it
    notice_info = release["platform"]["notice"]
    rebuilt = build_notice(release, notice_info["kind"])
    sch = compile_schematron(
        corpus / EFORMS / "schematrons/static/complete-validation.sch",
        phase=f"eforms-{notice_info['subType']}",
    )
    before = collections.Counter(i.rule_id for i in sch.validate(original).failures)
    after = collections.Counter(i.rule_id for i in sch.validate(rebuilt).failures)
    if notice.name.startswith("INVALID_") and before:
        gained = sorted((after - before).items())
        assert after.total() <= before.total(), (after.total(), before.total(), gained)
    else:
        assert not (after - before), sorted((after - before).items())
