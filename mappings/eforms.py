"""eForms notices (UBL 2.3 ContractNotice / ContractAwardNotice) <-> OCDS releases.

The field mapping lives in ``specs/eforms.yaml``; this module adds what is structural: the notice
header (versions, notice id, subtype, notice type), the platform extension that keeps notice metadata
OCDS has no place for, and the ``buyer`` reference.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import replace
from functools import cache
from typing import Any, Final, Literal, get_args

import pycountry
from lxml import etree

from mappings import doctypes, engine
from mappings.eforms_ids import eforms_id_map, with_eforms_ids
from mappings.errors import MappingError, UnsupportedConversion
from mappings.model import DEFAULT_OCID_PREFIX, ocid
from mappings.spec import Spec, load_spec
from mappings.transforms import START_OF_DAY, date_to_iso
from mappings.withheld import read_withheld
from mappings.xmlbuild import ensure_path, new_child, serialise
from mappings.xmlns import NS
from peppol.xml import parse_bytes

NoticeKind = Literal["cn", "can"]
NOTICE_KINDS: Final[tuple[NoticeKind, ...]] = get_args(NoticeKind)

DEFAULT_SUBTYPE: Final[dict[str, str]] = {"cn": "16", "can": "29"}
DEFAULT_NOTICE_TYPE: Final[dict[str, tuple[str, str]]] = {
    "cn": ("competition", "cn-standard"),
    "can": ("result", "can-standard"),
}
#: Notice type (list, code) of the subtypes whose type differs from the default of their kind
#: (SDK ``notice-types.json``: E3 is a ``cn-standard`` and E4 a ``can-standard`` notice, as the
#: BR-OPP-00070 rules check; the social-services subtypes use ``cn-social`` / ``can-social``).
NOTICE_TYPE_BY_SUBTYPE: Final[dict[str, tuple[str, str]]] = {
    **{s: ("competition", "cn-social") for s in ("20", "21")},
    **{s: ("result", "can-social") for s in ("33", "34", "35")},
}
#: ``cbc:RegulatoryDomain`` (BT-01) of a subtype when the release names no legal basis: the E
#: subtypes are notices under national ("other") law.
REGULATORY_DOMAIN_BY_SUBTYPE: Final[dict[str, str]] = {
    # the concession (2014/23) and utilities (2014/25) subtypes, as the SDK examples write them
    **{s: "32014L0023" for s in ("19", "23", "28", "32", "35", "40")},
    **{s: "32014L0025" for s in ("17", "30")},
    "E3": "other",
    "E4": "other",
    "E5": "other",
    "E6": "32009L0081",
    "T02": "32007R1370",
}
DEFAULT_LANGUAGE: Final = "ENG"
DEFAULT_REGULATORY_DOMAIN: Final = "32014L0024"
SPEC_NAME: Final = "eforms"
TOUCHPOINT_SCOPE: Final = "touchpoint"
#: Placeholder ``cac:TenderResult/cbc:AwardDate`` of eForms award notices (as in the SDK examples).
DEFAULT_TENDER_RESULT_DATE: Final = "2000-01-01Z"
#: Header elements a notice may lack that the writer otherwise fills (a new notice UUID, the language):
#: a notice read without them is written back without them.
DEFAULTED_HEADER: Final = ("cbc:ID", "cbc:NoticeLanguageCode")

_EXT_PATH: Final = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"


@cache
def _iso_countries() -> None:
    """Complete the spec's ``country`` table (eForms alpha-3 -> OCDS alpha-2) with every ISO 3166-1
    country from ``pycountry`` (a Colombian or Ukrainian buyer has a country code too); the spec's own
    entries keep precedence. Done once, on the cached spec its rules share the table with."""
    table = load_spec(SPEC_NAME).tables["country"]
    for country in pycountry.countries:
        table.setdefault(country.alpha_3, country.alpha_2)


def _first(root: etree._Element, xpath: str) -> str:
    found = root.xpath(xpath, namespaces=NS)
    if isinstance(found, list) and found:
        item = found[0]
        return (item.text or "") if isinstance(item, etree._Element) else str(item)
    return ""


def notice_kind(root: etree._Element) -> NoticeKind:
    local = etree.QName(root).localname
    for kind in NOTICE_KINDS:
        if local == doctypes.eforms(kind).root:
            return kind
    raise MappingError(f"not an eForms ContractNotice/ContractAwardNotice: {local}", "/*")


def read_tree(root: etree._Element, *, ocid_prefix: str = DEFAULT_OCID_PREFIX) -> dict[str, Any]:
    """OCDS release for a parsed eForms notice."""
    kind = notice_kind(root)
    _iso_countries()
    release = engine.read(root, load_spec(SPEC_NAME))
    read_withheld(root, release)
    link_results(root, release)
    _beneficial_owners(release)
    _eu_funder(release)
    _amendment_ids(release)
    _essential_assets(root, release)
    _selected_participants(release)
    _documents_change_dates(root, release)
    platform = release.setdefault("platform", {})
    notice = platform.setdefault("notice", {})
    notice["kind"] = kind
    notice["subType"] = _first(root, f"{_EXT_PATH}/efac:NoticeSubType/cbc:SubTypeCode")
    notice["noticeType"] = _first(root, "cbc:NoticeTypeCode")
    notice["version"] = _first(root, "cbc:VersionID")
    notice["emptyId"] = root.find("cbc:ID", NS) is not None and not _first(root, "cbc:ID").strip()
    # header elements the writer would otherwise fill with a default (a new UUID, the language)
    notice["absentHeader"] = [n for n in DEFAULTED_HEADER if root.find(n, NS) is None]
    notice["languageCode"] = _first(root, "cbc:NoticeLanguageCode")
    notice["customizationId"] = _first(root, "cbc:CustomizationID")
    if kind == "can":
        notice["tenderResultAwardDate"] = _first(root, "cac:TenderResult/cbc:AwardDate")
    notice = {k: v for k, v in notice.items() if v}
    platform["notice"] = notice
    tender_id = release.get("tender", {}).get("id")
    if tender_id:
        release["ocid"] = ocid(tender_id, prefix=ocid_prefix)
    release.setdefault("initiationType", "tender")
    buyers = [p for p in release.get("parties", []) if "buyer" in (p.get("roles") or [])]
    if buyers:
        release["buyer"] = {k: buyers[0][k] for k in ("id", "name") if k in buyers[0]}
    return release


#: The funder the guidance names for EU funds (BT-5010/BT-5011/BT-60): a party of its own, not an eForms
#: organisation (the organisation scope of the spec excludes it from writing).
EU_FUNDER: Final = "European Union"


def _amendment_ids(release: dict[str, Any]) -> None:
    """Number the tender amendments of a change notice (one per ``efac:Change``, BT-140) "1", "2"… as
    the guidance does (sequentially within the notice)."""
    amendments = (release.get("tender") or {}).get("amendments") or []
    for n, amendment in enumerate(amendments, start=1):
        if isinstance(amendment, dict):
            amendment.setdefault("id", str(n))


#: BT-60 code of a lot financed by EU funds (the guidance then names the EU as a funder party).
EU_FUNDS: Final = "eu-funds"


def _eu_funder(release: dict[str, Any]) -> None:
    """Give every finance object funded by the EU (``financingParty.name``) the EU party's id; a lot
    financed by EU funds (BT-60) makes the EU a funder party too."""
    finances = list(((release.get("planning") or {}).get("budget") or {}).get("finance") or [])
    for contract in release.get("contracts") or []:
        if isinstance(contract, dict):
            finances.extend(contract.get("finance") or [])
    funded = [
        f
        for f in finances
        if isinstance(f, dict) and (f.get("financingParty") or {}).get("name") == EU_FUNDER
    ]
    lot_funds = [f for f in (release.get("platform") or {}).get("lotFunding") or [] if isinstance(f, dict)]
    if not funded and not any(f.get("code") == EU_FUNDS for f in lot_funds):
        return
    parties = release.setdefault("parties", [])
    party = next((p for p in parties if isinstance(p, dict) and p.get("name") == EU_FUNDER), None)
    if party is None:
        party = {"id": str(len(parties) + 1), "name": EU_FUNDER, "roles": []}
        parties.append(party)
    roles = party.setdefault("roles", [])
    if "funder" not in roles:
        roles.append("funder")
    for f in funded:
        f["financingParty"]["id"] = party["id"]


def _documents_change_dates(root: etree._Element, release: dict[str, Any]) -> None:
    """BT-719: a change of the procurement documents dates the bidding documents of the changed lots.

    The documents of the lots named by the change (all bidding documents when it names no lot) get the
    date as ``dateModified``; a lot without one gets a bidding-documents entry carrying the date.
    """
    for change in root.iterfind(f"{_EXT_PATH}/efac:Changes/efac:Change", NS):
        found = change.find("efbc:ProcurementDocumentsChangeDate", NS)
        if found is None or not (found.text or "").strip():
            continue
        date = date_to_iso(found.text or "", None, START_OF_DAY, root.getroottree().getpath(found))
        lots = [
            (e.text or "").strip()
            for e in change.iterfind("efac:ChangedSection/efbc:ChangedSectionIdentifier", NS)
            if (e.text or "").strip().startswith("LOT-")
        ]
        docs = release.setdefault("tender", {}).setdefault("documents", [])
        bidding = [d for d in docs if isinstance(d, dict) and d.get("documentType") == "biddingDocuments"]
        for lot in lots or [""]:
            mine = [d for d in bidding if not lot or lot in (d.get("relatedLots") or [])]
            if not mine:
                new: dict[str, Any] = {"id": f"biddingDocuments-{lot}" if lot else "biddingDocuments"}
                new["documentType"] = "biddingDocuments"
                if lot:
                    new["relatedLots"] = [lot]
                docs.append(new)
                mine = [new]
            for d in mine:
                d["dateModified"] = date


def _selected_participants(release: dict[str, Any]) -> None:
    """BT-47: a lot's selected participants reference the party of the same name."""
    ids = {
        p.get("name"): p.get("id")
        for p in release.get("parties") or []
        if isinstance(p, dict) and "selectedParticipant" in (p.get("roles") or [])
    }
    for lot in (release.get("tender") or {}).get("lots") or []:
        for ref in ((lot.get("designContest") or {}) if isinstance(lot, dict) else {}).get(
            "selectedParticipants"
        ) or []:
            if isinstance(ref, dict) and ids.get(ref.get("name")):
                ref["id"] = ids[ref["name"]]


