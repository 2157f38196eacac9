"""Structured logging for the ``ap`` commands and the service: one line per event, JSON or text.

``configure_logging(level, fmt)`` installs one handler on the root logger (stderr by default). Every
line carries a UTC timestamp, the level, the logger name and the message; the request id of the
current context (:func:`request_context` / :func:`set_request_id`) when there is one; and the fields
passed as ``extra=`` that name a message exchange (:data:`MESSAGE_FIELDS`: MessageId, sender,
receiver, document type, verdict, ebMS code, duration) or any other ``extra`` key. Example::

    log.info("message received", extra={"message_id": mid, "sender": s, "verdict": "accepted",
                                        "ebms_code": None, "duration_ms": 12.5})

gives, with ``fmt="json"``::

    {"timestamp": "2026-12-07T05:00:00.123Z", "level": "info", "logger": "transport.receiver",
     "message": "message received", "request_id": "…", "message_id": "…", "sender": "…", …}

The JSON shape is stable: the five base keys always, then the request id and extra fields when set
(``docs/cli.md`` § Logging).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final, Literal, TextIO

LogFormat = Literal["json", "text"]
#: Accepted ``--log-format`` values.
LOG_FORMATS: Final = ("text", "json")
#: Accepted ``--log-level`` values (lower case; upper case works too).
LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
#: Defaults of the ``ap`` command line: warnings and errors only, as text.
DEFAULT_LOG_LEVEL: Final = "warning"
DEFAULT_LOG_FORMAT: Final = "text"
#: The ``extra`` fields of a message-exchange line, in the order the text format prints them.
MESSAGE_FIELDS: Final = (
    "message_id",
    "sender",
    "receiver",
    "document_type",
    "verdict",
    "ebms_code",
    "duration_ms",
)

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("ap_request_id", default=None)
#: Attributes every ``LogRecord`` has: anything else on a record came from ``extra=``.
_RECORD_ATTRS: Final = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "taskName"}
_HANDLER_MARK: Final = "_ap_structured_handler"


def new_request_id() -> str:
    """A fresh request id (a UUID4 hex string)."""
    return uuid.uuid4().hex


def set_request_id(request_id: str | None) -> contextvars.Token[str | None]:
    """Set the request id of the current context (thread / asyncio task); returns the reset token."""
    return _request_id.set(request_id)


def current_request_id() -> str | None:
    """The request id of the current context, if any."""
    return _request_id.get()


@contextlib.contextmanager
def request_context(request_id: str | None = None) -> Iterator[str]:
    """Run a block under a request id (a new one unless given); every log line inside carries it."""
    rid = request_id or new_request_id()
    token = _request_id.set(rid)
    try:
        yield rid
    finally:
        _request_id.reset(token)


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRS and not k.startswith("_")}
    ordered: dict[str, Any] = {k: fields.pop(k) for k in MESSAGE_FIELDS if k in fields}
    ordered.update(sorted(fields.items()))
    return ordered


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module docstring for the keys)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or current_request_id()
        if rid:
            data["request_id"] = rid
        for key, value in _extra_fields(record).items():
            if key != "request_id":
                data[key] = _jsonable(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """``TIMESTAMP LEVEL logger: message key=value …`` on one line (tracebacks indented below)."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record.created), record.levelname, f"{record.name}:", record.getMessage()]
        rid = getattr(record, "request_id", None) or current_request_id()
        fields = {"request_id": rid} if rid else {}
        fields.update({k: v for k, v in _extra_fields(record).items() if k != "request_id"})
        parts += [f"{key}={value}" for key, value in fields.items() if value is not None]
        line = " ".join(str(p) for p in parts)
        if record.exc_info:
            trace = self.formatException(record.exc_info).splitlines()
            line += "\n" + "\n".join("    " + row for row in trace)
        return line


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it per test)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def parse_level(level: str | int) -> int:
    """A logging level from ``"info"``, ``"INFO"`` or ``20``; ``ValueError`` names the accepted ones."""
    if isinstance(level, int):
        return level
    value = logging.getLevelName(level.strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r} (one of {', '.join(LOG_LEVELS)})")
    return value


def configure_logging(
    level: str | int = DEFAULT_LOG_LEVEL,
    fmt: LogFormat | str = DEFAULT_LOG_FORMAT,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream`` (stderr) as JSON lines or text lines.

    Idempotent: a handler installed by an earlier call is replaced, other handlers are left alone.
    Returns the installed handler.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r} (one of {', '.join(LOG_FORMATS)})")
    numeric = parse_level(level)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler: logging.StreamHandler[Any] = logging.StreamHandler(
        stream if stream is not None else _CurrentStderr()
    )
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler
