"""Peppol pre-award documents (UBL 2.2) <-> OCDS releases.

T004 ``CallForTenders`` (from the tender stage), T005 ``Tender`` (a bid: ``bids.details[]``, its
document references with hashes; encrypted ``.p7m`` attachments are referenced, never opened),
T006 ``TenderReceipt`` (the buyer's proof of reception of a bid) and T018 ``ApplicationResponse``
(technical acknowledgement). Peppol-only data comes from the platform extension ``platform.peppol``:

* ``parties``: ``{<OCDS party id>: {"endpoint": {"scheme", "id"}, "identifier": {"scheme", "id"}}}``
* ``documents``: ``{"t004"|"t005"|...: {"uuid", "issueDate", "issueTime", "versionId"}}``
* ``encryptionCertificate``: ``{"id", "fileName" | "uri", "mimeCode"}`` (T004; buyer's certificate)
* ``receipt`` (T006): ``{"bidId", "registeredDate", "registeredTime"}``
* ``response`` (T018): ``{"code", "description", "documentId", "documentTypeCode", "sender", "receiver"}``
"""

from __future__ import annotations

import copy
import uuid
from typing import Any, Final, Literal

from lxml import etree

from mappings import engine
from mappings.eforms import DEFAULT_OCID_PREFIX
from mappings.errors import MappingError
from mappings.org_schemes import party_peppol_ids
from mappings.spec import load_spec
from mappings.xmlbuild import ensure_path, new_child
from mappings.xmlns import NS, doc_ns
from peppol.xml import parse_bytes

PeppolTarget = Literal["t004", "t005", "t006", "t018"]

UBL_VERSION: Final = "2.2"
DOCS: Final[dict[str, tuple[str, str, str]]] = {
    # target: (root element, CustomizationID, ProfileID)
    "t004": ("CallForTenders", "urn:fdc:peppol.eu:prac:trns:t004:1.2", "urn:fdc:peppol.eu:prac:bis:p002:1.2"),
    "t005": ("Tender", "urn:fdc:peppol.eu:prac:trns:t005:1.2", "urn:fdc:peppol.eu:prac:bis:p003:1.2"),
    "t006": ("TenderReceipt", "urn:fdc:peppol.eu:prac:trns:t006:1.2", "urn:fdc:peppol.eu:prac:bis:p003:1.2"),
    "t018": (
        "ApplicationResponse",
        "urn:fdc:peppol.eu:prac:trns:t018:1.1",
        "urn:fdc:peppol.eu:prac:bis:p010:1.1",
    ),
}
TARGET_OF_ROOT: Final = {root: target for target, (root, _, _) in DOCS.items()}
HASH_ALGORITHMS: Final[dict[str, str]] = {
    "SHA-256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "SHA-512": "http://www.w3.org/2001/04/xmlenc#sha512",
}
DOC_TYPE_LIST: Final = "urn:eu:esens:cenbii:documentType"
DOC_STATUS_LIST: Final = "urn:eu:esens:cenbii:documentStatusType"
UNCL1001: Final = "UNCL1001"
#: UNCL1001 codes used in T005/T006: call for tenders reference, tender (bid) document, ESPD response.
CFT_REFERENCE_CODE: Final = "311"
TENDER_DOCUMENT_CODE: Final = "310"
DEFAULT_VERSION: Final = "1"
COUNTRY_LIST: Final = "ISO3166-1:Alpha2"
#: Prefix of the ocid given to a release read from a Peppol document (as for eForms notices).
OCID_PREFIX: Final = DEFAULT_OCID_PREFIX
#: File name endings of a certificate (a T004 ``AdditionalDocumentReference`` naming one is the
#: buyer's tender-encryption certificate, as in the BIS example ``cid:tenderenckey.cer``).
CERTIFICATE_SUFFIXES: Final = (".cer", ".crt", ".der", ".pem")
CERTIFICATE_MIME: Final = "application/pkix-cert"
#: eForms procedure type written when the release's procedure has no eForms code (e.g. French MAPA).
DEFAULT_PROCEDURE_CODE: Final = "oth-single"


def _root(target: str) -> etree._Element:
    name = DOCS[target][0]
    nsmap: dict[str | None, str] = {None: doc_ns(name), "cbc": NS["cbc"], "cac": NS["cac"]}
    return etree.Element(f"{{{doc_ns(name)}}}{name}", nsmap=nsmap)  # type: ignore[arg-type]


