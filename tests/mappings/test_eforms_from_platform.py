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
from typing import Any, Final

import pytest
from lxml import etree

from mappings.eforms import build_notice, read_notice, with_derived_structures
from mappings.model import release_errors
from mappings.xmlns import NS
from tests.mappings.conftest import EFORMS
from ubl.schematron import compile_schematron

NOTICES = EFORMS / "examples" / "notices"
#: notice -> rules it may newly fail, with why (none left: BT-18 / BT-745, which share
#: ``submissionMethodDetails``, are told apart by the lot's BT-17 electronic submission policy)
OCDS_LIMITS: dict[str, set[str]] = {}


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
        "can_24_LSBU.xml",  # framework lot: BT-118 derived from the result's maximum value (BT-709)
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


def _new_failures(corpus: Path, name: str, keep: tuple[str, ...]) -> collections.Counter[str]:
    """Rule failures the notice rebuilt from OCDS + notice metadata + the ``keep`` platform keys gains."""
    original = (corpus / NOTICES / name).read_bytes()
    release = json.loads(json.dumps(read_notice(original)))
    info = release["platform"]["notice"]
    release["platform"] = {"notice": info, **{k: release["platform"][k] for k in keep}}
    rebuilt = build_notice(release, info["kind"])
    sch = compile_schematron(
        corpus / EFORMS / "schematrons/static/complete-validation.sch", phase=f"eforms-{info['subType']}"
    )
    before = collections.Counter(i.rule_id for i in sch.validate(original).failures)
    return collections.Counter(i.rule_id for i in sch.validate(rebuilt).failures) - before


#: OCDS holds a legislation document's issuer (``publisher``) but not whether it is the fiscal,
#: environmental or employment legislation: the issuer is then referenced by no lot (BR-OPT-00200-0103)
#: unless the platform supplies ``platform.lotLegislation``.
LEGISLATION_ISSUERS: Final = {"BR-OPT-00200-0103": 3}


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("name", ["can_24_maximal.xml", "cn_24_maximal_100_lots.xml"])
def test_ocds_only_maximal_notice_lacks_only_legislation_kinds(corpus: Path, name: str) -> None:
    """Before: can_24_maximal gained 11 failures from OCDS alone (group lead OPT-170/OPT-210,
    subcontractors BT-165/BT-746/OPT-200, framework totals BT-118/BT-1118); now the tendering party is
    derived with its group lead (role ``leadTenderer``) and subcontractors (bid
    ``subcontracting.subcontracts``) and the totals from the framework lots' results. Supplying
    ``platform.lotLegislation`` removes the rest."""
    assert _new_failures(corpus, name, ()) == collections.Counter(LEGISLATION_ISSUERS)
    assert not _new_failures(corpus, name, ("lotLegislation",))


@pytest.mark.corpus
def test_bt745_or_bt18_chosen_by_the_lots_bt17(corpus: Path) -> None:
    """cn_24_maximal from OCDS + ``platform.lotLegislation`` fails no new rule. Before: each lot's
    ``submissionMethodDetails`` went to BT-18 (submission URL), also for LOT-0002 whose BT-17 says
    electronic submission is not allowed (BR-BT-00018-0059/0155, BR-BT-00745-0022); it is now BT-745
    there, with its language."""
    assert not _new_failures(corpus, "cn_24_maximal.xml", ("lotLegislation",))
    release = json.loads(json.dumps(read_notice((corpus / NOTICES / "cn_24_maximal.xml").read_bytes())))
    release["platform"] = {"notice": release["platform"]["notice"]}
    root = etree.fromstring(build_notice(release, "cn"))
    lot1, lot2 = (
        lot
        for lot in root.findall("cac:ProcurementProjectLot", NS)
        if lot.findtext("cbc:ID", namespaces=NS, default="").startswith("LOT-")
    )
    assert lot1.findtext("cac:TenderingTerms/cac:TenderRecipientParty/cbc:EndpointID", namespaces=NS)
    assert lot1.find("cac:TenderingProcess/cac:ProcessJustification/cbc:Description", NS) is None
    desc = lot2.find("cac:TenderingProcess/cac:ProcessJustification/cbc:Description", NS)
    assert desc is not None and desc.text == "Nonelectronic Submission Description ---"
    assert desc.get("languageID") == "ENG"
    assert lot2.find("cac:TenderingTerms/cac:TenderRecipientParty/cbc:EndpointID", NS) is None


def _framework_release() -> dict[str, Any]:
    return {
        "parties": [
            {"id": "ORG-0008", "roles": ["tenderer", "leadTenderer"]},
            {"id": "ORG-0009", "roles": ["tenderer"]},
            {"id": "ORG-0010", "roles": ["subcontractor"]},
        ],
        "tender": {
            "lots": [
                {"id": "LOT-0001", "techniques": {"hasFrameworkAgreement": True}},
                {"id": "LOT-0002"},
            ]
        },
        "bids": {
            "details": [
                {
                    "id": "TEN-0001",
                    "tenderers": [{"id": "ORG-0008"}, {"id": "ORG-0009"}],
                    "subcontracting": {
                        "subcontracts": [
                            {
                                "id": "1",
                                "subcontractor": {"id": "ORG-0010"},
                                "mainContractors": [{"id": "ORG-0008"}],
                            }
                        ]
                    },
                }
            ]
        },
        "awards": [
            {
                "id": "RES-0001",
                "relatedLots": ["LOT-0001"],
                "maximumValue": {"amount": 600, "currency": "EUR"},
                "estimatedValue": {"amount": 500, "currency": "EUR"},
            },
            {
                "id": "RES-0002",
                "relatedLots": ["LOT-0001"],
                "maximumValue": {"amount": 400, "currency": "EUR"},
            },
            {"id": "RES-0003", "relatedLots": ["LOT-0002"], "maximumValue": {"amount": 7, "currency": "EUR"}},
        ],
    }


