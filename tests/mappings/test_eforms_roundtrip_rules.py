"""Round trip acceptance, rules part: the rebuilt notice fails no more eForms rules than the original.

Each notice of subtypes 16/29/E3/E4 goes XML -> OCDS -> XML and both are checked with the official
static Schematron, phase ``eforms-<subtype>`` (``ubl.schematron``). Notices in ``KNOWN_GAPS`` still gain
failures from structures the spec does not map yet (named in the reason; docs/mappings.md); they are
strict xfails, so closing a gap makes the test fail until the entry is removed.
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

BROKEN = "intentionally broken notice: empty or misplaced structures are normalised, so other rules fire"
KNOWN_GAPS: dict[str, str] = {
    "INVALID_can_24_empty.xml": BROKEN,
    "INVALID_can_24_stage-1.xml": BROKEN,
    "INVALID_can_24_stage-2.xml": BROKEN,
    "INVALID_cn_24_stage-1.xml": BROKEN,
    "INVALID_cn_24_empty.xml": BROKEN,
    "INVALID_cn_24_stage-2.xml": "invalid lot sub-structures are normalised (BT-71/97/821)",
}


def _params() -> list[object]:
    folder = CORPUS_DIR / EFORMS / "examples" / "notices"
    if not folder.is_dir():
        return []
    out: list[object] = []
    for path in sorted(folder.glob("*.xml")):
        if notice_subtype(path) not in IN_SCOPE_SUBTYPES:
            continue
        marks = (
            [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[path.name])] if path.name in KNOWN_GAPS else []
        )
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
    assert not (after - before), sorted((after - before).items())
