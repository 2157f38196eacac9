"""What a DECP contract's award notice takes from DECP itself (the place of performance with its NUTS
code) and from the platform's directory (the buyer's review body, review information and contracting
type; the platform's record of the contract), and what it derives (tender reference, subcontracting
value and share, a concession's revenue)."""

from __future__ import annotations

import copy
from typing import Any, Final

import pytest

from mappings.decp import eforms_release, import_decp
from mappings.decp_places import nuts_of_departement, nuts_of_postcode, place_address
from mappings.profiles import Directory, apply_buyer_terms, contract_record
from tests.mappings.decp_samples import MINIMAL_MARCHE, document

BUYER: Final = "21350238800019"
TA: Final = "FR-SIRET:17350411900017"
DIRECTORY: Final[dict[str, Any]] = {
    "organisations": {
        BUYER: {"name": "Rennes Métropole", "contractingEntity": True},
        TA: {"name": "Tribunal administratif de Rennes", "address": {"locality": "Rennes", "country": "FR"}},
        "FR-SIRET:17750111100016": {"name": "Tribunal administratif de Paris"},
    },
    "defaults": {"reviewBody": TA, "reviewDetails": "Référé précontractuel avant la signature."},
    "contracts": {},
}


@pytest.mark.parametrize(
    ("lieu", "address"),
    [
        (
            {"code": "35000", "typeCode": "Code postal"},
            {"region": "FRH03", "description": "Code postal 35000"},
        ),
        ({"code": "35238", "typeCode": "Code commune"}, {"region": "FRH03"}),
        ({"code": "2A004", "typeCode": "Code commune"}, {"region": "FRM01"}),
        ({"code": "2B", "typeCode": "Code département"}, {"region": "FRM02"}),
        ({"code": "974", "typeCode": "Code département"}, {"region": "FRY40"}),
        ({"code": "75", "typeCode": "Code département"}, {"region": "FR101"}),
        ({"code": "53", "typeCode": "Code région"}, {"description": "Code région 53"}),  # no NUTS 3
        ({"code": "98714", "typeCode": "Code postal"}, {"country": "PF"}),  # outside the NUTS area
        ({"code": "99109", "typeCode": "Code pays"}, None),
    ],
)
def test_place_of_performance_country_and_nuts_from_the_decp_code(
    lieu: dict[str, str], address: dict[str, str] | None
) -> None:
    found = place_address(lieu)
    if address is None:
        assert found is None
        return
    assert found is not None
    assert found.get("country") == address.get("country", "FR")
    assert {k: v for k, v in found.items() if k in address and k != "country"} == {
        k: v for k, v in address.items() if k != "country"
    }
    assert "region" in found if "region" in address else "region" not in found


def test_nuts_lookups_refuse_what_they_cannot_tell() -> None:
    assert nuts_of_postcode("00000") is None
    assert nuts_of_departement("98") is None  # not a département with postcodes in the correspondence
    assert nuts_of_departement("abc") is None


def test_marche_place_goes_to_the_procedure_and_its_lot() -> None:
    marche = {**MINIMAL_MARCHE, "lieuExecution": {"code": "35238", "typeCode": "Code commune"}}
    (release,) = import_decp(document(marche))
    assert release["tender"]["deliveryAddresses"] == [
        {"country": "FR", "region": "FRH03", "description": "Code commune 35238"}
    ]
    assert release["tender"]["items"][0]["deliveryAddresses"] == release["tender"]["deliveryAddresses"]
    assert release["tender"]["items"][0]["relatedLot"] == "LOT-0001"


def _release() -> dict[str, Any]:
    (release,) = import_decp(document(MINIMAL_MARCHE))
    return release


def test_review_body_and_details_from_the_platform_defaults_contracting_type_only_when_asked() -> None:
    release = apply_buyer_terms(_release(), Directory.load(DIRECTORY), contracting_type=False)
    review = [p for p in release["parties"] if "reviewBody" in p["roles"]]
    assert [(p["id"], p["name"], p["identifier"]) for p in review] == [
        ("17350411900017", "Tribunal administratif de Rennes", {"id": "17350411900017", "scheme": "FR-SIRET"})
    ]
    assert release["tender"]["lots"][0]["reviewDetails"] == "Référé précontractuel avant la signature."
    buyer = release["parties"][0]
    assert "eu-buyer-contracting-type" not in str(buyer.get("details"))  # refused in a 2014/24 notice
    release = apply_buyer_terms(_release(), Directory.load(DIRECTORY), contracting_type=True)
    assert {"scheme": "eu-buyer-contracting-type", "id": "cont-ent"} in release["parties"][0]["details"][
        "classifications"
    ]


