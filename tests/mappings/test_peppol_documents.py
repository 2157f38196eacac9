"""Peppol pre-award documents built from OCDS: T004 from the official CN examples; T005, T006, T018.

Every built document must be valid against the UBL 2.2 XSD and its PEPPOL-T0nn Schematron (no fatal
assert), and read back to the same OCDS.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from mappings.eforms import read_notice
from mappings.peppol import build_document, read_document
from tests.conftest import CORPUS_DIR
from tests.mappings.conftest import EFORMS, notice_subtype
from ubl.schematron import compile_schematron

RULES = Path("peppol-preaward/rules")
SCHEMATRON = {
    "t004": "peppol-call-for-tender/PEPPOL-T004.sch",
    "t005": "peppol-tender/PEPPOL-T005.sch",
    "t006": "peppol-tender/PEPPOL-T006.sch",
    "t018": "peppol-tendering-message-response/PEPPOL-T018.sch",
}
XSD = {
    "t004": "UBL-CallForTenders-2.2.xsd",
    "t005": "UBL-Tender-2.2.xsd",
    "t006": "UBL-TenderReceipt-2.2.xsd",
    "t018": "UBL-ApplicationResponse-2.2.xsd",
}
BUYER_IDS = {
    "endpoint": {"scheme": "0009", "id": "21350238800019"},
    "identifier": {"scheme": "0009", "id": "21350238800019"},
}
TENDERER_IDS = {
    "endpoint": {"scheme": "0088", "id": "7300010000001"},
    "identifier": {"scheme": "0088", "id": "7300010000001"},
}


def _cn_notices() -> list[Path]:
    folder = CORPUS_DIR / EFORMS / "examples" / "notices"
    if not folder.is_dir():
        return []
    return [
        p
        for p in sorted(folder.glob("*.xml"))
        if notice_subtype(p) in ("16", "E3") and not p.name.startswith("INVALID_")
    ]


CN_NOTICES = _cn_notices()


def check(corpus: Path, target: str, data: bytes) -> None:
    xsd = etree.XMLSchema(etree.parse(str(corpus / "ubl-2.2/xsdrt/maindoc" / XSD[target])))
    doc = etree.fromstring(data)
    assert xsd.validate(doc), str(xsd.error_log.last_error)  # type: ignore[attr-defined]  # stub lacks it
    layer = compile_schematron(corpus / RULES / SCHEMATRON[target]).validate(data)
    fatal = [
        f"{i.rule_id}: {i.text}" for i in layer.failures if i.flag == "fatal" or i.severity.value != "warning"
    ]
    assert fatal == []


def with_peppol(release: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(release)
    buyer = out["buyer"]["id"]
    out.setdefault("platform", {})["peppol"] = {
        "parties": {buyer: BUYER_IDS, "TEN-ORG": TENDERER_IDS},
        "encryptionCertificate": {"id": "tenderenckey.cer", "fileName": "tenderenckey.cer"},
    }
    return out


def bid_release() -> dict[str, Any]:
    return {
        "ocid": "ocds-pap000-765a9937",
        "id": "bid-release",
        "date": "2024-11-24T11:10:04+01:00",
        "tag": ["tender"],
        "initiationType": "tender",
        "tender": {"id": "765a9937-16d5-4513-92b4-cc9800925951"},
        "buyer": {"id": "BUYER"},
        "parties": [
            {"id": "BUYER", "name": "Rennes Métropole", "roles": ["buyer"]},
            {"id": "TEN-ORG", "name": "Jardins de Bretagne", "roles": ["tenderer"]},
        ],
        "bids": {
            "details": [
                {
                    "id": "243a177f-e4e9-4fc8-b97e-bb1a950dd8f8",
                    "date": "2024-11-24T11:09:58+01:00",
                    "tenderers": [{"id": "TEN-ORG"}],
                    "relatedLots": ["LOT-0001"],
                    "documents": [
                        {
                            "id": "507",
                            "description": "Offre technique",
                            "fileName": "507-offre.pdf.p7m",
                            "format": "application/pkcs7-mime",
                            "hash": {
                                "algorithm": "SHA-256",
                                "value": "72182b98a9dab9a553ccf161ea049d41337e51dfdf74ddc8ab7b68e7cffb7d1b",
                            },
                        }
                    ],
                }
            ]
        },
        "platform": {
            "peppol": {
                "parties": {"BUYER": BUYER_IDS, "TEN-ORG": TENDERER_IDS},
                "documents": {"t005": {"uuid": "243a177f-e4e9-4fc8-b97e-bb1a950dd8f8"}},
                "callForTendersId": "be8943ce-9d65-4eed-93c5-fa4748148c8f",
            }
        },
    }


@pytest.mark.corpus
@pytest.mark.parametrize("notice", CN_NOTICES, ids=[p.name for p in CN_NOTICES])
def test_t004_from_official_cn_is_valid(corpus: Path, notice: Path) -> None:
    release = with_peppol(read_notice(notice.read_bytes()))
    data = build_document(release, "t004")
    check(corpus, "t004", data)
    back = read_document(data)
    assert back["tender"]["id"] == release["tender"]["id"]
    assert back["tender"].get("title") == release["tender"].get("title")
    assert [lot["id"] for lot in back["tender"].get("lots", [])] == [
        lot["id"] for lot in release["tender"].get("lots", [])
    ]
    assert back["platform"]["peppol"]["encryptionCertificate"]["id"] == "tenderenckey.cer"


@pytest.mark.corpus
def test_t005_tender_with_encrypted_attachment_reference(corpus: Path) -> None:
    release = bid_release()
    data = build_document(release, "t005")
    check(corpus, "t005", data)
    back = read_document(data)
    bid = back["bids"]["details"][0]
    original = release["bids"]["details"][0]
    assert bid["documents"] == original["documents"]  # .p7m reference and hash carried untouched
    assert bid["relatedLots"] == ["LOT-0001"]
    assert back["tender"]["id"] == release["tender"]["id"]
    assert back["platform"]["peppol"]["callForTendersId"] == "be8943ce-9d65-4eed-93c5-fa4748148c8f"
    assert back["platform"]["peppol"]["parties"][bid["tenderers"][0]["id"]] == TENDERER_IDS
    assert back["platform"]["peppol"]["documents"]["t005"]["uuid"] == original["id"]


@pytest.mark.corpus
def test_t006_tender_receipt(corpus: Path) -> None:
    release = bid_release()
    tender_hash = {
        "algorithm": "SHA-256",
        "value": "8bdd898034bb2dc7e246c6c08115da292d84ebf23075610b4ab14cbabfb2da0f",
    }
    release["platform"]["peppol"]["receipt"] = {"tenderHash": tender_hash}
    data = build_document(release, "t006")
    check(corpus, "t006", data)
    back = read_document(data)
    bid = back["bids"]["details"][0]
    assert bid["date"] == "2024-11-24T11:09:58+01:00"
    assert bid["id"] == release["bids"]["details"][0]["id"]
    assert back["platform"]["peppol"]["receipt"]["tenderHash"] == tender_hash
    assert back["buyer"]["id"] in back["platform"]["peppol"]["parties"]


@pytest.mark.corpus
def test_t018_application_response(corpus: Path) -> None:
    release = bid_release()
    release["platform"]["peppol"]["response"] = {
        "code": "AP",
        "description": "Accepted",
        "documentId": "243a177f-e4e9-4fc8-b97e-bb1a950dd8f8",
        "documentTypeCode": "urn:fdc:peppol.eu:prac:trns:t013:1.1",  # PEPPOL-T018-R034 accepts :1.1 ids only
        "sender": "BUYER",
        "receiver": "TEN-ORG",
    }
    data = build_document(release, "t018")
    check(corpus, "t018", data)
    back = read_document(data)
    response = back["platform"]["peppol"]["response"]
    assert {k: response[k] for k in ("code", "description", "documentId", "documentTypeCode")} == {
        k: release["platform"]["peppol"]["response"][k]
        for k in ("code", "description", "documentId", "documentTypeCode")
    }


@pytest.mark.corpus
def test_t004_without_peppol_ids_is_written_and_names_the_profile_key(corpus: Path) -> None:
    """Before: no T004 at all (a MappingError). Now the document is written (XSD-valid; PEPPOL-T004-R034
    says the buyer lacks its ids) and the finding names the profile key to add."""
    from mappings.profiles import Directory, missing

    release = bid_release()
    release["tender"]["title"] = "X"
    del release["platform"]["peppol"]["parties"]["BUYER"]
    data = build_document(release, "t004")
    xsd = etree.XMLSchema(etree.parse(str(corpus / "ubl-2.2/xsdrt/maindoc" / XSD["t004"])))
    assert xsd.validate(etree.fromstring(data))
    layer = compile_schematron(corpus / RULES / SCHEMATRON["t004"]).validate(data)
    fired = {i.rule_id for i in layer.failures}
    assert "PEPPOL-T004-R034" in fired
    (finding,) = missing(release, "peppol-t004", Directory())
    assert finding.path == 'organisations["Rennes Métropole"].peppol'  # no identifier: by name
    assert "Rennes Métropole" in finding.message and "FR-SIRET" in finding.message


@pytest.mark.corpus
def test_t004_from_decp_uses_siret_as_peppol_id(corpus: Path) -> None:
    from mappings.decp import import_decp
    from tests.mappings.decp_samples import MINIMAL_MARCHE, document

    (release,) = import_decp(document(MINIMAL_MARCHE))
    data = build_document(release, "t004")
    check(corpus, "t004", data)
    doc = etree.fromstring(data)
    endpoint = doc.find("{*}ContractingParty/{*}Party/{*}EndpointID")
    assert endpoint is not None
    assert (endpoint.get("schemeID"), endpoint.text) == ("0009", MINIMAL_MARCHE["acheteur"]["id"])
    assert doc.findtext("{*}TenderingProcess/{*}ProcedureCode") == "oth-single"  # MAPA has no eForms code