def _essential_assets(root: etree._Element, release: dict[str, Any]) -> None:
    """OPP-020..023: a settled contract's essential assets belong to the lots of the results citing it."""
    result = root.find(f"{_EXT_PATH}/efac:NoticeResult", NS)
    if result is None:
        return
    for sc in result.findall("efac:SettledContract", NS):
        just = sc.find("efac:DurationJustification", NS)
        cid = _first(sc, "cbc:ID").strip()
        if just is None or not cid:
            continue
        extended = _first(just, "efbc:ExtendedDurationIndicator").strip()
        assets = []
        for asset in just.findall("efac:AssetsList/efac:Asset", NS):
            item = {
                k: _first(asset, path).strip()
                for k, path in (
                    ("description", "efbc:AssetDescription"),
                    ("significance", "efbc:AssetSignificance"),
                    ("predominance", "efbc:AssetPredominance"),
                )
            }
            if any(item.values()):
                assets.append({k: v for k, v in item.items() if v})
        lot_ids = [
            (lot.text or "").strip()
            for lr in result.findall("efac:LotResult", NS)
            if cid in [(c.text or "").strip() for c in lr.findall("efac:SettledContract/cbc:ID", NS)]
            for lot in lr.findall("efac:TenderLot/cbc:ID", NS)
        ]
        for lot_id in lot_ids:
            lots = release.setdefault("tender", {}).setdefault("lots", [])
            lot = next((x for x in lots if isinstance(x, dict) and x.get("id") == lot_id), None)
            if lot is None:
                lot = {"id": lot_id}
                lots.append(lot)
            if extended in ("true", "false"):
                lot["hasEssentialAssets"] = extended == "true"
            if assets:
                lot["essentialAssets"] = [dict(a) for a in assets]


def _beneficial_owners(release: dict[str, Any]) -> None:
    """Show the UBOs (kept in ``platform.ubos``) as ``parties[].beneficialOwners`` of their organisation.

    A UBO belongs to the organisation that references it (OPT-302); when none does and the notice has a
    single organisation, to that one.
    """
    platform = release.get("platform") or {}
    ubos = [u for u in platform.get("ubos", []) if isinstance(u, dict) and u.get("id")]
    owner = {str(u): str(r.get("org")) for r in platform.get("uboRefs", []) for u in r.get("ubos", [])}
    # a UBO the notice references (OPT-302) but does not describe is still one of the organisation's
    known = {str(u["id"]) for u in ubos}
    ubos += [{"id": u} for u in owner if u not in known]
    orgs = [p for p in release.get("parties", []) if not str(p.get("id", "")).startswith("TPO-")]
    for ubo in ubos:
        org_id = owner.get(str(ubo["id"])) or (str(orgs[0].get("id")) if len(orgs) == 1 else None)
        party = next((p for p in release.get("parties", []) if str(p.get("id")) == org_id), None)
        if party is None:
            continue
        view: dict[str, Any] = {"id": ubo["id"]}
        name = " ".join(str(ubo[k]) for k in ("firstName", "familyName") if ubo.get(k))
        if name:
            view["name"] = name
        for key in ("telephone", "email", "faxNumber", "address", "nationalities"):
            if key in ubo:
                view[key] = copy.deepcopy(ubo[key])
        party.setdefault("beneficialOwners", []).append(view)