def test_buyer_profile_names_its_own_review_body_and_an_unknown_one_is_left_out() -> None:
    data = copy.deepcopy(DIRECTORY)
    data["organisations"][BUYER]["reviewBody"] = "FR-SIRET:17750111100016"
    release = apply_buyer_terms(_release(), Directory.load(data))
    assert [p["name"] for p in release["parties"] if "reviewBody" in p["roles"]] == [
        "Tribunal administratif de Paris"
    ]
    data["organisations"][BUYER]["reviewBody"] = "FR-SIRET:00000000000000"
    release = apply_buyer_terms(_release(), Directory.load(data))
    assert not [p for p in release["parties"] if "reviewBody" in p["roles"]]


def test_contract_record_is_merged_as_ocds_merging_does() -> None:
    data = copy.deepcopy(DIRECTORY)
    criteria = {"criteria": [{"type": "price", "name": "Prix", "description": "Prix"}]}
    data["contracts"] = {
        "MAPA-7": {"tender": {"lots": [{"id": "LOT-0001", "awardCriteria": criteria}]}},
        f"{BUYER}/MAPA-7": {"tender": {"lots": [{"id": "LOT-0001", "awardCriteria": criteria}]}, "x": 1},
    }
    directory = Directory.load(data)
    found = contract_record(directory, BUYER, "MAPA-7")
    assert found is not None and found[0] == f"{BUYER}/MAPA-7"  # the buyer-qualified key first
    assert contract_record(directory, "other", "MAPA-7") == ("MAPA-7", data["contracts"]["MAPA-7"])
    (release,) = import_decp(document(MINIMAL_MARCHE), enrich=data)
    lot = release["tender"]["lots"][0]
    assert lot["awardCriteria"] == criteria and lot["title"]  # merged into the DECP lot, by id
    assert release["x"] == 1


def test_notice_derives_tender_reference_and_subcontracting_value_and_share() -> None:
    acts = [{"acteSousTraitance": {"id": n, "montant": m}} for n, m in ((1, 1000), (2, 500))]
    marche = {**MINIMAL_MARCHE, "montant": 15000, "sousTraitanceDeclaree": True, "actesSousTraitance": acts}
    (release,) = import_decp(document(marche))
    written, _ = eforms_release(release, "can")
    bid = written["bids"]["details"][0]
    assert bid["identifiers"] == [{"scheme": "tender-reference", "id": "MAPA-7"}]
    assert bid["subcontracting"] == {
        "applicability": "yes",
        "valueKnown": True,
        "shareKnown": True,
        "value": {"amount": 1500, "currency": "EUR"},
        "maximumPercentage": 0.1,
    }
    assert "identifiers" not in release["bids"]["details"][0]  # the release itself is not changed
    (release,) = import_decp(document({**MINIMAL_MARCHE, "sousTraitanceDeclaree": True}))
    sub = eforms_release(release, "can")[0]["bids"]["details"][0]["subcontracting"]
    assert sub == {"applicability": "yes", "valueKnown": False, "shareKnown": False}  # no act: not known


def test_concession_revenue_from_its_subsidy_and_global_value() -> None:
    concession = {
        "id": "DSP-1",
        "autoriteConcedante": {"id": BUYER},
        "nature": "Délégation de service public",
        "valeurGlobale": 1000000,
        "montantSubventionPublique": 100000,
        "concessionnaires": [
            {"concessionnaire": {"typeIdentifiant": "SIRET", "id": "51234567800012"}},
        ],
    }
    (release,) = import_decp({"marches": {"contrat-concession": [concession]}})
    written, subtype = eforms_release(release, "can")
    assert subtype == "32"
    (terms,) = written["platform"]["tenderTerms"]
    assert terms["revenueBuyer"] == {"amount": 100000, "currency": "EUR"}
    assert terms["revenueUser"] == {"amount": 900000, "currency": "EUR"}
    assert "subvention" in terms["valueDescription"]
    assert "processContactPoint" in written["parties"][0]["roles"]  # the authority answers questions
    assert "processContactPoint" not in release["parties"][0]["roles"]
