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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

from mappings import profiles
from mappings.decp_places import place_address
from mappings.errors import InputValidationError, MappingError
from mappings.model import DEFAULT_OCID_PREFIX, decp_errors, ocid

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
#: The DECP ``technique`` of an electronic auction (eForms BT-767).
ELECTRONIC_AUCTION: Final = "Enchère électronique"
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


def _award_bid_contract(
    contract_id: str, award_id: str, suppliers: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The award, the bid and the contract of a DECP marché or concession: one lot, won by one (possibly
    grouped) tender of ``suppliers``, the contract identified by its DECP id."""
    award: dict[str, Any] = {
        "id": award_id,
        "status": "active",
        "suppliers": suppliers,
        "relatedLots": [LOT_ID],
        "relatedBids": [BID_ID],
    }
    bid: dict[str, Any] = {"id": BID_ID, "relatedLots": [LOT_ID], "tenderers": [dict(x) for x in suppliers]}
    contract: dict[str, Any] = {
        "id": contract_id,
        "awardID": award_id,
        "status": "active",
        "identifiers": [{"scheme": CONTRACT_REFERENCE_SCHEME, "id": contract_id}],
        "relatedBids": [BID_ID],
    }
    return award, bid, contract


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
        party = _holder_party(entry, "titulaire", enrich, t, f"{path}.titulaires[{i}]")
        parties.append(party)
        suppliers.append(_org_ref(party))
    award_id = AWARD_ID
    value = {"amount": marche["montant"], "currency": CURRENCY} if "montant" in marche else None
    tender: dict[str, Any] = {"id": mid, "status": "complete"}
    if "objet" in marche:
        # DECP's objet is "a short description of the object of the marché": the title and the
        # description (eForms BT-21 and BT-24)
        tender["title"] = tender["description"] = marche["objet"]
    if "codeCPV" in marche:
        cpv = CPV_CHECK_DIGIT.sub("", marche["codeCPV"])
        tender["items"] = [{"id": "1", "classification": {"scheme": "CPV", "id": cpv}}]
    tender["lots"] = [
        {
            "id": LOT_ID,
            **({"title": marche["objet"], "description": marche["objet"]} if "objet" in marche else {}),
        }
    ]
    techniques = (marche.get("techniques") or {}).get("technique")
    if isinstance(techniques, list):
        # BT-767: DECP lists the purchasing techniques used, an electronic auction among them or not
        tender["lots"][0]["techniques"] = {"hasElectronicAuction": ELECTRONIC_AUCTION in techniques}
    category = cpv_category(str(marche.get("codeCPV", "")))
    if category:
        tender["mainProcurementCategory"] = category
        tender["lots"][0]["mainProcurementCategory"] = category
        tender["items"][0]["relatedLot"] = LOT_ID
    place = place_address(marche.get("lieuExecution"))
    if place:
        # BT-5141/BT-5071/BT-5121 (or BT-728): the place of performance of the procedure and of its lot
        tender["deliveryAddresses"] = [place]
        if tender.get("items"):
            tender["items"][0]["relatedLot"] = LOT_ID
            tender["items"][0]["deliveryAddresses"] = [dict(place)]
    if "procedure" in marche:
        tender["procurementMethodDetails"] = marche["procedure"]
        method = t["procedure-method"].get(marche["procedure"])
        if method:
            tender["procurementMethod"] = method
    award, bid, contract = _award_bid_contract(mid, award_id, suppliers)
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
    amendments = _amendments(
        marche.get("modifications"), MARCHE_MODIFICATION, parties, enrich, t, f"{path}.modifications"
    )
    if amendments:
        contract["amendments"] = amendments
    release: dict[str, Any] = {
        "ocid": ocid("decp", buyer_id, mid, prefix=ocid_prefix),
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


@dataclass(frozen=True)
class ModificationShape:
    """The keys of a DECP modification (they differ between marchés and concessions)."""

    date: str
    value: str
    holders: str | None
    holder: str


MARCHE_MODIFICATION: Final = ModificationShape(
    "dateNotificationModification", "montant", "titulaires", "titulaire"
)
CONCESSION_MODIFICATION: Final = ModificationShape(
    "dateSignatureModification", "valeurGlobale", None, "concessionnaire"
)


def _org_ref(party: dict[str, Any]) -> dict[str, Any]:
    return {"id": party["id"], **({"name": party["name"]} if "name" in party else {})}


def _holder_party(
    entry: Any, key: str, enrich: dict[str, Any], t: dict[str, dict[str, str]], path: str
) -> dict[str, Any]:
    """The OCDS party of a DECP ``titulaire`` / ``concessionnaire`` entry (``{key: {typeIdentifiant,
    id}}``)."""
    holder = entry.get(key, {}) if isinstance(entry, dict) else {}
    tid, ttype = str(holder.get("id", "")), str(holder.get("typeIdentifiant", ""))
    if not tid:
        raise MappingError(f"{key}.id is required", path)
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
    return party


def _amendments(
    modifications: Any,
    shape: ModificationShape,
    parties: list[dict[str, Any]],
    enrich: dict[str, Any],
    t: dict[str, dict[str, str]],
    path: str,
) -> list[dict[str, Any]]:
    """OCDS contract amendments of DECP ``modifications``: id, date and the values after the change
    (``value``, ``period.durationInDays``, ``suppliers``: OCDS 1.1 has no field for an amendment's new
    values, its ``changes`` being deprecated). A new holder becomes a party."""
    out: list[dict[str, Any]] = []
    for i, wrapper in enumerate(modifications if isinstance(modifications, list) else []):
        mod = wrapper.get("modification") if isinstance(wrapper, dict) else None
        if not isinstance(mod, dict):
            continue
        amendment: dict[str, Any] = {"id": str(mod.get("id", i + 1))}
        if mod.get(shape.date):
            amendment["date"] = _iso(mod[shape.date])
        if shape.value in mod:
            amendment["value"] = {"amount": mod[shape.value], "currency": CURRENCY}
        if "dureeMois" in mod:
            amendment["period"] = {"durationInDays": int(mod["dureeMois"]) * DAYS_PER_MONTH}
        if shape.holders and isinstance(mod.get(shape.holders), list):
            known = {p["id"]: p for p in parties}
            refs = []
            for j, entry in enumerate(mod[shape.holders]):
                party = _holder_party(entry, shape.holder, enrich, t, f"{path}[{i}].{shape.holders}[{j}]")
                if party["id"] not in known:
                    parties.append(party)
                    known[party["id"]] = party
                refs.append(_org_ref(known[party["id"]]))
            amendment["suppliers"] = refs
        out.append(amendment)
    return out


def _modifications(
    amendments: Any,
    kept: Any,
    shape: ModificationShape,
    parties: dict[Any, dict[str, Any]],
    t: dict[str, dict[str, str]],
) -> list[dict[str, Any]]:
    """DECP ``modifications`` from OCDS contract amendments (OCDS first; the kept DECP modification of
    the same id gives what OCDS does not hold: the data publication date, unknown keys)."""
    by_id = {
        str(w["modification"].get("id")): w["modification"]
        for w in (kept if isinstance(kept, list) else [])
        if isinstance(w, dict) and isinstance(w.get("modification"), dict)
    }
    out = []
    for amendment in amendments if isinstance(amendments, list) else []:
        if not isinstance(amendment, dict):
            continue
        aid = str(amendment.get("id", ""))
        mod = dict(by_id.get(aid) or {})
        mod["id"] = int(aid) if aid.isdigit() else mod.get("id", aid)
        if amendment.get("date"):
            mod[shape.date] = _day(amendment["date"], "amendments.date")
        if isinstance(amendment.get("value"), dict) and "amount" in amendment["value"]:
            mod[shape.value] = amendment["value"]["amount"]
        days = (amendment.get("period") or {}).get("durationInDays")
        if days is not None:
            mod["dureeMois"] = round(days / DAYS_PER_MONTH)
        if shape.holders and isinstance(amendment.get("suppliers"), list):
            mod[shape.holders] = _holders(amendment["suppliers"], parties, shape.holder, t)
        out.append({"modification": dict(sorted(mod.items(), key=lambda kv: _MOD_ORDER.get(kv[0], 99)))})
    return out


#: Key order of a DECP modification as the schema lists them (the order a publisher writes).
_MOD_ORDER: Final = {
    k: i
    for i, k in enumerate(
        (
            "id",
            "dateNotificationModification",
            "dateSignatureModification",
            "datePublicationDonneesModification",
            "dureeMois",
            "montant",
            "valeurGlobale",
            "titulaires",
        )
    )
}


def _holders(
    refs: list[Any], parties: dict[Any, dict[str, Any]], key: str, t: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """DECP ``titulaires`` / ``concessionnaires`` of OCDS organisation references."""
    out = []
    for sup in refs:
        if not isinstance(sup, dict):
            continue
        party = parties.get(sup.get("id"), {})
        ident = party.get("identifier") or {}
        tid = str(ident.get("id", sup.get("id")))
        ttype = _reverse(t["identifier-scheme"], ident.get("scheme", "")) or (
            "SIRET" if SIRET.fullmatch(tid) else None  # an unknown scheme is not guessed
        )
        out.append({key: {**({"typeIdentifiant": ttype} if ttype else {}), "id": tid}})
    return out


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
    :func:`mappings.profiles.profile_errors`): an :class:`InputValidationError` lists every
    ``(path, reason)``.
    """
    errors = decp_errors(data) + (profiles.profile_errors(enrich) if enrich is not None else [])
    if errors:
        raise InputValidationError(errors)
    marches = data["marches"]
    directory = profiles.Directory.load(enrich)
    # a profile's address (its country) comes before the country derived from a SIRET / VAT number;
    # the rest of the profile is applied below
    orgs: dict[str, Any] = {}
    for key, profile in directory.organisations.items():
        for ident in [key.rpartition(":")[2], *(str(o.get("id")) for o in profile.get("identifiers") or [])]:
            orgs.setdefault(ident, profile)
    releases = [
        marche_to_release(m, enrich=orgs, ocid_prefix=ocid_prefix, path=f"marches.marche[{i}]")
        for i, m in enumerate(marches.get("marche", []))
    ]
    for i, c in enumerate(marches.get("contrat-concession", [])):
        releases.append(_concession_release(c, orgs, ocid_prefix, f"marches.contrat-concession[{i}]"))
    if directory:
        releases = [_with_platform_data(r, directory) for r in releases]
    return releases


def _with_platform_data(release: dict[str, Any], directory: profiles.Directory) -> dict[str, Any]:
    """A DECP release completed from the platform's directory: its parties from the organisation
    profiles, the buyer's review body, review information and contracting type, then the platform's
    record of the contract (``contracts``), merged as OCDS merging does (what it says wins)."""
    from mappings.ocds_merge import merge_value

    out = profiles.apply_buyer_terms(
        profiles.apply_profiles(release, directory), directory, contracting_type=is_concession(release)
    )
    contract = (out.get("contracts") or [{}])[0]
    buyer_id = str((out.get("buyer") or {}).get("id"))
    found = profiles.contract_record(directory, buyer_id, str(contract.get("id")))
    if found:
        out = merge_value(out, copy.deepcopy(found[1]))
    return _named_refs(out)


def _named_refs(release: dict[str, Any]) -> dict[str, Any]:
    """``release`` with the organisation references (buyer, suppliers, tenderers) named as their
    parties (after the profiles gave the parties their names)."""
    names = {p.get("id"): p["name"] for p in release.get("parties") or [] if p.get("name")}
    refs = [release.get("buyer")]
    for award in release.get("awards") or []:
        refs += award.get("suppliers") or []
    for bid in (release.get("bids") or {}).get("details") or []:
        refs += bid.get("tenderers") or []
    for contract in release.get("contracts") or []:
        for amendment in contract.get("amendments") or []:
            refs += amendment.get("suppliers") or []
    for ref in refs:
        if isinstance(ref, dict) and ref.get("id") in names:
            ref["name"] = names[ref["id"]]
    return release


#: The eForms award notice of a concession (Directive 2014/23): subtype and legal basis (BT-01).
CONCESSION_SUBTYPE: Final = "32"
CONCESSION_LEGAL_BASIS: Final = "32014L0023"
#: OCDS ``contracts[].implementation.charges`` id of the public subsidy of a concession (eForms BT-160,
#: revenue from the buyer, as the guidance maps it).
SUBSIDY_CHARGE: Final = "government"


def _concession_release(
    concession: dict[str, Any], enrich: dict[str, Any], ocid_prefix: str, path: str
) -> dict[str, Any]:
    """One OCDS release for one DECP ``contrat-concession``: the award of one lot to the
    concessionnaires, the contract with its value, signature and start dates, duration, public subsidy
    and modifications (amendments); the concession is also kept verbatim in
    ``platform.decpConcession`` (what OCDS does not hold: nature, annual execution data, ...)."""
    try:
        cid = str(concession["id"])
        authority = str(concession["autoriteConcedante"]["id"])
    except (KeyError, TypeError) as exc:
        raise MappingError("id and autoriteConcedante.id are required", path) from exc
    t = tables()
    buyer: dict[str, Any] = {
        "id": authority,
        "identifier": {"scheme": BUYER_SCHEME, "id": authority},
        "roles": ["buyer"],
    }
    _enrich(buyer, enrich.get(authority))
    _siret_country(buyer)
    parties = [buyer]
    suppliers = []
    for i, entry in enumerate(concession.get("concessionnaires") or []):
        party = _holder_party(entry, "concessionnaire", enrich, t, f"{path}.concessionnaires[{i}]")
        parties.append(party)
        suppliers.append(_org_ref(party))
    tender: dict[str, Any] = {"id": cid, "status": "complete"}
    lot: dict[str, Any] = {"id": LOT_ID}
    if "objet" in concession:
        tender["title"] = tender["description"] = lot["title"] = lot["description"] = concession["objet"]
    category = t["concession-category"].get(str(concession.get("nature")))
    if category:
        tender["mainProcurementCategory"] = lot["mainProcurementCategory"] = category
    tender["lots"] = [lot]
    if "procedure" in concession:
        tender["procurementMethodDetails"] = concession["procedure"]
        method = t["concession-procedure-method"].get(concession["procedure"])
        if method:
            tender["procurementMethod"] = method
    tender["legalBasis"] = {"wasDerivedFrom": {"scheme": "CELEX", "id": CONCESSION_LEGAL_BASIS}}
    award, bid, contract = _award_bid_contract(cid, AWARD_ID, suppliers)
    if "valeurGlobale" in concession:
        value = {"amount": concession["valeurGlobale"], "currency": CURRENCY}
        award["value"], contract["value"], bid["value"] = dict(value), dict(value), dict(value)
    if "dateSignature" in concession:
        award["date"] = contract["dateSigned"] = _iso(concession["dateSignature"])
    period: dict[str, Any] = {}
    if "dateDebutExecution" in concession:
        period["startDate"] = _iso(concession["dateDebutExecution"])
    if "dureeMois" in concession:
        period["durationInDays"] = int(concession["dureeMois"]) * DAYS_PER_MONTH
    if period:
        contract["period"] = period
    if "montantSubventionPublique" in concession:
        contract["implementation"] = {
            "charges": [
                {
                    "id": SUBSIDY_CHARGE,
                    "paidBy": SUBSIDY_CHARGE,
                    "estimatedValue": {
                        "amount": concession["montantSubventionPublique"],
                        "currency": CURRENCY,
                    },
                }
            ]
        }
    amendments = _amendments(
        concession.get("modifications"), CONCESSION_MODIFICATION, parties, enrich, t, f"{path}.modifications"
    )
    if amendments:
        contract["amendments"] = amendments
    return {
        "ocid": ocid("decp", authority, cid, prefix=ocid_prefix),
        "id": f"decp-concession-{authority}-{cid}",
        "date": _iso(
            concession.get("datePublicationDonnees") or concession.get("dateSignature") or "1970-01-01"
        ),
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "language": "fr",
        "parties": parties,
        "buyer": _org_ref(buyer),
        "tender": tender,
        "awards": [award],
        "bids": {"details": [bid]},
        "contracts": [contract],
        "platform": {"decpConcession": copy.deepcopy(concession)},
    }


def release_to_concession(release: dict[str, Any], path: str = "release") -> dict[str, Any]:
    """The DECP ``contrat-concession`` of a release made from one (OCDS first, the kept verbatim
    concession for what OCDS does not hold)."""
    kept = copy.deepcopy((release.get("platform") or {}).get("decpConcession") or {})
    tender = release.get("tender") or {}
    contract = (release.get("contracts") or [{}])[0]
    award = next(
        (a for a in release.get("awards") or [] if a.get("id") == contract.get("awardID")),
        (release.get("awards") or [{}])[0],
    )
    t = tables()
    out = dict(kept)
    if contract.get("id") or tender.get("id"):
        out["id"] = str(contract.get("id") or tender.get("id"))
    buyer_id = (release.get("buyer") or {}).get("id")
    if buyer_id:
        out["autoriteConcedante"] = {**(kept.get("autoriteConcedante") or {}), "id": str(buyer_id)}
    if "title" in tender:
        out["objet"] = tender["title"]
    period = contract.get("period") or {}
    if period.get("durationInDays") is not None:
        out["dureeMois"] = round(period["durationInDays"] / DAYS_PER_MONTH)
    if contract.get("dateSigned"):
        out["dateSignature"] = _day(contract["dateSigned"], f"{path}.contracts[0].dateSigned")
    if period.get("startDate"):
        out["dateDebutExecution"] = _day(period["startDate"], f"{path}.contracts[0].period.startDate")
    value = contract.get("value") or award.get("value")
    if isinstance(value, dict) and "amount" in value:
        if value.get("currency", CURRENCY) != CURRENCY:
            raise MappingError("DECP amounts are in EUR", f"{path}.contracts[0].value.currency")
        out["valeurGlobale"] = value["amount"]
    charges = (contract.get("implementation") or {}).get("charges") or []
    subsidy = next((c for c in charges if isinstance(c, dict) and c.get("id") == SUBSIDY_CHARGE), None)
    if subsidy and "amount" in (subsidy.get("estimatedValue") or {}):
        out["montantSubventionPublique"] = subsidy["estimatedValue"]["amount"]
    parties = {p.get("id"): p for p in release.get("parties") or []}
    if award.get("suppliers"):
        out["concessionnaires"] = _holders(award["suppliers"], parties, "concessionnaire", t)
    if "amendments" in contract:
        modifications = _modifications(
            contract["amendments"], kept.get("modifications"), CONCESSION_MODIFICATION, parties, t
        )
        if modifications:
            out["modifications"] = modifications
        else:
            out.pop("modifications", None)
    order = list(kept) or list(CONCESSION_ORDER)
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


#: Key order of a DECP contrat-concession as the schema lists them.
CONCESSION_ORDER: Final = (
    "id",
    "autoriteConcedante",
    "nature",
    "objet",
    "procedure",
    "dureeMois",
    "dateSignature",
    "datePublicationDonnees",
    "dateDebutExecution",
    "valeurGlobale",
    "montantSubventionPublique",
    "donneesExecution",
    "concessionnaires",
    "considerationsSociales",
    "considerationsEnvironnementales",
    "modifications",
)


def is_concession(release: dict[str, Any]) -> bool:
    """Whether ``release`` was made from a DECP ``contrat-concession``."""
    return "decpConcession" in (release.get("platform") or {})


def eforms_release(release: dict[str, Any], kind: str) -> tuple[dict[str, Any], str | None]:
    """The release an eForms notice of a DECP contract is written from, and its default subtype.

    The DECP procedure label becomes its eForms procedure type (BT-105, through the eForms label the
    spec writes: ``procedure-eforms`` / ``concession-procedure-eforms``), the procedure id (BT-04) a
    UUID derived from the ocid, the parties those of the award; a concession's award notice is subtype
    32 (Directive 2014/23). Paths are unchanged, so findings still name the release path.
    """
    tender = release.get("tender") or {}
    concession = is_concession(release)
    subtype = CONCESSION_SUBTYPE if concession and kind == "can" else None
    from mappings.ocds_prepare import UUID_V4, stable_uuid

    out = {**release, "parties": _award_parties(release), "tender": dict(tender)}
    table = tables()["concession-procedure-eforms" if concession else "procedure-eforms"]
    code = table.get(str(tender.get("procurementMethodDetails")))
    if code is not None:
        labels: dict[str, Any] = _eforms_labels()
        out["tender"]["procurementMethodDetails"] = labels.get(code, code)
    if not UUID_V4.fullmatch(str(tender.get("id") or "")):
        # BT-04 is a UUID the publisher gives the procedure; DECP has the contract id only (kept as the
        # contract reference, BT-150): a UUID derived from the ocid, the same at every conversion
        out["tender"]["id"] = stable_uuid(str(release.get("ocid") or ""), "procedure")
    _notice_derivations(out, concession)
    return out, subtype


#: BT-163: how the value of a DECP concession is made up (DECP gives the global value and the subsidy).
CONCESSION_VALUE_DESCRIPTION: Final = (
    "Valeur globale du contrat de concession déclarée dans les données essentielles de la commande "
    "publique ; recettes des usagers = valeur globale moins la subvention publique."
)


def _notice_derivations(out: dict[str, Any], concession: bool) -> None:
    """What the award notice of a DECP contract derives from it (``out`` is a shallow copy: what is
    changed is copied first). The winning tender's reference (BT-3201) is the contract's DECP id (one
    tender per contract); a declared subcontracting's value is the total of the notified
    subcontracting acts (BT-730/BT-553) and its share that total over the contract amount (BT-731,
    BT-555), both known only when acts are; a concession's revenue from the buyer is its public
    subsidy (BT-160), from the users the global value less that subsidy (BT-162, BT-163 says so), and
    its authority provides the additional information (OPT-301-Lot-AddInfo)."""
    bids = copy.deepcopy(out.get("bids") or {})
    contract = (out.get("contracts") or [{}])[0]
    details = [b for b in bids.get("details") or [] if isinstance(b, dict)]
    for bid in details:
        if contract.get("id") and not bid.get("identifiers"):
            bid["identifiers"] = [{"scheme": TENDER_REFERENCE_SCHEME, "id": str(contract["id"])}]
        sub = bid.get("subcontracting")
        if isinstance(sub, dict) and sub.get("applicability") == "yes" and "valueKnown" not in sub:
            _subcontracting_known(sub, out, contract)
    out["bids"] = bids
    if not concession:
        return
    kept = (out.get("platform") or {}).get("decpConcession") or {}
    global_value: Any = kept.get("valeurGlobale")
    subsidy: Any = kept.get("montantSubventionPublique")
    platform = copy.deepcopy(out.get("platform") or {})
    numbers = isinstance(global_value, int | float) and isinstance(subsidy, int | float)
    if details and numbers and not platform.get("tenderTerms"):
        platform["tenderTerms"] = [
            {
                "tender": details[0]["id"],
                "revenueBuyer": {"amount": subsidy, "currency": CURRENCY},
                "revenueUser": {"amount": round(global_value - subsidy, 2), "currency": CURRENCY},
                "valueDescription": CONCESSION_VALUE_DESCRIPTION,
            }
        ]
    out["platform"] = platform
    buyer_id = (out.get("buyer") or {}).get("id")
    parties = [dict(p) for p in out.get("parties") or []]
    if not any("processContactPoint" in (p.get("roles") or []) for p in parties):
        for p in parties:
            if p.get("id") == buyer_id:
                p["roles"] = [*(p.get("roles") or []), "processContactPoint"]
    out["parties"] = parties


#: OCDS ``bids.details[].identifiers`` scheme of the tender's reference (BT-3201, as the spec reads it).
TENDER_REFERENCE_SCHEME: Final = "tender-reference"


def _subcontracting_known(sub: dict[str, Any], out: dict[str, Any], contract: dict[str, Any]) -> None:
    """BT-730/731 (and BT-553/555) of a declared subcontracting, from the DECP subcontracting acts."""
    kept = ((out.get("platform") or {}).get("decp") or {}).get(str(contract.get("id"))) or {}
    acts = [
        a.get("acteSousTraitance") or {} for a in kept.get("actesSousTraitance") or [] if isinstance(a, dict)
    ]
    amounts: list[float] = [a["montant"] for a in acts if isinstance(a.get("montant"), int | float)]
    total = (contract.get("value") or {}).get("amount")
    sub["valueKnown"] = bool(amounts)
    sub["shareKnown"] = False
    if amounts:
        sub["value"] = {"amount": round(sum(amounts), 2), "currency": CURRENCY}
        if isinstance(total, int | float) and total > 0:
            sub["shareKnown"] = True
            sub["maximumPercentage"] = round(sum(amounts) / total, 4)


def _award_parties(release: dict[str, Any]) -> list[dict[str, Any]]:
    """The parties of the award (buyer, winners, tenderers): a holder that came only with a
    modification is no organisation of the award notice (it would have no role there, OPT-200)."""
    cited = {str((release.get("buyer") or {}).get("id"))}
    for award in release.get("awards") or []:
        cited |= {str(s.get("id")) for s in award.get("suppliers") or [] if isinstance(s, dict)}
    for bid in (release.get("bids") or {}).get("details") or []:
        cited |= {str(t.get("id")) for t in bid.get("tenderers") or [] if isinstance(t, dict)}
    return [
        p
        for p in release.get("parties") or []
        if set(p.get("roles") or []) - {"supplier"} or str(p.get("id")) in cited
    ]


def _eforms_labels() -> dict[str, Any]:
    from mappings.spec import load_spec  # the eForms spec's labels (BT-105 procedure type)

    return load_spec("eforms").tables.get("procedure-label") or {}


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
    titulaires = _holders(award.get("suppliers") or [], parties, "titulaire", t)
    if titulaires:
        marche["titulaires"] = titulaires
    for k in (
        "considerationsSociales",
        "considerationsEnvironnementales",
        "modificationsActesSousTraitance",
    ):
        if k in kept:
            marche[k] = kept[k]
    if "amendments" in contract:
        modifications = _modifications(
            contract["amendments"], kept.get("modifications"), MARCHE_MODIFICATION, parties, t
        )
        if modifications:
            marche["modifications"] = modifications
    elif "modifications" in kept:
        marche["modifications"] = kept["modifications"]
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
    labels = _eforms_labels()
    return next((code for code, text in labels.items() if text == label or code == label), None)


def export_decp(releases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A DECP v2 document for ``releases``."""
    marches: list[dict[str, Any]] = []
    concessions: list[dict[str, Any]] = []
    for i, release in enumerate(releases):
        marche = release_to_marche(release, path=f"releases[{i}]")
        if marche is None:
            concessions.append(release_to_concession(release, path=f"releases[{i}]"))
        else:
            marches.append(marche)
    out: dict[str, Any] = {}
    if marches:
        out["marche"] = marches
    if concessions:
        out["contrat-concession"] = concessions
    return {"marches": out}
