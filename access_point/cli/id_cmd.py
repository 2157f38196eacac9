"""``ap id``: parse, validate and explain Peppol identifiers (thin layer over
:func:`peppol.identifiers.check_identifier`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from peppol import codelists
from peppol.identifiers import (
    DEFAULT_SML_ZONE,
    IdentifierError,
    IdentifierReport,
    IdKind,
    check_identifier,
)

#: Exit codes (``docs/cli.md``): 0 valid identifier, 2 invalid identifier or bad option.
EXIT_OK = 0
EXIT_INVALID = 2

id_app = typer.Typer(help="Peppol identifiers: parse, validate, show SML host names.", no_args_is_help=True)

_ZONE_HELP = "SML zone for participant host names: prod, test (OpenPeppol SMLs) or any DNS domain."


def _line(console: Console, label: str, value: object, style: str = "") -> None:
    shown = "-" if value is None or value == "" else str(value)
    text = f"[{style}]{escape(shown)}[/{style}]" if style else escape(shown)
    console.print(f"[bold cyan]{label:<18}[/bold cyan] {text}", soft_wrap=True, highlight=False)


def _print_report(console: Console, report: IdentifierReport) -> None:
    data = report.to_dict()
    console.print(f"[green]valid[/green] {report.kind} identifier", highlight=False)
    _line(console, "scheme", data["scheme"])
    _line(console, "value", data["value"])
    _line(console, "uri", data["uri"])
    _line(console, "url-encoded", data["url_encoded"])
    if report.kind is IdKind.PARTICIPANT:
        _print_participant(console, data)
    elif report.kind is IdKind.DOCTYPE:
        _print_doctype(console, data)
    else:
        _print_process(console, data)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True, highlight=False)


def _print_participant(console: Console, data: dict[str, Any]) -> None:
    _line(console, "icd", data["icd"])
    _line(console, "local id", data["local_id"])
    scheme = data.get("icd_scheme")
    if scheme is not None:
        _line(console, "icd scheme", f"{scheme['scheme_id']} ({scheme['country']})")
        state_style = {"active": "green", "deprecated": "yellow"}.get(scheme["state"], "red")
        _line(console, "icd state", scheme["state"], state_style)
        _line(console, "registrable", "yes" if scheme["registrable"] else "no")
        if scheme["deprecation_release"]:
            _line(console, "deprecated in", f"code list {scheme['deprecation_release']}")
        if scheme["removal_date"]:
            _line(console, "removal date", scheme["removal_date"])
        if scheme["value_hint"]:
            _line(console, "local id syntax", scheme["value_hint"])
    sml = data["sml"]
    _line(console, "sml zone", sml["zone"])
    _line(console, "naptr name", sml["naptr"], "bold")
    _line(console, "cname (legacy)", sml["cname"], "dim")


def _print_doctype(console: Console, data: dict[str, Any]) -> None:
    for key in ("root_namespace", "local_name", "customization_id", "version"):
        if key in data:
            _line(console, key.replace("_", " "), data[key])
    known = data.get("known")
    if known is not None:
        _line(console, "transaction", f"{known['transaction']} {known['version']}: {known['name']}")
        _line(console, "area", known["area"])
        _line(console, "state", known["state"], "green" if known["state"] == "active" else "yellow")
        for i, proc in enumerate(known["processes"]):
            _line(console, "process" if i == 0 else "", proc)


def _print_process(console: Console, data: dict[str, Any]) -> None:
    known = data.get("known")
    if known is not None:
        _line(console, "name", known["name"])
        _line(console, "state", known["state"], "green" if known["state"] == "active" else "yellow")
    for i, doc in enumerate(data["document_types"]):
        _line(console, "document type" if i == 0 else "", doc)


@id_app.command("check")
def check(
    identifier: Annotated[
        str,
        typer.Argument(
            help="Identifier as scheme::value, e.g. iso6523-actorid-upis::0088:5798000000001.",
            show_default=False,
        ),
    ],
    kind: Annotated[
        IdKind | None,
        typer.Option("--kind", help="Force the kind instead of guessing it from the scheme."),
    ] = None,
    zone: Annotated[str, typer.Option("--zone", help=_ZONE_HELP)] = DEFAULT_SML_ZONE,
    lax: Annotated[
        bool,
        typer.Option("--lax", help="Skip the Peppol code-list checks (unknown ICDs, other schemes)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")] = False,
) -> None:
    """Parse and validate an identifier; show its parts, code-list facts and (participants) SML names.

    Exit code 0 when valid, 2 with a one-line reason when not.
    """
    out = Console()
    err = Console(stderr=True)
    try:
        report = check_identifier(identifier, kind=kind, zone=zone, strict=not lax)
    except IdentifierError as exc:
        if as_json:
            payload = {"valid": False, "error": {"code": exc.code, "message": str(exc)}}
            typer.echo(json.dumps(payload, indent=2))
        err.print(
            f"[red]error:[/red] {escape(exc.code)}: {escape(str(exc))}", soft_wrap=True, highlight=False
        )
        raise typer.Exit(EXIT_INVALID) from exc
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(out, report)
    raise typer.Exit(EXIT_OK)


@id_app.command("doctypes")
def doctypes(
    area: Annotated[
        str | None,
        typer.Option("--area", help="Only this area: pre-award, post-award or network."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON on stdout.")] = False,
) -> None:
    """List the document types this access point exchanges, with their allowed processes."""
    infos = [d for d in codelists.DOCUMENT_TYPES.values() if area is None or d.area == area]
    if not infos:
        areas = ", ".join(sorted({d.area for d in codelists.DOCUMENT_TYPES.values()}))
        Console(stderr=True).print(
            f"[red]error:[/red] no document types in area {escape(str(area))!r} ({areas})"
        )
        raise typer.Exit(EXIT_INVALID)
    if as_json:
        rows = [
            {
                "transaction": d.transaction,
                "version": d.version,
                "name": d.name,
                "area": d.area,
                "state": d.state,
                "doctype": d.uri,
                "processes": list(d.process_uris),
            }
            for d in infos
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Document types (Peppol code list {codelists.CODELIST_VERSION})")
    table.add_column("Transaction", style="cyan", no_wrap=True)
    table.add_column("Name")
    table.add_column("Document type / processes", overflow="fold")
    for d in infos:
        procs = "\n".join(f"  {v}" for v in d.process_values)
        table.add_row(f"{d.transaction} {d.version}", d.name, f"{d.value}\n{procs}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``ap id`` to the CLI."""
    app.add_typer(id_app, name="id")
