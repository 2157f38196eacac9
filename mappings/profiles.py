"""Organisation profiles: the platform's organisation directory, used for OCDS and DECP input.

Publishers' data name an organisation (an OCDS party, a DECP SIRET) but rarely hold what an eForms
notice or a Peppol document needs of it: name, address with NUTS code, contact, buyer legal type
(BT-11), main activity (BT-10), company size (BT-165), Peppol participant id. The platform knows them;
its directory is a JSON file described by ``schema/organisation-profiles.schema.json``::

    {"organisations": {
        "FR-SIRET:21350238800019": {
            "name": "Rennes Métropole",
            "identifiers": [{"scheme": "FR-SIREN", "id": "213502388"}],
            "address": {"streetAddress": "4 avenue Henri Fréville", "locality": "Rennes",
                        "postalCode": "35200", "country": "FR"},
            "nuts": "FRH03",
            "contactPoint": {"email": "marches@rennesmetropole.fr", "telephone": "+33 2 99 86 60 60"},
            "peppol": ["0009:21350238800019"],
            "buyerLegalType": "la", "mainActivity": "gen-pub"}},
     "defaults": {"currency": "EUR", "language": "fr"}}

A key is ``SCHEME:ID`` (an OCDS org-id scheme) or a bare identifier; the DECP enrichment file
(``{"organisations": {siret: {name, address, contactPoint}}}`` or the inner mapping alone) is a valid
profiles file. A party gets the profile of its ``identifier`` or ``additionalIdentifiers`` (a bare key
matches any scheme), else of its OCDS ``id``, else of its exact name. A party whose identifier is in a
scheme with a Peppol ICD (``mappings.org_schemes``: ``FR-SIRET`` -> ``0009``) needs no Peppol id.

:func:`apply_profiles` completes a release's parties (what the release says wins) and
:func:`missing` lists, per target document, what is still missing as :class:`Finding` objects that
name the organisation and the profile key to add.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema

from mappings.errors import InputValidationError
from mappings.model import ENRICH_PREFIX, FORMATS, schema_errors
from mappings.org_schemes import party_peppol_ids

SCHEMA_FILE: Final = "schema/organisation-profiles.schema.json"
#: Path prefix of the problems found in a profiles file (they name that file, not the input).
PROFILES_PREFIX: Final = ENRICH_PREFIX
#: OCDS ``details.classifications`` schemes of BT-11 and BT-10 (as ``specs/eforms.yaml`` reads them).
BUYER_LEGAL_TYPE_SCHEME: Final = "eu-buyer-legal-type"
MAIN_ACTIVITY_SCHEME: Final = "eu-main-activity"
#: The first step of a profile key in a finding's path (``organisations["FR-SIRET:…"].nuts``).
PROFILE_KEY_ROOT: Final = "organisations["
#: The Peppol participant-id syntax prefix a profile may write before ``ICD:ID``.
PEPPOL_ID_PREFIX: Final = "iso6523-actorid-upis::"


@dataclass(frozen=True)
class Finding:
    """Something the input lacks for the target document: ``path`` is where to add it (an input path
    such as ``tender.value.currency`` or a profile key such as
    ``organisations["FR-SIRET:21350238800019"].buyerLegalType``), ``message`` what and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@cache
def profiles_schema() -> dict[str, Any]:
    """The JSON Schema of an organisation profiles file."""
    loaded: dict[str, Any] = json.loads(resources.files("mappings").joinpath(SCHEMA_FILE).read_text("utf-8"))
    return loaded


def profile_errors(data: Any) -> list[tuple[str, str]]:
    """Every problem of a profiles file as ``(path, reason)``, paths prefixed ``enrich:``."""
    return schema_errors(_validator(), data, PROFILES_PREFIX)


@cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(profiles_schema(), format_checker=FORMATS)