def link_results(root: etree._Element, release: dict[str, Any]) -> None:
    """Cross-reference results, bids, contracts and parties as the OCDS for eForms guidance does."""
    ext = root.find(_EXT_PATH.replace("ext:UBLExtensions", "ext:UBLExtensions"), NS)
    result = None if ext is None else ext.find("efac:NoticeResult", NS)
    if result is None:
        return
    awards = {a.get("id"): a for a in release.get("awards", []) if isinstance(a, dict)}
    bids = {b.get("id"): b for b in (release.get("bids") or {}).get("details", []) if isinstance(b, dict)}
    contracts = {c.get("id"): c for c in release.get("contracts", []) if isinstance(c, dict)}
    tparties = {
        t.get("id"): t
        for t in (release.get("platform") or {}).get("tenderingParties", [])
        if isinstance(t, dict)
    }
    for lr in result.findall("efac:LotResult", NS):
        award = awards.get(_first(lr, "cbc:ID").strip() or None)
        if award is None:
            continue
        for sc in lr.findall("efac:SettledContract/cbc:ID", NS):
            contract = contracts.get(sc.text)
            if contract is not None and award.get("id"):
                contract["awardID"] = award["id"]
                if contract.get("awardDate") and "date" not in award:
                    award["date"] = contract["awardDate"]
        for lt in lr.findall("efac:LotTender/cbc:ID", NS):
            bid = bids.get(lt.text)
            if bid is None:
                continue
            if "value" in bid and "value" not in award:
                award["value"] = dict(bid["value"])
            tp = tparties.get(bid.get("tenderingParty"))
            for t in (tp or {}).get("tenderers", []):
                sup = {"id": t.get("id")}
                if sup not in award.setdefault("suppliers", []):
                    award["suppliers"].append(sup)
                _add_role(release, str(t.get("id")), "supplier")
    for bid in bids.values():
        tp = tparties.get(bid.get("tenderingParty"))
        for t in (tp or {}).get("tenderers", []):
            ref = {"id": t.get("id")}
            if ref not in bid.setdefault("tenderers", []):
                bid["tenderers"].append(ref)
        if bid.get("tenderingParty"):  # a bid citing no tendering party has no subcontractors
            _subcontracts(bid, tp or {})
    for contract in contracts.values():
        for bid_id in contract.get("relatedBids", []):
            for lr in result.findall("efac:LotResult", NS):
                tenders = [e.text for e in lr.findall("efac:LotTender/cbc:ID", NS)]
                settled = [e.text for e in lr.findall("efac:SettledContract/cbc:ID", NS)]
                # the award of a contract's tender: the result listing the tender, or the contract
                if bid_id in tenders or contract.get("id") in settled:
                    award = awards.get(_first(lr, "cbc:ID"))
                    if award is not None:
                        contract.setdefault("awardID", award.get("id"))
                        tp = tparties.get((bids.get(bid_id) or {}).get("tenderingParty"))
                        for t in (tp or {}).get("tenderers", []):
                            sup = {"id": t.get("id")}
                            if sup not in award.setdefault("suppliers", []):
                                award["suppliers"].append(sup)
                            _add_role(release, str(t.get("id")), "supplier")
    _tender_terms_on_contracts(release, contracts)


def _subcontracts(bid: dict[str, Any], tparty: dict[str, Any]) -> None:
    """The tendering party's subcontractors as the bid's ``subcontracting.subcontracts`` (guidance
    OPT-301-Tenderer-SubCont/MainCont: ids numbered from 1, the subcontractor and its main contractors)."""
    subs = [s for s in tparty.get("subContractors") or [] if isinstance(s, dict) and s.get("id")]
    if not subs:
        return
    subcontracting = bid.setdefault("subcontracting", {})
    if not isinstance(subcontracting, dict) or subcontracting.get("subcontracts"):
        return
    subcontracting["subcontracts"] = [
        {
            "id": str(n),
            "subcontractor": {"id": s["id"]},
            **(
                {"mainContractors": [{"id": m} for m in s["mainContractors"]]}
                if s.get("mainContractors")
                else {}
            ),
        }
        for n, s in enumerate(subs, 1)
    ]


#: Concession revenue of a tender as charges of the contract citing it (BT-160/BT-162): charge id and
#: payer, and the title the guidance gives each charge.
REVENUE_CHARGES: Final = (
    (
        "revenueBuyer",
        "government",
        "The estimated revenue coming from the buyer who granted the concession (e.g. prizes and payments).",
    ),
    (
        "revenueUser",
        "user",
        "The estimated revenue coming from the users of the concession (e.g. fees and fines).",
    ),
)


