"""Named, versioned, hash-verified sets of official validation artifacts (XSDs, Schematrons).

``ArtifactStore`` installs the official releases the project knows (``ubl-2.1``, ``ubl-2.2``,
``ubl-2.3``, ``eforms-sdk-1.14.2``, ``peppol-preaward``) from a directory, a zip or their pinned URL,
checking each file against the SHA-256 manifest shipped in ``ubl/artifacts/manifests/``, and
registers user-supplied sets under a name. ``install_from_corpus`` is the test helper.
"""

from __future__ import annotations

from ubl.artifacts.catalog import OFFICIAL_SETS, UNAVAILABLE_SETS, OfficialSet
from ubl.artifacts.errors import ArtifactError
from ubl.artifacts.store import (
    ENV_STORE,
    ArtifactStore,
    InstalledSet,
    default_store,
    install_from_corpus,
)

__all__ = [
    "ENV_STORE",
    "OFFICIAL_SETS",
    "UNAVAILABLE_SETS",
    "ArtifactError",
    "ArtifactStore",
    "InstalledSet",
    "OfficialSet",
    "default_store",
    "install_from_corpus",
]
