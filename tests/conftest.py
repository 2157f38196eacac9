"""Fixtures shared by every test package.

``corpus`` points at ``../shared/corpus`` (official schemas, rules, examples, real AS4 messages);
tests that need it are skipped with a clear reason where it is absent. Nothing from it is copied here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from peppol.testpki import TestPki
    from ubl.artifacts import ArtifactStore

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(os.environ.get("AP_CORPUS_DIR", REPO_ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus directory; skips the test when it is not there."""
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS_DIR} (set AP_CORPUS_DIR)")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A complete Peppol-G3-shaped test PKI written by ``peppol.testpki`` (behind ``ap pki init``)."""
    from peppol.testpki import generate_test_pki

    return generate_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def artifact_store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    """Every official artifact set installed from the corpus (each file checked against the shipped
    SHA-256 manifests) into a session-wide temporary store, once per test worker."""
    from ubl.artifacts import ArtifactStore, install_from_corpus

    store = ArtifactStore(tmp_path_factory.mktemp("artifacts"))
    install_from_corpus(store, corpus)
    return store


# Real servers started by the tests (PostgreSQL): see tests/servers.py.
from tests.servers import postgres_server, postgres_url  # noqa: E402

__all__ = ["artifact_store", "corpus", "postgres_server", "postgres_url", "test_pki"]
