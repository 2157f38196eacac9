"""Reading Peppol meaning out of certificate names: seat id, stage (test/production) and purpose
(AP / SMP / TLS) of a CA.

The rules (documented in ``docs/pki.md``):

* **Stage** of a CA certificate: ``TEST`` when its subject CN contains the word ``TEST`` or its OU is
  ``FOR TEST ONLY`` (the shape of every OpenPeppol test CA, G2 and G3, and of the generated test PKI);
  otherwise ``PRODUCTION``.
* **Purpose** of a CA certificate: ``AP`` when its CN contains ``ACCESS POINT``, ``SMP`` when it
  contains ``SERVICE METADATA PUBLISHER`` (or the word ``SMP``); anything else is not a Peppol issuing CA.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

#: OU value OpenPeppol puts on every test CA.
TEST_ONLY_OU: Final = "FOR TEST ONLY"
_TEST_WORD: Final = re.compile(r"\bTEST\b", re.IGNORECASE)
_AP_CA: Final = re.compile(r"ACCESS\s+POINT", re.IGNORECASE)
_SMP_CA: Final = re.compile(r"SERVICE\s+METADATA\s+PUBLISHER|\bSMP\b", re.IGNORECASE)


class Stage(StrEnum):
    """The Peppol PKI stage a certificate belongs to."""

    TEST = "test"
    PRODUCTION = "production"


class Purpose(StrEnum):
    """What a certificate is validated for."""

    AP = "ap"
    SMP = "smp"
    TLS = "tls"


def _attribute_values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(attr.value) for attr in name.get_attributes_for_oid(oid)]


def common_name(name: x509.Name) -> str | None:
    """The (first) CN of ``name``, or ``None``."""
    values = _attribute_values(name, NameOID.COMMON_NAME)
    return values[0] if values else None


def seat_id(cert: x509.Certificate) -> str:
    """The Peppol seat id of an AP certificate: its subject CN (e.g. ``PFR000001``).

    Raises ``ValueError`` when the certificate has no CN.
    """
    cn = common_name(cert.subject)
    if cn is None:
        raise ValueError(f"certificate {cert.subject.rfc4514_string()!r} has no CN (no seat id)")
    return cn


def name_stage(name: x509.Name) -> Stage:
    """Stage a CA *name* belongs to (see the module rules)."""
    for cn in _attribute_values(name, NameOID.COMMON_NAME):
        if _TEST_WORD.search(cn):
            return Stage.TEST
    for ou in _attribute_values(name, NameOID.ORGANIZATIONAL_UNIT_NAME):
        if ou.strip().upper() == TEST_ONLY_OU:
            return Stage.TEST
    return Stage.PRODUCTION


def name_purpose(name: x509.Name) -> Purpose | None:
    """Which Peppol issuing CA a CA *name* denotes: ``AP``, ``SMP`` or ``None`` (root, TLS CA, other)."""
    for cn in _attribute_values(name, NameOID.COMMON_NAME):
        if _AP_CA.search(cn):
            return Purpose.AP
        if _SMP_CA.search(cn):
            return Purpose.SMP
    return None


def is_peppol_name(name: x509.Name) -> bool:
    """True for names of the Peppol PKI (root, AP CA, SMP CA): CN starts with ``PEPPOL``."""
    cn = common_name(name)
    return cn is not None and cn.upper().startswith("PEPPOL")
