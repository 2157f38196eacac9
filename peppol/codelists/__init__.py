"""Peppol code-list facts the access point relies on, as project data.

The data files next to this module (``participant_schemes.json``, ``transport_profiles.json``,
``document_types.json``) are written in the project's own compact format from the Peppol Code Lists
v9.7; a test checks them against the official publication. They are loaded once, lazily.

This module sits *below* :mod:`peppol.identifiers` (which checks participant ids against the ICD list)
and never imports it: entries carry plain ``scheme``/``value`` strings; the identifier objects for them
come from :mod:`peppol.identifiers` (``document_type_id``, ``process_id``, ``processes_of``,
``processes_for``).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, cast

State = Literal["active", "deprecated", "removed"]
_STATES: Final = frozenset({"active", "deprecated", "removed"})

#: Version of the Peppol Code Lists the data files follow.
CODELIST_VERSION: Final = "9.7"
#: The Peppol AS4 transport profile (the only one in use on the Peppol network).
PEPPOL_AS4_V2: Final = "peppol-transport-as4-v2_0"

_DOCTYPE_SCHEME: Final = "busdox-docid-qns"
_PROCESS_SCHEME: Final = "cenbii-procid-ubl"


class CodeListDataError(RuntimeError):
    """A packaged data file is malformed (a packaging bug, not bad user input)."""

    code = "codelist-data"


# ------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class IcdScheme:
    """One entry of the participant identifier scheme list (an ISO 6523 ICD code)."""

    icd: str
    scheme_id: str
    state: State
    registrable: bool
    deprecation_release: str | None = None
    removal_date: _dt.date | None = None
    country: str = ""
    #: Regular expression for the local part, where the docs give one (informational only).
    value_hint: str | None = None
    #: Check-digit algorithm of the local part: ``luhn``, ``gs1``, ``mod11``, ``mod97`` or None.
    check_digits: str | None = None

    def usable_on(self, day: _dt.date) -> bool:
        """Participants with this ICD can be addressed on ``day`` (not removed, removal date not reached)."""
        if self.state == "removed":
            return False
        return self.removal_date is None or day < self.removal_date

    def check_local_id(self, local_id: str) -> list[str]:
        """Problems of ``local_id`` against the syntax hint and check digits (empty when none found).

        Informational: Peppol does not require access points to enforce national syntaxes.
        """
        problems: list[str] = []
        if self.value_hint and not re.fullmatch(self.value_hint, local_id, flags=re.IGNORECASE):
            problems.append(f"does not match the {self.scheme_id} syntax {self.value_hint}")
        elif self.check_digits and not _CHECKS[self.check_digits](local_id):
            problems.append(f"{self.check_digits} check digit is wrong")
        return problems


@dataclass(frozen=True)
class TransportProfile:
    """A transport profile identifier an SMP endpoint may carry."""

    id: str
    protocol: str
    version: str
    state: State
    peppol: bool
    description: str = ""
    removal_date: _dt.date | None = None


@dataclass(frozen=True)
class ProcessInfo:
    """A process (BIS profile) the project uses."""

    value: str
    name: str
    state: State = "active"
    scheme: str = _PROCESS_SCHEME

    @property
    def uri(self) -> str:
        return f"{self.scheme}::{self.value}"


@dataclass(frozen=True)
class DocTypeInfo:
    """A document type the project exchanges, with the processes the code list allows it in."""

    value: str
    transaction: str
    version: str
    name: str
    area: str
    process_values: tuple[str, ...]
    state: State = "active"
    scheme: str = _DOCTYPE_SCHEME

    @property
    def process_uris(self) -> tuple[str, ...]:
        """``scheme::value`` of each process the code list allows this document type in."""
        return tuple(f"{_PROCESS_SCHEME}::{v}" for v in self.process_values)

    @property
    def uri(self) -> str:
        return f"{self.scheme}::{self.value}"


# ------------------------------------------------------------------------------------ check digits


def _luhn(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _gs1(digits: str) -> bool:
    """GS1 mod-10 (GLN, GTIN): weights 3,1,3,… from the right, excluding the check digit."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _mod11_no(digits: str) -> bool:
    """Norwegian organisation number: weights 3,2,7,6,5,4,3,2; remainder 1 is never issued."""
    if not digits.isdigit() or len(digits) != 9:
        return False
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    rest = sum(int(c) * w for c, w in zip(digits[:8], weights, strict=True)) % 11
    if rest == 1:
        return False
    return (0 if rest == 0 else 11 - rest) == int(digits[8])


def _mod97_be(digits: str) -> bool:
    """Belgian enterprise number: the last two digits are 97 - (first eight mod 97)."""
    if not digits.isdigit() or len(digits) != 10:
        return False
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


_CHECKS: Final = {"luhn": _luhn, "gs1": _gs1, "mod11": _mod11_no, "mod97": _mod97_be}


# ------------------------------------------------------------------------------------------ loading


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise CodeListDataError(f"{name}: top level is not an object")
    return data


def _state(raw: object, where: str) -> State:
    value = "active" if raw is None else raw
    if value not in _STATES:
        raise CodeListDataError(f"{where}: unknown state {value!r}")
    return cast(State, value)


def _date(raw: object) -> _dt.date | None:
    return None if raw is None else _dt.date.fromisoformat(str(raw))


@cache
def _icd_table() -> Mapping[str, IcdScheme]:
    table: dict[str, IcdScheme] = {}
    for row in _load("participant_schemes.json")["schemes"]:
        check = row.get("check")
        if check is not None and check not in _CHECKS:
            raise CodeListDataError(f"ICD {row['icd']}: unknown check-digit algorithm {check!r}")
        table[row["icd"]] = IcdScheme(
            icd=row["icd"],
            scheme_id=row["id"],
            state=_state(row.get("state"), f"ICD {row['icd']}"),
            registrable=bool(row.get("registrable", True)),
            deprecation_release=row.get("deprecated_in"),
            removal_date=_date(row.get("removed_on")),
            country=row.get("country", ""),
            value_hint=row.get("hint"),
            check_digits=check,
        )
    return MappingProxyType(table)


