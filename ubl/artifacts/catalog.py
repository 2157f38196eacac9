"""The official artifact sets the project knows: version, pinned download URL, shipped manifest.

A manifest (``manifests/<name>.json``) lists the files of the set we use, each with its SHA-256, as
generated from the team corpus by :mod:`ubl.artifacts.generate_manifests`. It holds hashes only.
Installing an official set copies exactly those files after checking every hash.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from ubl.artifacts.errors import ArtifactError

#: Names a user-supplied set may take (also the directory name inside the store).
SET_NAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class OfficialSet:
    """An official artifact release the project can install and verify."""

    name: str
    version: str
    description: str
    url: str
    #: Which files of the release the set keeps (documentation for the manifest generator).
    include: tuple[str, ...]

    def manifest(self) -> dict[str, str]:
        """``{relative path: sha256}`` of every file of the set."""
        return _manifest(self.name)


OFFICIAL_SETS: Final[dict[str, OfficialSet]] = {
    s.name: s
    for s in (
        OfficialSet(
            "ubl-2.1",
            "2.1 OS (2013-11-04)",
            "OASIS UBL 2.1 runtime schemas (Peppol BIS 3 post-award)",
            "https://docs.oasis-open.org/ubl/os-UBL-2.1/UBL-2.1.zip",
            ("xsdrt/**",),
        ),
        OfficialSet(
            "ubl-2.2",
            "2.2 OS (2018-07-09)",
            "OASIS UBL 2.2 runtime schemas (Peppol pre-award BIS)",
            "https://docs.oasis-open.org/ubl/os-UBL-2.2/UBL-2.2.zip",
            ("xsdrt/**",),
        ),
        OfficialSet(
            "ubl-2.3",
            "2.3 OS (2021-06-15)",
            "OASIS UBL 2.3 runtime schemas (eForms basis, advanced ordering)",
            "https://docs.oasis-open.org/ubl/os-UBL-2.3/UBL-2.3.zip",
            ("xsdrt/**",),
        ),
        OfficialSet(
            "eforms-sdk-1.14.2",
            "1.14.2 (adb2c185808446e8b9ee854b4bf44fe1fee201ca)",
            "EU eForms SDK: XSDs, static Schematron, notice types (CC BY 4.0)",
            "https://github.com/OP-TED/eForms-SDK/archive/adb2c185808446e8b9ee854b4bf44fe1fee201ca.zip",
            ("LICENSE", "schemas/**", "schematrons/static/**", "notice-types/notice-types.json"),
        ),
        OfficialSet(
            "peppol-preaward",
            "pracc 7c5485bbf726d932d8fcef27f26478016080b835 (March 2023 release)",
            "OpenPeppol pre-award BIS: Schematrons, syntax mappings, code lists (no redistribution)",
            "https://github.com/OpenPEPPOL/pracc/archive/7c5485bbf726d932d8fcef27f26478016080b835.zip",
            ("guides/shared/copyright.adoc", "rules/**", "structure/syntax/**", "structure/codelist/**"),
        ),
    )
}

#: Sets referenced by the registry that no official archive or corpus provides: installable only as
#: user-supplied sets under this name; validation skips their layer with this reason until then.
UNAVAILABLE_SETS: Final[dict[str, str]] = {
    "ebxml-regrep-4.0": (
        "the OASIS ebXML RegRep 4.0 XSDs (query.xsd, lcm.xsd and their imports) are not in the team "
        "corpus; install them with `ap artifacts install ebxml-regrep-4.0 --from DIR --custom`"
    ),
}


def official(name: str) -> OfficialSet:
    """The official set called ``name``; raises :class:`ArtifactError` (``unknown-set``)."""
    try:
        return OFFICIAL_SETS[name]
    except KeyError:
        known = ", ".join(sorted(OFFICIAL_SETS))
        raise ArtifactError(
            ArtifactError.UNKNOWN_SET,
            f"unknown artifact set {name!r} (official sets: {known}; use --custom for your own)",
        ) from None


@cache
def _manifest(name: str) -> dict[str, str]:
    text = resources.files("ubl.artifacts").joinpath("manifests", f"{name}.json").read_text("utf-8")
    files: dict[str, str] = json.loads(text)["files"]
    return files
