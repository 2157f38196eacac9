"""Read the files of an artifact release from a directory or a zip archive.

Official releases are looked up by the manifest's relative paths; the archive may wrap them in any
top-level folder (``eForms-SDK-<commit>/``, ``UBL-2.2/``): the prefix is found once from the first
manifest path. Member names are checked so nothing can escape the destination (zip slip).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Final, Protocol

from ubl.artifacts.errors import ArtifactError

#: Largest single file accepted from a release (bytes).
MAX_FILE_BYTES: Final = 64 * 1024 * 1024
#: Largest total of a user-supplied set (bytes).
MAX_TOTAL_BYTES: Final = 512 * 1024 * 1024


def safe_relpath(name: str) -> str:
    """``name`` as a normalised relative POSIX path; refuses absolute paths and ``..``."""
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and p.parts[0].endswith(":")):
        raise ArtifactError(ArtifactError.UNSAFE_PATH, f"unsafe path in artifact source: {name!r}")
    return p.as_posix()


class Source(Protocol):
    """A release's file tree."""

    label: str

    def read(self, relpath: str) -> bytes | None:
        """The bytes of ``relpath`` (under the detected prefix), or ``None`` if absent."""

    def locate(self, probe: str) -> None:
        """Find the prefix under which ``probe`` (a path relative to the set) lives."""

    def walk(self) -> Iterator[tuple[str, bytes]]:
        """Every regular file as (relative path, bytes)."""

    def close(self) -> None: ...


class DirSource:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root
        self.label = str(root)

    def locate(self, probe: str) -> None:
        if (self.root / probe).is_file():
            return
        for child in sorted(self.root.iterdir()):
            if child.is_dir() and (child / probe).is_file():
                self.base = child
                return

    def read(self, relpath: str) -> bytes | None:
        path = self.base / safe_relpath(relpath)
        if not path.is_file() or path.is_symlink():
            return None
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ArtifactError(ArtifactError.TOO_LARGE, f"{relpath}: larger than {MAX_FILE_BYTES} bytes")
        return path.read_bytes()

    def walk(self) -> Iterator[tuple[str, bytes]]:
        total = 0
        for path in sorted(self.base.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(self.base).as_posix()
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            data = path.read_bytes()
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise ArtifactError(
                    ArtifactError.TOO_LARGE, f"{self.label}: more than {MAX_TOTAL_BYTES} bytes"
                )
            yield rel, data

    def close(self) -> None:
        return None


class ZipSource:
    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArtifactError(
                ArtifactError.BAD_SOURCE, f"{path}: not a readable zip archive ({exc})"
            ) from exc
        self.label = str(path)
        self.prefix = ""
        self.members = {safe_relpath(i.filename): i for i in self.zip.infolist() if not i.is_dir()}

    def locate(self, probe: str) -> None:
        if probe in self.members:
            return
        suffix = "/" + probe
        found = sorted(m for m in self.members if m.endswith(suffix))
        if found:
            self.prefix = found[0][: -len(probe)]

    def read(self, relpath: str) -> bytes | None:
        info = self.members.get(self.prefix + safe_relpath(relpath))
        if info is None:
            return None
        if info.file_size > MAX_FILE_BYTES:
            raise ArtifactError(ArtifactError.TOO_LARGE, f"{relpath}: larger than {MAX_FILE_BYTES} bytes")
        return self.zip.read(info)

    def walk(self) -> Iterator[tuple[str, bytes]]:
        if not self.prefix:
            tops = {m.split("/", 1)[0] for m in self.members}
            if len(tops) == 1 and all("/" in m for m in self.members):
                self.prefix = tops.pop() + "/"
        total = 0
        for name, info in sorted(self.members.items()):
            if not name.startswith(self.prefix):
                continue
            rel = name[len(self.prefix) :]
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            total += info.file_size
            if info.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                raise ArtifactError(ArtifactError.TOO_LARGE, f"{self.label}: archive too large")
            yield rel, self.zip.read(info)

    def close(self) -> None:
        self.zip.close()


def open_source(path: Path) -> DirSource | ZipSource:
    """A :class:`DirSource` for a directory, a :class:`ZipSource` for a zip file."""
    if path.is_dir():
        return DirSource(path)
    if path.is_file():
        return ZipSource(path)
    raise ArtifactError(ArtifactError.BAD_SOURCE, f"{path}: no such directory or zip file")
