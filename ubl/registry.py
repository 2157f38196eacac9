"""The document types the access point knows, and the artifacts that validate each of them.

The data is ours (``ubl/data/document_types.json``, written from ``documents.md`` §2–§6, Peppol code
list v9.7 and the eForms SDK notice subtypes); eForms entries are expanded here, one per notice
subtype (``eforms-cn-16``), because each subtype has its own Schematron phase (``eforms-16``).

Artifacts are named by an :class:`ArtifactRef`: the name of an artifact set (see
:mod:`ubl.artifacts`) and a path relative to the installed set, so the registry never holds a
machine-specific path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

#: Family names used in :attr:`DocumentType.family`.
FAMILY_EFORMS: Final = "eforms"
FAMILY_PREAWARD: Final = "peppol-preaward"
FAMILY_BIS3: Final = "peppol-bis3"

_DATA_FILE: Final = "document_types.json"


class UnknownDocumentTypeKey(KeyError):
    """No registered document type has this key."""

    code = "unknown-document-type"


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """A file inside a named artifact set: ``set`` is the set name, ``path`` is relative to it."""

    set: str
    path: str

    def __str__(self) -> str:
        return f"{self.set}:{self.path}"


@dataclass(frozen=True, slots=True)
class DocumentType:
    """One business document type and how to validate it.

    ``document_type_id`` is the Peppol document type identifier taken verbatim from the Peppol code
    list (``None`` for eForms notices, which do not travel over Peppol as such). ``alt_*`` hold the
    other active versions of the same transaction that detection also accepts.
    """

    key: str
    name: str
    family: str
    root: str
    namespace: str
    ubl_version: str | None
    customization_id: str
    profile_id: str | None
    document_type_id: str | None
    xsd: ArtifactRef
    schematron: ArtifactRef | None
    phase: str | None
    transaction: str | None = None
    subtype: str | None = None
    alt_customization_ids: tuple[str, ...] = ()
    alt_profile_ids: tuple[str, ...] = ()
    note: str = ""

    @property
    def customization_ids(self) -> tuple[str, ...]:
        """Every CustomizationID that identifies this type (main one first)."""
        return (self.customization_id, *self.alt_customization_ids)

    @property
    def profile_ids(self) -> tuple[str, ...]:
        """Every ProfileID (process) this type is used with (main one first)."""
        return ((self.profile_id,) if self.profile_id else ()) + self.alt_profile_ids


def _ref(raw: dict[str, str] | None) -> ArtifactRef | None:
    return None if raw is None else ArtifactRef(set=raw["set"], path=raw["path"])


def _load_raw() -> dict[str, Any]:
    text = resources.files("ubl").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _eforms_types(raw: dict[str, Any]) -> list[DocumentType]:
    out: list[DocumentType] = []
    set_name: str = raw["artifact_set"]
    for doc in raw["documents"]:
        for subtype in doc["subtypes"]:
            out.append(
                DocumentType(
                    key=f"eforms-{doc['code'].lower()}-{subtype.lower()}",
                    name=f"eForms {doc['name']} (subtype {subtype})",
                    family=FAMILY_EFORMS,
                    root=doc["root"],
                    namespace=doc["namespace"],
                    ubl_version=raw["ubl_version"],
                    customization_id=raw["customization_id"],
                    profile_id=None,
                    document_type_id=None,
                    xsd=ArtifactRef(set_name, doc["xsd"]),
                    schematron=ArtifactRef(set_name, raw["schematron"]),
                    phase=raw["phase"].format(subtype=subtype),
                    transaction=doc["code"],
                    subtype=subtype,
                )
            )
    return out


def _listed_types(raw: list[dict[str, Any]]) -> list[DocumentType]:
    out: list[DocumentType] = []
    for item in raw:
        xsd = _ref(item["xsd"])
        assert xsd is not None
        out.append(
            DocumentType(
                key=item["key"],
                name=item["name"],
                family=item["family"],
                root=item["root"],
                namespace=item["namespace"],
                ubl_version=item["ubl_version"],
                customization_id=item["customization_id"],
                profile_id=item["profile_id"],
                document_type_id=item["document_type_id"],
                xsd=xsd,
                schematron=_ref(item["schematron"]),
                phase=item["phase"],
                transaction=item.get("transaction"),
                alt_customization_ids=tuple(item.get("alt_customization_ids", ())),
                alt_profile_ids=tuple(item.get("alt_profile_ids", ())),
                note=item.get("note", ""),
            )
        )
    return out


@cache
def document_types() -> tuple[DocumentType, ...]:
    """All registered document types: eForms subtypes, Peppol pre-award T001–T022, BIS 3 post-award."""
    raw = _load_raw()
    types = _eforms_types(raw["eforms"]) + _listed_types(raw["types"])
    keys = [t.key for t in types]
    if len(keys) != len(set(keys)):  # pragma: no cover - guards the data file
        raise ValueError("duplicate document type keys in the registry data")
    return tuple(types)


@cache
def _by_key() -> dict[str, DocumentType]:
    return {t.key: t for t in document_types()}


def get(key: str) -> DocumentType:
    """The document type registered under ``key`` (e.g. ``peppol-t004``, ``eforms-cn-16``)."""
    try:
        return _by_key()[key.lower()]
    except KeyError:
        raise UnknownDocumentTypeKey(key) from None


@cache
def _by_root() -> dict[tuple[str, str], tuple[DocumentType, ...]]:
    index: dict[tuple[str, str], list[DocumentType]] = {}
    for t in document_types():
        index.setdefault((t.root, t.namespace), []).append(t)
    return {k: tuple(v) for k, v in index.items()}


def find(
    *, root: str | None = None, namespace: str | None = None, family: str | None = None
) -> list[DocumentType]:
    """Document types matching every given criterion, in registry order."""
    if root is not None and namespace is not None and family is None:  # detection: one dict hit
        return list(_by_root().get((root, namespace), ()))
    return [
        t
        for t in document_types()
        if (root is None or t.root == root)
        and (namespace is None or t.namespace == namespace)
        and (family is None or t.family == family)
    ]


def by_document_type_id(document_type_id: str) -> DocumentType | None:
    """The registered type whose Peppol document type identifier is exactly ``document_type_id``."""
    for t in document_types():
        if t.document_type_id == document_type_id:
            return t
    return None
