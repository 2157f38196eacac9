"""``xs:dateTime`` for ``CreationDateAndTime``: strict lexical parsing and canonical writing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

_XS_DATETIME: Final = re.compile(
    r"(?P<y>-?[0-9]{4,})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"T(?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?"
    r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})?"
)
#: Largest time-zone offset xs:dateTime allows (14:00).
_MAX_OFFSET_MINUTES: Final = 14 * 60


def parse_xs_datetime(text: str) -> tuple[datetime, bool]:
    """Parse ``text`` as xs:dateTime; return ``(aware datetime, had_zone)``.

    A value without a zone is read as UTC (``had_zone`` False, so the caller can warn). Fractions beyond
    microseconds are truncated. ``24:00:00`` means midnight of the next day. Raises ``ValueError``.
    """
    m = _XS_DATETIME.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not an xs:dateTime")
    year, month, day = int(m["y"]), int(m["mo"]), int(m["d"])
    hour, minute, second = int(m["h"]), int(m["mi"]), int(m["s"])
    micro = int((m["f"] or "0")[:6].ljust(6, "0"))
    next_day = False
    if hour == 24:
        if minute or second or micro:
            raise ValueError(f"{text!r}: hour 24 is only allowed as 24:00:00")
        hour, next_day = 0, True
    tz_text = m["tz"]
    if tz_text is None or tz_text == "Z":
        tz: timezone = UTC
    else:
        sign = -1 if tz_text[0] == "-" else 1
        hh, mm = int(tz_text[1:3]), int(tz_text[4:6])
        if mm >= 60 or hh * 60 + mm > _MAX_OFFSET_MINUTES:
            raise ValueError(f"{text!r}: time zone offset out of range")
        tz = timezone(sign * timedelta(hours=hh, minutes=mm))
    value = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)  # may raise ValueError
    if next_day:
        value += timedelta(days=1)
    return value, tz_text is not None


def format_xs_datetime(value: datetime) -> str:
    """Canonical xs:dateTime with zone (``Z`` for UTC); refuses naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("CreationDateAndTime needs a time zone (pass an aware datetime)")
    text = value.isoformat(timespec="milliseconds" if value.microsecond % 1000 == 0 else "microseconds")
    if value.microsecond == 0:
        text = value.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text
