"""Fixtures of the document-validation tests.

``artifact_store``: a store with every official artifact set installed from the corpus (verified
against the shipped manifests), built once per test session and worker. Candidate for the shared
``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ubl.artifacts import ArtifactStore, install_from_corpus


@pytest.fixture(scope="session")
def artifact_store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    """Every official artifact set installed from the corpus into a session-wide temporary store."""
    store = ArtifactStore(tmp_path_factory.mktemp("artifacts"))
    install_from_corpus(store, corpus)
    return store