def _tender_terms_on_contracts(release: dict[str, Any], contracts: dict[Any, dict[str, Any]]) -> None:
    """Values the notice gives per tender that OCDS holds per contract (``platform.tenderTerms``)."""
    terms = {
        t.get("tender"): t
        for t in (release.get("platform") or {}).get("tenderTerms", [])
        if isinstance(t, dict)
    }
    for award in release.get("awards") or []:
        # BT-163: how the concession's value was calculated, on the award of the tender (guidance)
        for bid_id in (award.get("relatedBids") or []) if isinstance(award, dict) else []:
            described = (terms.get(bid_id) or {}).get("valueDescription")
            if described:
                award.setdefault("valueCalculationMethod", described)
    for contract in contracts.values():
        for bid_id in contract.get("relatedBids", []):
            term = terms.get(bid_id)
            if not term:
                continue
            if "transportKilometers" in term:
                contract["publicPassengerTransportServicesKilometers"] = term["transportKilometers"]
            for key, payer, title in REVENUE_CHARGES:
                if isinstance(term.get(key), dict):
                    charges = contract.setdefault("implementation", {}).setdefault("charges", [])
                    charge = {"id": payer, "title": title, "estimatedValue": dict(term[key]), "paidBy": payer}
                    if not any(c.get("id") == payer for c in charges if isinstance(c, dict)):
                        charges.append(charge)


def _add_role(release: dict[str, Any], party_id: str, role: str) -> None:
    parties = release.setdefault("parties", [])
    for p in parties:
        if p.get("id") == party_id:
            break
    else:
        p = {"id": party_id}
        parties.append(p)
    roles = p.setdefault("roles", [])
    if role not in roles:
        roles.append(role)


def read_notice(data: bytes, *, ocid_prefix: str = DEFAULT_OCID_PREFIX) -> dict[str, Any]:
    """OCDS release for eForms notice bytes (parsed with the hardened parser)."""
    return read_tree(parse_bytes(data).getroot(), ocid_prefix=ocid_prefix)


