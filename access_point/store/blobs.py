"""A content-addressed file store for payloads: ``ROOT/<sha[:2]>/<sha256>``.

Writing streams the content (``CHUNK_SIZE`` blocks) into a temporary file in ``ROOT`` (same file
system as its final place), hashing as it goes, then fsyncs it, renames it atomically to its SHA-256
name and fsyncs the directory: a file under its final name is always complete. Identical content is
stored once (the second writer finds the name taken and drops its temporary file). Nothing reads a
whole payload into memory.

Temporary files are named ``.tmp-<host>-<pid>-<random>``: at start-up (:meth:`BlobStore.remove_stale`,
called by the constructor) those of dead processes of this host, and any older than
:data:`STALE_TEMP_SECONDS`, are removed — a ``kill -9`` mid-write leaves no orphan behind, while the
temporary files of other live processes sharing the directory are left alone.

A blob is written before the row that refers to it is committed; a crash in between leaves a complete
blob no row refers to. :mod:`access_point.store.orphans` removes those once older than a grace period
(:meth:`BlobStore.older_than`, :meth:`BlobStore.remove_orphan`); :meth:`BlobStore.put` of content
already stored refreshes the file's time, so a blob about to be referenced again is never taken.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

#: Read/write block size (bytes).
CHUNK_SIZE: Final = 256 * 1024
#: Temporary files older than this (seconds) are removed at start-up whoever wrote them.
STALE_TEMP_SECONDS: Final = 24 * 3600.0
TEMP_PREFIX: Final = ".tmp-"
#: A blob moved aside by the orphan sweep while it checks it one last time.
ORPHAN_PREFIX: Final = ".orphan-"
_SHA256_RE: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A stored blob: its SHA-256 (hex) and size in bytes."""

    sha256: str
    size: int


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_owner_is_gone(name: str, *, host: str, now: float, mtime: float, max_age: float) -> bool:
    """Whether the temporary file ``name`` (``.tmp-<host>-<pid>-<random>``) may be removed: written by a
    dead process of ``host``, or older than ``max_age`` seconds."""
    if now - mtime > max_age:
        return True
    rest = name[len(TEMP_PREFIX) :]
    owner_host, _, _random = rest.rpartition("-")
    owner_host, _, pid_text = owner_host.rpartition("-")
    if owner_host != host or not pid_text.isdigit():
        return False
    return not _pid_alive(int(pid_text))


