"""The ``ap`` command line. Each command group lives in its own module and is a thin layer over a
library function; this module only assembles them."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from access_point import __version__
from access_point.cli import (
    artifacts_cmd,
    as4_cmd,
    id_cmd,
    lookup_cmd,
    pki_cmd,
    validate_cmd,
)

#: Commands whose module is imported only when the command itself runs (or its own ``--help`` is
#: asked for), with the help text ``ap --help`` lists for them. ``convert_cmd`` imports ``mappings``
#: and ``jsonschema`` at module level, which would otherwise cost every ``ap`` command ~0.1 s.
#: tests/access_point/test_cli_startup.py checks that each text here is the command's own help.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "convert": (
        "access_point.cli.convert_cmd",
        "Convert INPUT between OCDS, DECP and UBL (eForms CN/CAN, Peppol T004/T005/T006/T018).",
    ),
}


def load_command(name: str) -> Any:
    """Import the module of a lazy command and build its click command (as ``register`` defines it)."""
    module_name, _help = LAZY_COMMANDS[name]
    module = importlib.import_module(module_name)
    holder = typer.Typer(add_completion=False)
    module.register(holder)
    return typer.main.get_command(holder)


class _LazyGroup(TyperGroup):
    """The root group: lists the lazy commands by name and help, and imports one only when it is run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Same listing order as registering them eagerly: typer lists plain commands (in registration
        # order) before command groups, and the lazy commands were registered last.
        eager = list(self.commands.items())
        plain = [(n, c) for n, c in eager if not isinstance(c, TyperGroup)]
        groups = [(n, c) for n, c in eager if isinstance(c, TyperGroup)]
        lazy = [(n, _Placeholder(name=n, help=text)) for n, (_m, text) in LAZY_COMMANDS.items()]
        self.commands.clear()
        ordered: list[tuple[str, Any]] = [*plain, *lazy, *groups]
        self.commands.update(ordered)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and isinstance(self.commands.get(args[0]), _Placeholder):
            self.commands[args[0]] = load_command(args[0])
        return super().resolve_command(ctx, args)


class _Placeholder(TyperCommand):
    """Stands for a lazy command in the root help listing; never run (``resolve_command`` swaps it)."""


app = typer.Typer(
    cls=_LazyGroup,
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


for _module in (pki_cmd, id_cmd, lookup_cmd, as4_cmd, validate_cmd, artifacts_cmd):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
