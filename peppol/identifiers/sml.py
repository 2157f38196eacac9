"""SML DNS host names of participants (discovery digest §2) and SML zones (§2.3).

U-NAPTR (PFUOI 4.4 POLICY 7, SML 1.3): ``base32(sha256(lower(value)))`` without padding, lower case,
then ``.<lower(scheme)>.<zone>``. Legacy BusDox CNAME: ``B-<md5hex(lower(value))>.<scheme>.<zone>``.
Only the value (``0088:123abc``, ICD included) is hashed; the scheme is its own DNS label.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from peppol.identifiers.errors import BadZoneError, TooLongError
from peppol.identifiers.ids import ParticipantId, show

#: Longest DNS name (RFC 1035, without the trailing dot).
MAX_DNS_NAME_LENGTH: Final = 253

#: Named SML zones (discovery digest §2.3). Anything else passed as a zone must be a domain name.
SML_ZONES: Final[dict[str, str]] = {
    "prod": "participant.sml.prod.tech.peppol.org",
    "test": "participant.sml.test.tech.peppol.org",
}
#: Zone used when none is configured.
DEFAULT_SML_ZONE: Final = "prod"


_DNS_LABEL_RE: Final = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def resolve_zone(name_or_domain: str) -> str:
    """Map ``"prod"``/``"test"`` to the OpenPeppol SML zones; validate and normalise any other domain.

    A domain must contain at least one dot (so a mistyped zone name is not taken for a domain); it is
    lower-cased and a trailing dot is dropped.
    """
    if not isinstance(name_or_domain, str):
        raise BadZoneError("SML zone must be a string")
    text = name_or_domain.strip()
    if text in SML_ZONES:
        return SML_ZONES[text]
    domain = text.lower().removesuffix(".")
    names = ", ".join(sorted(SML_ZONES))
    if "." not in domain:
        raise BadZoneError(f"unknown SML zone {show(text)} (use {names} or a domain name)")
    if len(domain) > MAX_DNS_NAME_LENGTH or not all(_DNS_LABEL_RE.fullmatch(x) for x in domain.split(".")):
        raise BadZoneError(f"SML zone {show(text)} is not a valid domain name")
    return domain


def _sml_name(label: str, participant: ParticipantId, zone: str) -> str:
    name = f"{label}.{participant.scheme.lower()}.{resolve_zone(zone)}"
    if len(name) > MAX_DNS_NAME_LENGTH:
        raise TooLongError(f"SML host name would be {len(name)} characters, more than {MAX_DNS_NAME_LENGTH}")
    return name


def sml_naptr_label(participant: ParticipantId) -> str:
    """The U-NAPTR hash label: lower-case unpadded Base32 of SHA-256 of the lower-cased value."""
    digest = hashlib.sha256(participant.value.lower().encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def sml_cname_label(participant: ParticipantId) -> str:
    """The legacy CNAME label: ``B-`` + lower-case hex MD5 of the lower-cased value."""
    digest = hashlib.md5(participant.value.lower().encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"B-{digest}"


def sml_naptr_name(participant: ParticipantId, zone: str) -> str:
    """DNS name to query for NAPTR records: ``<hash>.<scheme>.<zone>`` (zone: name or domain)."""
    return _sml_name(sml_naptr_label(participant), participant, zone)


def sml_cname_name(participant: ParticipantId, zone: str) -> str:
    """Legacy BusDox CNAME host name ``B-<md5>.<scheme>.<zone>`` (removed from Peppol after 2026-02-01)."""
    return _sml_name(sml_cname_label(participant), participant, zone)
