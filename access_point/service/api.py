"""The REST API (FastAPI; OpenAPI at ``/docs`` and ``/openapi.json``) and ``/as4`` in one ASGI app.

Every error is an RFC 9457 problem document (``application/problem+json``); API keys go in
``Authorization: Bearer <key>`` (or ``X-API-Key``); a tenant only ever sees and sends as its own
participants (another tenant's message is a ``404``, not a ``403``: its existence is not disclosed).
"""

import json
import logging
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import anyio
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from access_point.service.health import add_operations_routes
from access_point.service.limits import PROBLEM_MEDIA_TYPE, BodyLimits
from access_point.service.runtime import Principal, Service, ServiceError

log = logging.getLogger(__name__)

API_PREFIX: Final = "/v1"
#: Seconds a client is told to wait (``Retry-After``) when the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS: Final = 2
#: ``POST`` a document as the raw request body (streamed to disk: up to the AS4 bound of 100 MB).
UPLOAD_PATH: Final = f"{API_PREFIX}/outbound/upload"
#: The request body of :data:`UPLOAD_PATH` in the OpenAPI document.
_UPLOAD_BODY: Final = {
    "required": True,
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in ("application/xml", "application/json")
    },
}


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


class OutboundIn(BaseModel):
    """A document to send."""

    receiver: str = Field(description="C4 participant id, e.g. iso6523-actorid-upis::9930:de298946909")
    format: Literal["ubl", "ocds", "decp"] = Field("ubl", description="What `document` is.")
    document: str | dict[str, Any] = Field(description="UBL XML text, or OCDS / DECP JSON (object or text).")
    sender: str | None = Field(None, description="C1 participant id (default: the tenant's first).")
    document_type: str | None = Field(None, description="Document type id (default: detected).")
    process: str | None = Field(None, description="Process id (default: detected).")
    target: str | None = Field(None, description="Mapping target for platform data (default: peppol-t004).")


class Accepted(BaseModel):
    id: str
    status: str


def create_api(service: Service, as4_app: Any | None = None) -> Any:
    """The ASGI application of ``service`` (``as4_app`` mounted at ``/`` for ``/as4``), wrapped in the
    request body limits."""
    app = FastAPI(
        title="Procurement Access Point",
        version="1",
        description="Send documents to Peppol participants and receive theirs. Errors: RFC 9457.",
    )
    bearer = HTTPBearer(auto_error=False)

    def principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> Principal:
        key = credentials.credentials if credentials is not None else x_api_key
        return service.authenticate(key)

    Caller = Annotated[Principal, Depends(principal)]

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors)[:1000]
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "the service failed; the request was not processed")

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
            return await _unexpected(request, exc)
        # The database is down or restarting: nothing was stored (or the request is safe to repeat),
        # the client tries again; one log line, not a traceback per request.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig or exc)
        response = problem(503, "Service unavailable", "the database is unavailable; try again shortly")
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    @app.post(f"{API_PREFIX}/outbound", status_code=202, response_model=Accepted, tags=["outbound"])
    def send(body: OutboundIn, caller: Caller) -> Accepted:
        """Validate the document synchronously (422 with the report: nothing queued), store it, queue it."""
        document = body.document
        payload = json.dumps(document).encode() if isinstance(document, dict) else document.encode()
        outbound_id = service.submit(
            caller,
            payload,
            receiver=body.receiver,
            input_format=body.format,
            sender=body.sender,
            document_type=body.document_type,
            process=body.process,
            mapping_target=body.target,
        )
        return Accepted(id=outbound_id, status="queued")

    @app.post(
        UPLOAD_PATH,
        status_code=202,
        response_model=Accepted,
        tags=["outbound"],
        openapi_extra={"requestBody": _UPLOAD_BODY},
    )
    async def upload(
        request: Request,
        caller: Caller,
        receiver: Annotated[str, Query(description="C4 participant id.")],
        format: Annotated[Literal["ubl", "ocds", "decp"], Query(description="What the body is.")] = "ubl",
        sender: Annotated[str | None, Query(description="C1 participant id.")] = None,
        document_type: Annotated[str | None, Query(description="Document type id.")] = None,
        process: Annotated[str | None, Query(description="Process id.")] = None,
        target: Annotated[str | None, Query(description="Mapping target for platform data.")] = None,
    ) -> Accepted:
        """The document is the request body (UBL XML, or OCDS / DECP JSON), up to 100 MB: streamed to
        disk, wrapped and stored from file to file — never held in memory. Otherwise as
        ``POST /v1/outbound``."""
        fd, name = tempfile.mkstemp(prefix="upload-", dir=service.spool_dir)
        path = Path(name)
        try:
            with open(fd, "wb") as out:
                async for chunk in request.stream():
                    out.write(chunk)
            submit = partial(
                service.submit,
                caller,
                path,
                receiver=receiver,
                input_format=format,
                sender=sender,
                document_type=document_type,
                process=process,
                mapping_target=target,
            )
            outbound_id = await anyio.to_thread.run_sync(submit)
        finally:
            path.unlink(missing_ok=True)
        return Accepted(id=outbound_id, status="queued")

    @app.get(f"{API_PREFIX}/outbound/{{outbound_id}}", tags=["outbound"])
    def get_outbound(outbound_id: str, caller: Caller) -> dict[str, Any]:
        """Status timeline, attempts, receipt and errors."""
        return service.outbound(caller, outbound_id)

    @app.post(f"{API_PREFIX}/outbound/{{outbound_id}}/retry", tags=["outbound"])
    def retry_outbound(outbound_id: str, caller: Caller) -> dict[str, Any]:
        """Queue a failed or dead-lettered message again (the same bytes once built)."""
        return service.retry(caller, outbound_id)

    @app.get(f"{API_PREFIX}/inbound", tags=["inbound"])
    def list_inbound(
        caller: Caller,
        all: Annotated[bool, Query(description="Include acknowledged documents.")] = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Documents received for the tenant's participants, oldest first (not yet acknowledged)."""
        return service.inbound_list(caller, include_acked=all, limit=limit)

    @app.get(f"{API_PREFIX}/inbound/{{inbound_id}}", tags=["inbound"], response_model=None)
    def get_inbound(
        inbound_id: str,
        caller: Caller,
        format: Annotated[
            Literal["ubl", "ocds", "decp"] | None,
            Query(description="Return the document itself, in this format."),
        ] = None,
    ) -> dict[str, Any] | Response:
        """The metadata and validation report, or with ``format`` the document (UBL, OCDS or DECP)."""
        if format is None:
            return service.inbound_get(caller, inbound_id)
        data, media_type = service.inbound_document(caller, inbound_id, format)
        return Response(data, media_type=media_type)

    @app.post(f"{API_PREFIX}/inbound/{{inbound_id}}/ack", tags=["inbound"])
    def ack_inbound(inbound_id: str, caller: Caller) -> dict[str, Any]:
        """Mark the document as taken: it leaves the default listing."""
        return service.inbound_ack(caller, inbound_id)

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    add_operations_routes(app, service)
    if as4_app is not None:  # the AS4 receiver's own app, for exactly POST /as4
        app.router.routes.append(Route("/as4", endpoint=as4_app, methods=["POST"]))
    limits = service.config.limits

    def max_bytes(path: str) -> int:
        if path.startswith("/as4") or path == UPLOAD_PATH:
            return limits.max_as4_body_bytes
        return limits.max_api_body_bytes

    return BodyLimits(app, max_bytes=max_bytes, read_timeout=limits.body_read_timeout)
