"""The Peppol Business Message Envelope (SBDH 2.0.x): build, stream-read, validate, extract.

Reading never builds the payload tree (:func:`read_sbd` stops at the payload start tag); writing copies
the payload in chunks. Every inbound rule of peppol-commons' ``PeppolSBDHDataReader`` is applied with
its error id in :attr:`SbdhError.code`. See ``docs/sbdh.md``.
"""

from transport.sbdh.consistency import check_as4_consistency
from transport.sbdh.errors import SbdhError
from transport.sbdh.extract import extract_payload
from transport.sbdh.model import (
    ASIC_E_MIME_TYPE,
    ENVELOPE_NS,
    MLS_TYPES,
    SBDH_NS,
    UNKNOWN_COUNTRY_C1,
    ParsedSbd,
    PayloadInfo,
    SbdhHeader,
)
from transport.sbdh.reader import SbdDocument, parse_sbd, read_sbd
from transport.sbdh.ubl import DocumentFacts, header_for_document, read_document_facts, wrap_document
from transport.sbdh.writer import build_sbd, write_binary_sbd, write_sbd, write_text_sbd

__all__ = [
    "ASIC_E_MIME_TYPE",
    "ENVELOPE_NS",
    "MLS_TYPES",
    "SBDH_NS",
    "UNKNOWN_COUNTRY_C1",
    "DocumentFacts",
    "ParsedSbd",
    "PayloadInfo",
    "SbdDocument",
    "SbdhError",
    "SbdhHeader",
    "build_sbd",
    "check_as4_consistency",
    "extract_payload",
    "header_for_document",
    "parse_sbd",
    "read_document_facts",
    "read_sbd",
    "wrap_document",
    "write_binary_sbd",
    "write_sbd",
    "write_text_sbd",
]
