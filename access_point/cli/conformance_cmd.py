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


@conformance_app.command("as4")
def as4(
    target: Annotated[
        str | None, typer.Option("--target", help="The AS4 endpoint URL of the access point under test.")
    ] = None,
    target_cert: Annotated[
        Path | None,
        typer.Option("--target-cert", help="Its AP certificate (PEM): we encrypt for it, it signs receipts."),
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="Our (sending) AP private key (PEM).")] = None,
    cert: Annotated[Path | None, typer.Option("--cert", help="Our (sending) AP certificate (PEM).")] = None,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="AP CA bundle (PEM): validate the receipt signer's chain.")
    ] = None,
    crl: Annotated[Path | None, typer.Option("--crl", help="AP CA CRL (offline revocation checks).")] = None,
    tls_ca: Annotated[
        Path | None,
        typer.Option("--tls-ca", help="CA bundle for the target's TLS certificate (default: system)."),
    ] = None,
    receiver: Annotated[
        str | None, typer.Option("--receiver", help="A participant the target serves (C4).")
    ] = None,
    unserved: Annotated[
        str | None, typer.Option("--unserved-receiver", help="A participant the target does NOT serve.")
    ] = None,
    doctype: Annotated[str | None, typer.Option("--doctype", help="Document type id to send.")] = None,
    process: Annotated[str | None, typer.Option("--process", help="Process id to send.")] = None,
    cases: Annotated[
        str | None,
        typer.Option("--cases", help="Case ids or public ids to run (shell patterns, comma-separated)."),
    ] = None,
    pki: Annotated[
        Path | None,
        typer.Option("--pki", help="A test PKI made by 'ap pki init' (expired, revoked and SMP signers)."),
    ] = None,
    inbox: Annotated[
        Path | None,
        typer.Option(
            "--inbox", help="The target's inbox of <message>.json files, when visible (checks deliveries)."
        ),
    ] = None,
    inbox_command: Annotated[
        str | None,
        typer.Option("--inbox-command", help="A command printing the target's deliveries as a JSON list."),
    ] = None,
    large_size: Annotated[
        int, typer.Option("--large-size", min=0, help="Bytes of the large-message case (0 skips it).")
    ] = 50 * 1024 * 1024,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for each answer.")
    ] = 120.0,
    list_cases: Annotated[bool, typer.Option("--list", help="List the cases and exit.")] = False,
    report_dir: ReportDir = None,
    no_progress: Quiet = False,
) -> None:
    """Play the sending AP against an AS4 receiver and check every answer (receiving-side suite)."""
    from access_point.cli.as4_cmd import _validator
    from conformance.as4.cases import select
    from conformance.as4.context import Context, PkiDirError, TestSigners, load_test_signers, observer_for
    from conformance.as4.runner import run_as4
    from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
    from peppol.pki import Identity, load_certificate

    console = Console(stderr=True)
    chosen = select(cases)
    if list_cases:
        for case in chosen:
            typer.echo(f"{case.id}\t{case.public_id or '-'}\t{case.level.value}\t{case.title}")
        raise typer.Exit(0)
    if target is None or target_cert is None or key is None or cert is None:
        raise _fail(console, "--target, --target-cert, --key and --cert are required")
    if not chosen:
        raise _fail(console, f"no case matches {cases!r} (see --list)")
    if crl is not None and trust is None:
        raise _fail(console, "--crl needs --trust")
    try:
        context = Context(
            url=target,
            target_certificate=load_certificate(target_cert),
            identity=Identity.load(cert, key),
            validate_signer=_validator(trust, crl).validate if trust is not None else None,
            tls_ca=tls_ca,
            signers=load_test_signers(pki) if pki is not None else TestSigners(),
            observer=observer_for(inbox, inbox_command),
            large_bytes=large_size,
            timeout=timeout,
        )
        if receiver:
            context.receiver = ParticipantId.parse(receiver)
        if unserved:
            context.unserved_receiver = ParticipantId.parse(unserved)
        if doctype:
            context.document_type = DocumentTypeId.parse(doctype)
        if process:
            context.process = ProcessId.parse(process)
    except (OSError, ValueError, PkiDirError) as exc:
        raise _fail(console, f"cannot set up the suite: {exc}") from None
    with progress(len(chosen), "as4", enabled=not no_progress) as tick:
        run = run_as4(context, chosen, tick=tick)
    _finish(run, "as4", report_dir)


