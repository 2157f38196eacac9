"""``ap config check FILE``: explain every problem of a service configuration, one line each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

_err = Console(stderr=True)
config_app = typer.Typer(help="Service configuration: check a file.", no_args_is_help=True)


@config_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="The service configuration (TOML).")]) -> None:
    """Check FILE (with the environment overrides applied); exit 1 listing every problem."""
    from access_point.service.config import check_config

    problems = check_config(file)
    for problem in problems:
        _err.print(f"[red]error:[/red] {problem}", highlight=False, soft_wrap=True, markup=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{file}: ok")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
