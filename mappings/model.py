"""The canonical platform model: an OCDS 1.1 release (OCDS for eForms) plus the ``platform`` extension.

``validate_release`` checks a release against ``schema/platform-release.schema.json`` and reports every
problem as ``(path, reason)``, the path in dotted form (``tender.lots[0].value.amount``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from mappings.errors import InputValidationError

SCHEMA_FILE = "schema/platform-release.schema.json"


@cache
def release_schema() -> dict[str, Any]:
    """The JSON Schema of the platform model."""
    loaded: dict[str, Any] = json.loads(resources.files("mappings").joinpath(SCHEMA_FILE).read_text("utf-8"))
    return loaded


@cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(release_schema(), format_checker=jsonschema.FormatChecker())


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
    errors = sorted(_validator().iter_errors(release), key=lambda e: [str(p) for p in e.absolute_path])
    return [(dotted(e.absolute_path), e.message) for e in errors]


def validate_release(release: Any) -> None:
    """Raise :class:`InputValidationError` listing every problem when ``release`` is not valid."""
    errors = release_errors(release)
    if errors:
        raise InputValidationError(errors)