@conformance_app.command("as4-sender")
def as4_sender(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free).")],
    key: Annotated[Path, typer.Option("--key", help="Our (receiving) AP private key (PEM).")],
    cert: Annotated[Path, typer.Option("--cert", help="Our (receiving) AP certificate (PEM).")],
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="TLS server certificate chain (PEM).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="TLS server private key (PEM).")] = None,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="AP CA bundle (PEM): validate the sender's signing cert.")
    ] = None,
    crl: Annotated[Path | None, typer.Option("--crl", help="AP CA CRL (offline revocation checks).")] = None,
    faults: Annotated[
        str | None,
        typer.Option("--faults", help="Fault scenarios, in order (comma-separated names; default: all)."),
    ] = None,
    expect: Annotated[
        int | None,
        typer.Option("--expect", min=1, help="Messages the sender will send (default: 1 + faults)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each new message.")
    ] = 300.0,
    retry_wait: Annotated[
        float, typer.Option("--retry-wait", min=0.1, help="Seconds to wait for a retry after a fault.")
    ] = 120.0,
    quiet: Annotated[
        float,
        typer.Option("--quiet", min=0.0, help="Seconds to watch for unwanted resends after a final answer."),
    ] = 15.0,
    hold: Annotated[
        float,
        typer.Option("--hold", min=0.1, help="Longest a connection is held without an answer (seconds)."),
    ] = 150.0,
    list_cases: Annotated[bool, typer.Option("--list", help="List the cases and exit.")] = False,
    report_dir: ReportDir = None,
    no_progress: Quiet = False,
) -> None:
    """Play the receiving AP: check the sender's messages and its handling of faults (sending side)."""
    from access_point.cli.as4_cmd import _validator
    from conformance.as4_sender import (
        CHECKS,
        FAULTS,
        SenderSuite,
        SenderSuiteConfig,
        select_faults,
        start_endpoint,
        tls_context,
    )
    from peppol.pki import Identity

    console = Console(stderr=True)
    chosen = select_faults(faults)
    if list_cases:
        rows = [(c.id, c.public_id, c.level, c.title) for c in CHECKS]
        rows += [(f.id, f.public_id, f.level, f.title) for f in FAULTS]
        for case_id, public_id, level, title in rows:
            typer.echo(f"{case_id}\t{public_id or '-'}\t{level.value}\t{title}")
        raise typer.Exit(0)
    if faults and not chosen:
        raise _fail(console, f"no fault matches {faults!r} (see --list)")
    if (tls_cert is None) != (tls_key is None):
        raise _fail(console, "--tls-cert and --tls-key go together")
    if crl is not None and trust is None:
        raise _fail(console, "--crl needs --trust")
    try:
        config = SenderSuiteConfig(
            identity=Identity.load(cert, key),
            validate_signer=_validator(trust, crl).validate if trust is not None else None,
            faults=chosen, expect=expect, timeout=timeout, retry_wait=retry_wait, quiet=quiet, hold=hold,
        )  # fmt: skip
        tls = tls_context(tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
        suite = SenderSuite(config)
        endpoint = start_endpoint(suite.dispatch, host=host, port=port, tls=tls)
    except (OSError, ValueError) as exc:
        raise _fail(console, f"cannot set up the suite: {exc}") from None
    console.print(
        f"listening on {endpoint.url}: send {config.messages} message(s)", highlight=False, soft_wrap=True
    )
    try:
        with progress(suite.total, "as4-sender", enabled=not no_progress) as tick:
            run = suite.run(endpoint.url, tick)
    except KeyboardInterrupt:  # stopped by the operator: report what was seen so far
        run = suite.results(endpoint.url)
    finally:
        endpoint.stop()
    _finish(run, "as4-sender", report_dir)


def register(app: typer.Typer) -> None:
    """Add the ``conformance`` command group to ``app``."""
    app.add_typer(conformance_app, name="conformance")
