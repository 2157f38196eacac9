"""T005 ``Tender`` (a bid: ``bids.details[]``, its document references with hashes; encrypted ``.p7m``
attachments are referenced, never opened) <-> OCDS."""

from __future__ import annotations

from typing import Any, Final

from lxml import etree

from mappings.errors import MappingError
from mappings.peppol import common
from mappings.xmlbuild import new_child
from mappings.xmlns import NS

#: common.UNCL1001 code of the reference to the call for tenders (T004) a tender answers.
CFT_REFERENCE_CODE: Final = "311"


def build_t005(release: dict[str, Any], bid_id: str | None = None) -> etree._ElementTree:
    """T005 Tender for one bid of ``release`` (``bids.details[]``; default the first)."""
    bid = common.find_bid(release, bid_id)
    root = common.new_root("t005")
    common.write_header(root, release, "t005")
    cft = common.extension(release).get("callForTendersId") or (
        (common.extension(release).get("documents") or {}).get("t004") or {}
    )
    cft_id = cft if isinstance(cft, str) else cft.get("uuid")
    if cft_id:
        ref = new_child(root, "cac:DocumentReference")
        new_child(ref, "cbc:ID", str(cft_id))
        new_child(ref, "cbc:DocumentTypeCode", CFT_REFERENCE_CODE, listID=common.UNCL1001)
        # the reference as the tenderer wrote it (locale, version, description), when known
        details = common.extension(release).get("callForTendersReference") or {}
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
    common.write_party(
        new_child(root, "cac:TendererParty"), release, str(tenderers[0]["id"]), address=True, legal=True
    )
    common.write_party(
        new_child(new_child(root, "cac:ContractingParty"), "cac:Party"),
        release,
        common.buyer_party_id(release),
    )
    project = new_child(root, "cac:TenderedProject")
    for lot in bid.get("relatedLots") or ["NA"]:
        new_child(new_child(project, "cac:ProcurementProjectLot"), "cbc:ID", str(lot))
    return etree.ElementTree(root)


def _write_doc_reference(ref: etree._Element, doc: dict[str, Any], path: str) -> None:
    if not doc.get("id"):
        raise MappingError("document id is required", f"{path}.id")
    new_child(ref, "cbc:ID", str(doc["id"]))
    new_child(
        ref,
        "cbc:DocumentTypeCode",
        str(doc.get("documentTypeCode") or common.TENDER_DOCUMENT_CODE),
        listID=common.UNCL1001,
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
    new_child(ext, "cbc:HashAlgorithmMethod", common.HASH_ALGORITHMS.get(algorithm, algorithm))
    if doc.get("format"):
        new_child(ext, "cbc:MimeCode", str(doc["format"]))
    if doc.get("fileName"):
        new_child(ext, "cbc:FileName", str(doc["fileName"]))


def read_t005(root: etree._Element) -> dict[str, Any]:
    release = common.base_release(root)
    common.read_doc_meta(release, root, "t005")
    bid: dict[str, Any] = {"id": (root.findtext("cbc:ID", namespaces=NS) or "").strip(), "documents": []}
    for ref in root.findall("cac:DocumentReference", NS):
        if (ref.findtext("cbc:DocumentTypeCode", namespaces=NS) or "").strip() == CFT_REFERENCE_CODE:
            peppol = release.setdefault("platform", {}).setdefault("peppol", {})
            peppol["callForTendersId"] = (ref.findtext("cbc:ID", namespaces=NS) or "").strip()
            details = common.texts(
                ref,
                (
                    ("cbc:LocaleCode", "locale"),
                    ("cbc:VersionID", "versionId"),
                    ("cbc:DocumentDescription", "description"),
                ),
            )
            if any(details.values()):
                peppol["callForTendersReference"] = {k: v for k, v in details.items() if v}
            continue
        bid["documents"].append(common.read_doc_reference(ref))
    tenderer = common.read_party(root.find("cac:TendererParty", NS), release, "tenderer")
    if tenderer:
        bid["tenderers"] = [{"id": tenderer}]
    buyer = common.read_party(root.find("cac:ContractingParty/cac:Party", NS), release, "buyer")
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
