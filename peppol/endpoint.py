"""The result of discovery, handed from ``smp_client`` to ``transport`` (which never looks anything up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509

#: Peppol AS4 profile 2.0, the only transport profile in production use.
TRANSPORT_PROFILE_AS4_V2: Final = "peppol-transport-as4-v2_0"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An access point endpoint as published in SMP metadata.

    ``certificate`` is the receiver AP's certificate, used to encrypt messages to it and to check
    the signature of its receipts. It has been validated by whoever built this object.
    """

    url: str
    transport_profile: str
    certificate: x509.Certificate
    activation: datetime | None = None
    expiration: datetime | None = None
    service_description: str | None = None
    technical_contact: str | None = None
