"""The ``ap`` command line. Each command group lives in its own module and is a thin layer over a
library function; this module only assembles them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any, Final, NamedTuple

import typer
import typer.main
from typer._click import exceptions as click_exceptions
from typer._click.core import ParameterSource
from typer.core import TyperCommand, TyperGroup

from access_point import __version__
from access_point.cli import (
    _console,
    artifacts_cmd,
    as4_cmd,
    id_cmd,
    lookup_cmd,
    validate_cmd,
)
from access_point.logs import (
    DEFAULT_LOG_FORMAT,
    DEFAULT_LOG_LEVEL,
    configure_logging,
)


class LogLevel(StrEnum):
    """``--log-level`` values (``access_point.logs.LOG_LEVELS``)."""

    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"
    critical = "critical"


class LogFormatChoice(StrEnum):
    """``--log-format`` values (``access_point.logs.LOG_FORMATS``)."""

    text = "text"
    json = "json"


_DEFAULT_LEVEL: Final = LogLevel(DEFAULT_LOG_LEVEL)
_DEFAULT_FORMAT: Final = LogFormatChoice(DEFAULT_LOG_FORMAT)


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
    "config": LazyCommand("access_point.cli.config_cmd", "Service configuration: check a file."),
    "dev": LazyCommand("access_point.cli.dev_cmd", "Development helpers: a two-AP setup on loopback."),
    "serve": LazyCommand(
        "access_point.cli.service_cmd", "Run the access point service: AS4 at /as4, the REST API at /v1."
    ),
    "worker": LazyCommand(
        "access_point.cli.service_cmd", "Run queue workers (sending, inbound, webhooks) on REDIS_URL."
    ),
    "send": LazyCommand(
        "access_point.cli.client_cmd", "Send FILE to PARTICIPANT through the service API."
    ),
    "outbound": LazyCommand("access_point.cli.client_cmd", "Outbound messages: get, retry."),
    "inbound": LazyCommand("access_point.cli.client_cmd", "Inbound documents: list, get, ack."),
}

#: The order ``ap --help`` lists the commands in (typer's own order when every module registered
#: eagerly: plain commands, then command groups, each in registration order).
LISTING_ORDER = (
    "lookup", "validate", "convert", "send", "serve", "worker", "pki", "id", "as4", "artifacts", "config",
    "dev", "outbound", "inbound",
)  # fmt: skip


def load_command(name: str) -> Any:
    """Import the module of a lazy command and build its click command as its ``register`` defines it."""
    module = importlib.import_module(LAZY_COMMANDS[name].module)
    holder = typer.Typer(add_completion=False)
    module.register(holder)
    built = typer.main.get_command(holder)
    if isinstance(built, TyperGroup) and name in built.commands:  # registered with add_typer
        built = built.commands[name]
    return _console.readable_metavars(built)


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
        _console.readable_metavars(self)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run, printing click's usage errors as one ``error: …`` line instead of a box."""
        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args=windows_expand_args, **extra
            )
        except click_exceptions.ClickException as exc:
            if not standalone_mode:
                raise
            if isinstance(exc, click_exceptions.NoArgsIsHelpError):  # "ap" or "ap pki" alone: help
                from typer import rich_utils

                rich_utils.rich_format_error(exc)
            else:
                _console.fail(_console.usage_error_line(exc))
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            _console.fail("aborted")
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)

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
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            envvar="AP_LOG_LEVEL",
            case_sensitive=False,
            help="Log records at this level and above go to stderr.",
        ),
    ] = _DEFAULT_LEVEL,
    log_format: Annotated[
        LogFormatChoice,
        typer.Option(
            "--log-format", envvar="AP_LOG_FORMAT", help="Log line format: text, or one JSON object per line."
        ),
    ] = _DEFAULT_FORMAT,
) -> None:
    """Procurement Access Point."""
    _console.reset_warnings()
    configure_logging(log_level.value, log_format.value)
    source = ctx.get_parameter_source("log_level")
    _console.note_log_level_choice(source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT))


for _module in (id_cmd, lookup_cmd, as4_cmd, validate_cmd, artifacts_cmd):
    _module.register(app)


def main() -> None:
    """Console-script entry point (also ``python -m access_point``)."""
    _console.configure_output()
    app(prog_name="ap")
