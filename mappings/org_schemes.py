"""OCDS organisation-identifier schemes -> Peppol participant identifier schemes (ISO 6523 ICDs).

A party whose OCDS ``identifier`` (or one of its ``additionalIdentifiers``) is in a scheme of
:data:`ORG_ID_TO_PEPPOL` is addressable in Peppol without a hand-written participant id: the
identifier becomes both the ``cbc:EndpointID`` and the ``cac:PartyIdentification`` with the ICD of
that scheme. The table names Peppol schemes by their code-list id (``FR:SIRET``); the ICD (``0009``)
is taken from the Peppol participant identifier scheme code list the project ships
(``peppol/codelists/participant_schemes.json``, code lists v9.7), never typed here, and a scheme the
code list marks deprecated or removed is not used.

VAT numbers: ``<CC>-VAT`` (e.g. ``FR-VAT``, ``DE-VAT``) or a scheme-less ``VAT`` / ``EU-VAT`` /
``XI-VAT`` identifier whose value starts with its member-state prefix (``DE122268496``) use the
``<CC>:VAT`` scheme of that country (``GR`` for the ``EL`` prefix); the Peppol value keeps the
country prefix, as in the BIS T004 example (``9930`` ``DE122268496``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any, Final

#: OCDS org-id scheme (org-id.guide list code, or the platform's ``FR-SIRET`` / ``FR-SIREN``) ->
#: Peppol participant scheme id (code list ``schemes[].id``). Only schemes whose identifiers are the
#: same numbers as the Peppol scheme's.
ORG_ID_TO_PEPPOL: Final[dict[str, str]] = {
    "FR-SIRET": "FR:SIRET",  # établissement (14 digits)
    "FR-SIREN": "FR:SIRENE",  # entreprise (9 digits); ICD 0002 accepts SIREN and SIRET
    "NO-BRC": "NO:ORG",  # Brønnøysund Register Centre organisation number
    "SE-BLV": "SE:ORGNR",  # Bolagsverket organisation number
    "NL-KVK": "NL:KVK",  # Kamer van Koophandel
    "BE-BCE_KBO": "BE:EN",  # Crossroads Bank for Enterprises enterprise number
    "EE-RIK": "EE:CC",  # Estonian Centre of Registers
    "LT-RC": "LT:LEC",  # Register of Legal Entities (legal entity code)
    "XI-LEI": "LEI",  # Global Legal Entity Identifier
}
#: Schemes naming a VAT number whose value carries its country prefix.
GENERIC_VAT_SCHEMES: Final = frozenset({"VAT", "EU-VAT", "XI-VAT"})
_COUNTRY_VAT: Final = re.compile(r"([A-Z]{2})-VAT")
_VAT_VALUE: Final = re.compile(r"([A-Z]{2})[0-9A-Z+*.]{2,13}")
#: VAT prefix -> ISO 3166 country of the VAT scheme (Greece writes ``EL``).
VAT_PREFIX_COUNTRY: Final = {"EL": "GR"}
#: Countries whose VAT number has a Peppol scheme other than ``<CC>:VAT`` (Italy: partita IVA).
VAT_SCHEME_OF_COUNTRY: Final = {"IT": "IT:IVA"}


@cache
def _schemes() -> dict[str, dict[str, Any]]:
    """Peppol code-list scheme id -> its row (``icd``, ``state``…)."""
    text = resources.files("peppol.codelists").joinpath("participant_schemes.json").read_text("utf-8")
    return {row["id"]: row for row in json.loads(text)["schemes"]}


def icd_of(peppol_scheme: str) -> str | None:
    """The ICD of an active Peppol participant scheme (``FR:SIRET`` -> ``0009``), else ``None``."""
    row = _schemes().get(peppol_scheme)
    if row is None or row.get("state", "active") != "active":
        return None
    return str(row["icd"])


def peppol_id(scheme: str, value: str) -> tuple[str, str] | None:
    """``(icd, value)`` of the Peppol participant an OCDS identifier names, or ``None``."""
    scheme, value = scheme.strip(), value.strip()
    if not scheme or not value:
        return None
    if scheme in ORG_ID_TO_PEPPOL:
        icd = icd_of(ORG_ID_TO_PEPPOL[scheme])
        return (icd, value) if icd else None
    country = None
    if m := _COUNTRY_VAT.fullmatch(scheme):
        country = m.group(1)
        compact = re.sub(r"[\s.-]", "", value).upper()
        prefix = "EL" if country == "GR" else country
        value = compact if compact.startswith(prefix) else prefix + compact
    elif scheme in GENERIC_VAT_SCHEMES:
        value = re.sub(r"[\s.-]", "", value).upper()
        if m := _VAT_VALUE.fullmatch(value):
            country = m.group(1)
    if country is None:
        return None
    country = VAT_PREFIX_COUNTRY.get(country, country)
    icd = icd_of(VAT_SCHEME_OF_COUNTRY.get(country, f"{country}:VAT"))
    return (icd, value) if icd else None


def party_peppol_id(party: dict[str, Any]) -> tuple[str, str] | None:
    """The Peppol participant of an OCDS party from its identifiers (main one first), or ``None``."""
    found = _party_peppol_ids(party)
    return found[0] if found else None


def _party_peppol_ids(party: dict[str, Any]) -> list[tuple[str, str]]:
    idents = [party.get("identifier"), *(party.get("additionalIdentifiers") or [])]
    out = []
    for ident in idents:
        if isinstance(ident, dict):
            found = peppol_id(str(ident.get("scheme") or ""), str(ident.get("id") or ""))
            if found:
                out.append(found)
    return out


#: ICDs a Peppol pre-award ``PartyIdentification`` may use (PEPPOL-T004-R011 and its siblings:
#: 0003-0213); the 99xx schemes (VAT numbers) are endpoint identifiers only.
PARTY_IDENTIFIER_ICD: Final = re.compile(r"0((00[3-9])|(0[1-9]\d)|(1\d{2})|(20\d)|(21[0-3]))")


def party_peppol_ids(party: dict[str, Any]) -> dict[str, Any]:
    """``{"endpoint": {scheme, id}, "identifier": {scheme, id}}`` derived from an OCDS party's
    identifiers: the endpoint is the first identifier with a Peppol ICD, the party identifier the first
    whose ICD a party identifier may use (so a VAT number gives an endpoint only); ``{}`` when none."""
    found = _party_peppol_ids(party)
    if not found:
        return {}
    out: dict[str, Any] = {"endpoint": {"scheme": found[0][0], "id": found[0][1]}}
    ident = next((f for f in found if PARTY_IDENTIFIER_ICD.fullmatch(f[0])), None)
    if ident:
        out["identifier"] = {"scheme": ident[0], "id": ident[1]}
    return out