class BlobStore:
    """Content-addressed payload files under ``root`` (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._host = socket.gethostname().replace("-", "_")
        self.remove_stale()
        self.restore_set_aside()

    def path(self, sha256: str) -> Path:
        """Where the blob ``sha256`` lives (whether or not it exists)."""
        if not _SHA256_RE.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """A binary stream over the blob (close it); ``FileNotFoundError`` when absent."""
        return self.path(sha256).open("rb")

    def read_bytes(self, sha256: str) -> bytes:
        """The whole blob (for small payloads only: prefer :meth:`open`)."""
        return self.path(sha256).read_bytes()

    def _temp_name(self) -> Path:
        return self.root / f"{TEMP_PREFIX}{self._host}-{os.getpid()}-{secrets.token_hex(8)}"

    @contextmanager
    def _temp_file(self) -> Iterator[tuple[Path, BinaryIO]]:
        tmp = self._temp_name()
        fh = tmp.open("xb")
        try:
            yield tmp, fh
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise

    def put(self, source: bytes | BinaryIO) -> BlobRef:
        """Store ``source`` (bytes, or a binary stream read to its end in blocks) and return its ref."""
        digest = hashlib.sha256()
        size = 0
        with self._temp_file() as (tmp, fh):
            if isinstance(source, bytes):
                digest.update(source)
                fh.write(source)
                size = len(source)
            else:
                while chunk := source.read(CHUNK_SIZE):
                    digest.update(chunk)
                    fh.write(chunk)
                    size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            sha = digest.hexdigest()
            target = self.path(sha)
            if target.is_file() and target.stat().st_size == size and self._touch(target):
                tmp.unlink()  # identical content already stored (and fsynced by its writer)
                return BlobRef(sha, size)
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp, target)
        fsync_directory(target.parent)
        return BlobRef(sha, size)

    @staticmethod
    def _touch(target: Path) -> bool:
        """Mark a stored blob as just written (its row is about to be committed: the orphan sweep must
        not take it); ``False`` when the sweep took it meanwhile (then the caller writes it again)."""
        try:
            os.utime(target)
        except FileNotFoundError:
            return False
        return True

    def put_file(self, path: Path) -> BlobRef:
        """Store the content of the file ``path`` (streamed)."""
        with path.open("rb") as fh:
            return self.put(fh)

    def remove_stale(self, *, max_age: float = STALE_TEMP_SECONDS) -> list[Path]:
        """Remove the temporary files left by dead writers (see the module docstring); returns them."""
        now = time.time()
        removed: list[Path] = []
        for entry in self.root.glob(f"{TEMP_PREFIX}*"):
            try:
                mtime = entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if temp_owner_is_gone(entry.name, host=self._host, now=now, mtime=mtime, max_age=max_age):
                entry.unlink(missing_ok=True)
                removed.append(entry)
        return removed

    def older_than(self, cutoff: float) -> list[str]:
        """The blobs last written before ``cutoff`` (a ``time.time()``): the orphan sweep's candidates."""
        found: list[str] = []
        for entry in self.root.glob("??/*"):
            try:
                if _SHA256_RE.fullmatch(entry.name) and entry.stat().st_mtime < cutoff:
                    found.append(entry.name)
            except FileNotFoundError:
                continue
        return found

    def remove_orphan(self, sha256: str, cutoff: float, referenced: Callable[[str], bool]) -> bool:
        """Remove the blob ``sha256`` unless it was written at or after ``cutoff`` or ``referenced(sha256)``
        holds, both checked after the file is moved aside (an atomic rename), so a concurrent
        :meth:`put` of the same content either refreshed it before (seen here: the file is kept) or
        writes it anew after; returns whether it was removed."""
        target = self.path(sha256)
        aside = target.with_name(f"{ORPHAN_PREFIX}{sha256}-{secrets.token_hex(4)}")
        try:
            os.rename(target, aside)
        except FileNotFoundError:
            return False  # another sweeper took it
        try:
            keep = aside.stat().st_mtime >= cutoff or referenced(sha256)
        except BaseException:
            self._restore(aside, target)
            raise
        if keep:
            self._restore(aside, target)
            return False
        aside.unlink(missing_ok=True)
        return True

    @staticmethod
    def _restore(aside: Path, target: Path) -> None:
        try:
            if target.exists():  # written again meanwhile (same content: content-addressed)
                aside.unlink()
            else:
                os.rename(aside, target)
        except FileNotFoundError:
            pass  # restored by a starting process (restore_set_aside)

    def restore_set_aside(self) -> int:
        """Put back the blobs a sweep had moved aside when its process died (a kill between the move
        and the decision must not lose a blob a row refers to); the next sweep decides again."""
        restored = 0
        for aside in self.root.glob(f"??/{ORPHAN_PREFIX}*"):
            sha = aside.name[len(ORPHAN_PREFIX) :].partition("-")[0]
            if _SHA256_RE.fullmatch(sha):
                self._restore(aside, aside.with_name(sha))
                restored += 1
        return restored

    def delete(self, sha256: str) -> None:
        """Remove a blob (callers make sure no record refers to it any more)."""
        self.path(sha256).unlink(missing_ok=True)


def process_work_dir(parent: Path) -> Path:
    """A working directory for this process, ``parent/<host>-<pid>``, created empty; the directories of
    dead processes of this host (a ``kill -9`` leaves its per-request spool files behind) are removed."""
    import shutil

    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().replace("-", "_")
    for entry in parent.iterdir():
        owner, _, pid_text = entry.name.rpartition("-")
        if owner != host or not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid == os.getpid() or not _pid_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)
    mine = parent / f"{host}-{os.getpid()}"
    mine.mkdir()
    return mine