def test_bt118_bt1118_framework_totals_derived_from_framework_results() -> None:
    result = with_derived_structures(_framework_release())["platform"]["noticeResult"]
    assert result["maximumFrameworkValue"] == {"amount": 1000, "currency": "EUR"}  # not LOT-0002's 7
    assert result["approximateFrameworkValue"] == {"amount": 500, "currency": "EUR"}


def test_bt118_supplied_by_the_platform_is_kept() -> None:
    release = _framework_release()
    release["platform"] = {"noticeResult": {"maximumFrameworkValue": {"amount": 1, "currency": "EUR"}}}
    result = with_derived_structures(release)["platform"]["noticeResult"]
    assert result["maximumFrameworkValue"] == {"amount": 1, "currency": "EUR"}


def test_bt118_not_derived_across_currencies() -> None:
    release = _framework_release()
    release["awards"][1]["maximumValue"]["currency"] = "GBP"
    assert "maximumFrameworkValue" not in with_derived_structures(release)["platform"].get("noticeResult", {})


def test_opt170_group_lead_and_subcontractors_derived_from_bid() -> None:
    (tparty,) = with_derived_structures(_framework_release())["platform"]["tenderingParties"]
    assert tparty["tenderers"] == [
        {"id": "ORG-0008", "groupLead": True},
        {"id": "ORG-0009", "groupLead": False},
    ]
    assert tparty["subContractors"] == [{"id": "ORG-0010", "mainContractors": ["ORG-0008"]}]


def test_opt170_single_tenderer_has_no_group_lead() -> None:
    release = _framework_release()
    release["bids"]["details"][0]["tenderers"] = [{"id": "ORG-0008"}]
    (tparty,) = with_derived_structures(release)["platform"]["tenderingParties"]
    assert tparty["tenderers"] == [{"id": "ORG-0008"}]


@pytest.mark.corpus
def test_opt301_subcontractors_read_into_bid_subcontracts(corpus: Path) -> None:
    """Guidance OPT-301-Tenderer-SubCont/MainCont: the subcontractor is a subcontract of the bid."""
    release = read_notice((corpus / NOTICES / "can_24_maximal.xml").read_bytes())
    bid = next(b for b in release["bids"]["details"] if b["id"] == "TEN-0001")
    assert bid["subcontracting"]["subcontracts"] == [
        {
            "id": "1",
            "subcontractor": {"id": "ORG-0010"},
            "mainContractors": [{"id": "ORG-0008"}, {"id": "ORG-0009"}],
        }
    ]


@pytest.mark.corpus
def test_multilingual_notice_from_ocds_language_variations(corpus: Path) -> None:
    """Before: from OCDS alone cn_24_multilingual lost its 23 other languages (19 new failures of the
    ``*_B`` "text in every notice language" rules); they are now OCDS language variations
    (``title_fr``, also on list items such as a lot item's ``deliveryLocations[].description_fi``)."""
    assert not _new_failures(corpus, "cn_24_multilingual.xml", ())
    items = read_notice((corpus / NOTICES / "cn_24_multilingual.xml").read_bytes())["tender"]["items"]
    (location,) = next(i for i in items if i.get("relatedLot") == "LOT-0000")["deliveryLocations"]
    assert location["description"].startswith("The main place of performance")
    assert "description_fi" in location and "description_en" not in location


@pytest.mark.corpus
def test_multilingual_text_reads_notice_language_as_ocds_value(corpus: Path) -> None:
    release = read_notice((corpus / NOTICES / "cn_24_multilingual.xml").read_bytes())
    tender = release["tender"]
    assert tender["title"].startswith("Provision of IT Services")  # ENG, the notice language
    assert tender["title_bg"].startswith("Предоставяне на ИТ услуги")  # listed first in the notice
    assert "title_en" not in tender


def test_ocds_language_variation_written_as_language_variant() -> None:
    release = {
        "ocid": "ocds-x-1",
        "id": "1",
        "language": "en",
        "tender": {"id": "P1", "title": "Road works", "title_fr": "Travaux routiers"},
        "platform": {"notice": {"kind": "cn", "subType": "16", "additionalLanguages": ["FRA"]}},
    }
    root = etree.fromstring(build_notice(release, "cn"))
    names = root.findall("cac:ProcurementProject/cbc:Name", NS)
    assert [(n.get("languageID"), n.text) for n in names] == [
        ("ENG", "Road works"),
        ("FRA", "Travaux routiers"),
    ]


def test_platform_extension_for_legislation_and_totals_is_checked() -> None:
    """``platform.lotLegislation``, ``noticeResult`` and ``tenderingParties`` are described in the
    platform schema (before: free-form), so a platform supplying them is told what is wrong."""
    release = {
        "ocid": "ocds-x-1",
        "id": "1",
        "date": "2024-01-01T00:00:00Z",
        "tag": ["tender"],
        "initiationType": "tender",
        "platform": {
            "lotLegislation": [{"fiscal": [{"id": 7, "issuer": "ORG-0002"}]}],
            "noticeResult": {"maximumFrameworkValue": {"amount": "many"}},
            "tenderingParties": [{"id": "TPA-0001", "tenderers": [{"id": "ORG-0001", "groupLead": "yes"}]}],
        },
    }
    errors = dict(release_errors(release))
    assert "lot" in errors["platform.lotLegislation[0]"]
    assert "not of type 'string'" in errors["platform.lotLegislation[0].fiscal[0].id"]
    assert "not of type 'number'" in errors["platform.noticeResult.maximumFrameworkValue.amount"]
    assert "not of type 'boolean'" in errors["platform.tenderingParties[0].tenderers[0].groupLead"]