@dataclass
class Directory:
    """The organisation directory read from a profiles file (see the module docstring)."""

    organisations: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    #: The platform's contract records: contract key -> OCDS release fragment (see :func:`contract_record`).
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, data: Any) -> Directory:
        """The directory of a parsed profiles file; :class:`InputValidationError` when it is invalid."""
        if data is None:
            return cls()
        errors = profile_errors(data)
        if errors:
            raise InputValidationError(errors)
        orgs = data.get("organisations")
        if not isinstance(orgs, dict):  # the DECP enrichment's inner mapping alone
            orgs = {k: v for k, v in data.items() if k not in ("defaults", "contracts")}
        return cls(dict(orgs), dict(data.get("defaults") or {}), dict(data.get("contracts") or {}))

    def __bool__(self) -> bool:
        return bool(self.organisations or self.defaults or self.contracts)

    def _keys(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from self.organisations.items()

    def find(self, scheme: str, ident: str) -> tuple[str, dict[str, Any]] | None:
        """``(key, profile)`` of the organisation with identifier ``scheme`` / ``ident``."""
        if not ident:
            return None
        for key, profile in self._keys():
            if key in (f"{scheme}:{ident}", ident):
                return key, profile
            for other in profile.get("identifiers") or []:
                if other.get("id") == ident and other.get("scheme") in (scheme, None, ""):
                    return key, profile
        return None

    def find_party(self, party: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """``(key, profile)`` of an OCDS party: by identifier, additional identifier, id, then name."""
        for ident in [party.get("identifier"), *(party.get("additionalIdentifiers") or [])]:
            if isinstance(ident, dict):
                found = self.find(str(ident.get("scheme") or ""), str(ident.get("id") or ""))
                if found:
                    return found
        if party.get("id") is not None and str(party["id"]) in self.organisations:
            key = str(party["id"])
            return key, self.organisations[key]
        name = str(party.get("name") or "").strip().casefold()
        if name:
            for key, profile in self._keys():
                if str(profile.get("name") or "").strip().casefold() == name:
                    return key, profile
        return None


def peppol_ids(profile: dict[str, Any]) -> dict[str, Any] | None:
    """``{"endpoint": {scheme, id}, "identifier": {scheme, id}}`` of a profile's Peppol id(s)."""
    raw = profile.get("peppol")
    if isinstance(raw, dict) and isinstance(raw.get("endpoint"), dict):
        endpoint = dict(raw["endpoint"])
        return {"endpoint": endpoint, "identifier": dict(raw.get("identifier") or endpoint)}
    if isinstance(raw, list) and raw:
        scheme, _, value = str(raw[0]).removeprefix(PEPPOL_ID_PREFIX).partition(":")
        ident = {"scheme": scheme, "id": value}
        return {"endpoint": ident, "identifier": dict(ident)}
    return None


def _set_classification(details: dict[str, Any], scheme: str, code: str) -> None:
    found = details.setdefault("classifications", [])
    if not any(isinstance(c, dict) and c.get("scheme") == scheme for c in found):
        found.append({"scheme": scheme, "id": code})


def complete_party(party: dict[str, Any], profile: dict[str, Any]) -> None:
    """Fill what ``party`` lacks from ``profile`` (what the party says is kept)."""
    if profile.get("name") and not party.get("name"):
        party["name"] = profile["name"]
    if isinstance(profile.get("address"), dict) or profile.get("nuts"):
        address = party.setdefault("address", {})
        for k, v in (profile.get("address") or {}).items():
            address.setdefault(k, v)
        if profile.get("nuts"):
            # the profile's NUTS code is the region eForms writes (BT-507); a free-text region the
            # publisher wrote is not a NUTS code
            address["region"] = profile["nuts"]
    if isinstance(profile.get("contactPoint"), dict):
        contact = party.setdefault("contactPoint", {})
        for k, v in profile["contactPoint"].items():
            contact.setdefault(k, v)
    if profile.get("url"):
        party.setdefault("details", {}).setdefault("url", profile["url"])
    details: dict[str, Any] = party["details"] if isinstance(party.get("details"), dict) else {}
    if profile.get("buyerLegalType"):
        _set_classification(details, BUYER_LEGAL_TYPE_SCHEME, str(profile["buyerLegalType"]))
    if profile.get("mainActivity"):
        _set_classification(details, MAIN_ACTIVITY_SCHEME, str(profile["mainActivity"]))
    if profile.get("companySize"):
        details.setdefault("scale", profile["companySize"])
    if details:
        party["details"] = details
    for other in profile.get("identifiers") or []:
        known = [party.get("identifier"), *(party.get("additionalIdentifiers") or [])]
        if other not in known:
            party.setdefault("additionalIdentifiers", []).append(dict(other))


def apply_profiles(release: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """A copy of ``release`` whose parties are completed from ``directory`` and whose parties with a
    Peppol id in their profile have it in ``platform.peppol.parties`` (kept entries win)."""
    out = copy.deepcopy(release)
    for party in out.get("parties") or []:
        if not isinstance(party, dict):
            continue
        found = directory.find_party(party)
        if found is None:
            continue
        complete_party(party, found[1])
        ids = peppol_ids(found[1])
        if ids and party.get("id") is not None:
            known = out.setdefault("platform", {}).setdefault("peppol", {}).setdefault("parties", {})
            known.setdefault(str(party["id"]), ids)
    return out


#: OCDS role of the review body party (eForms OPT-301-Lot-ReviewOrg) and the OCDS
#: ``details.classifications`` scheme of BT-740 (whether the buyer is a contracting entity).
REVIEW_BODY_ROLE: Final = "reviewBody"
CONTRACTING_TYPE_SCHEME: Final = "eu-buyer-contracting-type"
#: The buyer-profile keys the platform ``defaults`` may give for every buyer.
DEFAULT_BUYER_KEYS: Final = frozenset({"reviewBody", "reviewDetails"})
#: The first step of a contract record's key in a finding's path (``contracts["MAPA24003"]``).
CONTRACT_KEY_ROOT: Final = "contracts["


def buyer_setting(directory: Directory, buyer: dict[str, Any], key: str) -> Any:
    """The buyer's own profile value of ``key``, else the platform's ``defaults`` one (or None)."""
    found = directory.find_party(buyer)
    if found and found[1].get(key) is not None:
        return found[1][key]
    return directory.defaults.get(key)


def _organisation_party(directory: Directory, key: str) -> dict[str, Any] | None:
    """The party of the organisation profile ``key`` (``SCHEME:ID`` or a bare id), completed from it."""
    profile = directory.organisations.get(key)
    if not isinstance(profile, dict):
        return None
    scheme, _, ident = key.rpartition(":")
    party: dict[str, Any] = {
        "id": ident,
        "identifier": {"id": ident, **({"scheme": scheme} if scheme else {})},
    }
    complete_party(party, profile)
    return party


def apply_buyer_terms(
    release: dict[str, Any], directory: Directory, *, contracting_type: bool = True
) -> dict[str, Any]:
    """``release`` with what its buyer's profile (or the platform ``defaults``) says of the procedure's
    terms: the review body (``reviewBody``: the key of the review body's own profile; a party with role
    ``reviewBody``, OPT-301-Lot-ReviewOrg), the review information of each lot (``reviewDetails``,
    BT-99) and, with ``contracting_type``, whether the buyer is a contracting entity
    (``contractingEntity``, BT-740: asked in concession notices only, and refused in others). A key
    the directory does not hold is left out (the notice's rules then name what to add)."""
    buyers = [p for p in release.get("parties") or [] if "buyer" in (p.get("roles") or [])]
    if not buyers:
        return release
    buyer = buyers[0]
    review = buyer_setting(directory, buyer, "reviewBody")
    party = _organisation_party(directory, str(review)) if review else None
    if party is not None:
        parties = release.setdefault("parties", [])
        same = next((p for p in parties if p.get("id") == party["id"]), None)
        if same is None:
            parties.append({**party, "roles": [REVIEW_BODY_ROLE]})
        elif REVIEW_BODY_ROLE not in same.setdefault("roles", []):
            same["roles"].append(REVIEW_BODY_ROLE)
    details = buyer_setting(directory, buyer, "reviewDetails")
    if details:
        for lot in (release.get("tender") or {}).get("lots") or []:
            if isinstance(lot, dict):
                lot.setdefault("reviewDetails", str(details))
    entity = buyer_setting(directory, buyer, "contractingEntity")
    if contracting_type and isinstance(entity, bool):
        classes = buyer.setdefault("details", {})
        _set_classification(classes, CONTRACTING_TYPE_SCHEME, "cont-ent" if entity else "not-cont-ent")
    return release


def contract_record(
    directory: Directory, buyer_id: str, contract_id: str
) -> tuple[str, dict[str, Any]] | None:
    """``(key, record)`` of the platform's record of a contract: what the platform knows of an award
    that DECP does not carry (award criteria, the received-submission breakdown, a direct award's
    justification, the group lead, a concession's CPV and place…), an OCDS release fragment merged
    into the contract's release as OCDS merging does. Keyed ``<buyer id>/<contract id>`` or
    ``<contract id>``."""
    for key in (f"{buyer_id}/{contract_id}", contract_id):
        if isinstance(directory.contracts.get(key), dict):
            return key, directory.contracts[key]
    return None


def profile_key(party: dict[str, Any], directory: Directory) -> str:
    """The key under which ``party``'s profile is (or is to be added): ``organisations["…"]``."""
    found = directory.find_party(party)
    if found:
        return f'{PROFILE_KEY_ROOT}"{found[0]}"]'
    ident: dict[str, Any] = party["identifier"] if isinstance(party.get("identifier"), dict) else {}
    if ident.get("id"):
        key = f"{ident['scheme']}:{ident['id']}" if ident.get("scheme") else str(ident["id"])
    else:  # a party without identifier: its name (the directory finds a profile by name too)
        key = str(party.get("name") or party.get("id") or "?")
    return f'{PROFILE_KEY_ROOT}"{key}"]'


#: Countries with NUTS codes (EU, EFTA and candidate countries): elsewhere no BT-507 is asked for.
NUTS_COUNTRIES: Final = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
        "CH",
        "ME",
        "MK",
        "AL",
        "RS",
        "TR",
        "UK",
        "GB",
    }
)


def _nuts_or_elsewhere(party: dict[str, Any]) -> bool:
    address = party.get("address") if isinstance(party.get("address"), dict) else {}
    country = str((address or {}).get("country") or "")
    return bool((address or {}).get("region")) or bool(country and country not in NUTS_COUNTRIES)


#: What each target needs of a party, per role: (profile key, party test, field named in the finding).
_EFORMS_NEEDS: Final = (
    ("name", lambda p: p.get("name"), "the name (BT-500)"),
    ("address.locality", lambda p: (p.get("address") or {}).get("locality"), "the town (BT-513)"),
    ("address.postalCode", lambda p: (p.get("address") or {}).get("postalCode"), "the postcode (BT-512)"),
    ("address.country", lambda p: (p.get("address") or {}).get("country"), "the country code (BT-514)"),
    ("nuts", _nuts_or_elsewhere, "the NUTS code (BT-507)"),
)
_BUYER_NEEDS: Final = (
    (
        "contactPoint.email",
        lambda p: (p.get("contactPoint") or {}).get("email"),
        "the contact e-mail (BT-506)",
    ),
    ("buyerLegalType", lambda p: _classified(p, BUYER_LEGAL_TYPE_SCHEME), "the buyer legal type (BT-11)"),
    ("mainActivity", lambda p: _classified(p, MAIN_ACTIVITY_SCHEME), "the main activity (BT-10)"),
)
_WINNER_NEEDS: Final = (
    ("companySize", lambda p: (p.get("details") or {}).get("scale"), "the size (BT-165)"),
)


def _eforms_organisation(party: dict[str, Any]) -> bool:
    """Whether the eForms writer writes ``party`` as an organisation (the spec's ``exclude`` patterns of
    the organisation scope name the parties it does not)."""
    from mappings.spec import load_spec

    scope = next((s for s in load_spec("eforms").scopes if s.name == "organization"), None)
    patterns = scope.exclude if scope else ()
    return not any(all(party.get(k) == v for k, v in pattern) for pattern in patterns)


def _classified(party: dict[str, Any], scheme: str) -> bool:
    details: dict[str, Any] = party["details"] if isinstance(party.get("details"), dict) else {}
    found = details.get("classifications") or []
    return any(isinstance(c, dict) and c.get("scheme") == scheme for c in found)


def _party_label(party: dict[str, Any], index: int) -> str:
    name = f' "{party["name"]}"' if party.get("name") else ""
    return f"organisation parties[{index}]{name}"


def missing(release: dict[str, Any], target: str, directory: Directory) -> list[Finding]:
    """What the parties of ``release`` (already completed) still lack for ``target``
    (``eforms-cn``, ``eforms-can``, ``peppol-t004``…), each naming the organisation and the profile key."""
    out: list[Finding] = []
    parties = [p for p in release.get("parties") or [] if isinstance(p, dict)]
    known = ((release.get("platform") or {}).get("peppol") or {}).get("parties") or {}
    for i, party in enumerate(parties):
        roles = set(party.get("roles") or [])
        needs: list[tuple[str, Any, str]] = []
        if target.startswith("eforms-") and not _eforms_organisation(party):
            continue  # the EU as funder, a pre-selected participant: no eForms organisation, nothing asked
        if target.startswith("eforms-"):
            needs += _EFORMS_NEEDS
            if "buyer" in roles:
                needs += _BUYER_NEEDS
            if target == "eforms-can" and roles & {"supplier", "tenderer"}:
                needs += _WINNER_NEEDS
        for key, test, what in needs:
            if not test(party):
                out.append(
                    Finding(
                        f"{profile_key(party, directory)}.{key}",
                        f"add {what} of {_party_label(party, i)}",
                    )
                )
        if target == "peppol-t004" and "buyer" in roles:
            ids = known.get(str(party.get("id"))) or party_peppol_ids(party)
            where = f"{profile_key(party, directory)}.peppol"
            if not ids.get("endpoint"):
                out.append(
                    Finding(
                        where,
                        f"add the Peppol participant id of {_party_label(party, i)} "
                        '(e.g. "peppol": ["0009:<SIRET>"]), or give the party an identifier whose scheme '
                        "has a Peppol ICD (FR-SIRET, FR-SIREN, <CC>-VAT…)",
                    )
                )
            elif not ids.get("identifier"):
                out.append(
                    Finding(
                        where,
                        f"add the Peppol party identifier of {_party_label(party, i)} "
                        '("peppol": {"endpoint": …, "identifier": {"scheme": "0xxx", "id": …}}): its '
                        f"endpoint {ids['endpoint'].get('scheme')} is a VAT scheme, and a party identifier "
                        "must use an ICD from 0003 to 0213 (PEPPOL-T004-R011)",
                    )
                )
    return out
