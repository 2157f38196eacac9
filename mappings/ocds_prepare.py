"""A publisher's OCDS release made ready for writing an eForms notice or a Peppol T004.

Platforms write OCDS their own way; the writers expect the shapes of the "OCDS for eForms" profile.
:func:`prepare` returns a copy of the release in those shapes and the :class:`~mappings.profiles.Finding`
objects for what cannot be derived (each names the input path or profile key to add):

* **no ``tender.lots``**: one lot ``LOT-0001`` is implied from the tender (title, description, value,
  periods, submission terms); the items, documents and awards relate to it; lot ids off the eForms
  pattern (``1``, ``lot-a``) become ``LOT-nnnn`` with every ``relatedLot(s)`` reference;
* **classifications**: CPV codes wherever they are (any item, ``classification`` or
  ``additionalClassifications``; scheme ``CPV`` or Prozorro's ``ДК021``, check digit dropped); the
  procedure's main CPV is the first one (item ``1`` as the spec reads it), an item whose main
  classification is another scheme (UNSPSC…) takes its CPV from its additional classifications, and a
  release with no CPV at all is reported;
* **addresses**: ``countryName`` resolved to the ISO 3166-1 code with ``pycountry`` (English and
  translated names), a ``region`` that is no NUTS code (free text) is not written as one (NUTS come
  from the organisation profile);
* **procedure**: the eForms procedure type from ``procurementMethodDetails`` when it is an eForms code
  or label, else from ``procurementMethod`` (open -> ``open``, selective -> ``restricted``, limited and
  direct -> ``neg-wo-call``);
* **amounts** without ``currency``: the profiles' ``defaults.currency``, else reported and not written
  (a UBL amount needs its ``currencyID``);
* **ids**: a ``tender.id`` that is not a UUID v4 (BT-04 requires one) is replaced, for eForms, by a
  stable UUID derived from the ocid (:func:`stable_uuid`); a buyer named without an id gets a party;
* **language**: the release's ``language``, else the profiles' ``defaults.language``, else reported;
* **contract notice**: awards, contracts and bids are not written (a CN has no results), nor the
  parties that only won or tendered.

A release read from an eForms notice (it keeps ``platform.eforms``) is returned as it is.
"""

from __future__ import annotations

import copy
import gettext
import hashlib
import re
import uuid
from functools import cache
from typing import Any, Final

import pycountry

from mappings.profiles import Directory, Finding
from mappings.spec import load_spec

#: Id of the lot implied from a tender without lots.
IMPLIED_LOT: Final = "LOT-0001"
LOT_ID: Final = re.compile(r"LOT-\d{4}")
#: eForms BT-04 / BT-701: a lower-case UUID version 4.
UUID_V4: Final = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}")
#: Tender fields a lot implied from the tender takes over.
LOT_FIELDS: Final = (
    "title",
    "description",
    "value",
    "minValue",
    "tenderPeriod",
    "contractPeriod",
    "awardPeriod",
    "enquiryPeriod",
    "mainProcurementCategory",
    "additionalProcurementCategories",
    "submissionTerms",
    "awardCriteria",
    "selectionCriteria",
    "submissionMethodDetails",
    "techniques",
    "coveredBy",
    "contractTerms",
    "bidOpening",
    "reviewDetails",
    "otherRequirements",
    "sustainability",
)
#: Classification schemes holding CPV codes (OCDS ``CPV``; Prozorro's ДК021 is the CPV).
CPV_SCHEMES: Final = frozenset({"CPV", "ДК021", "DK021"})
_CPV: Final = re.compile(r"(\d{8})(-\d)?")
#: A NUTS code (country prefix + up to 3 characters).
NUTS: Final = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
#: OCDS ``procurementMethod`` -> eForms procedure type when the details do not name one.
PROCEDURE_OF_METHOD: Final = {
    "open": "open",
    "selective": "restricted",
    "limited": "neg-wo-call",
    "direct": "neg-wo-call",
}
#: Languages whose country names are tried after English (pycountry's translations).
COUNTRY_NAME_LANGUAGES: Final = ("fr", "de", "es", "it", "nl", "pt", "pl", "uk", "ro", "sv", "cs")
#: Roles of parties that belong to an award or a bid only (not written in a contract notice).
RESULT_ROLES: Final = frozenset({"supplier", "tenderer", "leadTenderer", "subcontractor"})


