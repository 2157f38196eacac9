"""``ap convert``: platform data (OCDS, DECP) <-> UBL (eForms notices, Peppol pre-award documents).

A thin layer over :func:`mappings.convert.convert`; ``--validate`` runs the official validation of the
result (XSD + Schematron for UBL via :func:`ubl.validate.validate_document`, the platform model's JSON
Schema for OCDS, the DECP schema given with ``--decp-schema`` for DECP).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import typer
from rich.console import Console
from rich.markup import escape

from mappings.convert import (
    MAX_INPUT_BYTES,
    SOURCES,
    TARGETS,
    Conversion,
    convert,
    decp_finding_input,
    parse_json,
    release_input_path,
)
from mappings.errors import InputTooLarge, InputValidationError, MappingError
from mappings.model import ENRICH_PREFIX, release_errors

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
#: Findings printed on the console with ``--validate`` (the rest is summarised).
MAX_PRINTED_FINDINGS = 20


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def _read_capped(path: Path) -> bytes:
    """The bytes of ``path``; :class:`InputTooLarge` without reading a file larger than the cap."""
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        too_large = InputTooLarge(size, MAX_INPUT_BYTES)
        too_large.path = str(path)  # the file is the input location here
        raise too_large
    return path.read_bytes()


def validate_output(
    conversion: Conversion, *, store_dir: Path | None = None, decp_schema: Path | None = None
) -> list[str]:
    """Findings of the official validation of a conversion's result (empty = valid)."""
    if conversion.is_xml:
        from ubl.artifacts import ArtifactStore, default_store
        from ubl.validate import validate_document

        store = ArtifactStore(store_dir) if store_dir else default_store()
        result = validate_document(conversion.data, store=store)
        return [
            f"{layer.name}: {item.rule_id} {item.location or ''} {item.text}".strip()
            + _from_input(conversion, item.location)
            for layer in result.layers
            for item in layer.failures
        ] + [
            f"{layer.name}: invalid"
            for layer in result.layers
            if layer.status.value == "invalid" and not layer.failures
        ]
    if conversion.target == "ocds":
        return [
            f"{release_input_path(conversion, i, path)}: {reason}"
            for i, r in enumerate(conversion.releases)
            for path, reason in release_errors(r)
        ]
    if decp_schema is None:
        raise MappingError(
            "--validate with --to decp needs --decp-schema (schema_decp_v2.0.3.json)", "--decp-schema"
        )
    schema = json.loads(decp_schema.read_text(encoding="utf-8"))
    doc: Any = json.loads(conversion.data)
    validator = jsonschema.Draft7Validator(schema)
    findings = []
    for e in validator.iter_errors(doc):
        where = ".".join(str(p) for p in e.absolute_path) or "$"
        findings.append(f"{where}: {e.message}{_decp_input(conversion, list(e.absolute_path), e.message)}")
    return findings


def _from_input(conversion: Conversion, location: str | None) -> str:
    """`` (input: tender.lots[0].tenderPeriod)`` for a finding on the output, when known."""
    found = conversion.input_path(location or "")
    return f" (input: {found})" if found else ""


def _decp_input(conversion: Conversion, path: list[Any], message: str = "") -> str:
    """`` (input: contracts[0].value.amount)`` for a DECP schema finding, when it names a marché."""
    found = decp_finding_input(conversion, path, message)
    return f" (input: {found})" if found else ""


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
            help='With --from decp: JSON {"organisations": {siret: {name, address, contactPoint}}}.',
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
        Path | None, typer.Option("--output", "-o", help="Output file (default: stdout).")
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
    if enrich is not None and source != "decp":
        raise _fail(err, "--enrich completes DECP input: it needs --from decp")
    if subtype is not None and not target.startswith("eforms-"):
        raise _fail(
            err, f"--subtype is an eForms notice subtype: it needs --to eforms-cn or eforms-can, not {target}"
        )
    if decp_schema is not None and target != "decp":
        raise _fail(err, f"--decp-schema validates DECP output: it needs --to decp, not {target}")
    if validate and target == "decp" and decp_schema is None:  # usage before any work (issue 14)
        raise _fail(err, "--validate --to decp needs --decp-schema FILE (the DECP JSON Schema)")
    try:
        data = _read_capped(input_path)
        enrichment = parse_json(_read_capped(enrich)) if enrich else None
    except OSError as exc:
        raise _fail(err, f"{exc.filename or input_path}: {exc.strerror}") from exc
    except InputTooLarge as exc:
        raise _fail(err, f"{exc.path}: {exc.reason}") from exc
    except MappingError as exc:  # the enrichment file is not JSON
        raise _fail(err, f"{enrich}: {exc.path}: {exc.reason}") from exc
    try:
        result = convert(
            data, source=source, target=target, subtype=subtype, enrich=enrichment, trace=validate
        )
    except InputValidationError as exc:
        for path, reason in exc.errors[:MAX_PRINTED_FINDINGS]:
            where = (
                f"{enrich}: {path.removeprefix(ENRICH_PREFIX)}"
                if path.startswith(ENRICH_PREFIX)
                else (f"{input_path}: {path}")
            )
            err.print(
                f"[red]invalid input[/red] {escape(where)}: {escape(reason)}", highlight=False, soft_wrap=True
            )
        if len(exc.errors) > MAX_PRINTED_FINDINGS:
            err.print(f"... {len(exc.errors) - MAX_PRINTED_FINDINGS} more")
        raise typer.Exit(EXIT_USAGE) from exc
    except MappingError as exc:
        raise _fail(
            err, f"{input_path}: {exc.path}: {exc.reason}" if exc.path else f"{input_path}: {exc}"
        ) from exc
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        # a shape the schema lets through but a mapping does not expect: one line, not a traceback
        raise _fail(err, f"{input_path}: cannot convert: {type(exc).__name__}: {exc}") from exc
    if output:
        output.write_bytes(result.data)
    else:
        typer.echo(result.data.decode("utf-8"), nl=False)
    if validate:
        try:
            findings = validate_output(result, store_dir=store, decp_schema=decp_schema)
        except MappingError as exc:
            raise _fail(err, exc.reason) from exc
        except Exception as exc:  # artifact store missing, schema unreadable: a usage problem
            raise _fail(err, f"validation could not run: {exc}") from exc
        for line in findings[:MAX_PRINTED_FINDINGS]:
            err.print(f"[red]invalid[/red] {escape(line)}", highlight=False, soft_wrap=True)
        if len(findings) > MAX_PRINTED_FINDINGS:
            err.print(f"... {len(findings) - MAX_PRINTED_FINDINGS} more")
        if findings:
            raise typer.Exit(EXIT_INVALID)
        err.print(f"[green]valid[/green] {target}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``ap convert`` to ``app``."""
    app.command("convert")(convert_command)