def build_tree(
    release: dict[str, Any],
    kind: NoticeKind,
    *,
    subtype: str | None = None,
    trace: engine.Trace | None = None,
) -> etree._ElementTree:
    """Build the eForms notice of ``kind`` describing ``release``.

    ``trace`` (optional) receives, for each element written from the release, the OCDS path of its
    value (see :func:`mappings.engine.write`).
    """
    _iso_countries()
    platform = release.get("platform") or {}
    notice = platform.get("notice") or {}
    doc = doctypes.eforms(kind)
    if subtype is not None and subtype not in doctypes.eforms_subtypes(kind):
        raise UnsupportedConversion(
            f"subtype {subtype!r} is not a {doc.root} subtype "
            f"(one of {', '.join(sorted(doctypes.eforms_subtypes(kind)))})",
            "--subtype",
        )
    if notice.get("kind", kind) != kind or (subtype and subtype != notice.get("subType", subtype)):
        # the kept metadata describe another notice (a CN read, a CAN written; another subtype):
        # its subtype and notice type do not apply
        notice = {k: v for k, v in notice.items() if k not in ("subType", "noticeType")}
    subtype = subtype or notice.get("subType") or DEFAULT_SUBTYPE[kind]
    tender = release.get("tender") or {}
    root = doctypes.new_root(doc, NS)
    lang3 = notice.get("languageCode") or _lang3(release.get("language")) or ""
    if not lang3 and (
        "eforms" in platform or "cbc:NoticeLanguageCode" not in (notice.get("absentHeader") or ())
    ):
        # a release that says "language unknown" (``ocds_prepare``: no language, none configured) gets
        # no language at all, not a guess; the others keep the historical default
        lang3 = DEFAULT_LANGUAGE
    ext = ensure_path(root, _EXT_PATH)
    new_child(new_child(ext, "efac:NoticeSubType"), "cbc:SubTypeCode", subtype, listName="notice-subtype")
    new_child(root, "cbc:UBLVersionID", str(doc.ubl_version))
    new_child(root, "cbc:CustomizationID", doc.customization_id)
    notice_id = str(release.get("id") or "")
    absent = set(notice.get("absentHeader") or ())
    if not _is_uuid(notice_id) and not notice.get("emptyId"):
        notice_id = str(uuid.uuid4())
    if "cbc:ID" not in absent:
        new_child(root, "cbc:ID", notice_id, schemeName="notice-id")
    new_child(root, "cbc:VersionID", str(notice.get("version") or "01"))
    default_list, default_type = NOTICE_TYPE_BY_SUBTYPE.get(subtype, DEFAULT_NOTICE_TYPE[kind])
    new_child(
        root, "cbc:NoticeTypeCode", str(notice.get("noticeType") or default_type), listName=default_list
    )
    legal_basis = tender.get("legalBasis")
    if not (legal_basis.get("wasDerivedFrom") if isinstance(legal_basis, dict) else None):
        domain = REGULATORY_DOMAIN_BY_SUBTYPE.get(subtype, DEFAULT_REGULATORY_DOMAIN)
        new_child(root, "cbc:RegulatoryDomain", domain)
    body = with_derived_structures(release)
    body.pop("id", None)  # written above (must be a UUID)
    spec = load_spec(SPEC_NAME)
    tp_parent = {
        str(t.get("id")): str(t.get("organization"))
        for t in (body.get("platform") or {}).get("touchpoints", [])
        if isinstance(t, dict) and t.get("organization")
    }
    body["parties"] = [p for p in release.get("parties") or [] if str(p.get("id")) not in tp_parent]
    origin = release
    if "eforms" not in (release.get("platform") or {}):
        # made by the platform, not read from a notice: its own ids become eForms technical ids (also
        # in the release the trace counts positions in, so that objects are still found by id)
        renamed = eforms_id_map(body)
        body, origin = with_eforms_ids(body, renamed), with_eforms_ids(release, renamed)
    main = replace(spec, scopes=tuple(s for s in spec.scopes if s.name != TOUCHPOINT_SCOPE))
    env = {"lang": lang3}
    variants = engine.language_variations(body, frozenset(spec.tables.get("language", {}).values()))
    if variants:
        env[engine.VARIANT_LANGUAGES] = ",".join(variants)
    engine.write(body, main, root, env=env, trace=trace, origin=origin)
    _write_touchpoints(release, spec, root, tp_parent, env)
    if root.find("cbc:NoticeLanguageCode", NS) is None and "cbc:NoticeLanguageCode" not in absent:
        new_child(root, "cbc:NoticeLanguageCode", lang3)
    # XSD-mandatory elements the release has no value for: written empty (the rules then report them)
    if root.find("cbc:ContractFolderID", NS) is None:
        folder = new_child(root, "cbc:ContractFolderID", "")
        if trace is not None:
            trace[folder] = "tender.id"
    if root.find("cac:ContractingParty", NS) is None:
        new_child(new_child(root, "cac:ContractingParty"), "cac:Party")
    if kind == "cn" and root.find("cac:ProcurementProject", NS) is None:
        new_child(root, "cac:ProcurementProject")
    if kind == "can" and root.find("cac:TenderResult", NS) is None:
        # XSD-mandatory in ContractAwardNotice; eForms puts results in the extension and fills a placeholder
        award_date = str(notice.get("tenderResultAwardDate") or DEFAULT_TENDER_RESULT_DATE)
        new_child(new_child(root, "cac:TenderResult"), "cbc:AwardDate", award_date)
    return etree.ElementTree(root)


#: OCDS roles of the parties a lot's tendering terms reference, by ``platform.lotParties`` key
#: (the roles the reader gives them: OPT-301-Lot-*). A document provider is not derived: it shares
#: the role ``processContactPoint`` with the additional-information contact.
LOT_PARTY_ROLES: Final = (
    ("additionalInformation", "processContactPoint"),
    ("reviewInformation", "reviewContactPoint"),
    ("reviewBody", "reviewBody"),
    ("mediator", "mediationBody"),
    ("tenderRecipient", "submissionReceiptBody"),
    ("tenderEvaluation", "evaluationBody"),
)
TENDERING_PARTY_ID: Final = "TPA-{:04d}"


