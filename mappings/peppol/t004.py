"""T004 ``CallForTenders`` <-> the tender stage of an OCDS release (fields through ``specs/peppol-t004.yaml``,
the rest here: header, buyer, tender recipient, procurement documents, encryption certificate)."""

from __future__ import annotations

import copy
from typing import Any, Final

from lxml import etree

from mappings import engine
from mappings.errors import MappingError
from mappings.peppol import common
from mappings.spec import load_spec
from mappings.xmlbuild import ensure_path, new_child
from mappings.xmlns import NS

DOC_TYPE_LIST: Final = "urn:eu:esens:cenbii:documentType"
DOC_STATUS_LIST: Final = "urn:eu:esens:cenbii:documentStatusType"
#: File name endings of a certificate (a T004 ``AdditionalDocumentReference`` naming one is the
#: buyer's tender-encryption certificate, as in the BIS example ``cid:tenderenckey.cer``).
CERTIFICATE_SUFFIXES: Final = (".cer", ".crt", ".der", ".pem")
CERTIFICATE_MIME: Final = "application/pkix-cert"
#: eForms procedure type written when the release's procedure has no eForms code (e.g. French MAPA).
DEFAULT_PROCEDURE_CODE: Final = "oth-single"
#: OCDS for eForms ``submissionTerms.variantPolicy`` <-> ``cbc:VariantConstraintIndicator`` (BT-63).
VARIANT_POLICY: Final = {"allowed": "true", "notAllowed": "false"}
#: T004 ``AdditionalDocumentReference`` type codes: a document the buyer provides / requires.
PROVIDED: Final = "PRO"
REQUIRED: Final = "REQ"


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
    root = common.new_root("t004")
    common.write_header(root, body, "t004")
    cert = common.extension(body).get("encryptionCertificate")
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
        written = _write_procurement_document(root, doc, common.extension(body), lot_ids)
        common.mark(trace, written, f"tender.documents[{i}]")
    buyer = common.buyer_party_id(body, required=False)
    party_el = new_child(new_child(root, "cac:ContractingParty"), "cac:Party")
    if buyer:  # without one the Party stays empty (XSD-valid) and PEPPOL-T004-R034 says what is missing
        common.write_party(party_el, body, buyer, legal=True, lenient=True)
        common.mark(trace, party_el, common.party_path(release, buyer))
    else:
        common.mark(trace, party_el, "buyer")
    common.mark(trace, root.find("cbc:ContractFolderID", NS), "tender.id")
    terms = common.extension(body).get("tenderingTerms") or {}
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
    if common.extension(body).get("tenderRecipient") or buyer:
        common.write_party(
            recipient,
            body,
            str(common.extension(body).get("tenderRecipient") or buyer),
            full=False,
            lenient=True,
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


def _notice_only() -> Any:
    spec = load_spec("peppol-t004")
    return type(spec)(spec.name, spec.tables, tuple(s for s in spec.scopes if s.name == "notice"), spec.rules)


def _lots_only() -> Any:
    spec = load_spec("peppol-t004")
    return type(spec)(spec.name, spec.tables, tuple(s for s in spec.scopes if s.name == "lot"), spec.rules)


def read_t004(root: etree._Element) -> dict[str, Any]:
    release = engine.read(root, load_spec("peppol-t004"))
    common.read_doc_meta(release, root, "t004")
    buyer = common.read_party(root.find("cac:ContractingParty/cac:Party", NS), release, "buyer")
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
        cert.update(
            common.found_texts(
                ref,
                (
                    ("cac:Attachment/cac:ExternalReference/cbc:URI", "uri"),
                    ("cac:Attachment/cac:ExternalReference/cbc:MimeCode", "mimeCode"),
                    ("cac:Attachment/cac:ExternalReference/cbc:FileName", "fileName"),
                    ("cbc:IssueDate", "issueDate"),
                    ("cbc:DocumentStatusCode", "statusCode"),
                ),
            )
        )
        release.setdefault("platform", {}).setdefault("peppol", {})["encryptionCertificate"] = cert
    return release


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
    kept = common.texts(
        ref,
        (
            ("cbc:DocumentTypeCode", "typeCode"),
            ("cbc:DocumentStatusCode", "statusCode"),
            ("cbc:IssueDate", "issueDate"),
            ("cbc:VersionID", "versionId"),
        ),
    )
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
