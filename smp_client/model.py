"""Dialect-neutral view of SMP documents (Peppol SMP 1.x, OASIS BDXR SMP 1.0 and 2.0).

Identifiers stay raw ``(scheme, value)`` text here; comparing them with what was asked for is the
job of :mod:`smp_client.discovery` (participant values case-insensitively, everything else exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509

from peppol.endpoint import Endpoint


class SmpDialect(StrEnum):
    """The REST/XML flavour an SMP speaks. Peppol and BDXR 1 share URL forms; BDXR 2 does not."""

    PEPPOL = "peppol"
    BDXR1 = "bdxr1"
    BDXR2 = "bdxr2"


@dataclass(frozen=True, slots=True)
class RawId:
    """An identifier exactly as the SMP wrote it (whitespace trimmed). ``scheme`` may be empty."""

    scheme: str
    value: str

    @property
    def uri(self) -> str:
        """``scheme::value`` (BDXR 2 omits ``::`` when the scheme is empty)."""
        return f"{self.scheme}::{self.value}" if self.scheme else self.value

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    """One published endpoint, before selection and certificate validation."""

    transport_profile: str
    url: str
    #: Certificate text(s) as published: base64 DER, sometimes PEM-armoured; BDXR 2 may list several.
    certificates: tuple[str, ...]
    activation: datetime | None = None
    expiration: datetime | None = None
    description: str | None = None
    technical_contact: str | None = None
    technical_information: str | None = None

    def to_endpoint(self, certificate: x509.Certificate) -> Endpoint:
        """The selected record as the :class:`Endpoint` handed to the transport, with its decoded
        (and by then validated or pinned) certificate."""
        return Endpoint(
            url=self.url,
            transport_profile=self.transport_profile,
            certificate=certificate,
            activation=self.activation,
            expiration=self.expiration,
            service_description=self.description,
            technical_contact=self.technical_contact,
        )


@dataclass(frozen=True, slots=True)
class RedirectRecord:
    """An SMP ``Redirect``: where the real metadata is and who must have signed it."""

    href: str
    #: Peppol / BDXR 1: the expected signer's subject ("Subject Unique Identifier").
    certificate_uid: str | None = None
    #: BDXR 2: the expected signer certificate(s), base64.
    certificates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """A process with its endpoints (BDXR 2: several or no process ids, or a per-process redirect)."""

    process_ids: tuple[RawId, ...]
    endpoints: tuple[EndpointRecord, ...] = ()
    redirect: RedirectRecord | None = None


@dataclass(frozen=True, slots=True)
class ServiceMetadataDoc:
    """``SignedServiceMetadata/ServiceMetadata`` (or BDXR 2 ``ServiceMetadata``)."""

    dialect: SmpDialect
    participant: RawId | None
    document_type: RawId | None
    processes: tuple[ProcessRecord, ...] = ()
    #: Whole-document redirect (Peppol / BDXR 1); BDXR 2 redirects live in ``processes``.
    redirect: RedirectRecord | None = None


@dataclass(frozen=True, slots=True)
class ServiceGroupDoc:
    """``ServiceGroup``: the participant and the document types its SMP lists."""

    dialect: SmpDialect
    participant: RawId
    document_types: tuple[RawId, ...]
    hrefs: tuple[str, ...] = ()
