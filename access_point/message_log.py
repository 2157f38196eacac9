"""One log line per message exchanged, and a request id on every line logged while a request runs.

Both AS4 servers (``ap serve`` and ``ap as4 serve``) wrap their ASGI application in
:class:`RequestIds` and pass :func:`log_inbound` (or a function calling it) as the ``observer`` of
:func:`transport.server.create_app`; the service's outbound worker calls :func:`log_outbound`. The lines
go to the ``access_point.messages`` logger at INFO (``ap --log-level info``) with the fields of
:data:`access_point.logs.MESSAGE_FIELDS`::

    {"timestamp": "…", "level": "info", "logger": "access_point.messages", "message": "as4 inbound",
     "request_id": "…", "message_id": "…", "sender": "iso6523-actorid-upis::…", "receiver": "…",
     "document_type": "busdox-docid-qns::…", "verdict": "accepted", "ebms_code": null,
     "duration_ms": 41.2, "direction": "inbound", "http_status": 200}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from access_point.logs import current_request_id, new_request_id, request_context

log = logging.getLogger("access_point.messages")

#: The request header a caller (a reverse proxy) may set; echoed in the response, made up otherwise.
REQUEST_ID_HEADER: Final = "x-request-id"
#: A caller's request id longer than this, or with other characters than these, is replaced.
MAX_REQUEST_ID_CHARS: Final = 128
_REQUEST_ID_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def _usable(value: str | None) -> bool:
    return bool(value) and len(value or "") <= MAX_REQUEST_ID_CHARS and set(value or "") <= _REQUEST_ID_CHARS


class RequestIds:
    """ASGI middleware: every HTTP request runs under a request id (the caller's ``X-Request-ID`` when it
    is a plain token, else a new one), which every log line of the request carries and the response
    returns in ``X-Request-ID``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        given = next(
            (v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == b"x-request-id"), None
        )
        request_id = given if given is not None and _usable(given) else new_request_id()

        async def send_with_id(message: Any) -> None:
            if message.get("type") == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        with request_context(request_id):
            await self.app(scope, receive, send_with_id)


def inbound_fields(headers: Mapping[str, str], response: Any, seconds: float) -> dict[str, Any]:
    """The message fields of one answered AS4 request (``response``: a
    :class:`transport.receiver.ReceiverResponse`)."""
    decision = response.decision
    message = decision.message
    error = decision.error
    code = getattr(error, "code", None) if error is not None else None
    fields: dict[str, Any] = {
        "message_id": decision.message_id,
        "sender": message.sender.uri if message is not None else None,
        "receiver": message.receiver.uri if message is not None else None,
        "document_type": message.document_type.uri if message is not None else None,
        "verdict": str(decision.verdict),
        "ebms_code": str(code) if code is not None else None,
        "duration_ms": round(seconds * 1000, 3),
        "direction": "inbound",
        "http_status": response.status,
    }
    detail = getattr(error, "detail", None)
    if isinstance(detail, str) and detail.startswith("PEPPOL:"):
        fields["peppol_code"] = detail
    if decision.reason and decision.verdict != "accepted":
        fields["reason"] = decision.reason[:500]
    return fields


def log_inbound(headers: Mapping[str, str], response: Any, seconds: float) -> dict[str, Any]:
    """Log the line of one answered AS4 request; returns its fields."""
    fields = inbound_fields(headers, response, seconds)
    log.info("as4 inbound", extra=fields)
    return fields


def log_outbound(
    *,
    message_id: str | None,
    sender: str | None,
    receiver: str | None,
    document_type: str | None,
    verdict: str,
    ebms_code: str | None,
    seconds: float | None,
    **extra: Any,
) -> None:
    """Log the line of one outbound message event (an attempt's outcome, a refusal, a submission)."""
    fields = {
        "message_id": message_id,
        "sender": sender,
        "receiver": receiver,
        "document_type": document_type,
        "verdict": verdict,
        "ebms_code": ebms_code,
        "duration_ms": round(seconds * 1000, 3) if seconds is not None else None,
        "direction": "outbound",
        **extra,
    }
    level = logging.WARNING if verdict in ("failed", "dead") else logging.INFO
    log.log(level, "as4 outbound", extra=fields)


__all__ = ["REQUEST_ID_HEADER", "RequestIds", "current_request_id", "log_inbound", "log_outbound"]