def with_derived_structures(release: dict[str, Any]) -> dict[str, Any]:
    """``release`` with the eForms structures OCDS has no home for derived from OCDS when absent.

    A release read from a notice keeps them in the platform extension; one the platform made has
    only OCDS, so: each lot references the party of each role (review body — mandatory per lot —,
    review and additional-information contacts, mediator, tender recipient and evaluator: OPT-301),
    a touch point party (``TPO-nnnn``) belongs to the organisation sharing its company id, each
    bid's tenderers form a tendering party (OPT-210/310; without one the winners' size and listing,
    BT-165/746, have no tenderer to belong to) and the notice value (BT-161) is the total of the
    awarded values of lots outside a framework agreement. A shallow copy; ``release`` is not changed.
    """
    body = dict(release)
    platform = dict(body.get("platform") or {})
    parties = [p for p in body.get("parties") or [] if isinstance(p, dict)]
    lots = [lot for lot in (body.get("tender") or {}).get("lots") or [] if isinstance(lot, dict)]
    known = {e.get("lot") for e in platform.get("lotParties") or [] if isinstance(e, dict)}
    _derive_touchpoints(platform, parties)
    derived = {}
    for key, role in LOT_PARTY_ROLES:
        party = next((p for p in parties if role in (p.get("roles") or [])), None)
        if party is not None and party.get("id"):
            derived[key] = str(party["id"])
    missing = [lot for lot in lots if lot.get("id") and lot.get("id") not in known]
    if derived and missing:
        platform["lotParties"] = [
            *(platform.get("lotParties") or []),
            *({"lot": lot["id"], **derived} for lot in missing),
        ]
    bids = (body.get("bids") or {}).get("details") or []
    tendering: list[dict[str, Any]] = [
        t for t in platform.get("tenderingParties") or [] if isinstance(t, dict)
    ]
    known_tp = {t.get("id") for t in tendering}
    new_bids, added = [], False
    for bid in bids:
        ref = bid.get("tenderingParty") if isinstance(bid, dict) else None
        ref = ref if isinstance(ref, str) else None
        if isinstance(bid, dict) and bid.get("tenderers") and ref not in known_tp:
            tpa = ref or TENDERING_PARTY_ID.format(len(tendering) + 1)
            tendering.append({"id": tpa, **_tendering_party(bid, parties)})
            known_tp.add(tpa)
            bid = {**bid, "tenderingParty": tpa}
            added = True
        new_bids.append(bid)
    if added:
        platform["tenderingParties"] = tendering
        body["bids"] = {**body["bids"], "details": new_bids}
    body["awards"] = _derived_award_links(body)
    result = dict(platform.get("noticeResult") or {})
    framework = {
        lot.get("id")
        for lot in lots
        if isinstance(lot.get("techniques"), dict) and lot["techniques"].get("hasFrameworkAgreement") is True
    }
    # BT-161 notice value: required when a lot outside a framework agreement has a winner (BR-BT-00161),
    # forbidden otherwise; the total of those awards' values
    values: list[dict[str, Any]] = [
        a["value"]
        for a in body.get("awards") or []
        if isinstance(a, dict)
        and a.get("suppliers")
        and isinstance(a.get("value"), dict)
        and isinstance(a["value"].get("amount"), int | float)
        and any(lot not in framework for lot in a.get("relatedLots") or [])
    ]
    currencies = {v.get("currency") for v in values}
    if "totalAmount" not in result and values and len(currencies) == 1:
        result["totalAmount"] = {"amount": sum(v["amount"] for v in values), "currency": currencies.pop()}
        platform["noticeResult"] = result
    # BT-118 / BT-1118: the overall maximum and re-estimated values of the framework agreements are the
    # totals of their lots' results (BT-709 ``maximumValue``, BT-660 ``estimatedValue``); the guidance
    # discards them, so a platform-made release has only the per-result values
    for key, field in FRAMEWORK_TOTALS:
        total = _total(
            a.get(field)
            for a in body.get("awards") or []
            if isinstance(a, dict) and any(lot in framework for lot in a.get("relatedLots") or [])
        )
        if key not in result and total is not None:
            result[key] = total
            platform["noticeResult"] = result
    body["platform"] = platform
    return body


def _derived_award_links(body: dict[str, Any]) -> list[Any]:
    """Awards with what a LotResult needs derived from OCDS when absent: the contracts citing the award
    (``contracts[].awardID`` -> ``relatedContracts``, OPT-315) and the received-submission statistics of
    its lots (``bids.statistics`` -> ``receivedSubmissions``, BT-759/BT-760)."""
    table = load_spec(SPEC_NAME).tables["received-submission-type"]
    code_of = {v: k for k, v in table.items()}
    stats = [s for s in (body.get("bids") or {}).get("statistics") or [] if isinstance(s, dict)]
    contracts = [c for c in body.get("contracts") or [] if isinstance(c, dict)]
    out: list[Any] = []
    for award in body.get("awards") or []:
        if not isinstance(award, dict) or not award.get("id"):
            out.append(award)
            continue
        award = dict(award)
        cited = [c["id"] for c in contracts if c.get("awardID") == award["id"] and c.get("id")]
        if cited and not award.get("relatedContracts"):
            award["relatedContracts"] = cited
        lots = award.get("relatedLots") or []
        received = [
            {"type": code_of[s["measure"]], "count": s["value"]}
            for s in stats
            if s.get("relatedLot") in lots and s.get("measure") in code_of and isinstance(s.get("value"), int)
        ]
        if received and "receivedSubmissions" not in award:
            award["receivedSubmissions"] = received
        out.append(award)
    return out


#: ``platform.noticeResult`` key of each framework total (BT-118, BT-1118) and the award field summed.
FRAMEWORK_TOTALS: Final = (
    ("maximumFrameworkValue", "maximumValue"),
    ("approximateFrameworkValue", "estimatedValue"),
)


