"""SMP REST URLs. Each path segment is percent-encoded on its own; ``/`` separators never are.

``quote(s, safe="")`` keeps exactly RFC 3986's unreserved set (``A-Za-z0-9-_.~``), which is what
peppol-commons' codec does; the HTTP layer must send these strings without re-quoting.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from smp_client.model import SmpDialect

#: Path prefix of the OASIS BDXR SMP 2.0 REST API.
BDXR2_PREFIX: Final = "bdxr-smp-2/"


def encode_segment(text: str) -> str:
    """Percent-encode one path segment (``::`` → ``%3A%3A``, ``#`` → ``%23``, ``/`` → ``%2F``)."""
    return quote(text, safe="")


def identifier_uri(scheme: str, value: str) -> str:
    """``scheme::value``, or just ``value`` for an empty scheme (BDXR 2 rule)."""
    return f"{scheme}::{value}" if scheme else value


def _base(smp_url: str, dialect: SmpDialect) -> str:
    base = smp_url if smp_url.endswith("/") else smp_url + "/"
    return base + BDXR2_PREFIX if dialect is SmpDialect.BDXR2 else base


def service_group_url(smp_url: str, participant: tuple[str, str], dialect: SmpDialect) -> str:
    """``GET`` URL of the participant's ServiceGroup; ``participant`` is ``(scheme, value)``."""
    return _base(smp_url, dialect) + encode_segment(identifier_uri(*participant))


def service_metadata_url(
    smp_url: str, participant: tuple[str, str], document_type: tuple[str, str], dialect: SmpDialect
) -> str:
    """``GET`` URL of the participant's (Signed)ServiceMetadata for one document type."""
    return (
        service_group_url(smp_url, participant, dialect)
        + "/services/"
        + encode_segment(identifier_uri(*document_type))
    )