def stable_uuid(*parts: str) -> str:
    """A UUID of eForms's required form (version 4) derived from ``parts``: the same input always
    gives the same id, so a notice written twice from one release keeps its ids."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for lang in COUNTRY_NAME_LANGUAGES:
        try:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        for c in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                if hasattr(c, attr):
                    names.setdefault(tr.gettext(getattr(c, attr)).casefold(), c.alpha_2)
    return names


def country_code(name: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a country name (English or translated) or code, else ``None``."""
    text = name.strip()
    if not text:
        return None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return _country_names().get(text.casefold())


def _addresses(node: Any, path: str) -> Any:
    """Every OCDS address object in ``node`` with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else key
            if key in ("address", "deliveryAddress") and isinstance(value, dict):
                yield value, sub
            elif key == "deliveryAddresses" and isinstance(value, list):
                for i, a in enumerate(value):
                    if isinstance(a, dict):
                        yield a, f"{sub}[{i}]"
            else:
                yield from _addresses(value, sub)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _addresses(item, f"{path}[{i}]")


def _fix_addresses(release: dict[str, Any], findings: list[Finding]) -> None:
    for address, path in list(_addresses(release, "")):
        if path.startswith("platform"):
            continue
        if not address.get("country") and address.get("countryName"):
            code = country_code(str(address["countryName"]))
            if code:
                address["country"] = code
            else:
                findings.append(
                    Finding(
                        f"{path}.countryName",
                        f"{address['countryName']!r} is no country name we know: "
                        "add address.country (ISO 3166-1 alpha-2)",
                    )
                )
        region = str(address.get("region") or "")
        country = str(address.get("country") or "")
        if region and not (NUTS.fullmatch(region) and (not country or region[:2] in (country, "EL", "UK"))):
            address.pop("region")  # free text (e.g. "Île-de-France") is no NUTS code


def _values(node: Any, path: str) -> Any:
    """Every OCDS Value object (``amount``) in ``node``: ``(container, key, value, path)``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        sub = (f"{path}.{key}" if path else str(key)) if isinstance(key, str) else f"{path}[{key}]"
        if key == "platform":
            continue
        if isinstance(value, dict) and "amount" in value and not isinstance(value.get("amount"), dict):
            yield node, key, value, sub
        yield from _values(value, sub)


def _fix_currencies(release: dict[str, Any], currency: str | None, findings: list[Finding]) -> None:
    for container, key, value, path in list(_values(release, "")):
        if value.get("currency"):
            continue
        if currency:
            value["currency"] = currency
            continue
        findings.append(
            Finding(
                f"{path}.currency",
                "add the currency of this amount (or defaults.currency in the organisation profiles): "
                "an amount without currency is not written",
            )
        )
        if isinstance(container, dict):
            container.pop(key, None)
        else:
            container[key] = {}


def _cpv(classification: Any) -> str | None:
    if not isinstance(classification, dict):
        return None
    if str(classification.get("scheme") or "").strip().upper() not in {s.upper() for s in CPV_SCHEMES}:
        return None
    m = _CPV.fullmatch(str(classification.get("id") or "").strip())
    return m.group(1) if m else None


def _fix_items(tender: dict[str, Any], findings: list[Finding] | None) -> None:
    """CPV classifications in the shape the writers read (see the module docstring)."""
    items = [i for i in tender.get("items") or [] if isinstance(i, dict)]
    found: list[str] = []
    for item in items:
        codes = [c for c in [_cpv(item.get("classification"))] if c]
        codes += [c for c in map(_cpv, item.get("additionalClassifications") or []) if c]
        if codes:
            item["classification"] = {"scheme": "CPV", "id": codes[0]}
            extra = [c for c in dict.fromkeys(codes[1:]) if c != codes[0]]
            if extra:
                item["additionalClassifications"] = [{"scheme": "CPV", "id": c} for c in extra]
            else:
                item.pop("additionalClassifications", None)
        found += [c for c in codes if c not in found]
    if not found:
        schemes = sorted(
            {
                str(c.get("scheme"))
                for item in items
                for c in [item.get("classification"), *(item.get("additionalClassifications") or [])]
                if isinstance(c, dict) and c.get("scheme")
            }
        )
        also = f" (the items are classified by {', '.join(schemes)} only)" if schemes else ""
        if findings is None:  # a Peppol T004 may go without a CPV
            return
        findings.append(
            Finding(
                "tender.items[0].additionalClassifications",
                f"add the CPV code of the purchase{also}: eForms (BT-262) and Peppol need one",
            )
        )
        return
    first = next((i for i in items if str(i.get("id")) == "1"), None)
    if first is None:
        first = {"id": "1"}
        tender.setdefault("items", []).append(first)
        others = found[1:]
        if others:
            first["additionalClassifications"] = [{"scheme": "CPV", "id": c} for c in others]
    if _cpv(first.get("classification")) is None:
        first["classification"] = {"scheme": "CPV", "id": found[0]}


