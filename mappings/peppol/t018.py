"""T018 ``ApplicationResponse`` (technical acknowledgement, ``platform.peppol.response``) <-> OCDS."""

from __future__ import annotations

from typing import Any

from lxml import etree

from mappings.errors import MappingError
from mappings.peppol import common
from mappings.xmlbuild import new_child
from mappings.xmlns import NS


def build_t018(release: dict[str, Any]) -> etree._ElementTree:
    """T018 ApplicationResponse described by ``platform.peppol.response``."""
    response = common.extension(release).get("response") or {}
    for key in ("code", "documentId", "sender", "receiver"):
        if not response.get(key):
            raise MappingError(f"{key} is required", f"platform.peppol.response.{key}")
    root = common.new_root("t018")
    common.write_header(root, release, "t018", folder=False)
    common.write_party(new_child(root, "cac:SenderParty"), release, str(response["sender"]), full=False)
    common.write_party(new_child(root, "cac:ReceiverParty"), release, str(response["receiver"]), full=False)
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
    common.read_doc_meta(release, root, "t018")
    sender = common.read_party(root.find("cac:SenderParty", NS), release, "sender")
    receiver = common.read_party(root.find("cac:ReceiverParty", NS), release, "receiver")
    resp = root.find("cac:DocumentResponse", NS)
    out: dict[str, Any] = {"sender": sender, "receiver": receiver}
    if resp is not None:
        out.update(
            common.found_texts(
                resp,
                (
                    ("cac:Response/cbc:ResponseCode", "code"),
                    ("cac:Response/cbc:Description", "description"),
                    ("cac:DocumentReference/cbc:ID", "documentId"),
                    ("cac:DocumentReference/cbc:DocumentTypeCode", "documentTypeCode"),
                ),
            )
        )
        lines = []
        for line_el in resp.findall("cac:LineResponse", NS):
            line = common.texts(
                line_el,
                (
                    ("cac:LineReference/cbc:LineID", "lineId"),
                    ("cac:Response/cbc:ResponseCode", "code"),
                    ("cac:Response/cbc:Description", "description"),
                    ("cac:Response/cac:Status/cbc:StatusReasonCode", "statusReasonCode"),
                ),
            )
            lines.append({k: v for k, v in line.items() if v})
        if lines:  # what was wrong, line by line (a rejection's reasons)
            out["lines"] = lines
    release.setdefault("platform", {}).setdefault("peppol", {})["response"] = out
    return release
