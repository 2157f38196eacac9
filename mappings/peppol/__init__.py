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

One module per document (``t004``, ``t005``, ``t006``, ``t018``), what they share in ``common``, the
dispatch by document in ``documents``.
"""

from mappings.peppol.common import TARGETS, PeppolTarget, target_of_root
from mappings.peppol.documents import build_document, build_tree, read_document
from mappings.peppol.t004 import build_t004, read_t004
from mappings.peppol.t005 import build_t005, read_t005
from mappings.peppol.t006 import build_t006, read_t006
from mappings.peppol.t018 import build_t018, read_t018

__all__ = [
    "TARGETS",
    "PeppolTarget",
    "build_document",
    "build_t004",
    "build_t005",
    "build_t006",
    "build_t018",
    "build_tree",
    "read_document",
    "read_t004",
    "read_t005",
    "read_t006",
    "read_t018",
    "target_of_root",
]