def _rename_lots(tender: dict[str, Any], release: dict[str, Any]) -> None:
    lots = [lot for lot in tender.get("lots") or [] if isinstance(lot, dict)]
    if all(LOT_ID.fullmatch(str(lot.get("id"))) for lot in lots):
        return
    mapping = {str(lot.get("id")): f"LOT-{n:04d}" for n, lot in enumerate(lots, 1)}
    for lot in lots:
        lot["id"] = mapping[str(lot.get("id"))]

    def rename(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "relatedLot" and str(value) in mapping:
                    node[key] = mapping[str(value)]
                elif key == "relatedLots" and isinstance(value, list):
                    node[key] = [mapping.get(str(v), v) for v in value]
                elif key != "platform":
                    rename(value)
        elif isinstance(node, list):
            for v in node:
                rename(v)

    rename(release)


def _imply_lot(tender: dict[str, Any], release: dict[str, Any]) -> None:
    """One lot for a tender without lots: what the tender says of the purchase goes to it."""
    lot: dict[str, Any] = {"id": IMPLIED_LOT}
    for key in LOT_FIELDS:
        if key in tender:
            lot[key] = copy.deepcopy(tender[key])
    tender["lots"] = [lot]
    for item in tender.get("items") or []:
        if isinstance(item, dict) and not item.get("relatedLot"):
            item["relatedLot"] = IMPLIED_LOT
    for award in release.get("awards") or []:
        if isinstance(award, dict) and not award.get("relatedLots"):
            award["relatedLots"] = [IMPLIED_LOT]
    for bid in (release.get("bids") or {}).get("details") or []:
        if isinstance(bid, dict) and not bid.get("relatedLots"):
            bid["relatedLots"] = [IMPLIED_LOT]


def _places(tender: dict[str, Any]) -> None:
    """The procedure's places of performance (BT-5071/5141-Procedure), when the tender gives none:
    those of its items."""
    if tender.get("deliveryAddresses"):
        return
    places: list[dict[str, Any]] = []
    for item in tender.get("items") or []:
        if not isinstance(item, dict):
            continue
        found = list(item.get("deliveryAddresses") or [])
        if isinstance(item.get("deliveryAddress"), dict):
            found.append(item["deliveryAddress"])
            item.setdefault("deliveryAddresses", [item["deliveryAddress"]])
        for a in found:
            if isinstance(a, dict) and (a.get("region") or a.get("country")) and a not in places:
                places.append(dict(a))
    if places:
        tender["deliveryAddresses"] = places


def _lot_documents(tender: dict[str, Any]) -> None:
    """Each lot lists the procurement documents of the tender that concern it (BT-15, OPT-140)."""
    lots = [lot for lot in tender.get("lots") or [] if isinstance(lot, dict)]
    for doc in tender.get("documents") or []:
        if not isinstance(doc, dict) or not doc.get("id") or doc.get("documentType") == "legislation":
            continue
        related = doc.get("relatedLots") or ([lots[0]["id"]] if len(lots) == 1 else [])
        for lot in lots:
            if lot.get("id") not in related:
                continue
            mine = lot.setdefault("documents", [])
            if any(isinstance(d, dict) and d.get("id") == doc["id"] for d in mine):
                continue
            entry: dict[str, Any] = {"id": doc["id"]}
            if doc.get("url"):  # a public document: BT-14 non-restricted, BT-15 its address
                entry.update(url=doc["url"], accessDetails="Unrestricted.", accessDetailsURL=doc["url"])
            mine.append(entry)
            doc.setdefault("relatedLots", list(related))
            doc.setdefault("documentType", "biddingDocuments")


def procedure_code(tender: dict[str, Any]) -> str | None:
    """The eForms procedure type of a tender (see the module docstring), or ``None``."""
    labels = load_spec("eforms").tables["procedure-label"]
    details = str(tender.get("procurementMethodDetails") or "").strip()
    for code, label in labels.items():
        if details.casefold() in (str(code).casefold(), str(label).casefold()):
            return str(code)
    return PROCEDURE_OF_METHOD.get(str(tender.get("procurementMethod") or "").strip().lower())


def _fix_procedure(tender: dict[str, Any], findings: list[Finding]) -> None:
    code = procedure_code(tender)
    if code is None:
        findings.append(
            Finding(
                "tender.procurementMethod",
                "add the procedure (open, selective, limited or direct; procurementMethodDetails may name "
                "the eForms procedure type): BT-105 and the Peppol ProcedureCode need it",
            )
        )
        return
    tender["procurementMethodDetails"] = load_spec("eforms").tables["procedure-label"][code]


def _fix_buyer(release: dict[str, Any]) -> None:
    """Every party has an id; the buyer is a party with role ``buyer``."""
    parties = release.setdefault("parties", [])
    for n, party in enumerate(parties, 1):
        if isinstance(party, dict) and party.get("id") in (None, ""):
            party["id"] = f"party-{n}"
    buyer = release.get("buyer")
    if not isinstance(buyer, dict):
        return
    if buyer.get("id") in (None, ""):
        name = str(buyer.get("name") or "").strip().casefold()
        match = next(
            (
                p
                for p in parties
                if isinstance(p, dict)
                and ("buyer" in (p.get("roles") or []) or str(p.get("name") or "").strip().casefold() == name)
            ),
            None,
        )
        if match is None:
            match = {"id": "buyer", "name": buyer.get("name"), "roles": ["buyer"]}
            match = {k: v for k, v in match.items() if v}
            parties.append(match)
        buyer["id"] = match["id"]
    party = next((p for p in parties if isinstance(p, dict) and str(p.get("id")) == str(buyer["id"])), None)
    if party is None:
        party = {"id": buyer["id"], **({"name": buyer["name"]} if buyer.get("name") else {}), "roles": []}
        parties.append(party)
    if "buyer" not in (party.setdefault("roles", [])):
        party["roles"].append("buyer")


def _unknown_language(release: dict[str, Any]) -> None:
    """Tell the eForms writer the notice language is unknown: no ``NoticeLanguageCode``, no
    ``languageID`` (the rules then say BT-702 is missing), rather than a guessed one."""
    notice = release.setdefault("platform", {}).setdefault("notice", {})
    absent = notice.setdefault("absentHeader", [])
    if "cbc:NoticeLanguageCode" not in absent:
        absent.append("cbc:NoticeLanguageCode")


def _fix_language(release: dict[str, Any], default: str | None, findings: list[Finding]) -> None:
    if release.get("language"):
        return
    if default:
        release["language"] = default
        return
    _unknown_language(release)
    findings.append(
        Finding(
            "language",
            "add the release's language (ISO 639-1, or defaults.language in the organisation profiles): "
            "the notice language is not guessed",
        )
    )


def _without_results(release: dict[str, Any]) -> None:
    for key in ("awards", "contracts", "bids"):
        release.pop(key, None)
    platform = release.get("platform")
    if isinstance(platform, dict):
        for key in ("noticeResult", "tenderingParties", "tenderTerms"):
            platform.pop(key, None)
    release["parties"] = [
        p
        for p in release.get("parties") or []
        if not (isinstance(p, dict) and p.get("roles") and set(p["roles"]) <= RESULT_ROLES)
    ]


def prepare(
    release: dict[str, Any], target: str, directory: Directory | None = None
) -> tuple[dict[str, Any], list[Finding]]:
    """``release`` made ready for ``target`` (``eforms-cn``, ``eforms-can``, ``peppol-t004``…) and what
    is missing (see the module docstring); ``release`` is not changed."""
    if "eforms" in (release.get("platform") or {}):
        return release, []
    directory = directory or Directory()
    out = copy.deepcopy(release)
    findings: list[Finding] = []
    _fix_buyer(out)
    _places(out.setdefault("tender", {}))
    _fix_addresses(out, findings)
    _fix_currencies(out, directory.defaults.get("currency"), findings)
    tender = out.setdefault("tender", {})
    if target.startswith("eforms-") or target == "peppol-t004":
        if not tender.get("lots"):
            _imply_lot(tender, out)
        _rename_lots(tender, out)
        _lot_documents(tender)
        _fix_items(tender, findings if target.startswith("eforms-") else None)
        _fix_procedure(tender, findings)
    if target == "peppol-t004" and not tender.get("id") and out.get("ocid"):
        tender["id"] = str(out["ocid"])  # the procedure id (ContractFolderID): the ocid names it too
    if target.startswith("eforms-"):
        _fix_language(out, directory.defaults.get("language"), findings)
        language = str(out.get("language") or "")
        if language and language not in load_spec("eforms").tables["language"].values():
            _unknown_language(out)
            findings.append(
                Finding("language", f"add an official EU language (an eForms notice needs one): {language!r}")
            )
        ocid = str(out.get("ocid") or "")
        if not UUID_V4.fullmatch(str(tender.get("id") or "")):
            tender["id"] = stable_uuid(ocid, "procedure")
        if not UUID_V4.fullmatch(str(out.get("id") or "")):
            out["id"] = stable_uuid(ocid, str(out.get("id") or ""), target)
    if target == "eforms-cn":
        _without_results(out)
    return out, findings
