"""Each Peppol document's builder and reader, the trace of what is not written through the spec, and the
OCDS identity of a read document."""

from __future__ import annotations

import uuid
from typing import Any, Final

from lxml import etree

from mappings import engine
from mappings.errors import MappingError
from mappings.model import ocid
from mappings.peppol import common
from mappings.peppol.t004 import build_t004, read_t004
from mappings.peppol.t005 import build_t005, read_t005
from mappings.peppol.t006 import build_t006, read_t006
from mappings.peppol.t018 import build_t018, read_t018
from mappings.xmlbuild import serialise
from mappings.xmlns import NS
from peppol.xml import parse_bytes

_BUILDERS: Final = {"t005": build_t005, "t006": build_t006, "t018": build_t018}
_READERS: Final = {"t004": read_t004, "t005": read_t005, "t006": read_t006, "t018": read_t018}


def build_tree(
    release: dict[str, Any], target: common.PeppolTarget, trace: engine.Trace | None = None
) -> etree._ElementTree:
    """Peppol document ``target`` for ``release``; ``trace`` as in :func:`mappings.engine.write`."""
    if target == "t004":
        return build_t004(release, trace)
    tree = _BUILDERS[target](release)
    if trace is not None:
        root = tree.getroot()
        common.mark(trace, root.find("cbc:ContractFolderID", NS), "tender.id")
        common.mark(trace, root.find("cbc:IssueDate", NS), "date")
        if target == "t018":
            common.mark(trace, root.find("cac:DocumentResponse", NS), "platform.peppol.response")
            for i, line in enumerate(root.findall("cac:DocumentResponse/cac:LineResponse", NS)):
                common.mark(trace, line, f"platform.peppol.response.lines[{i}]")
        else:
            _trace_bid_document(release, root, target, trace)
    return tree


def _trace_bid_document(
    release: dict[str, Any], root: etree._Element, target: str, trace: engine.Trace
) -> None:
    """T005/T006: elements written from a bid, its documents and its parties."""
    bids = (release.get("bids") or {}).get("details") or []
    wanted = ((common.extension(release).get("receipt") or {}).get("bidId")) if target == "t006" else None
    index = next((i for i, b in enumerate(bids) if isinstance(b, dict) and b.get("id") == wanted), 0)
    path = f"bids.details[{index}]"
    common.mark(trace, root, path)
    docs = (bids[index].get("documents") or []) if bids and isinstance(bids[index], dict) else []
    for ref in root.findall("cac:DocumentReference", NS):
        ref_id = ref.findtext("cbc:ID", namespaces=NS)
        j = next((j for j, d in enumerate(docs) if isinstance(d, dict) and str(d.get("id")) == ref_id), None)
        common.mark(
            trace, ref, f"{path}.documents[{j}]" if j is not None else "platform.peppol.callForTendersId"
        )
    for ref in root.findall("cac:TenderDocumentReference", NS):
        common.mark(trace, ref, path)
    tenderer = root.find("cac:TendererParty", NS) if target == "t005" else root.find("cac:ReceiverParty", NS)
    buyer = (
        root.find("cac:ContractingParty/cac:Party", NS)
        if target == "t005"
        else root.find("cac:SenderParty", NS)
    )
    tenderers = (bids[index].get("tenderers") or []) if bids and isinstance(bids[index], dict) else []
    if tenderers and isinstance(tenderers[0], dict):
        common.mark(trace, tenderer, common.party_path(release, str(tenderers[0].get("id"))))
    buyer_id = (release.get("buyer") or {}).get("id")
    if buyer_id:
        common.mark(trace, buyer, common.party_path(release, str(buyer_id)))


def build_document(release: dict[str, Any], target: common.PeppolTarget) -> bytes:
    """Serialised Peppol document ``target`` for ``release``."""
    return serialise(build_tree(release, target))


def read_document(data: bytes) -> dict[str, Any]:
    """OCDS release for a Peppol T004/T005/T006/T018 document."""
    root = parse_bytes(data).getroot()
    target = common.target_of_root(etree.QName(root).localname)
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
    release.setdefault("ocid", ocid(folder))
    release.setdefault("id", f"{target}-{doc_id}")
