"""Errors of the artifact store, each carrying a stable machine-readable ``code``."""

from __future__ import annotations


class ArtifactError(Exception):
    """An artifact-set operation failed. ``code`` says why (see the constants below)."""

    UNKNOWN_SET = "unknown-set"
    NOT_INSTALLED = "not-installed"
    HASH_MISMATCH = "hash-mismatch"
    MISSING_FILES = "missing-files"
    BAD_SOURCE = "bad-source"
    DOWNLOAD_FAILED = "download-failed"
    UNSAFE_PATH = "unsafe-path"
    RESERVED_NAME = "reserved-name"
    TOO_LARGE = "too-large"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.args[0]} [{self.code}]"
