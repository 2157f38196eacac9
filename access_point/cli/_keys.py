"""Our AP key on the command line: ``--key FILE`` (PEM, encrypted PEM or PKCS#12) with ``--cert FILE``
(optional for PKCS#12), the password from ``--key-password-file FILE`` or ``$AP_KEY_PASSWORD`` —
never from an argument (it would show in ``ps`` and the shell history). Shared by every command that
takes a key (``ap as4 serve|send``, the service commands)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from access_point.cli._console import fail

if TYPE_CHECKING:
    from peppol.pki import Identity

KeyPasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-password-file",
        help="File whose first line is the password of --key (default: $AP_KEY_PASSWORD).",
    ),
]


def load_cli_identity(key: Path, cert: Path | None, password_file: Path | None) -> Identity:
    """Load our identity or exit 2 with one line naming the option that fixes it."""
    from peppol.pki import KeyLoadError, key_password, load_identity, needs_password

    try:
        # $AP_KEY_PASSWORD is not given to a clear PEM key (as in the service configuration)
        password = key_password(password_file) if password_file or needs_password(key) else None
        return load_identity(key, cert, password=password)
    except KeyLoadError as exc:
        reason = str(exc)
        if "password" in reason:
            reason += " (--key-password-file FILE or $AP_KEY_PASSWORD)"
        elif "certificate file is needed" in reason:
            reason += " (--cert FILE)"
        raise fail(f"cannot load our key (--key): {reason}") from exc
