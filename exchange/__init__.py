"""The exchange layer: the outbound pipeline once (:mod:`exchange.outbound`: ``prepare`` and
``attempt``) and the inbound ledger contract (:mod:`exchange.inbound`). It sits below ``access_point``
and may import ``peppol``, ``ubl``, ``mappings``, ``smp_client`` and ``transport``; the CLI, the service
and the conformance suites all use it.

Public API (stable):

``exchange.outbound``
    ``OutboundRequest(payload, sender, receiver, c1_country, input_format="ubl", document_type=None,
    process=None, mapping_target=None, instance_id=None)``;
    ``prepare_document(request, *, validator, spool_dir=None) -> PreparedDocument`` (a file payload
    becomes an SBD file in ``spool_dir``, streamed);
    ``document_from_sbd(sbd) -> PreparedDocument``;
    ``discover(document, *, resolver) -> Endpoint``;
    ``build(document, endpoint, *, identity, spool_dir=None, conversation_id=None) -> PreparedMessage``;
    ``prepare(request, *, validator, resolver, identity, spool_dir=None) -> PreparedMessage``;
    ``attempt(message, endpoint, *, sender) -> AttemptOutcome``; ``FixedEndpoint(endpoint,
    validate_certificate=None)``; ``Resolver`` (protocol); ``Validator`` (type);
``exchange.errors``
    ``ExchangeError`` (``code``, ``permanent``) ← ``InvalidRequest``, ``MappingFailed``,
    ``ValidationFailed`` (``result``), ``EnvelopeFailed``, ``DiscoveryFailed``, ``BuildFailed``.
``exchange.inbound``
    ``InboundLedger`` (protocol), ``InMemoryLedger``, ``LedgerResult``, ``LedgerStatus``, ``LedgerEntry``.
"""

from __future__ import annotations

from exchange.errors import (
    BuildFailed,
    DiscoveryFailed,
    EnvelopeFailed,
    ExchangeError,
    InvalidRequest,
    MappingFailed,
    ValidationFailed,
)
from exchange.inbound import InboundLedger, InMemoryLedger, LedgerResult, LedgerStatus
from exchange.outbound import (
    AttemptOutcome,
    FixedEndpoint,
    OutboundRequest,
    PreparedDocument,
    PreparedMessage,
    attempt,
    build,
    discover,
    document_from_sbd,
    prepare,
    prepare_document,
)

__all__ = [
    "AttemptOutcome",
    "BuildFailed",
    "DiscoveryFailed",
    "EnvelopeFailed",
    "ExchangeError",
    "FixedEndpoint",
    "InMemoryLedger",
    "InboundLedger",
    "InvalidRequest",
    "LedgerResult",
    "LedgerStatus",
    "MappingFailed",
    "OutboundRequest",
    "PreparedDocument",
    "PreparedMessage",
    "ValidationFailed",
    "attempt",
    "build",
    "discover",
    "document_from_sbd",
    "prepare",
    "prepare_document",
]
