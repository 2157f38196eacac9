"""``ap validate``: validate documents (XSD + Schematron) and write a report (thin layer over
:func:`ubl.validate.validate_files` and :mod:`ubl.reports`)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from access_point.cli._console import emit_json
from ubl.reports import FORMATS

if TYPE_CHECKING:
    from ubl.artifacts import ArtifactStore
    from ubl.validate import Outcome

#: Exit codes (``docs/cli.md``): 0 valid, 1 invalid, 2 usage error / unreadable input.
EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
#: The ``--ruleset`` value that detects the document type: ``ubl.validate.AUTO`` (checked by
#: tests/access_point/test_cli_startup.py), written out so that ``ap --help`` does not import the
#: validation stack (artifact store, HTTP client).
AUTO: Final = "auto"
#: From this many files on, a progress bar is shown (on a terminal).
PROGRESS_FROM = 2
#: Environment variable: megabytes of generated XSLT the Schematron memo keeps compiled per process.
MEMO_ENV = "AP_SCHEMATRON_MEMO_MB"


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def resolve_artifact(value: Path, store: ArtifactStore) -> Path:
    """A file path, or ``SET:relative/path`` naming a file inside an installed artifact set."""
    if value.exists():
        return value
    text = str(value)
    set_name, sep, rel = text.partition(":")
    if sep and rel:
        candidate = store.path(set_name) / rel
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{value}: no such file (nor SET:path in the artifact store)")


def exit_code(outcomes: list[Outcome]) -> int:
    """2 if a file could not be validated, else 1 if one is invalid, else 0."""
    if any(o.result is None for o in outcomes):
        return EXIT_USAGE
    if any(o.result is not None and not o.result.valid for o in outcomes):
        return EXIT_INVALID
    return EXIT_OK


def _list_types(as_json: bool) -> None:
    from ubl import registry

    types = registry.document_types()
    if as_json:
        emit_json(
            [
                {
                    "key": t.key,
                    "name": t.name,
                    "root": t.root,
                    "xsd": str(t.xsd),
                    "schematron": None if t.schematron is None else str(t.schematron),
                    "phase": t.phase,
                }
                for t in types
            ]
        )
        return
    table = Table(title="Registered document types (use the key with --ruleset)")
    table.add_column("Key", no_wrap=True)
    for col in ("Name", "Root", "XSD", "Schematron (phase)"):
        table.add_column(col, overflow="fold")
    for t in types:
        sch = "—" if t.schematron is None else f"{t.schematron}" + (f" ({t.phase})" if t.phase else "")
        table.add_row(t.key, t.name, t.root, str(t.xsd), sch)
    Console().print(table)


def _unreadable(path: Path) -> Outcome:
    """The outcome of an input that does not exist (reported like any file that cannot be validated)."""
    from ubl.validate import Outcome

    return Outcome(str(path), error="no such file or directory", error_code="not-found")


def validate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="XML files or folders (every *.xml file inside is validated).")
    ] = None,
    ruleset: Annotated[
        str, typer.Option("--ruleset", help="'auto' (detect) or a document type key, e.g. peppol-t004.")
    ] = AUTO,
    schematron: Annotated[
        Path | None, typer.Option("--schematron", help="Schematron to use instead (FILE.sch or SET:path).")
    ] = None,
    phase: Annotated[str | None, typer.Option("--phase", help="Schematron phase.")] = None,
    xsd: Annotated[
        Path | None, typer.Option("--xsd", help="XSD to use instead (FILE.xsd or SET:path).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="|".join(FORMATS), help="Report format.")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="Artifact store directory (default: $AP_ARTIFACTS_DIR or the user cache)."
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=64, help="Worker processes.")] = 1,
    list_types: Annotated[
        bool, typer.Option("--list-types", help="List the registered document types and exit.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --list-types: print the types as a JSON array.")
    ] = False,
) -> None:
    """Validate documents: detect the type, run the XSD then the Schematron.

    Exit 0 when every document is valid, 1 when one is invalid, 2 on a usage error or unreadable input.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ubl import registry
    from ubl.artifacts import ArtifactError, ArtifactStore
    from ubl.reports import entries, render
    from ubl.reports.text import document_renderables, plain_document_text, summary_text
    from ubl.validate import expand_paths, validate_files

    err = Console(stderr=True)
    if list_types:
        _list_types(as_json)
        return
    if as_json:
        raise _fail(err, "--json goes with --list-types; for a JSON report use -f json")
    if not files:
        raise _fail(err, "give at least one FILE or folder (or --list-types)")
    if fmt not in FORMATS:
        raise _fail(err, f"unknown --format {fmt!r} (one of {', '.join(FORMATS)})")
    if ruleset != AUTO:
        try:
            registry.get(ruleset)
        except registry.UnknownDocumentTypeKey:
            raise _fail(err, f"unknown --ruleset {ruleset!r} (see ap validate --list-types)") from None
    target = ArtifactStore(store)
    try:
        sch_path = resolve_artifact(schematron, target) if schematron is not None else None
        xsd_path = resolve_artifact(xsd, target) if xsd is not None else None
    except (FileNotFoundError, ArtifactError) as exc:
        raise _fail(err, str(exc)) from exc
    # an input that does not exist is reported in the report (JSON, JUnit …) like any file that could
    # not be validated, so a machine reading -f json always gets a report (exit 2)
    missing = [_unreadable(f) for f in files if not f.exists()]
    paths = expand_paths(f for f in files if f.exists())
    if not paths and not missing:
        raise _fail(err, "no XML file to validate")
    for outcome in missing:
        line = f"{outcome.source}: {outcome.error}"
        err.print(f"[red]error:[/red] {escape(line)}", highlight=False, soft_wrap=True)

    _apply_memo_budget(err)
    stream_text = fmt == "text" and output is None
    out = Console(highlight=False)
    show_progress = len(paths) >= PROGRESS_FROM and err.is_terminal and not stream_text
    progress = Progress(
        TextColumn("validating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_progress,
    )
    task = progress.add_task("validate", total=len(paths))
    # Not a terminal (a log, CI): one plain line per document on stderr, so a long run shows progress.
    plain_progress = len(paths) >= PROGRESS_FROM and not err.is_terminal
    done = 0
    started = time.monotonic()
    plain_text = stream_text and not out.is_terminal  # read once: rich looks at the environment each time

    def on_outcome(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        progress.advance(task)
        if plain_progress:
            valid = outcome.result is not None and outcome.result.valid
            verdict = outcome.error_code or ("valid" if valid else "invalid")
            print(
                f"[{done}/{len(paths)}] {outcome.source}: {verdict} ({time.monotonic() - started:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
        if stream_text:
            entry = entries([outcome])[0]
            # not a terminal: plain lines, no rich (its ~0.5 ms per document was most of the CLI's cost)
            plain = plain_document_text(entry) if plain_text else None
            if plain is None:
                out.print(Group(*document_renderables(entry)))  # one print per document
            else:
                sys.stdout.write(plain)

    for outcome in missing:
        on_outcome(outcome)
    with progress:
        outcomes = missing + validate_files(
            paths,
            workers=workers,
            on_outcome=on_outcome,
            ruleset=ruleset,
            store=target,
            schematron=sch_path,
            phase=phase,
            xsd=xsd_path,
        )
    if stream_text:
        out.print(summary_text(entries(outcomes)))
    else:
        data = render(outcomes, fmt)
        if output is not None:
            try:
                output.write_bytes(data)
            except OSError as exc:
                raise _fail(err, f"cannot write {output}: {exc.strerror or exc}") from exc
            err.print(summary_text(entries(outcomes)))
            err.print(f"report written to {escape(str(output))}", highlight=False)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    raise typer.Exit(exit_code(outcomes))


def _apply_memo_budget(err: Console) -> None:
    """``AP_SCHEMATRON_MEMO_MB``: generated XSLT kept compiled per process (read when the command runs)."""
    raw = os.environ.get(MEMO_ENV)
    if not raw:
        return
    from ubl.schematron.runtime import set_memo_budget

    try:
        megabytes = float(raw)
    except ValueError:
        raise _fail(err, f"{MEMO_ENV}={raw!r} is not a number of megabytes") from None
    set_memo_budget(int(megabytes * 1024 * 1024))


def register(app: typer.Typer) -> None:
    """Add ``ap validate`` to ``app``."""
    app.command("validate")(validate)
