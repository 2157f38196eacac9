"""DECP v2 (French award data) <-> OCDS releases.

Import: every ``marche`` becomes one release (award + contract stage). DECP has identifiers only for
the buyer and the winners; an *enrichment* mapping ``{siret: {"name": ..., "address": {...}}}`` supplies
the names and addresses. Fields without an OCDS home (CCAG, price form and types, advance payment,
grouping, EU/France origin, execution modalities, ...) are kept in ``platform.decp[<id>]``; concession
contracts (``contrat-concession``) are kept verbatim there too. Export reverses this, OCDS first.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

from mappings.errors import InputValidationError, MappingError
from mappings.model import decp_errors, enrichment_errors

DEFAULT_OCID_PREFIX: Final = "ocds-pap000"
CURRENCY: Final = "EUR"  # DECP amounts are euros, excluding VAT
DAYS_PER_MONTH: Final = 30
BUYER_SCHEME: Final = "FR-SIRET"
#: A DECP marché is one lot awarded to one (possibly grouped) tender: the ids the release gives them,
#: in the eForms forms (an eForms CAN needs a lot, its result and the winning tender).
LOT_ID: Final = "LOT-0001"
BID_ID: Final = "TEN-0001"
#: DECP has no award id: the one result of the marché, in the eForms form (OPT-322).
AWARD_ID: Final = "RES-0001"
#: OCDS ``contracts[].identifiers`` scheme of the buyer's own contract reference (eForms BT-150): the
#: marché id, as the buyer gave it.
CONTRACT_REFERENCE_SCHEME: Final = "contract-reference"
#: A SIRET is issued by INSEE to establishments in France: the organisation's country (ISO 3166-1
#: alpha-2, as OCDS ``address.country``) when the enrichment gives none.
SIRET_COUNTRY: Final = "FR"
#: DECP ``typeIdentifiant`` of an EU intra-community VAT number, whose two-letter prefix is the issuing
#: member state (ISO 3166-1 alpha-2, except Greece's ``EL``).
VAT_TYPE: Final = "TVA"
VAT_PREFIX_COUNTRY: Final = {"EL": "GR"}
EU_VAT_PREFIXES: Final = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
#: OCDS ``mainProcurementCategory`` (eForms BT-23) of a CPV division (first two digits), per the CPV
#: structure: division 45 is construction work, 03-44 and 48 are supplies, 49-98 services.
WORKS_DIVISIONS: Final = frozenset({45})
SUPPLIES_DIVISIONS: Final = frozenset({*range(3, 45), 48})
SERVICES_DIVISIONS: Final = frozenset(range(49, 99))
#: An eForms/OCDS CPV code has no check digit (DECP allows ``45112500-9``).
CPV_CHECK_DIGIT: Final = re.compile(r"-\d$")
SIRET: Final = re.compile(r"\d{14}")
#: DECP fields that have no OCDS home and are kept as they are in ``platform.decp``.
PLATFORM_FIELDS: Final[tuple[str, ...]] = (
    "nature",
    "techniques",
    "modalitesExecution",
    "idAccordCadre",
    "marcheInnovant",
    "ccag",
    "attributionAvance",
    "tauxAvance",
    "typeGroupementOperateurs",
    "sousTraitanceDeclaree",
    "actesSousTraitance",
    "lieuExecution",
    "typesPrix",
    "formePrix",
    "origineUE",
    "origineFrance",
    "considerationsSociales",
    "considerationsEnvironnementales",
    "modificationsActesSousTraitance",
    "modifications",
)


#: Where the value of each DECP field exported from a release comes from (for naming the release
#: path behind a DECP schema finding); a field not listed comes from ``platform.decp[<id>]``.
FIELD_SOURCES: Final[dict[str, str]] = {
    "id": "contracts[0].id",
    "acheteur": "buyer.id",
    "objet": "tender.title",
    "codeCPV": "tender.items[0].classification.id",
    "procedure": "tender.procurementMethodDetails",
    "offresRecues": "bids.statistics[measure=bids].value",
    "dureeMois": "contracts[0].period.durationInDays",
    "dateNotification": "contracts[0].dateSigned",
    "montant": "contracts[0].value.amount",
    "titulaires": "awards[0].suppliers",
}


def field_source(release: dict[str, Any], field: str) -> str:
    """The release path a DECP ``field`` of ``release``'s marché was exported from."""
    if field in FIELD_SOURCES:
        return FIELD_SOURCES[field]
    contracts = release.get("contracts") or [{}]
    mid = contracts[0].get("id") or (release.get("tender") or {}).get("id") or "<id>"
    return f"platform.decp.{mid}.{field}"


