"""``/healthz`` (the process answers), ``/readyz`` (it can do its work) and ``/metrics`` (Prometheus).

``/readyz`` runs every check and answers ``200 {"status": "ready", "checks": {…}}`` or ``503`` with an
RFC 9457 problem document naming the failing checks (``failed``) and why (``checks``):

* ``database``: a ``SELECT 1`` on the store;
* ``redis``: a ``PING`` to the queue's Redis (embedded or ``REDIS_URL``);
* ``key``: the AP key and certificate files load (``[identity]``; the key can be read and matches);
* ``certificate``: the AP certificate is within its validity period.

None of these is authenticated: expose only ``/as4`` (and ``/v1`` to the platform) through the reverse
proxy (``docs/operations.md``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from access_point.service.limits import PROBLEM_MEDIA_TYPE

if TYPE_CHECKING:
    from access_point.service.runtime import Service

OK: Final = "ok"


def _database(service: Service) -> None:
    with service.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _redis(service: Service) -> None:
    if not service.queue.broker.client.ping():
        raise RuntimeError("PING was not answered")


def _key(service: Service) -> None:
    from access_point.service.config import load_service_identity

    load_service_identity(service.config)


def _certificate(service: Service) -> None:
    cert = service.identity.certificate
    now = datetime.now(UTC)
    if cert.not_valid_after_utc <= now:
        raise RuntimeError(f"expired on {cert.not_valid_after_utc.isoformat()}")
    if cert.not_valid_before_utc > now:
        raise RuntimeError(f"not valid before {cert.not_valid_before_utc.isoformat()}")


CHECKS: Final = {"database": _database, "redis": _redis, "key": _key, "certificate": _certificate}


def readiness(service: Service) -> dict[str, str]:
    """Each check's result: ``"ok"`` or ``"failed: <one line>"``."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check(service)
            results[name] = OK
        except Exception as exc:
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            results[name] = f"failed: {reason}"
    return results


def add_operations_routes(app: Any, service: Service) -> None:
    """Add ``/healthz``, ``/readyz`` and ``/metrics`` to the service's FastAPI ``app``."""

    def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def readyz(request: Request) -> Response:
        checks = readiness(service)
        failed = [name for name, result in checks.items() if result != OK]
        if not failed:
            return JSONResponse({"status": "ready", "checks": checks})
        detail = "; ".join(f"{name}: {checks[name]}" for name in failed)
        body = {
            "type": "about:blank",
            "title": "Not ready",
            "status": 503,
            "detail": detail,
            "failed": failed,
            "checks": checks,
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)

    def metrics(request: Request) -> Response:
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    for path, endpoint in (("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics)):
        app.add_api_route(path, endpoint, methods=["GET"], tags=["operations"], include_in_schema=False)
