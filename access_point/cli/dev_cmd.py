"""``ap dev pair`` and ``ap dev discovery``: a ready two-AP setup on loopback, and its DNS + SMP."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

_err = Console(stderr=True)
dev_app = typer.Typer(help="Development helpers: a two-AP setup on loopback.", no_args_is_help=True)


@dev_app.command("pair")
def pair(
    directory: Annotated[Path, typer.Argument(help="Where to write the setup (created).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")] = False,
    static: Annotated[
        bool, typer.Option("--static", help="A static directory file instead of a DNS zone + SMP.")
    ] = False,
) -> None:
    """Write a test PKI, discovery data and DIR/marketplace/ap.toml + DIR/partner/ap.toml."""
    from access_point.dev.pair import instructions, write_pair

    try:
        info = write_pair(directory, static=static)
    except OSError as exc:
        _err.print(f"[red]error:[/red] cannot write {directory}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
    else:
        for line in instructions(directory, info):
            typer.echo(line)


@dev_app.command("discovery")
def discovery(
    directory: Annotated[Path, typer.Argument(help="A directory written by `ap dev pair`.")],
) -> None:
    """Run the DNS server (the SML) and the SMP of a pair until interrupted."""
    from access_point.dev.network import start_network

    try:
        network = start_network(directory)
    except (OSError, ValueError, KeyError) as exc:
        _err.print(f"[red]error:[/red] cannot start the discovery of {directory}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    _err.print(f"SML (DNS) on {network.nameserver}, SMP on {network.smp_url}; Ctrl-C stops", highlight=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        network.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(dev_app, name="dev")
