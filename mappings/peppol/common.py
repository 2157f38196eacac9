"""What the Peppol pre-award documents share: the document header, parties and addresses, the
Peppol-only data kept in the platform extension (``platform.peppol``), and the trace marks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Final, Literal, get_args

from lxml import etree

from mappings import doctypes, engine
from mappings.errors import MappingError
from mappings.org_schemes import party_peppol_ids
from mappings.xmlbuild import new_child
from mappings.xmlns import NS

PeppolTarget = Literal["t004", "t005", "t006", "t018"]

#: The documents, as ``ubl.registry`` names them (``peppol-t004``…: root, versions and ids).
TARGETS: Final[tuple[PeppolTarget, ...]] = get_args(PeppolTarget)
HASH_ALGORITHMS: Final[dict[str, str]] = {
    "SHA-256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "SHA-512": "http://www.w3.org/2001/04/xmlenc#sha512",
}
UNCL1001: Final = "UNCL1001"
#: UNCL1001 code of a tender (bid) document (T005, T006).
TENDER_DOCUMENT_CODE: Final = "310"
DEFAULT_VERSION: Final = "1"
COUNTRY_LIST: Final = "ISO3166-1:Alpha2"


def new_root(target: str) -> etree._Element:
    """The empty root element of document ``target``."""
    return doctypes.new_root(doctypes.peppol(target), {"cbc": NS["cbc"], "cac": NS["cac"]})


def target_of_root(local: str) -> PeppolTarget | None:
    """The document whose root element is named ``local``, if it is one of :data:`TARGETS`."""
    return next((t for t in TARGETS if doctypes.peppol(t).root == local), None)


def extension(release: dict[str, Any]) -> dict[str, Any]:
    """The Peppol-only data of ``release`` (``platform.peppol``; ``{}`` when there is none)."""
    found: dict[str, Any] = (release.get("platform") or {}).get("peppol") or {}
    return found


def write_header(root: etree._Element, release: dict[str, Any], target: str, *, folder: bool = True) -> None:
    """Versions, document id, ``ContractFolderID`` (unless not ``folder``), issue date and time."""
    meta = (extension(release).get("documents") or {}).get(target) or {}
    doc = doctypes.peppol(target)
    new_child(root, "cbc:UBLVersionID", str(doc.ubl_version))
    new_child(root, "cbc:CustomizationID", doc.customization_id)
    new_child(root, "cbc:ProfileID", str(doc.profile_id))
    doc_id = str(meta.get("uuid") or uuid.uuid4())
    if target == "t018":
        new_child(root, "cbc:ID", doc_id)
    else:
        new_child(root, "cbc:ID", doc_id, schemeURI="urn:uuid")
    if folder:
        tender_id = (release.get("tender") or {}).get("id")
        if not tender_id:
            raise MappingError("tender.id (the procedure id, cbc:ContractFolderID) is required", "tender.id")
        new_child(root, "cbc:ContractFolderID", str(tender_id))
    date, time = _issue(release, meta)
    new_child(root, "cbc:IssueDate", date)
    new_child(root, "cbc:IssueTime", time)
    if target == "t004":
        new_child(root, "cbc:VersionID", str(meta.get("versionId") or DEFAULT_VERSION))


def _issue(release: dict[str, Any], meta: dict[str, Any]) -> tuple[str, str]:
    if meta.get("issueDate") and meta.get("issueTime"):
        return str(meta["issueDate"]), str(meta["issueTime"])
    stamp = str(release.get("date") or "")
    if len(stamp) >= 19 and stamp[10] == "T":
        tz = stamp[19:] or "Z"
        if tz.startswith("."):
            tz = tz.lstrip(".0123456789") or "Z"
        return stamp[:10], stamp[11:19] + tz
    raise MappingError("date (an ISO date-time with time zone) is required for the issue date/time", "date")


def party_ids(
    release: dict[str, Any], party_id: str, path: str, *, need_identifier: bool = True, lenient: bool = False
) -> dict[str, Any]:
    """The Peppol ids of a party; ``lenient``: those known (maybe none) instead of an error (T004 is
    still written, XSD-valid, and its rules and the conversion's findings say what to add)."""
    ids: dict[str, Any] = (extension(release).get("parties") or {}).get(party_id) or {}
    if not ids:
        # an organisation known by an identifier whose scheme has a Peppol ICD (FR-SIRET -> 0009,
        # FR-SIREN -> 0002, <CC>-VAT -> the country's VAT scheme…) is addressable by it
        party: dict[str, Any] = next((p for p in release.get("parties") or [] if p.get("id") == party_id), {})
        ids = party_peppol_ids(party)
    if not ids.get("endpoint") or (need_identifier and not ids.get("identifier")):
        if lenient:
            return ids
        what = "endpoint and identifier" if need_identifier else "endpoint"
        raise MappingError(
            f"Peppol {what} of party {party_id!r} are required: add them to the organisation profile "
            '("peppol": ["0009:<SIRET>"]) or platform.peppol.parties.<id> '
            '({"endpoint": {"scheme", "id"}, "identifier": {"scheme", "id"}}), or give the party an '
            "identifier whose scheme has a Peppol ICD (FR-SIRET, FR-SIREN, <CC>-VAT)",
            f"platform.peppol.parties.{path}",
        )
    return ids


#: UBL ``cac:PostalAddress`` children <-> OCDS ``address`` keys (T005 tenderer).
ADDRESS_FIELDS: Final = (
    ("cbc:StreetName", "streetAddress"),
    ("cbc:CityName", "locality"),
    ("cbc:PostalZone", "postalCode"),
    ("cbc:CountrySubentity", "region"),
)


def _write_address(parent: etree._Element, address: dict[str, Any]) -> None:
    postal = new_child(parent, "cac:PostalAddress")
    for tag, key in ADDRESS_FIELDS:
        if address.get(key):
            new_child(postal, tag, str(address[key]))
    if address.get("country"):
        new_child(
            new_child(postal, "cac:Country"),
            "cbc:IdentificationCode",
            str(address["country"]),
            listID=COUNTRY_LIST,
        )


def _read_address(el: etree._Element) -> dict[str, str]:
    postal = el.find("cac:PostalAddress", NS)
    if postal is None:
        return {}
    address = texts(postal, ADDRESS_FIELDS)
    address["country"] = (postal.findtext("cac:Country/cbc:IdentificationCode", namespaces=NS) or "").strip()
    return {k: v for k, v in address.items() if v}


def write_party(
    parent: etree._Element,
    release: dict[str, Any],
    party_id: str,
    *,
    full: bool = True,
    address: bool = False,
    legal: bool = False,
    lenient: bool = False,
) -> None:
    ids = party_ids(release, party_id, party_id, need_identifier=full, lenient=lenient)
    party: dict[str, Any] = next((p for p in release.get("parties") or [] if p.get("id") == party_id), {})
    if ids.get("endpoint"):
        endpoint = ids["endpoint"]
        new_child(parent, "cbc:EndpointID", str(endpoint["id"]), schemeID=str(endpoint["scheme"]))
    if full:
        if ids.get("identifier"):
            pid = new_child(parent, "cac:PartyIdentification")
            new_child(pid, "cbc:ID", str(ids["identifier"]["id"]), schemeID=str(ids["identifier"]["scheme"]))
        if party.get("name"):
            new_child(new_child(parent, "cac:PartyName"), "cbc:Name", str(party["name"]))
        if address and isinstance(party.get("address"), dict) and party["address"]:
            _write_address(parent, party["address"])
        entity = ids.get("legalEntity") or {}
        if legal and entity:
            legal_el = new_child(parent, "cac:PartyLegalEntity")
            if entity.get("companyLegalForm"):
                new_child(legal_el, "cbc:CompanyLegalForm", str(entity["companyLegalForm"]))
            if entity.get("registrationCountry"):
                country = new_child(new_child(legal_el, "cac:RegistrationAddress"), "cac:Country")
                new_child(
                    country, "cbc:IdentificationCode", str(entity["registrationCountry"]), listID=COUNTRY_LIST
                )


def read_party(el: etree._Element | None, release: dict[str, Any], role: str) -> str | None:
    """Add the party described by ``el`` (Peppol ids, name) to ``release``; its OCDS id."""
    if el is None:
        return None
    endpoint = el.find("cbc:EndpointID", NS)
    ident = el.find("cac:PartyIdentification/cbc:ID", NS)
    name = el.find("cac:PartyName/cbc:Name", NS)
    if endpoint is None:
        return None
    source = ident if ident is not None else endpoint
    party_id = f"{source.get('schemeID', '')}:{(source.text or '').strip()}"
    parties = release.setdefault("parties", [])
    party: dict[str, Any] | None = next((p for p in parties if p.get("id") == party_id), None)
    if party is None:
        party = {"id": party_id, "roles": []}
        parties.append(party)
    if role not in party["roles"]:
        party["roles"].append(role)
    if name is not None and name.text:
        party["name"] = name.text.strip()
    postal = _read_address(el)
    if postal:
        party["address"] = postal
    ids: dict[str, Any] = {
        "endpoint": {"scheme": endpoint.get("schemeID", ""), "id": (endpoint.text or "").strip()}
    }
    if ident is not None:
        ids["identifier"] = {"scheme": ident.get("schemeID", ""), "id": (ident.text or "").strip()}
    entity = {
        "companyLegalForm": (
            el.findtext("cac:PartyLegalEntity/cbc:CompanyLegalForm", namespaces=NS) or ""
        ).strip(),
        "registrationCountry": (
            el.findtext(
                "cac:PartyLegalEntity/cac:RegistrationAddress/cac:Country/cbc:IdentificationCode",
                namespaces=NS,
            )
            or ""
        ).strip(),
    }
    if any(entity.values()):  # no OCDS home: kept with the party's Peppol ids
        ids["legalEntity"] = {k: v for k, v in entity.items() if v}
    peppol = release.setdefault("platform", {}).setdefault("peppol", {})
    known = peppol.setdefault("parties", {}).setdefault(party_id, {})
    for k, v in ids.items():
        known.setdefault(k, v)
    return party_id


def buyer_party_id(release: dict[str, Any], *, required: bool = True) -> str:
    """The buyer's party id (``buyer.id``, else the party with role ``buyer``); ``""`` when there is
    none and it is not ``required`` (OCDS does not require a buyer id)."""
    buyer = (release.get("buyer") or {}).get("id")
    if not buyer:
        buyer = next(
            (p["id"] for p in release.get("parties") or [] if "buyer" in (p.get("roles") or [])), None
        )
    if not buyer and required:
        raise MappingError("buyer.id is required", "buyer")
    return str(buyer or "")


def read_doc_meta(release: dict[str, Any], root: etree._Element, target: str) -> None:
    meta = {
        "uuid": (root.findtext("cbc:ID", namespaces=NS) or "").strip(),
        "issueDate": (root.findtext("cbc:IssueDate", namespaces=NS) or "").strip(),
        "issueTime": (root.findtext("cbc:IssueTime", namespaces=NS) or "").strip(),
    }
    version = root.findtext("cbc:VersionID", namespaces=NS)
    if version:
        meta["versionId"] = version.strip()
    peppol = release.setdefault("platform", {}).setdefault("peppol", {})
    peppol.setdefault("documents", {})[target] = {k: v for k, v in meta.items() if v}
    if meta["issueDate"] and meta["issueTime"]:
        release.setdefault("date", f"{meta['issueDate']}T{meta['issueTime']}")


def base_release(root: etree._Element) -> dict[str, Any]:
    folder = (root.findtext("cbc:ContractFolderID", namespaces=NS) or "").strip()
    release: dict[str, Any] = {"initiationType": "tender"}
    if folder:
        release["tender"] = {"id": folder}
    return release


def mark(trace: engine.Trace | None, el: etree._Element | None, path: str) -> None:
    """Record in ``trace`` (when asked for) that ``el`` was written from OCDS ``path``."""
    if trace is not None and el is not None:
        trace.setdefault(el, path)


def party_path(release: dict[str, Any], party_id: str) -> str:
    index = next((i for i, p in enumerate(release.get("parties") or []) if p.get("id") == party_id), None)
    return f"parties[{index}]" if index is not None else f"platform.peppol.parties.{party_id}"


def find_bid(release: dict[str, Any], bid_id: str | None) -> dict[str, Any]:
    bids = (release.get("bids") or {}).get("details") or []
    for bid in bids:
        if bid_id is None or bid.get("id") == bid_id:
            found: dict[str, Any] = bid
            return found
    if not bids:
        raise MappingError("the release has no bid (bids.details is empty)", "bids.details")
    raise MappingError(f"no bid {bid_id!r} in bids.details", "bids.details")


def read_doc_reference(ref: etree._Element) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": (ref.findtext("cbc:ID", namespaces=NS) or "").strip()}
    code = ref.findtext("cbc:DocumentTypeCode", namespaces=NS)
    if code and code.strip() != TENDER_DOCUMENT_CODE:
        doc["documentTypeCode"] = code.strip()
    desc = ref.findtext("cbc:DocumentDescription", namespaces=NS)
    if desc:
        doc["description"] = desc.strip()
    ext = ref.find("cac:Attachment/cac:ExternalReference", NS)
    if ext is not None:
        value = ext.findtext("cbc:DocumentHash", namespaces=NS)
        if value:
            method = (ext.findtext("cbc:HashAlgorithmMethod", namespaces=NS) or "").strip()
            algo = next((k for k, v in HASH_ALGORITHMS.items() if v == method), method)
            doc["hash"] = {"algorithm": algo, "value": value.strip()}
        doc.update(
            found_texts(ext, (("cbc:URI", "url"), ("cbc:MimeCode", "format"), ("cbc:FileName", "fileName")))
        )
    return doc


def texts(el: etree._Element, fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``key: text`` (stripped; ``""`` where there is none) of each ``(tag, key)`` of ``fields`` in ``el``."""
    return {key: (el.findtext(tag, namespaces=NS) or "").strip() for tag, key in fields}


def found_texts(el: etree._Element, fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``key: text`` (stripped) of each ``(tag, key)`` of ``fields`` whose element in ``el`` has text."""
    return {key: val.strip() for tag, key in fields if (val := el.findtext(tag, namespaces=NS))}
