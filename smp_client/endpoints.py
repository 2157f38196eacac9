"""Endpoint selection (peppol-commons ``getEndpointAt``) and endpoint-certificate decoding.

Process identifiers and transport profiles are compared exactly (case-sensitive, no trimming of
the requested value); endpoints not yet active or already expired at the lookup moment are
ignored; the first remaining endpoint wins.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509

from peppol.pki import KeyLoadError, load_certificate
from smp_client.errors import NoMatchingEndpoint, UntrustedEndpointCertificate
from smp_client.model import EndpointRecord, ProcessRecord, RawId, RedirectRecord, ServiceMetadataDoc

_PEM_ARMOUR: Final = re.compile(r"-----(BEGIN|END)[A-Z0-9 ]*-----")


def decode_certificate(text: str) -> x509.Certificate:
    """Decode an SMP ``Certificate`` leniently: base64 DER with or without PEM armour and whitespace."""
    body = "".join(_PEM_ARMOUR.sub("", text).split())
    if not body:
        raise UntrustedEndpointCertificate("endpoint certificate is empty")
    try:
        der = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UntrustedEndpointCertificate(f"endpoint certificate cannot be decoded: {exc}") from exc
    try:
        # load_certificate also decodes subject and issuer now (cryptography parses names lazily):
        # a malformed name is refused here, not as a bare ValueError wherever it is first formatted.
        return load_certificate(der)
    except KeyLoadError as exc:
        raise UntrustedEndpointCertificate(f"endpoint certificate cannot be decoded: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen endpoint, or a BDXR 2 per-process redirect to follow instead."""

    endpoint: EndpointRecord | None
    redirect: RedirectRecord | None = None
    duplicates: int = 0


def _matches(process: ProcessRecord, wanted: RawId, dialect_any: bool) -> bool:
    if not process.process_ids:
        return dialect_any
    return any(p.scheme == wanted.scheme and p.value == wanted.value for p in process.process_ids)


def _active(ep: EndpointRecord, moment: datetime) -> bool:
    if ep.activation is not None and moment < ep.activation:
        return False
    return not (ep.expiration is not None and moment >= ep.expiration)


def select_endpoint(
    doc: ServiceMetadataDoc, process: RawId, transport_profile: str, moment: datetime
) -> Selection:
    """Pick the endpoint for ``process`` + ``transport_profile`` valid at ``moment``.

    A BDXR 2 ``ProcessMetadata`` without any ``Process`` applies to every process (unconfirmed
    reading of BDXR SMP 2.0; Peppol documents always name the process).
    """
    processes = [p for p in doc.processes if _matches(p, process, dialect_any=True)]
    if not processes:
        offered = ", ".join(sorted({str(pid) for p in doc.processes for pid in p.process_ids})) or "none"
        raise NoMatchingEndpoint(
            f"process {process.uri} is not offered for this document type (offered: {offered})"
        )
    for proc in processes:
        if proc.redirect is not None:
            return Selection(None, redirect=proc.redirect)
    endpoints = [ep for proc in processes for ep in proc.endpoints]
    by_profile = [ep for ep in endpoints if ep.transport_profile == transport_profile]
    if not by_profile:
        profiles = ", ".join(sorted({ep.transport_profile for ep in endpoints})) or "none"
        raise NoMatchingEndpoint(
            f"transport profile {transport_profile!r} is not offered for process {process.uri} "
            f"(offered: {profiles})"
        )
    active = [ep for ep in by_profile if _active(ep, moment)]
    if not active:
        ep = by_profile[0]
        if ep.activation is not None and moment < ep.activation:
            why = f"not active before {ep.activation.isoformat()}"
        else:
            why = f"expired on {ep.expiration.isoformat() if ep.expiration else '?'}"
        raise NoMatchingEndpoint(f"the {transport_profile} endpoint {ep.url} is {why}")
    return Selection(active[0], duplicates=len(active) - 1)
