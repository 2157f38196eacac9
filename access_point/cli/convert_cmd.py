"""``ap convert``: platform data (OCDS, DECP) <-> UBL (eForms notices, Peppol pre-award documents).

A thin layer over :func:`mappings.convert.convert` / :func:`~mappings.convert.convert_all` (one document
per contract with ``--output DIR``); ``--validate`` prints the findings of
:func:`mappings.findings.validate_conversion` (XSD + Schematron for UBL, the platform model's schema and
the official OCDS schema for OCDS, the DECP schema for DECP) as text or JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mappings.convert import (
    MAX_INPUT_BYTES,
    SOURCES,
    TARGETS,
    XML_TARGETS,
    Conversion,
    convert,
    convert_all,
    error_location,
    output_names,
    parse_json,
    read_input_file,
)
from mappings.errors import InputTooLarge, InputValidationError, MappingError
from mappings.findings import Finding, validate_conversion
from mappings.formats import INPUT_FORMATS, OUTPUT_DOCUMENTS

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
#: Findings printed on the console with ``--validate`` unless ``--max-findings`` says (0 = all).
MAX_PRINTED_FINDINGS = 20
FORMATS = ("text", "json")


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def _print_findings(err: Console, findings: list[Finding], limit: int, label: str = "") -> None:
    shown = findings if limit == 0 else findings[:limit]
    for f in shown:
        err.print(f"[red]invalid[/red] {escape(label + f.line())}", highlight=False, soft_wrap=True)
    if len(findings) > len(shown):
        err.print(
            f"... {len(findings) - len(shown)} more (--max-findings 0 shows all, --format json lists all)"
        )


def convert_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Input file.")],
    source: Annotated[str, typer.Option("--from", help=f"Input format: {'|'.join(SOURCES)}.")],
    target: Annotated[str, typer.Option("--to", help=f"Output format: {'|'.join(TARGETS)}.")],
    subtype: Annotated[
        str | None,
        typer.Option(
            "--subtype",
            help=(
                "eForms subtype: --to eforms-cn 16|E3, eforms-can 29|E4 (default: the release's own, "
                "else 16 / 29)."
            ),
        ),
    ] = None,
    enrich: Annotated[
        Path | None,
        typer.Option(
            "--enrich",
            help=(
                "Organisation profiles (JSON, mappings/schema/organisation-profiles.schema.json; the DECP "
                'enrichment {"organisations": {siret: {name, address, contactPoint}}} is one).'
            ),
        ),
    ] = None,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate",
            help="Run the official validation of the result; findings name the input path behind them.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file (default: stdout); a directory (existing, or a new path without an extension) "
            "gets one file per contract of the input, named by its id.",
        ),
    ] = None,
    contract: Annotated[
        str | None,
        typer.Option(
            "--contract", help="The contract (DECP marché/concession id, ocid) an XML document is made from."
        ),
    ] = None,
    max_findings: Annotated[
        int, typer.Option("--max-findings", min=0, help="Findings printed with --validate (0 = all).")
    ] = MAX_PRINTED_FINDINGS,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="Findings as text (stderr) or json (every finding: rule, field, field_name, location, "
            "input; on stdout when the result goes to --output, else on stderr).",
        ),
    ] = "text",
    ocds_schema: Annotated[
        Path | None,
        typer.Option("--ocds-schema", help="Official OCDS 1.1 release-schema.json for --validate --to ocds."),
    ] = None,
    store: Annotated[
        Path | None, typer.Option("--store", help="Artifact store directory for --validate.")
    ] = None,
    decp_schema: Annotated[
        Path | None, typer.Option("--decp-schema", help="DECP JSON Schema for --validate --to decp.")
    ] = None,
) -> None:
    """Convert INPUT between OCDS, DECP and UBL (eForms CN/CAN, Peppol T004/T005/T006/T018)."""
    err = Console(stderr=True)
    if source not in SOURCES:
        raise _fail(err, f"--from must be one of {', '.join(SOURCES)}")
    if target not in TARGETS:
        raise _fail(err, f"--to must be one of {', '.join(TARGETS)}")
    if enrich is not None and not INPUT_FORMATS[source].takes_profiles:
        raise _fail(err, "--enrich (organisation profiles) completes platform data: needs --from decp|ocds")
    if subtype is not None and OUTPUT_DOCUMENTS[target].notice_kind is None:
        raise _fail(
            err, f"--subtype is an eForms notice subtype: it needs --to eforms-cn or eforms-can, not {target}"
        )
    if decp_schema is not None and target != "decp":
        raise _fail(err, f"--decp-schema validates DECP output: it needs --to decp, not {target}")
    if ocds_schema is not None and target != "ocds":
        raise _fail(err, f"--ocds-schema validates OCDS output: it needs --to ocds, not {target}")
    if output_format not in FORMATS:
        raise _fail(err, f"--format must be one of {', '.join(FORMATS)}")
    per_contract = output is not None and (output.is_dir() or (not output.exists() and not output.suffix))
    if per_contract and target not in XML_TARGETS:
        raise _fail(
            err, f"--output DIR writes one document per contract: it needs an XML target, not {target}"
        )
    if per_contract and contract is not None:
        raise _fail(err, "--contract picks one contract: give --output FILE, not a directory")
    if contract is not None and target not in XML_TARGETS:
        raise _fail(err, f"--contract picks the contract of an XML document: not for --to {target}")
    if validate and target == "decp" and decp_schema is None:  # usage before any work (issue 14)
        raise _fail(err, "--validate --to decp needs --decp-schema FILE (the DECP JSON Schema)")
    try:
        data = read_input_file(input_path, MAX_INPUT_BYTES)
        enrichment = parse_json(read_input_file(enrich, MAX_INPUT_BYTES)) if enrich else None
    except OSError as exc:
        raise _fail(err, f"{exc.filename or input_path}: {exc.strerror}") from exc
    except InputTooLarge as exc:
        raise _fail(err, f"{exc.path}: {exc.reason}") from exc
    except MappingError as exc:  # the enrichment file is not JSON
        raise _fail(err, f"{enrich}: {exc.path}: {exc.reason}") from exc
    try:
        if per_contract:
            results = convert_all(
                data, source=source, target=target, subtype=subtype, enrich=enrichment, trace=validate
            )
        else:
            results = [
                convert(
                    data,
                    source=source,
                    target=target,
                    subtype=subtype,
                    enrich=enrichment,
                    trace=validate,
                    contract=contract,
                )
            ]
    except InputValidationError as exc:
        shown = exc.errors if max_findings == 0 else exc.errors[:max_findings]
        for path, reason in shown:
            where = error_location(path, str(input_path), str(enrich))
            err.print(
                f"[red]invalid input[/red] {escape(where)}: {escape(reason)}", highlight=False, soft_wrap=True
            )
        if len(exc.errors) > len(shown):
            err.print(f"... {len(exc.errors) - len(shown)} more (--max-findings 0 shows all)")
        raise typer.Exit(EXIT_USAGE) from exc
    except MappingError as exc:
        raise _fail(
            err, f"{input_path}: {exc.path}: {exc.reason}" if exc.path else f"{input_path}: {exc}"
        ) from exc
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        # a shape the schema lets through but a mapping does not expect: one line, not a traceback
        raise _fail(err, f"{input_path}: cannot convert: {type(exc).__name__}: {exc}") from exc
    written: list[Path | None] = []
    if per_contract and output is not None:
        output.mkdir(parents=True, exist_ok=True)
        for result, name in zip(results, output_names(results[0].releases, ".xml"), strict=True):
            (output / name).write_bytes(result.data)
            written.append(output / name)
    elif output:
        output.write_bytes(results[0].data)
        written.append(output)
    else:
        typer.echo(results[0].data.decode("utf-8"), nl=False)
        written.append(None)
    if validate:
        _validate_all(
            err, results, written, target, store, decp_schema, ocds_schema, max_findings, output_format
        )


def _validate_all(
    err: Console,
    results: list[Conversion],
    written: list[Path | None],
    target: str,
    store: Path | None,
    decp_schema: Path | None,
    ocds_schema: Path | None,
    max_findings: int,
    output_format: str,
) -> None:
    """Validate every result; print the findings (text or JSON); exit 1 when any fails."""
    report = []
    invalid = 0
    for result, path in zip(results, written, strict=True):
        try:
            findings = validate_conversion(
                result, store_dir=store, decp_schema=decp_schema, ocds_schema=ocds_schema
            )
        except MappingError as exc:
            raise _fail(err, exc.reason) from exc
        except Exception as exc:  # artifact store missing, schema unreadable: a usage problem
            raise _fail(err, f"validation could not run: {exc}") from exc
        invalid += bool(findings)
        report.append({"output": str(path) if path else "-", "valid": not findings, "findings": findings})
        if output_format == "text":
            label = f"{path.name}: " if path is not None and len(results) > 1 else ""
            _print_findings(err, findings, max_findings, label)
    if output_format == "json":
        text = json.dumps(
            {
                "valid": not invalid,
                "documents": [{**d, "findings": [f.as_dict() for f in d["findings"]]} for d in report],  # type: ignore[attr-defined]
            },
            ensure_ascii=False,
            indent=2,
        )
        if written and written[0] is not None:
            typer.echo(text)
        else:
            err.print(text, highlight=False, soft_wrap=True, markup=False)
    if invalid:
        if len(results) > 1:
            err.print(f"{invalid} of {len(results)} documents invalid", highlight=False)
        raise typer.Exit(EXIT_INVALID)
    err.print(
        f"[green]valid[/green] {target}" + (f" ({len(results)} documents)" if len(results) > 1 else ""),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``ap convert`` to ``app``."""
    app.command("convert")(convert_command)
