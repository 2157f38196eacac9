"""``ap artifacts``: install, list, verify and remove validation artifact sets (thin layer over
:mod:`ubl.artifacts`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from ubl.artifacts import ArtifactError, ArtifactStore, InstalledSet

#: Exit codes (``docs/cli.md``): 0 ok, 1 negative verdict, 2 usage error / unreadable input.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

artifacts_app = typer.Typer(
    help="Validation artifact sets (UBL XSDs, eForms SDK, Peppol pre-award rules): install, list, verify.",
    no_args_is_help=True,
)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Artifact store directory (default: $AP_ARTIFACTS_DIR or "
        "~/.cache/procurement-access-point/artifacts).",
    ),
]


def _fail(console: Console, message: str, code: int = EXIT_USAGE) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _exit_code(err: ArtifactError) -> int:
    """Integrity failures (hash mismatch, missing files) are a negative verdict; the rest are usage."""
    from ubl.artifacts import ArtifactError

    return (
        EXIT_FAILED if err.code in (ArtifactError.HASH_MISMATCH, ArtifactError.MISSING_FILES) else EXIT_USAGE
    )


def install_set(
    name: str,
    *,
    store: ArtifactStore,
    source: Path | None = None,
    url: str | None = None,
    custom: bool = False,
    version: str | None = None,
    console: Console | None = None,
) -> InstalledSet:
    """Install with a download progress bar on ``console`` (stderr) when downloading."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    err = console or Console(stderr=True)
    if source is not None or not err.is_terminal:
        return store.install(name, source=source, url=url, custom=custom, version=version)
    with Progress(
        TextColumn(f"downloading {name}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(name, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        return store.install(name, url=url, custom=custom, version=version, progress=report)


@artifacts_app.command("install")
def install(
    name: Annotated[str, typer.Argument(help="Set name, e.g. ubl-2.2, eforms-sdk-1.14.2, peppol-preaward.")],
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Install offline from this directory or zip instead of downloading."),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Download from this URL instead of the pinned official one.")
    ] = None,
    custom: Annotated[
        bool, typer.Option("--custom", help="Register your own Schematron/XSD files (--from) under NAME.")
    ] = False,
    version: Annotated[str | None, typer.Option("--version", help="Version label of a --custom set.")] = None,
    store: StoreOption = None,
) -> None:
    """Install an artifact set, checking every file against the shipped SHA-256 manifest."""
    from ubl.artifacts import ArtifactError, ArtifactStore

    err = Console(stderr=True)
    if source is not None and not source.exists():
        raise _fail(err, f"{source}: no such directory or zip file")
    if custom and source is None:
        raise _fail(err, "--custom needs --from DIR_OR_ZIP")
    target = ArtifactStore(store)
    try:
        got = install_set(
            name, store=target, source=source, url=url, custom=custom, version=version, console=err
        )
    except ArtifactError as exc:
        raise _fail(err, str(exc), _exit_code(exc)) from exc
    except OSError as exc:
        raise _fail(err, f"cannot write the store {target.root}: {exc.strerror or exc}") from exc
    kind = "official, verified" if got.official else "custom"
    Console().print(
        f"installed {escape(got.name)} {escape(got.version)} ({got.file_count} files, {kind})"
        f" in {escape(str(got.path))}",
        highlight=False,
        soft_wrap=True,
    )


@artifacts_app.command("list")
def list_sets(
    store: StoreOption = None,
    available: Annotated[
        bool, typer.Option("--available", help="Also list the official sets that are not installed.")
    ] = False,
) -> None:
    """List installed artifact sets: name, version, file count, location."""
    from ubl.artifacts import OFFICIAL_SETS, UNAVAILABLE_SETS, ArtifactStore

    target = ArtifactStore(store)
    if target.root.exists() and not target.root.is_dir():
        raise _fail(Console(stderr=True), f"the store {target.root} is not a directory")
    installed = target.installed()
    table = Table(title=f"Artifact sets in {target.root}")
    table.add_column("Name", no_wrap=True)
    for col in ("Version", "Files", "Kind", "Location"):
        table.add_column(col, overflow="fold")
    for s in installed:
        table.add_row(
            s.name, s.version, str(s.file_count), "official" if s.official else "custom", str(s.path)
        )
    if available:
        names = {s.name for s in installed}
        for spec in OFFICIAL_SETS.values():
            if spec.name not in names:
                table.add_row(spec.name, spec.version, str(len(spec.manifest())), "not installed", spec.url)
        for name, reason in UNAVAILABLE_SETS.items():
            if name not in names:
                table.add_row(name, "", "", "not available", reason)
    console = Console()
    if not installed and not available:
        console.print(f"no artifact set installed in {escape(str(target.root))} (ap artifacts install NAME)")
        return
    console.print(table)


@artifacts_app.command("verify")
def verify(
    name: Annotated[str, typer.Argument(help="Installed set name.")], store: StoreOption = None
) -> None:
    """Re-hash an installed set; exit 1 if a file changed since it was installed."""
    from ubl.artifacts import ArtifactError, ArtifactStore

    err = Console(stderr=True)
    target = ArtifactStore(store)
    try:
        bad = target.verify(name)
    except ArtifactError as exc:
        raise _fail(err, str(exc)) from exc
    if bad:
        for rel in bad:
            err.print(f"[red]changed or missing:[/red] {escape(rel)}", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    Console().print(f"{escape(name)}: every file matches its recorded SHA-256", highlight=False)


@artifacts_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="Installed set name.")], store: StoreOption = None
) -> None:
    """Uninstall a set."""
    from ubl.artifacts import ArtifactError, ArtifactStore

    err = Console(stderr=True)
    try:
        ArtifactStore(store).remove(name)
    except ArtifactError as exc:
        raise _fail(err, str(exc)) from exc
    Console().print(f"removed {escape(name)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``ap artifacts`` to ``app``."""
    app.add_typer(artifacts_app, name="artifacts")
