"""``ap serve``: the service on one port — ``/as4`` (the AS4 receiver core on the inbound ledger) and the
REST API — under uvicorn with TLS, a connection cap and the body limits of :mod:`.limits`."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import uvicorn

from access_point.message_log import RequestIds
from access_point.service.api import create_api
from access_point.service.config import ServiceConfig
from access_point.service.runtime import Service

#: Seconds an idle keep-alive connection is kept.
KEEP_ALIVE_SECONDS: Final = 5
STARTUP_TIMEOUT_SECONDS: Final = 30.0
#: Seconds open requests get to finish at shutdown (work in flight is safe: the database has it).
GRACEFUL_SHUTDOWN_SECONDS: Final = 3


class _QuietGracefulTimeout(logging.Filter):
    """uvicorn logs an ERROR when idle keep-alive connections outlive the graceful shutdown: expected
    here (peer APs keep connections open), so it is not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Cancel ")


logging.getLogger("uvicorn.error").addFilter(_QuietGracefulTimeout())


def build_app(service: Service) -> Any:
    """The ASGI application of ``service``."""
    from transport.mime import MimeLimits
    from transport.receiver import ReceiverConfig
    from transport.server import create_app

    work = service.config.data_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    receiver = ReceiverConfig(
        identity=service.identity,
        validate_signer=service.ap_validator.validate,
        ledger=service.ledger,
        work_dir=work,
        mime_limits=MimeLimits(max_total_bytes=service.config.limits.max_as4_body_bytes),
    )
    as4 = create_app(
        receiver,
        service.receiver_hooks(),
        limits=_server_limits(service.config),
        observer=service.metrics.inbound,
    )
    return RequestIds(create_api(service, as4))


def _server_limits(config: ServiceConfig) -> Any:
    from transport.server import ServerLimits

    return ServerLimits(
        max_connections=config.limits.max_connections,
        body_idle_timeout=config.limits.body_read_timeout,
        keep_alive_seconds=KEEP_ALIVE_SECONDS,
    )


def _uvicorn_config(app: Any, config: ServiceConfig) -> uvicorn.Config:
    """The transport's server settings (TLS ciphers, connection cap, request-head deadline) for our app."""
    from transport.server import uvicorn_config

    settings = uvicorn_config(
        app, config.host, config.port, config.tls_cert, config.tls_key, _server_limits(config)
    )
    settings.timeout_graceful_shutdown = GRACEFUL_SHUTDOWN_SECONDS
    return settings


def serve(config: ServiceConfig, *, on_listening: Callable[[str, int], None] | None = None) -> None:
    """Run the service until interrupted (``ap serve``); ``on_listening(url, re-enqueued)``."""
    from transport.server import bind_socket

    sock = bind_socket(config.host, config.port)
    service = Service(config)
    # uvicorn re-raises the SIGTERM/SIGINT it shut down for once it is done, to the handler it found:
    # make that a no-op, so the service (its workers, the embedded Redis) is closed below.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _after_shutdown)
    try:
        pending = service.start()
        app = build_app(service)
        if on_listening is not None:
            scheme = "https" if config.tls_cert else "http"
            on_listening(f"{scheme}://{config.host}:{sock.getsockname()[1]}", pending)
        uvicorn.Server(_uvicorn_config(app, config)).run(sockets=[sock])
    finally:
        service.close()


def _after_shutdown(sig: int, frame: Any) -> None:
    return None


@dataclass
class RunningService:
    """A service running in a background thread (tests, the demo, benchmarks)."""

    service: Service
    server: uvicorn.Server
    thread: threading.Thread
    port: int

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        self.service.close()


def start_service(config: ServiceConfig, **kwargs: Any) -> RunningService:
    """Start the service of ``config`` in this process; returns once it listens."""
    from transport.server import bind_socket

    sock = bind_socket(config.host, config.port)
    service = Service(config, **kwargs)
    service.start()
    server = uvicorn.Server(_uvicorn_config(build_app(service), config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="ap-service")
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            service.close()
            raise RuntimeError("the service did not start")
        time.sleep(0.01)
    return RunningService(service, server, thread, sock.getsockname()[1])
