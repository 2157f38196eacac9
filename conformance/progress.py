"""The progress bar of a suite run: rich, on stderr (stdout stays free for the summary)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Tick(Protocol):
    def __call__(self, label: str) -> None: ...


@contextmanager
def progress(total: int, description: str, *, enabled: bool = True) -> Iterator[Tick]:
    """Yields ``tick(label)``: advance the bar by one case and show ``label``."""
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}"),
        console=console,
        disable=not enabled,
        transient=False,
    )
    with bar:
        task = bar.add_task(description, total=total, label="")

        def tick(label: str) -> None:
            bar.update(task, advance=1, label=label)

        yield tick
