"""``ap serve`` and ``ap worker``: the access point service and its queue workers."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from access_point.cli._console import server_logging

_err = Console(stderr=True)
ConfigOpt = Annotated[Path, typer.Option("--config", help="The service configuration (TOML).")]
#: Exit codes: 2 = unusable configuration, 3 = cannot listen.
EXIT_CONFIG, EXIT_CANNOT_LISTEN = 2, 3


def _load(path: Path) -> object:
    from access_point.service.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            _err.print(f"[red]error:[/red] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_CONFIG) from exc


def serve(config: ConfigOpt) -> None:
    """Run the access point service: AS4 at /as4, the REST API at /v1."""
    from access_point.service.config import ServiceConfig
    from access_point.service.server import serve as run

    loaded = _load(config)
    assert isinstance(loaded, ServiceConfig)
    server_logging()
    if loaded.insecure_http:
        _err.print(
            "[bold red]WARNING: serving over PLAIN HTTP (server.insecure_http); tests only.[/bold red]"
        )

    def announce(url: str, pending: int) -> None:
        mode = (
            "in-process workers, embedded Redis"
            if loaded.embedded_redis
            else "workers: `ap worker` on REDIS_URL"
        )
        _err.print(
            f"access point {url} (AS4 {url}/as4, API {url}/v1, docs {url}/docs); {mode}; "
            f"{pending} pending job(s) re-enqueued",
            highlight=False,
            soft_wrap=True,
        )

    try:
        run(loaded, on_listening=announce)
    except OSError as exc:
        _err.print(f"[red]error:[/red] cannot start: {exc.strerror or exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_CANNOT_LISTEN) from exc


def worker(
    config: ConfigOpt,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", metavar="PORT", help="Serve Prometheus /metrics on this port."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", metavar="HOST", help="Address of --metrics-port.")
    ] = "127.0.0.1",
) -> None:
    """Run queue workers (sending, inbound, webhooks) on REDIS_URL."""
    from access_point.service.config import ServiceConfig
    from access_point.service.runtime import Service

    loaded = _load(config)
    assert isinstance(loaded, ServiceConfig)
    if loaded.embedded_redis:
        _err.print(
            "[red]error:[/red] no redis_url / REDIS_URL: with the embedded Redis, `ap serve` runs the workers"
        )
        raise typer.Exit(EXIT_CONFIG)
    server_logging()
    service = Service(loaded)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        service.start_worker_only()
        if metrics_port is not None:
            service.metrics.serve(metrics_host, metrics_port)
        _err.print(f"worker on {loaded.redis_url}: {loaded.limits.worker_threads} thread(s)", highlight=False)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker)