def vat_country(vat: str) -> str | None:
    """Country (ISO alpha-2) of an EU VAT number from its member-state prefix; ``None`` otherwise."""
    prefix = vat.strip()[:2].upper()
    if prefix not in EU_VAT_PREFIXES:
        return None
    return VAT_PREFIX_COUNTRY.get(prefix, prefix)


def cpv_category(cpv: str) -> str | None:
    """OCDS ``mainProcurementCategory`` (works / goods / services) of a CPV code, from its division;
    ``None`` for a code that is not a CPV code of a known division."""
    if not re.fullmatch(r"\d{8}(-\d)?", cpv):
        return None
    division = int(cpv[:2])
    if division in WORKS_DIVISIONS:
        return "works"
    if division in SUPPLIES_DIVISIONS:
        return "goods"
    if division in SERVICES_DIVISIONS:
        return "services"
    return None


@cache
def tables() -> dict[str, dict[str, str]]:
    text = resources.files("mappings").joinpath("specs/decp.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


def _reverse(table: dict[str, str], value: str) -> str | None:
    return next((k for k, v in table.items() if v == value), None)


def _iso(day: str) -> str:
    return f"{day}T00:00:00Z"


def _day(iso: Any, path: str) -> str:
    text = str(iso)
    if len(text) < 10:
        raise MappingError(f"not a date: {text!r}", path)
    return text[:10]


def marche_to_release(
    marche: dict[str, Any],
    *,
    enrich: dict[str, Any] | None = None,
    ocid_prefix: str = DEFAULT_OCID_PREFIX,
    path: str = "marche",
) -> dict[str, Any]:
    """One OCDS release for one DECP ``marche``."""
    enrich = enrich or {}
    try:
        mid = str(marche["id"])
        buyer_id = str(marche["acheteur"]["id"])
    except (KeyError, TypeError) as exc:
        raise MappingError("id and acheteur.id are required", path) from exc
    t = tables()
    buyer: dict[str, Any] = {
        "id": buyer_id,
        "identifier": {"scheme": BUYER_SCHEME, "id": buyer_id},
        "roles": ["buyer"],
    }
    _enrich(buyer, enrich.get(buyer_id))
    _siret_country(buyer)
    parties = [buyer]
    suppliers = []
    for i, entry in enumerate(marche.get("titulaires", [])):
        tit = entry.get("titulaire", {}) if isinstance(entry, dict) else {}
        tid, ttype = str(tit.get("id", "")), str(tit.get("typeIdentifiant", ""))
        if not tid:
            raise MappingError("titulaire.id is required", f"{path}.titulaires[{i}]")
        party: dict[str, Any] = {
            "id": tid,
            "identifier": {"scheme": t["identifier-scheme"].get(ttype, ttype), "id": tid},
            "roles": ["supplier"],
        }
        _enrich(party, enrich.get(tid))
        if party["identifier"]["scheme"] == BUYER_SCHEME:
            _siret_country(party)
        elif ttype == VAT_TYPE and (country := vat_country(tid)):
            address = party.setdefault("address", {})
            if isinstance(address, dict) and not address.get("country"):
                address["country"] = country
        parties.append(party)
        suppliers.append({"id": tid, **({"name": party["name"]} if "name" in party else {})})
    award_id = AWARD_ID
    value = {"amount": marche["montant"], "currency": CURRENCY} if "montant" in marche else None
    tender: dict[str, Any] = {"id": mid, "status": "complete"}
    if "objet" in marche:
        tender["title"] = marche["objet"]
    if "codeCPV" in marche:
        cpv = CPV_CHECK_DIGIT.sub("", marche["codeCPV"])
        tender["items"] = [{"id": "1", "classification": {"scheme": "CPV", "id": cpv}}]
    tender["lots"] = [{"id": LOT_ID, **({"title": marche["objet"]} if "objet" in marche else {})}]
    category = cpv_category(str(marche.get("codeCPV", "")))
    if category:
        tender["mainProcurementCategory"] = category
        tender["lots"][0]["mainProcurementCategory"] = category
        tender["items"][0]["relatedLot"] = LOT_ID
    if "procedure" in marche:
        tender["procurementMethodDetails"] = marche["procedure"]
        method = t["procedure-method"].get(marche["procedure"])
        if method:
            tender["procurementMethod"] = method
    award: dict[str, Any] = {
        "id": award_id,
        "status": "active",
        "suppliers": suppliers,
        "relatedLots": [LOT_ID],
        "relatedBids": [BID_ID],
    }
    bid: dict[str, Any] = {"id": BID_ID, "relatedLots": [LOT_ID], "tenderers": [dict(x) for x in suppliers]}
    contract: dict[str, Any] = {
        "id": mid,
        "awardID": award_id,
        "status": "active",
        "identifiers": [{"scheme": CONTRACT_REFERENCE_SCHEME, "id": mid}],
        "relatedBids": [BID_ID],  # the one (possibly grouped) tender the marché was awarded to
    }
    if isinstance(marche.get("sousTraitanceDeclaree"), bool):
        # BT-773: whether the winner subcontracts (declared subcontracting)
        bid["subcontracting"] = {"applicability": "yes" if marche["sousTraitanceDeclaree"] else "no"}
    if "dateNotification" in marche:
        award["date"] = _iso(marche["dateNotification"])
        contract["dateSigned"] = _iso(marche["dateNotification"])
    if value:
        award["value"] = dict(value)
        contract["value"] = dict(value)
        bid["value"] = dict(value)
    if "dureeMois" in marche:
        contract["period"] = {"durationInDays": int(marche["dureeMois"]) * DAYS_PER_MONTH}
    release: dict[str, Any] = {
        "ocid": f"{ocid_prefix}-decp-{buyer_id}-{mid}",
        "id": f"decp-{buyer_id}-{mid}",
        "date": _iso(marche.get("datePublicationDonnees") or marche.get("dateNotification") or "1970-01-01"),
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "language": "fr",
        "parties": parties,
        "buyer": {"id": buyer_id, **({"name": buyer["name"]} if "name" in buyer else {})},
        "tender": tender,
        "awards": [award],
        "contracts": [contract],
    }
    release["bids"] = {"details": [bid]}
    if "offresRecues" in marche:
        release["bids"]["statistics"] = [
            {"id": "1", "measure": "bids", "value": marche["offresRecues"], "relatedLot": LOT_ID}
        ]
    if marche.get("idAccordCadre"):
        release["relatedProcesses"] = [
            {
                "id": "1",
                "relationship": ["framework"],
                "scheme": "DECP-id",
                "identifier": marche["idAccordCadre"],
            }
        ]
    kept: dict[str, Any] = {k: copy.deepcopy(marche[k]) for k in PLATFORM_FIELDS if k in marche}
    if "codeCPV" in marche and CPV_CHECK_DIGIT.search(marche["codeCPV"]):
        kept["codeCPV"] = marche["codeCPV"]  # with its check digit, for export
    if "datePublicationDonnees" in marche:
        kept["datePublicationDonnees"] = marche["datePublicationDonnees"]
    known = {
        "id",
        "acheteur",
        "objet",
        "codeCPV",
        "procedure",
        "dureeMois",
        "dateNotification",
        "montant",
        "titulaires",
        "offresRecues",
        "datePublicationDonnees",
        *PLATFORM_FIELDS,
    }
    extra = {k: copy.deepcopy(v) for k, v in marche.items() if k not in known}
    if extra:
        kept["extra"] = extra
    release["platform"] = {"decp": {mid: kept}}
    return release


def _siret_country(party: dict[str, Any]) -> None:
    """A party identified by a SIRET is in France (unless its enriched address says otherwise)."""
    address = party.setdefault("address", {})
    if isinstance(address, dict) and not address.get("country"):
        address["country"] = SIRET_COUNTRY


def _enrich(party: dict[str, Any], info: Any) -> None:
    if not isinstance(info, dict):
        return
    if info.get("name"):
        party["name"] = str(info["name"])
    if isinstance(info.get("address"), dict):
        party["address"] = dict(info["address"])
    if isinstance(info.get("contactPoint"), dict):
        party["contactPoint"] = dict(info["contactPoint"])


def import_decp(
    data: dict[str, Any], *, enrich: dict[str, Any] | None = None, ocid_prefix: str = DEFAULT_OCID_PREFIX
) -> list[dict[str, Any]]:
    """All releases of a DECP document (``{"marches": {"marche": [...], "contrat-concession": [...]}}``).

    ``data`` and ``enrich`` are checked first (:func:`mappings.model.decp_errors`,
    :func:`~mappings.model.enrichment_errors`): an :class:`InputValidationError` lists every
    ``(path, reason)``.
    """
    errors = decp_errors(data) + (enrichment_errors(enrich) if enrich is not None else [])
    if errors:
        raise InputValidationError(errors)
    marches = data["marches"]
    orgs = (enrich or {}).get("organisations", enrich or {})
    releases = [
        marche_to_release(m, enrich=orgs, ocid_prefix=ocid_prefix, path=f"marches.marche[{i}]")
        for i, m in enumerate(marches.get("marche", []))
    ]
    for i, c in enumerate(marches.get("contrat-concession", [])):
        releases.append(_concession_release(c, ocid_prefix, f"marches.contrat-concession[{i}]"))
    return releases


def _concession_release(concession: dict[str, Any], ocid_prefix: str, path: str) -> dict[str, Any]:
    try:
        cid = str(concession["id"])
        authority = str(concession["autoriteConcedante"]["id"])
    except (KeyError, TypeError) as exc:
        raise MappingError("id and autoriteConcedante.id are required", path) from exc
    return {
        "ocid": f"{ocid_prefix}-decp-{authority}-{cid}",
        "id": f"decp-concession-{authority}-{cid}",
        "date": _iso(concession.get("datePublicationDonnees") or "1970-01-01"),
        "tag": ["contract"],
        "initiationType": "tender",
        "parties": [
            {"id": authority, "identifier": {"scheme": BUYER_SCHEME, "id": authority}, "roles": ["buyer"]}
        ],
        "buyer": {"id": authority},
        "tender": {"id": cid, "title": concession.get("objet", "")},
        "contracts": [{"id": cid}],
        "platform": {"decpConcession": copy.deepcopy(concession)},
    }


def release_to_marche(release: dict[str, Any], path: str = "release") -> dict[str, Any] | None:
    """The DECP ``marche`` of a release (``None`` for a concession release)."""
    platform = release.get("platform") or {}
    if "decpConcession" in platform:
        return None
    tender = release.get("tender") or {}
    contracts = release.get("contracts") or []
    awards = release.get("awards") or []
    contract = contracts[0] if contracts else {}
    award = next((a for a in awards if a.get("id") == contract.get("awardID")), awards[0] if awards else {})
    mid = str(contract.get("id") or tender.get("id") or "")
    if not mid:
        raise MappingError("contracts[0].id or tender.id is required", f"{path}.contracts")
    kept = dict((platform.get("decp") or {}).get(mid) or {})
    buyer_id = (release.get("buyer") or {}).get("id")
    if not buyer_id:
        raise MappingError("buyer.id (SIRET) is required", f"{path}.buyer")
    t = tables()
    marche: dict[str, Any] = {"id": mid, "acheteur": {"id": str(buyer_id)}}
    for k in ("nature",):
        if k in kept:
            marche[k] = kept[k]
    if "title" in tender:
        marche["objet"] = tender["title"]
    items = tender.get("items") or []
    if items and (items[0].get("classification") or {}).get("id"):
        cpv = str(items[0]["classification"]["id"])
        with_digit = str(kept.get("codeCPV") or "")
        marche["codeCPV"] = with_digit if CPV_CHECK_DIGIT.sub("", with_digit) == cpv else cpv
    for k in ("techniques", "modalitesExecution", "idAccordCadre", "marcheInnovant", "ccag"):
        if k in kept:
            marche[k] = kept[k]
    stats = (release.get("bids") or {}).get("statistics") or []
    bids = next((s for s in stats if isinstance(s, dict) and s.get("measure") == "bids"), None)
    if bids is not None and "value" in bids:
        marche["offresRecues"] = bids["value"]
    for k in (
        "attributionAvance",
        "tauxAvance",
        "typeGroupementOperateurs",
        "sousTraitanceDeclaree",
        "actesSousTraitance",
    ):
        if k in kept:
            marche[k] = kept[k]
    procedure = _decp_procedure(tender)
    if procedure:
        marche["procedure"] = procedure
    if "lieuExecution" in kept:
        marche["lieuExecution"] = kept["lieuExecution"]
    days = (contract.get("period") or {}).get("durationInDays")
    if days is not None:
        marche["dureeMois"] = round(days / DAYS_PER_MONTH)
    signed = contract.get("dateSigned") or award.get("date")
    if signed:
        marche["dateNotification"] = _day(signed, f"{path}.contracts[0].dateSigned")
    if "datePublicationDonnees" in kept:
        marche["datePublicationDonnees"] = kept["datePublicationDonnees"]
    value = contract.get("value") or award.get("value")
    if value:
        if value.get("currency", CURRENCY) != CURRENCY:
            raise MappingError("DECP amounts are in EUR", f"{path}.contracts[0].value.currency")
        marche["montant"] = value["amount"]
    for k in ("typesPrix", "formePrix", "origineUE", "origineFrance"):
        if k in kept:
            marche[k] = kept[k]
    parties = {p.get("id"): p for p in release.get("parties") or []}
    titulaires = []
    for sup in award.get("suppliers") or []:
        party = parties.get(sup.get("id"), {})
        ident = party.get("identifier") or {}
        tid = str(ident.get("id", sup.get("id")))
        ttype = _reverse(t["identifier-scheme"], ident.get("scheme", "")) or (
            "SIRET" if SIRET.fullmatch(tid) else None  # an unknown scheme is not guessed
        )
        titulaires.append({"titulaire": {**({"typeIdentifiant": ttype} if ttype else {}), "id": tid}})
    if titulaires:
        marche["titulaires"] = titulaires
    for k in (
        "considerationsSociales",
        "considerationsEnvironnementales",
        "modificationsActesSousTraitance",
        "modifications",
    ):
        if k in kept:
            marche[k] = kept[k]
    marche.update(kept.get("extra") or {})
    return marche


def _decp_procedure(tender: dict[str, Any]) -> str | None:
    """The DECP procedure of a tender: its DECP label (from a DECP import) or, for a release read from
    an eForms notice, the DECP procedure of its eForms procedure type (``procedure-eforms`` reversed)."""
    details = tender.get("procurementMethodDetails")
    to_eforms = tables()["procedure-eforms"]
    if details in to_eforms:
        return str(details)
    code = _eforms_procedure_code(str(details or ""))
    return _reverse(to_eforms, code) if code else None


def _eforms_procedure_code(label: str) -> str | None:
    from mappings.spec import load_spec  # the eForms spec's labels (BT-105 procedure type)

    labels: dict[str, Any] = load_spec("eforms").tables.get("procedure-label") or {}
    return next((code for code, text in labels.items() if text == label or code == label), None)


def export_decp(releases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A DECP v2 document for ``releases``."""
    marches: list[dict[str, Any]] = []
    concessions: list[dict[str, Any]] = []
    for i, release in enumerate(releases):
        marche = release_to_marche(release, path=f"releases[{i}]")
        if marche is None:
            concessions.append(copy.deepcopy((release.get("platform") or {})["decpConcession"]))
        else:
            marches.append(marche)
    out: dict[str, Any] = {}
    if marches:
        out["marche"] = marches
    if concessions:
        out["contrat-concession"] = concessions
    return {"marches": out}
