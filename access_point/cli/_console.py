"""Behaviour shared by every ``ap`` command, applied centrally so each command gets it for free.

* **No wrapping when stdout is not a terminal**: piped or redirected output is read by programs
  (``grep``, ``jq``, a log file); rich would wrap it at 80 columns in the middle of paths and squeeze
  tables. :func:`configure_output` gives every rich console a very wide line then (rich reads
  ``COLUMNS`` whenever it measures); help screens keep a fixed width.
* **Readable metavars and listed choices**: :func:`readable_metavars` replaces typer's Python types
  (``<bool>``, ``<list[Path]>``, ``<str>``) by ``FILE``, ``DIR``, ``N``, ``a|b|c`` … in ``--help``.
* **One-line errors**: :func:`fail` prints ``error: …`` on one line; :func:`usage_error_line` does
  the same for click's usage errors (missing option, bad value); :func:`describe` turns an
  ``OSError`` (``[Errno 21] Is a directory``) into ``PATH: reason``.
* **Each warning once**: :func:`warn` prints a given warning text at most once per process.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Final, get_args, get_origin

import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as click_exceptions
from typer._click.core import Context
from typer.core import TyperArgument, TyperGroup, TyperOption

#: Width rich uses when stdout is not a terminal: wide enough that no line is ever wrapped.
UNWRAPPED_WIDTH: Final = 100_000
#: Width of help screens when stdout is not a terminal (typer's panels fill the whole width).
HELP_WIDTH: Final = 100
#: Exit code of a usage error or unreadable input (``docs/cli.md``).
EXIT_USAGE: Final = 2

#: Parameter names whose paths are directories.
_DIR_NAMES: Final = frozenset({"directory", "store", "inbox", "output_dir", "work_dir", "dir"})
_warned: set[str] = set()
_warned_lock = threading.Lock()


def stdout_is_terminal() -> bool:
    """Whether stdout is an interactive terminal."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def configure_output() -> None:
    """Stop rich from wrapping when stdout is not a terminal (see the module docstring)."""
    if stdout_is_terminal():
        return
    os.environ["COLUMNS"] = str(UNWRAPPED_WIDTH)
    import typer.rich_utils

    if typer.rich_utils.MAX_WIDTH is None or typer.rich_utils.MAX_WIDTH == UNWRAPPED_WIDTH:
        typer.rich_utils.MAX_WIDTH = HELP_WIDTH


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def one_line(text: str) -> str:
    """``text`` on one line (library messages may hold line breaks)."""
    return " ".join(str(text).split())


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: message`` on one line on stderr; return the ``typer.Exit`` to raise."""
    _stderr().print(f"[red]error:[/red] {escape(one_line(message))}")
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr, at most once per process for the same text."""
    text = one_line(message)
    with _warned_lock:
        if text in _warned:
            return
        _warned.add(text)
    _stderr().print(f"[yellow]warning:[/yellow] {escape(text)}")


def reset_warnings() -> None:
    """Forget which warnings were printed (each CLI invocation starts afresh)."""
    with _warned_lock:
        _warned.clear()


#: Log level of the long-running servers (``ap serve``, ``ap worker``, ``ap as4 serve``) when the user
#: chose none: their one line per message is logged at INFO, which the CLI's default would hide.
SERVER_LOG_LEVEL: Final = logging.INFO
_log_level_chosen = False


def note_log_level_choice(chosen: bool) -> None:
    """Remember whether ``--log-level`` / ``$AP_LOG_LEVEL`` was given for this invocation."""
    global _log_level_chosen
    _log_level_chosen = chosen


def server_logging() -> None:
    """Called by the server commands: log at :data:`SERVER_LOG_LEVEL` unless a level was chosen."""
    if not _log_level_chosen:
        logging.getLogger().setLevel(SERVER_LOG_LEVEL)


def emit_json(data: Any) -> None:
    """Write ``data`` as indented JSON (UTF-8, keys in the given order) to stdout, one document."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


_ERRNO_PREFIX = re.compile(r"^\[Errno \d+\]\s*")


def describe(exc: BaseException) -> str:
    """A short one-line reason for ``exc`` without library internals: an ``OSError`` becomes
    ``PATH: strerror`` (``[Errno 21] Is a directory: 'x'`` → ``x: Is a directory``)."""
    if isinstance(exc, OSError):
        reason = exc.strerror or _ERRNO_PREFIX.sub("", str(exc))
        return f"{exc.filename}: {reason}" if exc.filename is not None else one_line(reason)
    return one_line(_ERRNO_PREFIX.sub("", str(exc)) or type(exc).__name__)


def usage_error_line(error: click_exceptions.ClickException) -> str:
    """click's usage error as one line naming the command's help."""
    message = one_line(error.format_message()).replace("Value error, ", "")  # pydantic's prefix
    ctx = getattr(error, "ctx", None)
    if isinstance(error, click_exceptions.UsageError) and ctx is not None:
        return f"{message} (see '{ctx.command_path} --help')"
    return message


# --- metavars ----------------------------------------------------------------------------------------


def _choice_label(choice: Any) -> str:
    return str(choice.value) if isinstance(choice, Enum) else str(choice)


def _metavar(param: Any) -> str | None:
    """A readable metavar for ``param``, or ``None`` to keep what it has."""
    if getattr(param, "metavar", None) is not None and not isinstance(param, TyperArgument):
        return None
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return ""
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return None
    name = (param.name or "").lower()
    if desc.is_choice:
        return "|".join(_choice_label(c) for c in desc.choices or ())
    annotation = desc.annotation
    if get_origin(annotation) is list and get_args(annotation):
        annotation = get_args(annotation)[0]
    if desc.is_path or annotation is Path:
        return "DIR" if set(name.split("_")) & _DIR_NAMES else "FILE"
    if annotation is bool:
        return ""
    if annotation is int:
        return "N"
    if annotation is float:
        return "SECONDS" if any(w in name for w in ("timeout", "interval")) else "NUMBER"
    if annotation is datetime:
        return "ISO8601"
    return name.upper() or "TEXT"


def readable_metavars(command: Any) -> Any:
    """Give every parameter of ``command`` (and of its sub-commands) a readable metavar."""
    params = list(getattr(command, "params", ()))
    get_help_option = getattr(command, "get_help_option", None)
    if get_help_option is not None:
        params.append(get_help_option(Context(command)))
    for param in params:
        if param is None:
            continue
        metavar = _metavar(param)
        if metavar is None:
            continue
        if isinstance(param, TyperArgument):
            # an argument keeps its name in the usage line; only its type column changes
            shown = metavar + ("…" if param.nargs != 1 else "")
            setattr(param, "display_type_rich", lambda ctx, shown=shown: shown)  # noqa: B010
        else:
            param.metavar = metavar
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            readable_metavars(sub)
    return command
