"""The ``ap`` command line. Each command group lives in its own module and is a thin layer over a
library function; this module only assembles them."""

from __future__ import annotations

from typing import Annotated

import typer

from access_point import __version__
from access_point.cli import (
    artifacts_cmd,
    as4_cmd,
    convert_cmd,
    id_cmd,
    lookup_cmd,
    pki_cmd,
    validate_cmd,
)

app = typer.Typer(
    name="ap",
    help="Procurement Access Point: Peppol AS4 exchange, discovery, validation and mappings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ap (procurement-access-point) {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Procurement Access Point."""


for _module in (pki_cmd, id_cmd, lookup_cmd, as4_cmd, validate_cmd, artifacts_cmd, convert_cmd):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
