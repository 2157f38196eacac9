"""T006 ``TenderReceipt`` (the buyer's proof of reception of a bid) <-> OCDS."""

from __future__ import annotations

from typing import Any

from lxml import etree

from mappings.errors import MappingError
from mappings.peppol import common
from mappings.xmlbuild import new_child
from mappings.xmlns import NS


def build_t006(release: dict[str, Any], bid_id: str | None = None) -> etree._ElementTree:
    """T006 TenderReceipt acknowledging one bid (``platform.peppol.receipt`` gives the registration time)."""
    receipt = common.extension(release).get("receipt") or {}
    bid = common.find_bid(release, bid_id or receipt.get("bidId"))
    root = common.new_root("t006")
    common.write_header(root, release, "t006")
    registered = receipt.get("registeredDate"), receipt.get("registeredTime")
    if not all(registered):
        stamp = str(bid.get("date") or "")
        if len(stamp) < 19:
            raise MappingError("bid date (registration time) is required", "bids.details[].date")
        registered = (stamp[:10], stamp[11:19] + (stamp[19:] or "Z"))
    new_child(root, "cbc:RegisteredDate", str(registered[0]))
    new_child(root, "cbc:RegisteredTime", str(registered[1]))
    # other documents received with the tender (e.g. the envelope, common.UNCL1001 13), as they were read
    for other in receipt.get("otherDocuments") or []:
        _write_receipt_reference(root, other)
    # the receipt references the Tender document (its T005 UUID) and, when known, the hash of it
    _write_receipt_reference(
        root,
        {
            "id": bid["id"],
            "documentTypeCode": common.TENDER_DOCUMENT_CODE,
            "hash": receipt.get("tenderHash") or {},
            "issuer": receipt.get("issuer"),
        },
    )
    common.write_party(new_child(root, "cac:SenderParty"), release, common.buyer_party_id(release))
    tenderers = bid.get("tenderers") or []
    if not tenderers:
        raise MappingError("the bid needs a tenderer", "bids.details[].tenderers")
    common.write_party(new_child(root, "cac:ReceiverParty"), release, str(tenderers[0]["id"]))
    return etree.ElementTree(root)


def _write_receipt_reference(root: etree._Element, doc: dict[str, Any]) -> None:
    ref = new_child(root, "cac:TenderDocumentReference")
    new_child(ref, "cbc:ID", str(doc["id"]), schemeURI="urn:uuid")
    new_child(
        ref,
        "cbc:DocumentTypeCode",
        str(doc.get("documentTypeCode") or common.TENDER_DOCUMENT_CODE),
        listID=common.UNCL1001,
    )
    digest = doc.get("hash") or {}
    if digest.get("value"):
        ext = new_child(new_child(ref, "cac:Attachment"), "cac:ExternalReference")
        new_child(ext, "cbc:DocumentHash", str(digest["value"]))
        algorithm = str(digest.get("algorithm") or "SHA-256")
        new_child(ext, "cbc:HashAlgorithmMethod", common.HASH_ALGORITHMS.get(algorithm, algorithm))
    issuer = doc.get("issuer") or {}
    if issuer.get("id"):
        new_child(
            new_child(ref, "cac:IssuerParty"),
            "cbc:EndpointID",
            str(issuer["id"]),
            schemeID=str(issuer.get("scheme", "")),
        )


def _read_receipt_reference(ref: etree._Element) -> dict[str, Any]:
    doc = common.read_doc_reference(ref)
    doc["documentTypeCode"] = (ref.findtext("cbc:DocumentTypeCode", namespaces=NS) or "").strip()
    issuer = ref.find("cac:IssuerParty/cbc:EndpointID", NS)
    if issuer is not None:
        doc["issuer"] = {"scheme": issuer.get("schemeID", ""), "id": (issuer.text or "").strip()}
    return doc


def read_t006(root: etree._Element) -> dict[str, Any]:
    release = common.base_release(root)
    common.read_doc_meta(release, root, "t006")
    date = (root.findtext("cbc:RegisteredDate", namespaces=NS) or "").strip()
    time = (root.findtext("cbc:RegisteredTime", namespaces=NS) or "").strip()
    docs = [_read_receipt_reference(r) for r in root.findall("cac:TenderDocumentReference", NS)]
    # the Tender is the reference of type 310 (other references: e.g. the envelope it came in)
    tender_doc = next(
        (d for d in docs if d["documentTypeCode"] == common.TENDER_DOCUMENT_CODE), docs[0] if docs else {}
    )
    bid: dict[str, Any] = {"id": tender_doc.get("id", "")}
    if date and time:
        bid["date"] = f"{date}T{time}"
    buyer = common.read_party(root.find("cac:SenderParty", NS), release, "buyer")
    if buyer:
        release["buyer"] = {"id": buyer}
    tenderer = common.read_party(root.find("cac:ReceiverParty", NS), release, "tenderer")
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
