"""The ``ap`` command line. Each command group lives in its own module and is a thin layer over a
library function; this module only assembles them."""

from __future__ import annotations

import importlib
from typing import Annotated, Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from access_point import __version__
from access_point.cli import (
    artifacts_cmd,
    as4_cmd,
    id_cmd,
    lookup_cmd,
    validate_cmd,
)


class LazyCommand(NamedTuple):
    """A command (or command group) whose module is imported only when it is run."""

    module: str
    #: What ``ap --help`` lists for it: the command's own help (tests/access_point/test_cli_startup.py
    #: checks that they are equal).
    help: str


#: Commands whose module is imported only when the command itself runs (or its own ``--help`` is
#: asked for). Their option types or module-level imports are heavy: ``pki_cmd`` needs the enums of
#: ``peppol.pki`` (which loads pyhanko-certvalidator and requests, ~0.1 s) in its signatures,
#: ``convert_cmd`` imports ``mappings`` and ``jsonschema`` (~0.1 s).
LAZY_COMMANDS: dict[str, LazyCommand] = {
    "conformance": LazyCommand("access_point.cli.conformance_cmd", "Conformance suites: documents, AS4."),
    "pki": LazyCommand("access_point.cli.pki_cmd", "Peppol PKI: generate a test PKI, check certificates."),
    "convert": LazyCommand(
        "access_point.cli.convert_cmd",
        "Convert INPUT between OCDS, DECP and UBL (eForms CN/CAN, Peppol T004/T005/T006/T018).",
    ),
}

#: The order ``ap --help`` lists the commands in (typer's own order when every module registered
#: eagerly: plain commands, then command groups, each in registration order).
LISTING_ORDER = ("lookup", "validate", "convert", "pki", "id", "as4", "artifacts")


def load_command(name: str) -> Any:
    """Import the module of a lazy command and build its click command as its ``register`` defines it."""
    module = importlib.import_module(LAZY_COMMANDS[name].module)
    holder = typer.Typer(add_completion=False)
    module.register(holder)
    built = typer.main.get_command(holder)
    if isinstance(built, TyperGroup) and name in built.commands:  # registered with add_typer
        return built.commands[name]
    return built


def _listing_key(name: str) -> int:
    return LISTING_ORDER.index(name) if name in LISTING_ORDER else len(LISTING_ORDER)


class _LazyGroup(TyperGroup):
    """The root group: lists the lazy commands by name and help, and imports one only when it is run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entries: dict[str, Any] = dict(self.commands)
        for name, lazy in LAZY_COMMANDS.items():
            entries[name] = _Placeholder(name=name, help=lazy.help)
        self.commands.clear()
        self.commands.update((name, entries[name]) for name in sorted(entries, key=_listing_key))

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


for _module in (id_cmd, lookup_cmd, as4_cmd, validate_cmd, artifacts_cmd):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
