"""Notices written from a release the platform made (OCDS only, no kept UBL lexical forms).

The round-trip tests write a release read from a notice, whose ``platform.eforms`` keeps each field's
UBL form. A release the platform builds has none, so the writer must choose from OCDS alone: which of
several eForms fields gets a value they share (the BT-131 / BT-1311 deadline by procedure type, BT-18
over BT-745) and the codes eForms requires where OCDS has no value ("none", "no-eu-funds", GPA
"false"). Checked by stripping the kept forms from official notices: the rebuilt notice must fail no
rule the original does not, except where OCDS cannot hold the original's data (listed).
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from mappings.eforms import build_notice, read_notice
from tests.mappings.conftest import EFORMS
from ubl.schematron import compile_schematron

NOTICES = EFORMS / "examples" / "notices"
#: notice -> rules it may newly fail, with why: OCDS holds one value where the notice has two
OCDS_LIMITS = {
    # BT-18 (submission URL) and BT-745 (non-electronic submission) both fill submissionMethodDetails
    "cn_24_maximal.xml": {"BR-BT-00018-0059", "BR-BT-00018-0155", "BR-BT-00745-0022"},
}


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "cn_24_minimal.xml",  # open procedure: the deadline is BT-131
        "cn_24_nego_accel.xml",  # negotiated with call: the deadline is BT-1311
        "cn_24_maximal.xml",
        "can_24_minimal.xml",
        "can_24_maximal.xml",
        "E3_minimal.xml",  # national: no "none" codes required
        "E4_minimal.xml",
    ],
)
def test_platform_made_release_fails_no_new_rule(corpus: Path, name: str) -> None:
    """Before: a release without kept forms lost the required "none" codes (BT-71, BT-765, BT-766,
    BT-60, BT-115) and wrote one deadline into both BT-131 and BT-1311 (e.g. 9 new failures for
    cn_24_maximal, 202 for the 100-lot notice)."""
    original = (corpus / NOTICES / name).read_bytes()
    release = json.loads(json.dumps(read_notice(original)))
    release["platform"].pop("eforms")  # as the platform writes it: OCDS + notice metadata only
    info = release["platform"]["notice"]
    rebuilt = build_notice(release, info["kind"])
    sch = compile_schematron(
        corpus / EFORMS / "schematrons/static/complete-validation.sch", phase=f"eforms-{info['subType']}"
    )
    before = collections.Counter(i.rule_id for i in sch.validate(original).failures)
    after = collections.Counter(i.rule_id for i in sch.validate(rebuilt).failures)
    assert set(after - before) == OCDS_LIMITS.get(name, set())


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "cn_24_minimal.xml",
        "cn_24_FRA_comments.xml",
        "can_24_minimal.xml",
        "can_24_FRA_comments.xml",
        "can_24_no_tenders.xml",
        "can_24_UKRI.xml",  # a touch point as review body
        "cn_24_open_accel.xml",  # touch points: contact and review body
        "cn_24_nego_accel.xml",
        "E4_minimal.xml",
    ],
)
def test_release_with_ocds_only_fails_no_new_rule(corpus: Path, name: str) -> None:
    """Only OCDS and the notice metadata: no eForms-only structure kept in the platform extension.

    Before: every lot lacked its review body (OPT-301, BR-OPT-00301-1080), touch points became
    unreferenced organisations (BR-OPT-00200) and a CAN lacked its tendering parties (OPT-210/310)
    and notice value (BT-161); they are now derived from OCDS (parties by role, a touch point's
    company id, bids' tenderers, awarded values: ``eforms.with_derived_structures``)."""
    original = (corpus / NOTICES / name).read_bytes()
    release = json.loads(json.dumps(read_notice(original)))
    info = release["platform"]["notice"]
    release["platform"] = {"notice": info}
    rebuilt = build_notice(release, info["kind"])
    sch = compile_schematron(
        corpus / EFORMS / "schematrons/static/complete-validation.sch", phase=f"eforms-{info['subType']}"
    )
    before = collections.Counter(i.rule_id for i in sch.validate(original).failures)
    after = collections.Counter(i.rule_id for i in sch.validate(rebuilt).failures)
    assert not (after - before), sorted(after - before)
