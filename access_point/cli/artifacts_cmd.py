"""``ap artifacts``: install, list, verify and remove validation artifact sets (thin layer over
:mod:`ubl.artifacts`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from access_point.cli._console import emit_json

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


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object (shape in docs/cli.md).")]


def _fail(
    console: Console, message: str, code: int = EXIT_USAGE, *, json_error: dict[str, object] | None = None
) -> typer.Exit:
    """One ``error:`` line on stderr; with ``--json`` (``json_error`` given) also the JSON on stdout."""
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    if json_error is not None:
        emit_json(json_error)
    return typer.Exit(code)


def _error_json(name: str | None, code: str, message: str, as_json: bool) -> dict[str, object] | None:
    return {"name": name, "ok": False, "error": {"code": code, "message": message}} if as_json else None


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
    as_json: JsonOption = False,
) -> None:
    """Install an artifact set, checking every file against the shipped SHA-256 manifest."""
    from ubl.artifacts import ArtifactError, ArtifactStore

    err = Console(stderr=True)
    if source is not None and not source.exists():
        message = f"{source}: no such directory or zip file"
        raise _fail(err, message, json_error=_error_json(name, "bad-source", message, as_json))
    if custom and source is None:
        message = "--custom needs --from DIR_OR_ZIP"
        raise _fail(err, message, json_error=_error_json(name, "usage", message, as_json))
    target = ArtifactStore(store)
    try:
        got = install_set(
            name, store=target, source=source, url=url, custom=custom, version=version, console=err
        )
    except ArtifactError as exc:
        error = _error_json(name, exc.code, str(exc.args[0]), as_json)
        raise _fail(err, str(exc), _exit_code(exc), json_error=error) from exc
    except OSError as exc:
        message = f"cannot write the store {target.root}: {exc.strerror or exc}"
        raise _fail(
            err, message, json_error=_error_json(name, "store-not-writable", message, as_json)
        ) from exc
    if as_json:
        emit_json(
            {
                "name": got.name,
                "ok": True,
                "version": got.version,
                "files": got.file_count,
                "official": got.official,
                "path": str(got.path),
            }
        )
        return
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
    as_json: JsonOption = False,
) -> None:
    """List installed artifact sets: name, version, file count, location."""
    from ubl.artifacts import OFFICIAL_SETS, UNAVAILABLE_SETS, ArtifactStore

    target = ArtifactStore(store)
    if target.root.exists() and not target.root.is_dir():
        message = f"the store {target.root} is not a directory (--store DIR)"
        raise _fail(Console(stderr=True), message, json_error=_error_json(None, "usage", message, as_json))
    installed = target.installed()
    if as_json:
        rows: list[dict[str, object]] = [
            {
                "name": s.name,
                "version": s.version,
                "files": s.file_count,
                "status": "official" if s.official else "custom",
                "location": str(s.path),
            }
            for s in installed
        ]
        if available:
            names = {s.name for s in installed}
            rows += [
                {
                    "name": spec.name,
                    "version": spec.version,
                    "files": len(spec.manifest()),
                    "status": "not-installed",
                    "location": spec.url,
                }
                for spec in OFFICIAL_SETS.values()
                if spec.name not in names
            ]
            rows += [
                {"name": name, "version": None, "files": None, "status": "not-available", "location": reason}
                for name, reason in UNAVAILABLE_SETS.items()
                if name not in names
            ]
        emit_json({"store": str(target.root), "sets": rows})
        return
    table = Table()
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
    console.print(f"Artifact sets in {escape(str(target.root))}", highlight=False, soft_wrap=True)
    console.print(table)


@artifacts_app.command("verify")
def verify(
    name: Annotated[str, typer.Argument(help="Installed set name.")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-hash an installed set; exit 1 if a file changed since it was installed."""
    from ubl.artifacts import ArtifactError, ArtifactStore

    err = Console(stderr=True)
    target = ArtifactStore(store)
    try:
        bad = target.verify(name)
    except ArtifactError as exc:
        raise _fail(err, str(exc), json_error=_error_json(name, exc.code, str(exc.args[0]), as_json)) from exc
    if as_json:
        emit_json({"name": name, "ok": not bad, "changed": list(bad)})
        if bad:
            raise typer.Exit(EXIT_FAILED)
        return
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
