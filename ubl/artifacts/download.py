"""Download a release archive to a temporary file, TLS-verified, size-capped, with progress."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import requests

from ubl.artifacts.errors import ArtifactError

#: Largest archive downloaded (the OASIS UBL packages are tens of MB).
MAX_DOWNLOAD_BYTES: Final = 512 * 1024 * 1024
#: (connect, read) timeouts in seconds.
TIMEOUT: Final = (15.0, 120.0)
CHUNK: Final = 256 * 1024

#: Called with (bytes received so far, total bytes or None when the server does not say).
Progress = Callable[[int, int | None], None]


def download(url: str, dest_dir: Path, *, progress: Progress | None = None) -> Path:
    """Fetch ``url`` into a new file under ``dest_dir`` and return its path."""
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT, verify=True) as resp:
            if resp.status_code != 200:
                raise ArtifactError(ArtifactError.DOWNLOAD_FAILED, f"GET {url}: HTTP {resp.status_code}")
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > MAX_DOWNLOAD_BYTES:
                raise ArtifactError(ArtifactError.TOO_LARGE, f"GET {url}: {total} bytes exceeds the cap")
            fd, name = tempfile.mkstemp(dir=dest_dir, suffix=".zip")
            done = 0
            try:
                with open(fd, "wb") as out:
                    for chunk in resp.iter_content(CHUNK):
                        done += len(chunk)
                        if done > MAX_DOWNLOAD_BYTES:
                            raise ArtifactError(ArtifactError.TOO_LARGE, f"GET {url}: more than the cap")
                        out.write(chunk)
                        if progress is not None:
                            progress(done, total)
            except BaseException:  # over the cap or a broken connection: no partial archive left behind
                Path(name).unlink(missing_ok=True)
                raise
            return Path(name)
    except requests.RequestException as exc:
        raise ArtifactError(ArtifactError.DOWNLOAD_FAILED, f"GET {url}: {exc}") from exc
