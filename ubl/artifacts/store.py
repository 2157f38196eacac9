"""The local artifact store: named, versioned sets of schemas and rules, verified on install.

Layout: ``<root>/<set name>/`` holds the set's files and ``.ap-artifact-set.json`` (name, version,
source, install time, per-file SHA-256). ``<root>/.cache/`` holds derived data (compiled Schematron).
Installing writes into ``<root>/.tmp-*`` and renames into place only after every check passed, so a
failed or interrupted install never leaves a half-written set behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from ubl.artifacts import catalog
from ubl.artifacts.download import Progress, download
from ubl.artifacts.errors import ArtifactError
from ubl.artifacts.sources import open_source, safe_relpath

#: Environment variable naming the store directory.
ENV_STORE: Final = "AP_ARTIFACTS_DIR"
#: Default store location when the variable is unset.
DEFAULT_STORE: Final = Path("~/.cache/procurement-access-point/artifacts")
#: Metadata file written into every installed set.
META_FILE: Final = ".ap-artifact-set.json"
#: How many missing files an error message names before summarising.
_NAMED_MISSING: Final = 5


@dataclass(frozen=True, slots=True)
class InstalledSet:
    """An installed artifact set."""

    name: str
    version: str
    path: Path
    file_count: int
    official: bool
    source: str
    installed_at: str


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArtifactStore:
    """A directory of installed artifact sets (``$AP_ARTIFACTS_DIR`` or the user cache by default)."""

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            env = os.environ.get(ENV_STORE)
            root = Path(env) if env else DEFAULT_STORE
        self.root = root.expanduser()
        self._meta_cache: dict[str, tuple[tuple[int, int, int], dict[str, object]]] = {}

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    @property
    def cache_dir(self) -> Path:
        """Where derived data (compiled Schematron XSLT) is cached."""
        return self.root / ".cache"

    # -- queries ---------------------------------------------------------------------------------

    def _meta(self, name: str) -> dict[str, object] | None:
        """The set's metadata; re-read only when its file changed (one stat per call)."""
        meta_path = self.root / name / META_FILE
        try:
            st = meta_path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        hit = self._meta_cache.get(name)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        try:
            data: dict[str, object] = json.loads(meta_path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        self._meta_cache[name] = (stamp, data)
        return data

    def is_installed(self, name: str) -> bool:
        return self._meta(name) is not None

    def path(self, name: str) -> Path:
        """The directory of the installed set ``name``; raises ``ArtifactError(not-installed)``."""
        if not self.is_installed(name):
            raise ArtifactError(
                ArtifactError.NOT_INSTALLED,
                f"artifact set {name!r} is not installed in {self.root} (run `ap artifacts install {name}`)",
            )
        return self.root / name

    def info(self, name: str) -> InstalledSet:
        meta = self._meta(name)
        if meta is None:
            self.path(name)  # raises not-installed
            raise AssertionError("unreachable")
        files = meta.get("files")
        return InstalledSet(
            name=str(meta.get("name", name)),
            version=str(meta.get("version", "")),
            path=self.root / name,
            file_count=len(files) if isinstance(files, dict) else 0,
            official=bool(meta.get("official", False)),
            source=str(meta.get("source", "")),
            installed_at=str(meta.get("installed_at", "")),
        )

    def installed(self) -> list[InstalledSet]:
        """Every installed set, by name."""
        if not self.root.is_dir():
            return []
        return [
            self.info(d.name)
            for d in sorted(self.root.iterdir())
            if d.is_dir() and not d.name.startswith(".") and self.is_installed(d.name)
        ]

    def verify(self, name: str) -> list[str]:
        """Paths of installed files whose content no longer matches the recorded hash."""
        meta = self._meta(name)
        base = self.path(name)
        files = meta.get("files", {}) if meta else {}
        assert isinstance(files, dict)
        bad: list[str] = []
        for rel, digest in files.items():
            p = base / rel
            if not p.is_file() or _sha256(p.read_bytes()) != digest:
                bad.append(rel)
        return bad

    # -- install ---------------------------------------------------------------------------------

    def install(
        self,
        name: str,
        source: Path | None = None,
        url: str | None = None,
        *,
        custom: bool = False,
        version: str | None = None,
        progress: Progress | None = None,
    ) -> InstalledSet:
        """Install the set ``name`` and return it.

        Official sets (``ubl-2.1`` … ``peppol-preaward``) come from ``source`` (a directory or zip of
        the release) or, without one, are downloaded from ``url`` (default: the pinned official URL);
        every file of the shipped manifest must be present with its SHA-256. ``custom=True`` registers
        a user-supplied set of Schematron/XSD files from ``source`` under a new name.
        """
        if custom:
            if name in catalog.OFFICIAL_SETS:
                raise ArtifactError(
                    ArtifactError.RESERVED_NAME,
                    f"{name!r} is an official set name; pick another for --custom",
                )
            if not catalog.SET_NAME_RE.match(name):
                raise ArtifactError(
                    ArtifactError.UNSAFE_PATH, f"invalid set name {name!r} (lower-case letters, digits, ._-)"
                )
            if source is None:
                raise ArtifactError(ArtifactError.BAD_SOURCE, "a custom set needs --from DIR_OR_ZIP")
        spec = None if custom else catalog.official(name)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{name}-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
        downloaded: Path | None = None
        try:
            label = str(source)
            if source is None:
                assert spec is not None
                label = url or spec.url
                downloaded = download(label, self.root, progress=progress)
                source = downloaded
            if spec is None:
                files = self._copy_custom(source, tmp)
                meta_version = version or "custom"
            else:
                files = self._copy_official(spec, source, tmp)
                meta_version = spec.version
            meta = {
                "name": name,
                "version": meta_version,
                "official": not custom,
                "source": label,
                "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "files": files,
            }
            (tmp / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
            self._swap_in(tmp, self.root / name)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
            if downloaded is not None:
                with contextlib.suppress(OSError):
                    downloaded.unlink()
        return self.info(name)

    @staticmethod
    def _copy_official(spec: catalog.OfficialSet, source_path: Path, dest: Path) -> dict[str, str]:
        manifest = spec.manifest()
        src = open_source(source_path)
        try:
            src.locate(next(iter(manifest)))
            missing: list[str] = []
            for rel, digest in manifest.items():
                data = src.read(rel)
                if data is None:
                    missing.append(rel)
                    continue
                actual = _sha256(data)
                if actual != digest:
                    raise ArtifactError(
                        ArtifactError.HASH_MISMATCH,
                        f"{spec.name}: {rel} has SHA-256 {actual}, the manifest expects {digest}",
                    )
                out = dest / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
        finally:
            src.close()
        if missing:
            named = ", ".join(missing[:_NAMED_MISSING])
            more = f" and {len(missing) - _NAMED_MISSING} more" if len(missing) > _NAMED_MISSING else ""
            raise ArtifactError(
                ArtifactError.MISSING_FILES,
                f"{spec.name}: {len(missing)} of {len(manifest)} files missing from {source_path}: "
                f"{named}{more}",
            )
        return dict(manifest)

    @staticmethod
    def _copy_custom(source_path: Path, dest: Path) -> dict[str, str]:
        src = open_source(source_path)
        files: dict[str, str] = {}
        try:
            for rel, data in src.walk():
                rel = safe_relpath(rel)
                out = dest / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                files[rel] = _sha256(data)
        finally:
            src.close()
        if not files:
            raise ArtifactError(ArtifactError.BAD_SOURCE, f"{source_path}: no files to install")
        return files

    def _swap_in(self, tmp: Path, final: Path) -> None:
        """Replace ``final`` by ``tmp`` with renames only (the old set stays usable until the swap)."""
        old: Path | None = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{final.name}-", dir=self.root))
            os.replace(final, old / final.name)
        try:
            os.replace(tmp, final)
        except OSError:
            if old is not None:
                os.replace(old / final.name, final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def remove(self, name: str) -> None:
        """Uninstall ``name``."""
        shutil.rmtree(self.path(name))


def default_store() -> ArtifactStore:
    """The store at ``$AP_ARTIFACTS_DIR`` or ``~/.cache/procurement-access-point/artifacts``."""
    return ArtifactStore()


def install_from_corpus(
    store: ArtifactStore, corpus_dir: Path, names: tuple[str, ...] | list[str] | None = None
) -> list[InstalledSet]:
    """Install official sets from the team corpus (``<corpus_dir>/<name>``), skipping installed ones.

    The helper tests use to get a verified store without network access.
    """
    out: list[InstalledSet] = []
    for name in names or tuple(catalog.OFFICIAL_SETS):
        if store.is_installed(name):
            out.append(store.info(name))
        else:
            out.append(store.install(name, source=corpus_dir / name))
    return out