def _total(values: Any) -> dict[str, Any] | None:
    """Sum of OCDS values of one currency (``None`` when there are none or currencies differ)."""
    found = [v for v in values if isinstance(v, dict) and isinstance(v.get("amount"), int | float)]
    currencies = {v.get("currency") for v in found}
    if not found or len(currencies) != 1:
        return None
    return {"amount": sum(v["amount"] for v in found), "currency": currencies.pop()}


def _tendering_party(bid: dict[str, Any], parties: list[dict[str, Any]]) -> dict[str, Any]:
    """The eForms tendering party of a bid, from OCDS: its tenderers, the group lead of a group (the
    party with role ``leadTenderer``, OPT-170) and the subcontractors of ``subcontracting.subcontracts``
    with their main contractors (OPT-301-Tenderer-SubCont/MainCont)."""
    ids = [str(t["id"]) for t in bid.get("tenderers") or [] if isinstance(t, dict) and t.get("id")]
    leads = {str(p.get("id")) for p in parties if "leadTenderer" in (p.get("roles") or [])}
    tenderers: list[dict[str, Any]] = [{"id": i} for i in ids]
    if len(ids) > 1 and len(leads & set(ids)) == 1:
        for t in tenderers:
            t["groupLead"] = t["id"] in leads
    out: dict[str, Any] = {"tenderers": tenderers}
    subs = []
    for sub in ((bid.get("subcontracting") or {}) if isinstance(bid.get("subcontracting"), dict) else {}).get(
        "subcontracts"
    ) or []:
        sid = (sub.get("subcontractor") or {}).get("id") if isinstance(sub, dict) else None
        if sid:
            mains = [
                str(m["id"]) for m in sub.get("mainContractors") or [] if isinstance(m, dict) and m.get("id")
            ]
            subs.append({"id": str(sid), **({"mainContractors": mains} if mains else {})})
    if subs:
        out["subContractors"] = subs
    return out


#: Technical id of an eForms touch point (OPT-201).
TOUCHPOINT_ID: Final = re.compile(r"TPO-\d{4}")


def _derive_touchpoints(platform: dict[str, Any], parties: list[dict[str, Any]]) -> None:
    """Touch points the platform extension does not place: the guidance gives a touch point party
    (``TPO-nnnn``) its organisation's company id as ``identifier.id``, so that organisation is its
    parent. Touch points without one stay organisations."""
    known = {t.get("id") for t in platform.get("touchpoints") or [] if isinstance(t, dict)}
    orgs: dict[str, str] = {}
    for p in parties:
        ident = p.get("identifier")
        if not TOUCHPOINT_ID.fullmatch(str(p.get("id"))) and isinstance(ident, dict) and ident.get("id"):
            orgs.setdefault(str(ident["id"]), str(p.get("id")))
    added = []
    for p in parties:
        pid, ident = str(p.get("id")), p.get("identifier")
        if TOUCHPOINT_ID.fullmatch(pid) and pid not in known and isinstance(ident, dict):
            parent = orgs.get(str(ident.get("id")))
            if parent:
                added.append({"id": pid, "organization": parent})
    if added:
        platform["touchpoints"] = [*(platform.get("touchpoints") or []), *added]


def _write_touchpoints(
    release: dict[str, Any], spec: Spec, root: etree._Element, tp_parent: dict[str, str], env: dict[str, str]
) -> None:
    """Write each touch point (a party with a parent organisation) inside its ``efac:Organization``."""
    if not tp_parent:
        return
    scope = next(s for s in spec.scopes if s.name == TOUCHPOINT_SCOPE)
    local = replace(spec, scopes=(replace(scope, xml="efac:TouchPoint"),))
    parties = {str(p.get("id")): p for p in release.get("parties") or []}
    for org in root.iterfind(f"{_EXT_PATH}/efac:Organizations/efac:Organization", NS):
        org_id = (org.findtext("efac:Company/cac:PartyIdentification/cbc:ID", namespaces=NS) or "").strip()
        tps = [parties[t] for t, parent in tp_parent.items() if parent == org_id and t in parties]
        if tps:
            engine.write({**release, "parties": tps}, local, org, env=env)


def build_notice(release: dict[str, Any], kind: NoticeKind, *, subtype: str | None = None) -> bytes:
    """Serialised eForms notice (UTF-8, XML declaration)."""
    return serialise(build_tree(release, kind, subtype=subtype))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _lang3(lang2: Any) -> str | None:
    if not lang2:
        return None
    table = load_spec(SPEC_NAME).tables["language"]
    for k, v in table.items():
        if v == lang2:
            return k
    return None
