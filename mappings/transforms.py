"""Value transforms named by spec rules, in both directions (UBL text <-> OCDS JSON value)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from mappings.errors import MappingError

_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$")
_TIME_RE = re.compile(r"^(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_ISO_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
START_OF_DAY: Final = "00:00:00"
END_OF_DAY: Final = "23:59:59"
#: Days per unit for converting eForms durations (approximate for months/years, as OCDS does).
DAYS_PER_UNIT: Final = {"DAY": 1, "WEEK": 7, "MONTH": 30, "YEAR": 365}


def number(text: str, path: str) -> int | float:
    try:
        d = Decimal(text.strip())
    except InvalidOperation as exc:
        raise MappingError(f"not a number: {text!r}", path) from exc
    return int(d) if d == d.to_integral_value() else float(d)


def fmt_number(value: Any) -> str:
    """UBL text of an OCDS number (a numeric string is accepted as written; anything else is refused)."""
    if isinstance(value, bool):
        raise MappingError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, str):
        try:
            Decimal(value.strip())
        except ArithmeticError as exc:
            raise MappingError(f"not a number: {value!r}") from exc
        return value.strip()
    raise MappingError(f"not a number: {value!r}")


def date_to_iso(date_text: str, time_text: str | None, default_time: str, path: str) -> str:
    m = _DATE_RE.match(date_text.strip())
    if m is None:
        raise MappingError(f"not an xsd:date: {date_text!r}", path)
    day, tz = m.group(1), m.group(2) or ""
    clock = default_time
    if time_text:
        t = _TIME_RE.match(time_text.strip())
        if t is None:
            raise MappingError(f"not an xsd:time: {time_text!r}", path)
        clock = t.group(1)
        tz = tz or (t.group(2) or "")
    return f"{day}T{clock}{'+00:00' if tz == 'Z' else tz}"


def iso_to_date_time(value: Any, path: str = "") -> tuple[str, str, str]:
    """``(date, time, tz)`` of an ISO date-time (or a plain date)."""
    text = str(value)
    m = _ISO_RE.match(text)
    if m is not None:
        return m.group(1), m.group(2), m.group(3) or ""
    d = _DATE_RE.match(text)
    if d is not None:
        return d.group(1), "", d.group(2) or ""
    raise MappingError(f"not an ISO 8601 date-time: {text!r}", path)


def to_ocds(typ: str, text: str, table: dict[str, Any], path: str) -> Any:
    """Convert UBL text to the OCDS value (``None`` when a code has no table entry)."""
    text = text.strip()
    if typ in ("text", "lang", "label"):
        return table.get(text, text) if table else text
    if typ == "code":
        return table.get(text)
    if typ == "bool":
        if text not in ("true", "false"):
            raise MappingError(f"not a boolean: {text!r}", path)
        return text == "true"
    if typ == "int":
        v = number(text, path)
        return int(v)
    if typ == "number":
        return number(text, path)
    if typ == "percent":
        return float(Decimal(text) / 100)
    raise MappingError(f"type {typ} needs structured conversion", path)


def from_ocds(typ: str, value: Any, table: dict[str, Any], reverse: str | None) -> str | None:
    """Convert an OCDS value to UBL text (``None`` when it has no UBL form)."""
    if typ in ("text", "lang"):
        if table:
            return reverse
        return str(value)
    if typ == "label":
        # a code shown by its label: written back as the code (an unknown code was kept as is)
        return reverse if reverse is not None else str(value)
    if typ == "code":
        return reverse
    if typ == "bool":
        return "true" if value else "false"
    if typ in ("int", "number"):
        return fmt_number(value)
    if typ == "percent":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MappingError(f"not a number: {value!r}")
        return format((Decimal(repr(float(value))) * 100).normalize(), "f")
    raise MappingError(f"type {typ} needs structured conversion")
