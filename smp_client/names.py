"""Matching an SMP ``Redirect/CertificateUID`` against the signer certificate of the target SMP.

peppol-commons compares the value with the signer's subject DN as an unordered set of RDNs. Real
values are DNs such as ``C=NL, O=Example, OU=PEPPOL PRODUCTION SMP, CN=PNL000052``; the spec's
example ``PID:9208-2001-3-279815395`` is no DN, so a value without ``=`` matches when it equals one
attribute value of the subject (CN, serialNumber, UID) exactly.
"""

from __future__ import annotations

from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

_SHORT_NAMES: Final[dict[x509.ObjectIdentifier, str]] = {
    NameOID.COMMON_NAME: "CN",
    NameOID.COUNTRY_NAME: "C",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    NameOID.EMAIL_ADDRESS: "EMAILADDRESS",
}
_ALIASES: Final = {"E": "EMAILADDRESS", "S": "ST", "SN": "SERIALNUMBER", "EMAIL": "EMAILADDRESS"}


def _norm_value(value: str) -> str:
    return " ".join(value.split()).casefold()


def _split_unescaped(text: str, separators: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_dn(text: str) -> frozenset[tuple[str, str]]:
    """A DN string (RFC 4514 or Java's ``X500Principal`` style) as a set of ``(TYPE, value)``."""
    pairs: set[tuple[str, str]] = set()
    for part in _split_unescaped(text, ",;+"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"not a DN component: {part!r}")
        name = key.strip().upper()
        pairs.add((_ALIASES.get(name, name), _norm_value(value.strip().strip('"'))))
    return frozenset(pairs)


def subject_pairs(name: x509.Name) -> frozenset[tuple[str, str]]:
    """The attributes of ``name`` in the same normalised form as :func:`parse_dn`."""
    out: set[tuple[str, str]] = set()
    for attr in name:
        key = _SHORT_NAMES.get(attr.oid, attr.oid.dotted_string)
        value = attr.value if isinstance(attr.value, str) else attr.value.decode("utf-8", "replace")
        out.add((key, _norm_value(value)))
    return frozenset(out)


def certificate_uid_matches(cert: x509.Certificate, uid: str) -> bool:
    """Does the signer ``cert`` match the ``CertificateUID`` announced by a redirect?"""
    subject = subject_pairs(cert.subject)
    if "=" not in uid:
        wanted = _norm_value(uid)
        return any(v == wanted for k, v in subject if k in ("CN", "SERIALNUMBER", "UID"))
    try:
        return parse_dn(uid) == subject
    except ValueError:
        return False
