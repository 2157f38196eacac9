"""The canonical platform model: an OCDS 1.1 release (OCDS for eForms) plus the ``platform`` extension.

``validate_release`` checks a release against ``schema/platform-release.schema.json`` and reports every
problem as ``(path, reason)``, the path in dotted form (``tender.lots[0].value.amount``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema

from mappings.errors import InputValidationError

SCHEMA_FILE = "schema/platform-release.schema.json"
DECP_INPUT_SCHEMA_FILE = "schema/decp-input.schema.json"
#: Prefix of the ocids the platform gives the releases it makes (read from an eForms notice, a Peppol
#: document or a DECP contract); a reader that takes an ``ocid_prefix`` defaults to it.
DEFAULT_OCID_PREFIX: Final = "ocds-pap000"
#: Path prefix of the errors found in a DECP enrichment file (they name that file, not the DECP input).
ENRICH_PREFIX: Final = "enrich:"


def ocid(*parts: object, prefix: str = DEFAULT_OCID_PREFIX) -> str:
    """The ocid ``<prefix>-<part>-<part>…`` of a release the platform makes (``ocds-pap000-<folder>``)."""
    return "-".join([prefix, *(str(p) for p in parts)])


@cache
def release_schema() -> dict[str, Any]:
    """The JSON Schema of the platform model."""
    loaded: dict[str, Any] = json.loads(resources.files("mappings").joinpath(SCHEMA_FILE).read_text("utf-8"))
    return loaded


FORMATS: Final = jsonschema.FormatChecker()
#: Reasons given for values that fail our formats.
FORMAT_REASONS: Final = {
    "iso-date-time": "not a real ISO 8601 date-time (YYYY-MM-DDThh:mm:ss with a time zone, or a date)",
    "iso-date": "not a real date (YYYY-MM-DD)",
}


@FORMATS.checks("iso-date-time", raises=ValueError)
def is_iso_date_time(value: object) -> bool:
    """An ISO 8601 date or date-time naming a real day and time (``2024-02-30`` is not one)."""
    if not isinstance(value, str):
        return True  # the type keyword reports it
    datetime.fromisoformat(value.replace("Z", "+00:00") if len(value) > 10 else value)
    return True


@FORMATS.checks("iso-date", raises=ValueError)
def is_iso_date(value: object) -> bool:
    """An ISO 8601 calendar date ``YYYY-MM-DD`` naming a real day."""
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(release_schema(), format_checker=FORMATS)


@cache
def decp_input_schema() -> dict[str, Any]:
    """The JSON Schema of a DECP document the import accepts (its DECP-only fields as in the model)."""
    text = resources.files("mappings").joinpath(DECP_INPUT_SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    loaded["definitions"]["decpMarche"] = release_schema()["definitions"]["decpMarche"]
    return loaded


@cache
def _decp_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(decp_input_schema(), format_checker=FORMATS)


#: Longest value repeated in a reason; a longer one is named by its type (a whole marché is not).
MAX_REASON_VALUE: Final = 60


def _short(value: Any) -> str:
    text = repr(value)
    if len(text) <= MAX_REASON_VALUE:
        return text
    if isinstance(value, dict | list):
        return f"{'an object' if isinstance(value, dict) else 'an array'} ({len(value)} items)"
    return f"{text[:MAX_REASON_VALUE]}…"


def schema_errors(validator: jsonschema.Draft7Validator, doc: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Every problem ``validator`` finds in ``doc`` as ``(prefix + dotted path, reason)``, sorted by path."""
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    out: list[tuple[str, str]] = []
    for e in errors:
        reason = e.message
        if e.validator == "type":
            reason = f"{_short(e.instance)} is not of type {e.validator_value!r}"
        if e.validator == "format" and str(e.validator_value) in FORMAT_REASONS:
            reason = f"{e.instance!r}: {FORMAT_REASONS[str(e.validator_value)]}"
        item = (prefix + dotted(e.absolute_path), reason)
        if item not in out:  # a value checked by two subschemas (allOf) is reported once
            out.append(item)
    return out


def dotted(path: Any) -> str:
    """``['tender', 'lots', 0, 'id']`` -> ``tender.lots[0].id``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "$"


def release_errors(release: Any) -> list[tuple[str, str]]:
    """Every schema violation of ``release`` as ``(path, reason)``, sorted by path."""
    return schema_errors(_validator(), release)


def decp_errors(doc: Any) -> list[tuple[str, str]]:
    """Every problem of a DECP input document as ``(path, reason)`` (``marches.marche[0].montant``)."""
    return schema_errors(_decp_validator(), doc)


def validate_release(release: Any) -> None:
    """Raise :class:`InputValidationError` listing every problem when ``release`` is not valid."""
    errors = release_errors(release)
    if errors:
        raise InputValidationError(errors)