def _peppol(release: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = (release.get("platform") or {}).get("peppol") or {}
    return found


def _header(root: etree._Element, release: dict[str, Any], target: str, *, folder: bool = True) -> None:
    meta = (_peppol(release).get("documents") or {}).get(target) or {}
    _, customization, profile = DOCS[target]
    new_child(root, "cbc:UBLVersionID", UBL_VERSION)
    new_child(root, "cbc:CustomizationID", customization)
    new_child(root, "cbc:ProfileID", profile)
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


def _party_ids(
    release: dict[str, Any], party_id: str, path: str, *, need_identifier: bool = True, lenient: bool = False
) -> dict[str, Any]:
    """The Peppol ids of a party; ``lenient``: those known (maybe none) instead of an error (T004 is
    still written, XSD-valid, and its rules and the conversion's findings say what to add)."""
    ids: dict[str, Any] = (_peppol(release).get("parties") or {}).get(party_id) or {}
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
    address = {key: (postal.findtext(tag, namespaces=NS) or "").strip() for tag, key in ADDRESS_FIELDS}
    address["country"] = (postal.findtext("cac:Country/cbc:IdentificationCode", namespaces=NS) or "").strip()
    return {k: v for k, v in address.items() if v}


def _write_party(
    parent: etree._Element,
    release: dict[str, Any],
    party_id: str,
    *,
    full: bool = True,
    address: bool = False,
    legal: bool = False,
    lenient: bool = False,
) -> None:
    ids = _party_ids(release, party_id, party_id, need_identifier=full, lenient=lenient)
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


def _read_party(el: etree._Element | None, release: dict[str, Any], role: str) -> str | None:
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


def _buyer_id(release: dict[str, Any], *, required: bool = True) -> str:
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


def _doc_meta(release: dict[str, Any], root: etree._Element, target: str) -> None:
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


def _base_release(root: etree._Element) -> dict[str, Any]:
    folder = (root.findtext("cbc:ContractFolderID", namespaces=NS) or "").strip()
    release: dict[str, Any] = {"initiationType": "tender"}
    if folder:
        release["tender"] = {"id": folder}
    return release


# ---------------------------------------------------------------- T004 CallForTenders


def _earliest_deadline(tender: dict[str, Any]) -> str | None:
    found = [
        str((lot.get("tenderPeriod") or {}).get("endDate"))
        for lot in tender.get("lots") or []
        if (lot.get("tenderPeriod") or {}).get("endDate")
    ]
    return min(found) if found else None


def build_t004(release: dict[str, Any], trace: engine.Trace | None = None) -> etree._ElementTree:
    """T004 CallForTenders for the tender stage of ``release``."""
    body = copy.deepcopy(release)
    tender = body.setdefault("tender", {})
    if not (tender.get("tenderPeriod") or {}).get("endDate"):
        deadline = _earliest_deadline(tender)
        if deadline:
            tender.setdefault("tenderPeriod", {})["endDate"] = deadline
    root = _root("t004")
    _header(root, body, "t004")
    cert = _peppol(body).get("encryptionCertificate")
    if cert:
        ref = new_child(root, "cac:AdditionalDocumentReference")
        new_child(ref, "cbc:ID", str(cert.get("id") or cert.get("fileName") or "encryption-certificate"))
        if cert.get("issueDate"):
            new_child(ref, "cbc:IssueDate", str(cert["issueDate"]))
        new_child(ref, "cbc:DocumentTypeCode", "PRO", listID=DOC_TYPE_LIST)
        if cert.get("statusCode"):
            new_child(ref, "cbc:DocumentStatusCode", str(cert["statusCode"]), listID=DOC_STATUS_LIST)
        ext = new_child(new_child(ref, "cac:Attachment"), "cac:ExternalReference")
        if cert.get("uri"):
            new_child(ext, "cbc:URI", str(cert["uri"]))
        if cert.get("mimeCode") or not cert.get("uri"):  # a cid: URI names the attachment already
            new_child(ext, "cbc:MimeCode", str(cert.get("mimeCode") or CERTIFICATE_MIME))
        if cert.get("fileName"):
            new_child(ext, "cbc:FileName", str(cert["fileName"]))
    lot_ids = [str(lot["id"]) for lot in tender.get("lots") or [] if isinstance(lot, dict) and lot.get("id")]
    for i, doc in enumerate(tender.get("documents") or []):
        written = _write_procurement_document(root, doc, _peppol(body), lot_ids)
        _mark(trace, written, f"tender.documents[{i}]")
    buyer = _buyer_id(body, required=False)
    party_el = new_child(new_child(root, "cac:ContractingParty"), "cac:Party")
    if buyer:  # without one the Party stays empty (XSD-valid) and PEPPOL-T004-R034 says what is missing
        _write_party(party_el, body, buyer, legal=True, lenient=True)
        _mark(trace, party_el, _party_path(release, buyer))
    else:
        _mark(trace, party_el, "buyer")
    _mark(trace, root.find("cbc:ContractFolderID", NS), "tender.id")
    terms = _peppol(body).get("tenderingTerms") or {}
    variants = (tender.get("submissionTerms") or {}).get("variantPolicy")
    if variants in VARIANT_POLICY:
        new_child(
            ensure_path(root, "cac:TenderingTerms"),
            "cbc:VariantConstraintIndicator",
            VARIANT_POLICY[variants],
        )
    if terms.get("additionalConditions"):
        new_child(
            ensure_path(root, "cac:TenderingTerms"),
            "cbc:AdditionalConditions",
            str(terms["additionalConditions"]),
        )
    recipient = ensure_path(root, "cac:TenderingTerms/cac:TenderRecipientParty")
    if _peppol(body).get("tenderRecipient") or buyer:
        _write_party(
            recipient, body, str(_peppol(body).get("tenderRecipient") or buyer), full=False, lenient=True
        )
    # a CFT business term set exists only for the lots, not the notice's eForms lot details
    lots_only = {
        "tender": {
            "lots": [
                {"id": lot["id"], **({"title": lot["title"]} if "title" in lot else {})}
                for lot in tender.get("lots") or []
                if lot.get("id")
            ]
        }
    }
    engine.write(
        {**body, "tender": {k: v for k, v in tender.items() if k != "lots"}},
        _notice_only(),
        root,
        trace=trace,
    )
    engine.write(lots_only, _lots_only(), root, trace=trace)
    if root.find("cac:ProcurementProject", NS) is None:
        raise MappingError("tender.title is required (cac:ProcurementProject)", "tender.title")
    if root.find("cac:TenderingProcess/cbc:ProcedureCode", NS) is None:
        # PEPPOL-T004-R037 needs a procedure code; a procedure without an eForms code is "other"
        new_child(ensure_path(root, "cac:TenderingProcess"), "cbc:ProcedureCode", DEFAULT_PROCEDURE_CODE)
    return etree.ElementTree(root)


def _mark(trace: engine.Trace | None, el: etree._Element | None, path: str) -> None:
    """Record in ``trace`` (when asked for) that ``el`` was written from OCDS ``path``."""
    if trace is not None and el is not None:
        trace.setdefault(el, path)


def _party_path(release: dict[str, Any], party_id: str) -> str:
    index = next((i for i, p in enumerate(release.get("parties") or []) if p.get("id") == party_id), None)
    return f"parties[{index}]" if index is not None else f"platform.peppol.parties.{party_id}"


def _notice_only() -> Any:
    spec = load_spec("peppol-t004")
    return type(spec)(spec.name, spec.tables, tuple(s for s in spec.scopes if s.name == "notice"), spec.rules)


def _lots_only() -> Any:
    spec = load_spec("peppol-t004")
    return type(spec)(spec.name, spec.tables, tuple(s for s in spec.scopes if s.name == "lot"), spec.rules)


def read_t004(root: etree._Element) -> dict[str, Any]:
    release = engine.read(root, load_spec("peppol-t004"))
    _doc_meta(release, root, "t004")
    buyer = _read_party(root.find("cac:ContractingParty/cac:Party", NS), release, "buyer")
    if buyer:
        release["buyer"] = {"id": buyer}
    release.setdefault("tag", ["tender"])
    release.setdefault("initiationType", "tender")
    _read_tender_recipient(root, release, buyer)
    variants = (
        root.findtext("cac:TenderingTerms/cbc:VariantConstraintIndicator", namespaces=NS) or ""
    ).strip()
    policy = next((k for k, v in VARIANT_POLICY.items() if v == variants), None)
    if policy:
        release.setdefault("tender", {}).setdefault("submissionTerms", {})["variantPolicy"] = policy
    conditions = (root.findtext("cac:TenderingTerms/cbc:AdditionalConditions", namespaces=NS) or "").strip()
    if conditions:  # WOS/WAS/WQS (PEPPOL-T004-R033): no OCDS home
        peppol = release.setdefault("platform", {}).setdefault("peppol", {})
        peppol.setdefault("tenderingTerms", {})["additionalConditions"] = conditions
    for ref in root.findall("cac:AdditionalDocumentReference", NS):
        if not _is_certificate(ref):
            _read_procurement_document(ref, release)
            continue
        cert: dict[str, Any] = {"id": (ref.findtext("cbc:ID", namespaces=NS) or "").strip()}
        for tag, key in (
            ("cac:Attachment/cac:ExternalReference/cbc:URI", "uri"),
            ("cac:Attachment/cac:ExternalReference/cbc:MimeCode", "mimeCode"),
            ("cac:Attachment/cac:ExternalReference/cbc:FileName", "fileName"),
            ("cbc:IssueDate", "issueDate"),
            ("cbc:DocumentStatusCode", "statusCode"),
        ):
            val = ref.findtext(tag, namespaces=NS)
            if val:
                cert[key] = val.strip()
        release.setdefault("platform", {}).setdefault("peppol", {})["encryptionCertificate"] = cert
    return release


#: OCDS for eForms ``submissionTerms.variantPolicy`` <-> ``cbc:VariantConstraintIndicator`` (BT-63).
VARIANT_POLICY: Final = {"allowed": "true", "notAllowed": "false"}
#: T004 ``AdditionalDocumentReference`` type codes: a document the buyer provides / requires.
PROVIDED: Final = "PRO"
REQUIRED: Final = "REQ"


def _write_procurement_document(
    root: etree._Element, doc: dict[str, Any], peppol: dict[str, Any], lot_ids: list[str]
) -> etree._Element | None:
    """A procurement document of the tender as a T004 ``AdditionalDocumentReference``.

    Peppol-only facts (type PRO/REQ, status, issue date and version as written) are kept per document id
    in ``platform.peppol.documentReferences``; a provided document needs a URL or a file name
    (PEPPOL-T004-R035), a required one is only named (S317). The ``DocumentDescription`` of a provided
    document is the lot it belongs to (PEPPOL-T004-R030: a lot identifier of the call for tenders):
    the first of its ``relatedLots`` among the T004's lots, none for a document of the whole tender.
    """
    if not isinstance(doc, dict) or not doc.get("id"):
        return None
    kept = (peppol.get("documentReferences") or {}).get(str(doc["id"])) or {}
    code = str(kept.get("typeCode") or PROVIDED)
    if code == PROVIDED and not (doc.get("url") or doc.get("fileName")):
        return None
    ref = new_child(root, "cac:AdditionalDocumentReference")
    new_child(ref, "cbc:ID", str(doc["id"]))
    new_child(ref, "cbc:DocumentTypeCode", code, listID=DOC_TYPE_LIST)
    if kept.get("statusCode"):
        new_child(ref, "cbc:DocumentStatusCode", str(kept["statusCode"]), listID=DOC_STATUS_LIST)
    if code == REQUIRED:
        return ref
    if kept.get("issueDate"):
        new_child(ref, "cbc:IssueDate", str(kept["issueDate"]))
    if doc.get("language"):
        new_child(ref, "cbc:LocaleCode", str(doc["language"]), listID="ISO639-1")
    if kept.get("versionId"):
        new_child(ref, "cbc:VersionID", str(kept["versionId"]))
    lot = next((str(x) for x in doc.get("relatedLots") or [] if str(x) in lot_ids), None)
    if lot:
        new_child(ref, "cbc:DocumentDescription", lot)
    ext = new_child(new_child(ref, "cac:Attachment"), "cac:ExternalReference")
    for key, tag in (("url", "cbc:URI"), ("format", "cbc:MimeCode"), ("fileName", "cbc:FileName")):
        if doc.get(key):
            new_child(ext, tag, str(doc[key]))
    return ref


def _read_procurement_document(ref: etree._Element, release: dict[str, Any]) -> None:
    ext = "cac:Attachment/cac:ExternalReference/"
    doc: dict[str, Any] = {"id": (ref.findtext("cbc:ID", namespaces=NS) or "").strip()}
    for tag, key in (
        ("cbc:DocumentDescription", "description"),
        ("cbc:LocaleCode", "language"),
        (f"{ext}cbc:URI", "url"),
        (f"{ext}cbc:MimeCode", "format"),
        (f"{ext}cbc:FileName", "fileName"),
    ):
        val = ref.findtext(tag, namespaces=NS)
        if val and val.strip():
            doc[key] = val.strip()
    lots = {
        (e.text or "").strip()
        for e in ref.getroottree().getroot().findall("cac:ProcurementProjectLot/cbc:ID", NS)
    }
    if doc.get("description") in lots:  # PEPPOL-T004-R030: the description names the document's lot
        doc["relatedLots"] = [doc.pop("description")]
    kept = {
        key: (ref.findtext(tag, namespaces=NS) or "").strip()
        for tag, key in (
            ("cbc:DocumentTypeCode", "typeCode"),
            ("cbc:DocumentStatusCode", "statusCode"),
            ("cbc:IssueDate", "issueDate"),
            ("cbc:VersionID", "versionId"),
        )
    }
    release.setdefault("tender", {}).setdefault("documents", []).append(doc)
    peppol = release.setdefault("platform", {}).setdefault("peppol", {})
    peppol.setdefault("documentReferences", {})[doc["id"]] = {k: v for k, v in kept.items() if v}


def _is_certificate(ref: etree._Element) -> bool:
    """True for the ``AdditionalDocumentReference`` of the buyer's encryption certificate."""
    ext = "cac:Attachment/cac:ExternalReference/"
    if (ref.findtext(f"{ext}cbc:MimeCode", namespaces=NS) or "").strip() == CERTIFICATE_MIME:
        return True
    names = (ref.findtext(t, namespaces=NS) for t in ("cbc:ID", f"{ext}cbc:URI", f"{ext}cbc:FileName"))
    return any((n or "").strip().lower().endswith(CERTIFICATE_SUFFIXES) for n in names)


def _read_tender_recipient(root: etree._Element, release: dict[str, Any], buyer: str | None) -> None:
    """``TenderRecipientParty``: kept as ``platform.peppol.tenderRecipient`` unless it is the buyer."""
    endpoint = root.find("cac:TenderingTerms/cac:TenderRecipientParty/cbc:EndpointID", NS)
    if endpoint is None:
        return
    ids = {"scheme": endpoint.get("schemeID", ""), "id": (endpoint.text or "").strip()}
    peppol = release.setdefault("platform", {}).setdefault("peppol", {})
    known = peppol.setdefault("parties", {})
    if buyer and (known.get(buyer) or {}).get("endpoint") == ids:
        return
    recipient = f"{ids['scheme']}:{ids['id']}"
    known.setdefault(recipient, {})["endpoint"] = ids
    peppol["tenderRecipient"] = recipient


# ---------------------------------------------------------------- T005 Tender


def _bid(release: dict[str, Any], bid_id: str | None) -> dict[str, Any]:
    bids = (release.get("bids") or {}).get("details") or []
    for bid in bids:
        if bid_id is None or bid.get("id") == bid_id:
            found: dict[str, Any] = bid
            return found
    if not bids:
        raise MappingError("the release has no bid (bids.details is empty)", "bids.details")
    raise MappingError(f"no bid {bid_id!r} in bids.details", "bids.details")


def build_t005(release: dict[str, Any], bid_id: str | None = None) -> etree._ElementTree:
    """T005 Tender for one bid of ``release`` (``bids.details[]``; default the first)."""
    bid = _bid(release, bid_id)
    root = _root("t005")
    _header(root, release, "t005")
    cft = _peppol(release).get("callForTendersId") or (
        (_peppol(release).get("documents") or {}).get("t004") or {}
    )
    cft_id = cft if isinstance(cft, str) else cft.get("uuid")
    if cft_id:
        ref = new_child(root, "cac:DocumentReference")
        new_child(ref, "cbc:ID", str(cft_id))
        new_child(ref, "cbc:DocumentTypeCode", CFT_REFERENCE_CODE, listID=UNCL1001)
        # the reference as the tenderer wrote it (locale, version, description), when known
        details = _peppol(release).get("callForTendersReference") or {}
        if details.get("locale"):
            new_child(ref, "cbc:LocaleCode", str(details["locale"]), listID="ISO639-1")
        if details.get("versionId"):
            new_child(ref, "cbc:VersionID", str(details["versionId"]))
        if details.get("description"):
            new_child(ref, "cbc:DocumentDescription", str(details["description"]))
    for i, doc in enumerate(bid.get("documents") or []):
        _write_doc_reference(new_child(root, "cac:DocumentReference"), doc, f"bids.details[].documents[{i}]")
    tenderers = bid.get("tenderers") or []
    if not tenderers:
        raise MappingError("the bid needs a tenderer", "bids.details[].tenderers")
    _write_party(
        new_child(root, "cac:TendererParty"), release, str(tenderers[0]["id"]), address=True, legal=True
    )
    _write_party(new_child(new_child(root, "cac:ContractingParty"), "cac:Party"), release, _buyer_id(release))
    project = new_child(root, "cac:TenderedProject")
    for lot in bid.get("relatedLots") or ["NA"]:
        new_child(new_child(project, "cac:ProcurementProjectLot"), "cbc:ID", str(lot))
    return etree.ElementTree(root)


def _write_doc_reference(ref: etree._Element, doc: dict[str, Any], path: str) -> None:
    if not doc.get("id"):
        raise MappingError("document id is required", f"{path}.id")
    new_child(ref, "cbc:ID", str(doc["id"]))
    new_child(
        ref, "cbc:DocumentTypeCode", str(doc.get("documentTypeCode") or TENDER_DOCUMENT_CODE), listID=UNCL1001
    )
    if doc.get("description") or doc.get("title"):
        new_child(ref, "cbc:DocumentDescription", str(doc.get("description") or doc.get("title")))
    ext = new_child(new_child(ref, "cac:Attachment"), "cac:ExternalReference")
    digest = doc.get("hash") or {}
    if not digest.get("value"):
        raise MappingError(
            "document hash is required (tender documents are referenced by hash)", f"{path}.hash"
        )
    if doc.get("url"):
        new_child(ext, "cbc:URI", str(doc["url"]))
    new_child(ext, "cbc:DocumentHash", str(digest["value"]))
    algorithm = str(digest.get("algorithm") or "SHA-256")
    new_child(ext, "cbc:HashAlgorithmMethod", HASH_ALGORITHMS.get(algorithm, algorithm))
    if doc.get("format"):
        new_child(ext, "cbc:MimeCode", str(doc["format"]))
    if doc.get("fileName"):
        new_child(ext, "cbc:FileName", str(doc["fileName"]))


def _read_doc_reference(ref: etree._Element) -> dict[str, Any]:
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
        for tag, key in (("cbc:URI", "url"), ("cbc:MimeCode", "format"), ("cbc:FileName", "fileName")):
            val = ext.findtext(tag, namespaces=NS)
            if val:
                doc[key] = val.strip()
    return doc


def read_t005(root: etree._Element) -> dict[str, Any]:
    release = _base_release(root)
    _doc_meta(release, root, "t005")
    bid: dict[str, Any] = {"id": (root.findtext("cbc:ID", namespaces=NS) or "").strip(), "documents": []}
    for ref in root.findall("cac:DocumentReference", NS):
        if (ref.findtext("cbc:DocumentTypeCode", namespaces=NS) or "").strip() == CFT_REFERENCE_CODE:
            peppol = release.setdefault("platform", {}).setdefault("peppol", {})
            peppol["callForTendersId"] = (ref.findtext("cbc:ID", namespaces=NS) or "").strip()
            details = {
                key: (ref.findtext(tag, namespaces=NS) or "").strip()
                for tag, key in (
                    ("cbc:LocaleCode", "locale"),
                    ("cbc:VersionID", "versionId"),
                    ("cbc:DocumentDescription", "description"),
                )
            }
            if any(details.values()):
                peppol["callForTendersReference"] = {k: v for k, v in details.items() if v}
            continue
        bid["documents"].append(_read_doc_reference(ref))
    tenderer = _read_party(root.find("cac:TendererParty", NS), release, "tenderer")
    if tenderer:
        bid["tenderers"] = [{"id": tenderer}]
    buyer = _read_party(root.find("cac:ContractingParty/cac:Party", NS), release, "buyer")
    if buyer:
        release["buyer"] = {"id": buyer}
    lots = [
        (e.text or "").strip()
        for e in root.findall("cac:TenderedProject/cac:ProcurementProjectLot/cbc:ID", NS)
    ]
    if lots and lots != ["NA"]:
        bid["relatedLots"] = lots
    release["bids"] = {"details": [bid]}
    release.setdefault("tag", ["tender"])
    return release


# ---------------------------------------------------------------- T006 TenderReceipt


def build_t006(release: dict[str, Any], bid_id: str | None = None) -> etree._ElementTree:
    """T006 TenderReceipt acknowledging one bid (``platform.peppol.receipt`` gives the registration time)."""
    receipt = _peppol(release).get("receipt") or {}
    bid = _bid(release, bid_id or receipt.get("bidId"))
    root = _root("t006")
    _header(root, release, "t006")
    registered = receipt.get("registeredDate"), receipt.get("registeredTime")
    if not all(registered):
        stamp = str(bid.get("date") or "")
        if len(stamp) < 19:
            raise MappingError("bid date (registration time) is required", "bids.details[].date")
        registered = (stamp[:10], stamp[11:19] + (stamp[19:] or "Z"))
    new_child(root, "cbc:RegisteredDate", str(registered[0]))
    new_child(root, "cbc:RegisteredTime", str(registered[1]))
    # other documents received with the tender (e.g. the envelope, UNCL1001 13), as they were read
    for other in receipt.get("otherDocuments") or []:
        _write_receipt_reference(root, other)
    # the receipt references the Tender document (its T005 UUID) and, when known, the hash of it
    _write_receipt_reference(
        root,
        {
            "id": bid["id"],
            "documentTypeCode": TENDER_DOCUMENT_CODE,
            "hash": receipt.get("tenderHash") or {},
            "issuer": receipt.get("issuer"),
        },
    )
    _write_party(new_child(root, "cac:SenderParty"), release, _buyer_id(release))
    tenderers = bid.get("tenderers") or []
    if not tenderers:
        raise MappingError("the bid needs a tenderer", "bids.details[].tenderers")
    _write_party(new_child(root, "cac:ReceiverParty"), release, str(tenderers[0]["id"]))
    return etree.ElementTree(root)


def _write_receipt_reference(root: etree._Element, doc: dict[str, Any]) -> None:
    ref = new_child(root, "cac:TenderDocumentReference")
    new_child(ref, "cbc:ID", str(doc["id"]), schemeURI="urn:uuid")
    new_child(
        ref, "cbc:DocumentTypeCode", str(doc.get("documentTypeCode") or TENDER_DOCUMENT_CODE), listID=UNCL1001
    )
    digest = doc.get("hash") or {}
    if digest.get("value"):
        ext = new_child(new_child(ref, "cac:Attachment"), "cac:ExternalReference")
        new_child(ext, "cbc:DocumentHash", str(digest["value"]))
        algorithm = str(digest.get("algorithm") or "SHA-256")
        new_child(ext, "cbc:HashAlgorithmMethod", HASH_ALGORITHMS.get(algorithm, algorithm))
    issuer = doc.get("issuer") or {}
    if issuer.get("id"):
        new_child(
            new_child(ref, "cac:IssuerParty"),
            "cbc:EndpointID",
            str(issuer["id"]),
            schemeID=str(issuer.get("scheme", "")),
        )


def _read_receipt_reference(ref: etree._Element) -> dict[str, Any]:
    doc = _read_doc_reference(ref)
    doc["documentTypeCode"] = (ref.findtext("cbc:DocumentTypeCode", namespaces=NS) or "").strip()
    issuer = ref.find("cac:IssuerParty/cbc:EndpointID", NS)
    if issuer is not None:
        doc["issuer"] = {"scheme": issuer.get("schemeID", ""), "id": (issuer.text or "").strip()}
    return doc


def read_t006(root: etree._Element) -> dict[str, Any]:
    release = _base_release(root)
    _doc_meta(release, root, "t006")
    date = (root.findtext("cbc:RegisteredDate", namespaces=NS) or "").strip()
    time = (root.findtext("cbc:RegisteredTime", namespaces=NS) or "").strip()
    docs = [_read_receipt_reference(r) for r in root.findall("cac:TenderDocumentReference", NS)]
    # the Tender is the reference of type 310 (other references: e.g. the envelope it came in)
    tender_doc = next(
        (d for d in docs if d["documentTypeCode"] == TENDER_DOCUMENT_CODE), docs[0] if docs else {}
    )
    bid: dict[str, Any] = {"id": tender_doc.get("id", "")}
    if date and time:
        bid["date"] = f"{date}T{time}"
    buyer = _read_party(root.find("cac:SenderParty", NS), release, "buyer")
    if buyer:
        release["buyer"] = {"id": buyer}
    tenderer = _read_party(root.find("cac:ReceiverParty", NS), release, "tenderer")
    if tenderer:
        bid["tenderers"] = [{"id": tenderer}]
    release["bids"] = {"details": [bid]}
    receipt: dict[str, Any] = {"bidId": bid["id"], "registeredDate": date, "registeredTime": time}
    if "hash" in tender_doc:
        receipt["tenderHash"] = tender_doc["hash"]
    if tender_doc.get("issuer"):
        receipt["issuer"] = tender_doc["issuer"]
    others = [
        {k: v for k, v in d.items() if k in ("id", "documentTypeCode", "hash", "issuer")}
        for d in docs
        if d is not tender_doc
    ]
    if others:
        receipt["otherDocuments"] = others
    release.setdefault("platform", {}).setdefault("peppol", {})["receipt"] = receipt
    release.setdefault("tag", ["tender"])
    return release


# ---------------------------------------------------------------- T018 ApplicationResponse


def build_t018(release: dict[str, Any]) -> etree._ElementTree:
    """T018 ApplicationResponse described by ``platform.peppol.response``."""
    response = _peppol(release).get("response") or {}
    for key in ("code", "documentId", "sender", "receiver"):
        if not response.get(key):
            raise MappingError(f"{key} is required", f"platform.peppol.response.{key}")
    root = _root("t018")
    _header(root, release, "t018", folder=False)
    _write_party(new_child(root, "cac:SenderParty"), release, str(response["sender"]), full=False)
    _write_party(new_child(root, "cac:ReceiverParty"), release, str(response["receiver"]), full=False)
    doc_response = new_child(root, "cac:DocumentResponse")
    resp = new_child(doc_response, "cac:Response")
    new_child(resp, "cbc:ResponseCode", str(response["code"]))
    if response.get("description"):
        new_child(resp, "cbc:Description", str(response["description"]))
    ref = new_child(doc_response, "cac:DocumentReference")
    new_child(ref, "cbc:ID", str(response["documentId"]))
    if response.get("documentTypeCode"):
        new_child(ref, "cbc:DocumentTypeCode", str(response["documentTypeCode"]))
    for i, line in enumerate(response.get("lines") or []):
        if not isinstance(line, dict) or not line.get("lineId") or not line.get("code"):
            raise MappingError(
                "a line response needs lineId and code", f"platform.peppol.response.lines[{i}]"
            )
        line_el = new_child(doc_response, "cac:LineResponse")
        new_child(new_child(line_el, "cac:LineReference"), "cbc:LineID", str(line["lineId"]))
        line_resp = new_child(line_el, "cac:Response")
        new_child(line_resp, "cbc:ResponseCode", str(line["code"]))
        if line.get("description"):
            new_child(line_resp, "cbc:Description", str(line["description"]))
        if line.get("statusReasonCode"):
            new_child(
                new_child(line_resp, "cac:Status"), "cbc:StatusReasonCode", str(line["statusReasonCode"])
            )
    return etree.ElementTree(root)


def read_t018(root: etree._Element) -> dict[str, Any]:
    release: dict[str, Any] = {"initiationType": "tender", "tag": ["tender"]}
    _doc_meta(release, root, "t018")
    sender = _read_party(root.find("cac:SenderParty", NS), release, "sender")
    receiver = _read_party(root.find("cac:ReceiverParty", NS), release, "receiver")
    resp = root.find("cac:DocumentResponse", NS)
    out: dict[str, Any] = {"sender": sender, "receiver": receiver}
    if resp is not None:
        for tag, key in (
            ("cac:Response/cbc:ResponseCode", "code"),
            ("cac:Response/cbc:Description", "description"),
            ("cac:DocumentReference/cbc:ID", "documentId"),
            ("cac:DocumentReference/cbc:DocumentTypeCode", "documentTypeCode"),
        ):
            val = resp.findtext(tag, namespaces=NS)
            if val:
                out[key] = val.strip()
        lines = []
        for line_el in resp.findall("cac:LineResponse", NS):
            line = {
                key: (line_el.findtext(tag, namespaces=NS) or "").strip()
                for tag, key in (
                    ("cac:LineReference/cbc:LineID", "lineId"),
                    ("cac:Response/cbc:ResponseCode", "code"),
                    ("cac:Response/cbc:Description", "description"),
                    ("cac:Response/cac:Status/cbc:StatusReasonCode", "statusReasonCode"),
                )
            }
            lines.append({k: v for k, v in line.items() if v})
        if lines:  # what was wrong, line by line (a rejection's reasons)
            out["lines"] = lines
    release.setdefault("platform", {}).setdefault("peppol", {})["response"] = out
    return release


# ---------------------------------------------------------------- dispatch

_BUILDERS: Final = {"t005": build_t005, "t006": build_t006, "t018": build_t018}
_READERS: Final = {"t004": read_t004, "t005": read_t005, "t006": read_t006, "t018": read_t018}


def build_tree(
    release: dict[str, Any], target: PeppolTarget, trace: engine.Trace | None = None
) -> etree._ElementTree:
    """Peppol document ``target`` for ``release``; ``trace`` as in :func:`mappings.engine.write`."""
    if target == "t004":
        return build_t004(release, trace)
    tree = _BUILDERS[target](release)
    if trace is not None:
        root = tree.getroot()
        _mark(trace, root.find("cbc:ContractFolderID", NS), "tender.id")
        _mark(trace, root.find("cbc:IssueDate", NS), "date")
        if target == "t018":
            _mark(trace, root.find("cac:DocumentResponse", NS), "platform.peppol.response")
            for i, line in enumerate(root.findall("cac:DocumentResponse/cac:LineResponse", NS)):
                _mark(trace, line, f"platform.peppol.response.lines[{i}]")
        else:
            _trace_bid_document(release, root, target, trace)
    return tree


def _trace_bid_document(
    release: dict[str, Any], root: etree._Element, target: str, trace: engine.Trace
) -> None:
    """T005/T006: elements written from a bid, its documents and its parties."""
    bids = (release.get("bids") or {}).get("details") or []
    wanted = ((_peppol(release).get("receipt") or {}).get("bidId")) if target == "t006" else None
    index = next((i for i, b in enumerate(bids) if isinstance(b, dict) and b.get("id") == wanted), 0)
    path = f"bids.details[{index}]"
    _mark(trace, root, path)
    docs = (bids[index].get("documents") or []) if bids and isinstance(bids[index], dict) else []
    for ref in root.findall("cac:DocumentReference", NS):
        ref_id = ref.findtext("cbc:ID", namespaces=NS)
        j = next((j for j, d in enumerate(docs) if isinstance(d, dict) and str(d.get("id")) == ref_id), None)
        _mark(trace, ref, f"{path}.documents[{j}]" if j is not None else "platform.peppol.callForTendersId")
    for ref in root.findall("cac:TenderDocumentReference", NS):
        _mark(trace, ref, path)
    tenderer = root.find("cac:TendererParty", NS) if target == "t005" else root.find("cac:ReceiverParty", NS)
    buyer = (
        root.find("cac:ContractingParty/cac:Party", NS)
        if target == "t005"
        else root.find("cac:SenderParty", NS)
    )
    tenderers = (bids[index].get("tenderers") or []) if bids and isinstance(bids[index], dict) else []
    if tenderers and isinstance(tenderers[0], dict):
        _mark(trace, tenderer, _party_path(release, str(tenderers[0].get("id"))))
    buyer_id = (release.get("buyer") or {}).get("id")
    if buyer_id:
        _mark(trace, buyer, _party_path(release, str(buyer_id)))


def build_document(release: dict[str, Any], target: PeppolTarget) -> bytes:
    """Serialised Peppol document ``target`` for ``release``."""
    return serialise(build_tree(release, target))


def serialise(tree: etree._ElementTree) -> bytes:
    """UTF-8 bytes with an XML declaration, as every builder writes them."""
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def read_document(data: bytes) -> dict[str, Any]:
    """OCDS release for a Peppol T004/T005/T006/T018 document."""
    root = parse_bytes(data).getroot()
    target = TARGET_OF_ROOT.get(etree.QName(root).localname)
    if target is None:
        raise MappingError(f"not a supported Peppol pre-award document: {etree.QName(root).localname}", "/*")
    reader = _READERS[target]
    release: dict[str, Any] = reader(root)
    _identify(release, target)
    return release


def _identify(release: dict[str, Any], target: str) -> None:
    """Give a read document's release the OCDS ``ocid`` and ``id`` the platform model requires.

    The ocid is the procedure's (``cbc:ContractFolderID``; a T018 has none, so its own id is used),
    the release id names the document (``t005-<uuid>``), so releases of several documents of one
    procedure do not collide.
    """
    meta = ((release.get("platform") or {}).get("peppol") or {}).get("documents", {}).get(target) or {}
    doc_id = str(meta.get("uuid") or "") or str(uuid.uuid4())
    folder = str((release.get("tender") or {}).get("id") or "") or doc_id
    release.setdefault("ocid", f"{OCID_PREFIX}-{folder}")
    release.setdefault("id", f"{target}-{doc_id}")
