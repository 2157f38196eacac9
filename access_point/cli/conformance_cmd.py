"""``ap conformance``: run a conformance suite and write its reports (thin layer over ``conformance``).

Every suite writes JUnit XML, JSON, one HTML page and the evidence of each case into ``--report-dir``
(or a fresh folder named at the end), shows a progress bar on stderr, and exits 0 only when every
MUST case passed (1 otherwise, 2 for a usage error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from conformance.model import Run
from conformance.progress import progress
from conformance.reports import default_report_dir, write_reports

EXIT_USAGE = 2

conformance_app = typer.Typer(
    help="Conformance suites: documents, AS4.",
    no_args_is_help=True,
)

ReportDir = Annotated[
    Path | None,
    typer.Option(
        "--report-dir", help="Where to write the reports (default: a fresh folder, named at the end)."
    ),
]
Quiet = Annotated[bool, typer.Option("--no-progress", help="Do not show the progress bar.")]


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def _finish(run: Run, suite: str, report_dir: Path | None) -> None:
    directory = report_dir or default_report_dir(suite)
    paths = write_reports(run, directory)
    typer.echo(run.summary())
    typer.echo(f"reports: {paths.directory} (junit.xml, report.json, report.html, evidence/)")
    raise typer.Exit(run.exit_code)


@conformance_app.command("documents")
def documents(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="VEFA testSet files, expectation YAMLs, documents (with --expect) or folders."),
    ] = None,
    schematron: Annotated[
        Path | None, typer.Option("--schematron", help="Schematron to run (FILE.sch or SET:path).")
    ] = None,
    ruleset: Annotated[
        str | None,
        typer.Option("--ruleset", help="Document type key whose Schematron to run, e.g. peppol-t003."),
    ] = None,
    phase: Annotated[
        str | None,
        typer.Option("--phase", help="Schematron phase (default: the ruleset's, eForms: per notice)."),
    ] = None,
    expect: Annotated[
        Path | None,
        typer.Option(
            "--expect", help="Expectation YAML, or a folder of official SVRL reports (<stem>.svrl)."
        ),
    ] = None,
    builtin: Annotated[
        bool, typer.Option("--builtin", help="Also run our own testSets for the Peppol pre-award rules.")
    ] = False,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="Artifact store directory (default: $AP_ARTIFACTS_DIR or the user cache)."
        ),
    ] = None,
    report_dir: ReportDir = None,
    no_progress: Quiet = False,
) -> None:
    """Run Schematron rule unit tests (Schematron only: fragments need not be XSD-valid)."""
    from access_point.cli.validate_cmd import resolve_artifact
    from conformance.documents import (
        Choice,
        RulesetError,
        TestSourceError,
        builtin_testsets,
        collect,
        run_documents,
    )
    from ubl.artifacts import ArtifactStore

    console = Console(stderr=True)
    if schematron is not None and ruleset is not None:
        raise _fail(console, "give --schematron or --ruleset, not both")
    sources = list(paths or []) + ([builtin_testsets()] if builtin else [])
    if not sources:
        raise _fail(console, "nothing to run: give PATH… or --builtin")
    target = ArtifactStore(store)
    try:
        sch = resolve_artifact(schematron, target) if schematron is not None else None
        tests = collect(sources, expect)
    except (FileNotFoundError, TestSourceError) as exc:
        raise _fail(console, str(exc)) from None
    if not tests:
        raise _fail(console, "no rule unit test found in the given paths")
    choice = Choice(schematron=sch, ruleset=ruleset, phase=phase)
    try:
        with progress(len(tests), "documents", enabled=not no_progress) as tick:
            run = run_documents(tests, choice, store=target, tick=tick)
    except RulesetError as exc:
        raise _fail(console, str(exc)) from None
    _finish(run, "documents", report_dir)


def register(app: typer.Typer) -> None:
    """Add the ``conformance`` command group to ``app``."""
    app.add_typer(conformance_app, name="conformance")
