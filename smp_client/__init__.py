"""Discovery: SML (DNS U-NAPTR) and SMP clients, signature checks, caching. Imports only ``peppol``.

Public API (see ``docs/discovery.md``)::

    discovery = Discovery(DiscoveryConfig(...), smp_validator=..., ap_validator=...)
    result = discovery.lookup(participant, document_type, process)      # -> LookupResult
    result.endpoint                                                      # peppol.endpoint.Endpoint
    discovery.service_group(participant)                                 # -> list[DocumentTypeId]
    discovery.lookup_wildcard(participant, pint_doctype, process)        # PINT wildcard selection
    build_discovery(DiscoverySettings(smp_trust=..., ap_trust=..., zone="test"))  # from plain values
    StaticDirectory(path, ap_validator=...).lookup(...)                  # same result type
"""

from __future__ import annotations

from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2
from smp_client.cache import DEFAULT_CACHE_SIZE, DEFAULT_CACHE_TTL, TtlCache
from smp_client.discovery import (
    DEFAULT_LOOKUP_DEADLINE,
    Discovery,
    DiscoveryConfig,
    EndpointCheck,
    EndpointDirectory,
    LookupResult,
    ServiceGroupResult,
    SignatureFacts,
    Step,
    lookup_wildcard,
)
from smp_client.errors import (
    ALL_ERRORS,
    BadSmpResponse,
    DiscoveryError,
    DnsTechnicalFailure,
    DocumentTypeNotServed,
    DomainNameSyntaxError,
    IdentifierMismatch,
    LookupDeadlineExceeded,
    NoMatchingEndpoint,
    NoMatchingSmpService,
    ParticipantNotRegistered,
    RedirectError,
    SmlRecordError,
    SmpHttpError,
    SmpSignatureError,
    SmpSignerUntrusted,
    SmpTlsError,
    SmpUnavailable,
    SmpXmlError,
    StaticDirectoryError,
    UntrustedEndpointCertificate,
)
from smp_client.http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, HttpSettings
from smp_client.model import SmpDialect
from smp_client.setup import DiscoverySettings, build_discovery, build_static, load_validator
from smp_client.signature import SignaturePolicy
from smp_client.sml import Nameserver, SmlConfig
from smp_client.static import StaticDirectory

__all__ = [
    "ALL_ERRORS",
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_LOOKUP_DEADLINE",
    "DEFAULT_READ_TIMEOUT",
    "TRANSPORT_PROFILE_AS4_V2",
    "BadSmpResponse",
    "Discovery",
    "DiscoveryConfig",
    "DiscoveryError",
    "DiscoverySettings",
    "DnsTechnicalFailure",
    "DocumentTypeNotServed",
    "DomainNameSyntaxError",
    "EndpointCheck",
    "EndpointDirectory",
    "HttpSettings",
    "IdentifierMismatch",
    "LookupDeadlineExceeded",
    "LookupResult",
    "Nameserver",
    "NoMatchingEndpoint",
    "NoMatchingSmpService",
    "ParticipantNotRegistered",
    "RedirectError",
    "ServiceGroupResult",
    "SignatureFacts",
    "SignaturePolicy",
    "SmlConfig",
    "SmlRecordError",
    "SmpDialect",
    "SmpHttpError",
    "SmpSignatureError",
    "SmpSignerUntrusted",
    "SmpTlsError",
    "SmpUnavailable",
    "SmpXmlError",
    "StaticDirectory",
    "StaticDirectoryError",
    "Step",
    "TtlCache",
    "UntrustedEndpointCertificate",
    "build_discovery",
    "build_static",
    "load_validator",
    "lookup_wildcard",
]