@cache
def _transport_table() -> Mapping[str, TransportProfile]:
    table: dict[str, TransportProfile] = {}
    for row in _load("transport_profiles.json")["profiles"]:
        table[row["id"]] = TransportProfile(
            id=row["id"],
            protocol=row["protocol"],
            version=row["version"],
            state=_state(row.get("state"), f"transport profile {row['id']}"),
            peppol=bool(row["peppol"]),
            description=row.get("description", ""),
            removal_date=_date(row.get("removed_on")),
        )
    return MappingProxyType(table)


@cache
def _doctype_data() -> tuple[Mapping[str, DocTypeInfo], Mapping[str, ProcessInfo]]:
    data = _load("document_types.json")
    processes: dict[str, ProcessInfo] = {}
    for row in data["processes"]:
        processes[row["value"]] = ProcessInfo(
            value=row["value"], name=row["name"], state=_state(row.get("state"), row["value"])
        )
    doctypes: dict[str, DocTypeInfo] = {}
    for row in data["document_types"]:
        for proc in row["processes"]:
            if proc not in processes:
                raise CodeListDataError(f"{row['tx']} {row['version']}: process {proc!r} is not declared")
        info = DocTypeInfo(
            value=row["value"],
            transaction=row["tx"],
            version=row["version"],
            name=row["name"],
            area=row["area"],
            process_values=tuple(row["processes"]),
            state=_state(row.get("state"), row["value"]),
            scheme=row.get("scheme", _DOCTYPE_SCHEME),
        )
        doctypes[info.uri] = info
    return MappingProxyType(doctypes), MappingProxyType(processes)


class _LazyMapping(Mapping[str, Any]):
    """A read-only mapping whose content is loaded on first use (keeps ``import`` cheap)."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getitem__(self, key: str) -> Any:
        return self._loader()[key]

    def __iter__(self) -> Any:
        return iter(self._loader())

    def __len__(self) -> int:
        return len(self._loader())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} entries)"


# ------------------------------------------------------------------------------------------ public API

#: ICD code → scheme entry (every entry of the code list, whatever its state).
PARTICIPANT_SCHEMES: Final[Mapping[str, IcdScheme]] = _LazyMapping(_icd_table)
#: Transport profile id → info (state included). Ids are compared exactly.
TRANSPORT_PROFILES: Final[Mapping[str, TransportProfile]] = _LazyMapping(_transport_table)
#: Document type URI (``scheme::value``) → info, for every document type the project exchanges.
DOCUMENT_TYPES: Final[Mapping[str, DocTypeInfo]] = _LazyMapping(lambda: _doctype_data()[0])
#: Process value → info, for every process the project's document types use.
PROCESSES: Final[Mapping[str, ProcessInfo]] = _LazyMapping(lambda: _doctype_data()[1])


def participant_scheme(icd: str) -> IcdScheme | None:
    """The code-list entry of an ICD code such as ``"0088"``, or None when unknown."""
    return _icd_table().get(icd)


def transport_profile(profile_id: str) -> TransportProfile | None:
    """The transport profile with exactly this id, or None."""
    return _transport_table().get(profile_id)


def document_type(value_or_id: object) -> DocTypeInfo | None:
    """Look up a document type by :class:`~peppol.identifiers.DocumentTypeId`, by ``scheme::value``
    URI or by bare value (``busdox-docid-qns`` assumed). Exact, case-sensitive match."""
    table = _doctype_data()[0]
    scheme = getattr(value_or_id, "scheme", None)
    value = getattr(value_or_id, "value", None)
    if isinstance(scheme, str) and isinstance(value, str):
        return table.get(f"{scheme}::{value}")
    if not isinstance(value_or_id, str):
        return None
    found = table.get(value_or_id)
    if found is None:
        found = table.get(f"{_DOCTYPE_SCHEME}::{value_or_id}")
    return found


def document_types_for(transaction: str) -> tuple[DocTypeInfo, ...]:
    """All versions of a transaction such as ``"T004"`` or ``"Invoice"`` (oldest version first)."""
    return tuple(
        sorted(
            (d for d in _doctype_data()[0].values() if d.transaction == transaction), key=lambda d: d.version
        )
    )


def process(value: str) -> ProcessInfo | None:
    """The process with exactly this value (scheme ``cenbii-procid-ubl``), or None."""
    return _doctype_data()[1].get(value)


def is_allowed_pair(doctype: object, process_id: object) -> bool:
    """True when the (document type, process) pair is registered (exact, case-sensitive). Both are
    identifier objects (anything with ``scheme`` and ``value``, e.g. ``peppol.identifiers`` ids)."""
    info = document_type(doctype)
    return (
        info is not None
        and getattr(process_id, "scheme", None) == _PROCESS_SCHEME
        and getattr(process_id, "value", None) in info.process_values
    )


__all__ = [
    "CODELIST_VERSION",
    "DOCUMENT_TYPES",
    "PARTICIPANT_SCHEMES",
    "PEPPOL_AS4_V2",
    "PROCESSES",
    "TRANSPORT_PROFILES",
    "CodeListDataError",
    "DocTypeInfo",
    "IcdScheme",
    "ProcessInfo",
    "State",
    "TransportProfile",
    "document_type",
    "document_types_for",
    "is_allowed_pair",
    "participant_scheme",
    "process",
    "transport_profile",
]
