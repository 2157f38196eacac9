"""Static directory: endpoints from a local YAML or JSON file instead of SML + SMP.

For closed networks, the demo and tests. Lookups return the same :class:`LookupResult` as network
discovery (``source == "static"``, no SMP signature) and fail with the same exception classes;
endpoint selection (process, transport profile, dates) is the very same code. Endpoint certificates
are validated against the AP trust store when an ``ap_validator`` is given; without one they are
pinned by the file (the result says so: ``certificate.valid is None``).

File format (``docs/discovery.md``)::

    participants:
      - id: iso6523-actorid-upis::9915:demo
        services:
          - document_type: busdox-docid-qns::urn:...::2.1
            process: cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0
            endpoints:
              - url: https://ap.example/as4
                transport_profile: peppol-transport-as4-v2_0   # default
                certificate: certs/ap.pem   # path relative to this file, or inline PEM/base64
                activation: 2024-01-01T00:00:00Z              # optional
                expiration: 2030-01-01T00:00:00Z              # optional
                description: Demo AP                           # optional
                technical_contact: ops@example.org             # optional
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Final

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2
from peppol.identifiers import DocumentTypeId, IdentifierError, ParticipantId, ProcessId
from peppol.pki import CertificateValidator, load_certificate
from smp_client.discovery import (
    DirectoryMethods,
    EndpointCheck,
    LookupResult,
    ServiceGroupResult,
    Step,
    attach_steps,
    check_endpoint_certificate,
)
from smp_client.documents import parse_xs_datetime
from smp_client.endpoints import decode_certificate, select_endpoint
from smp_client.errors import (
    DiscoveryError,
    DocumentTypeNotServed,
    ParticipantNotRegistered,
    StaticDirectoryError,
)
from smp_client.model import EndpointRecord, ProcessRecord, RawId, ServiceMetadataDoc, SmpDialect

#: Largest static directory file read (bytes).
MAX_STATIC_FILE_BYTES: Final = 16 * 1024 * 1024


def _load_mapping(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_STATIC_FILE_BYTES:
            raise StaticDirectoryError(f"{path}: {size} bytes exceeds {MAX_STATIC_FILE_BYTES}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StaticDirectoryError(f"cannot read static directory {path}: {exc}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise StaticDirectoryError(
            f"{path} is not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {_one_line(exc)}"
        ) from exc
    except RecursionError as exc:  # both parsers recurse per nesting level
        raise StaticDirectoryError(f"{path}: nested too deeply to be a static directory") from exc
    if not isinstance(data, dict) or not isinstance(data.get("participants"), list):
        raise StaticDirectoryError(f"{path}: expected a mapping with a 'participants' list")
    return data


def _when(value: object, where: str, *, end_of_day: bool = False) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        # YAML datetimes carry their own offset: go through the checked parser (range, ±14:00).
        value = value.isoformat()
    elif isinstance(value, date):
        if not end_of_day:
            return datetime.combine(value, time(0), tzinfo=UTC)
        value = value.isoformat()
    if isinstance(value, str):
        try:
            return parse_xs_datetime(value, end_of_day=end_of_day)
        except DiscoveryError as exc:
            raise StaticDirectoryError(f"{where}: {exc}") from exc
    raise StaticDirectoryError(f"{where}: not a date/time: {value!r}")


def _str(entry: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise StaticDirectoryError(f"{where}: '{key}' is missing")
        return None
    if not isinstance(value, str | int | float):
        raise StaticDirectoryError(f"{where}: '{key}' must be a string")
    return str(value).strip()


class StaticDirectory(DirectoryMethods):
    """Endpoint lookups from a static file; same API and result type as :class:`Discovery`."""

    def __init__(self, path: str | Path, *, ap_validator: CertificateValidator | None = None) -> None:
        self.path = Path(path)
        self.ap_validator = ap_validator
        self._docs: dict[tuple[str, str], ServiceMetadataDoc] = {}
        self._doctypes: dict[str, list[DocumentTypeId]] = {}
        self._certs: dict[str, x509.Certificate] = {}
        self._load()

    # -- loading ----------------------------------------------------------------------------------

    def _certificate(self, text: str, where: str) -> str:
        """Return base64 DER text for ``text`` (a path relative to the file, or inline PEM/base64)."""
        candidate = self.path.parent / text
        if "BEGIN" not in text and len(text) < 1024 and candidate.is_file():
            try:
                cert = load_certificate(candidate)
            except (ValueError, OSError) as exc:
                raise StaticDirectoryError(f"{where}: cannot load certificate {candidate}: {exc}") from exc
        else:
            try:
                cert = decode_certificate(text)
            except DiscoveryError as exc:
                raise StaticDirectoryError(
                    f"{where}: certificate is neither a file nor PEM/base64: {exc}"
                ) from exc
        der_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._certs[der_b64] = cert
        return der_b64

    def _endpoint(self, raw: object, where: str) -> EndpointRecord:
        if not isinstance(raw, dict):
            raise StaticDirectoryError(f"{where}: an endpoint must be a mapping")
        url = _str(raw, "url", where)
        cert_text = _str(raw, "certificate", where)
        assert url is not None and cert_text is not None
        return EndpointRecord(
            transport_profile=_str(raw, "transport_profile", where, required=False)
            or TRANSPORT_PROFILE_AS4_V2,
            url=url,
            certificates=(self._certificate(cert_text, where),),
            activation=_when(raw.get("activation"), f"{where}.activation"),
            expiration=_when(raw.get("expiration"), f"{where}.expiration", end_of_day=True),
            description=_str(raw, "description", where, required=False),
            technical_contact=_str(raw, "technical_contact", where, required=False),
        )

    def _load(self) -> None:
        data = _load_mapping(self.path)
        grouped: dict[tuple[str, str], list[ProcessRecord]] = {}
        for i, entry in enumerate(data["participants"]):
            where = f"{self.path.name}: participants[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("services"), list):
                raise StaticDirectoryError(f"{where}: needs 'id' and a 'services' list")
            try:
                participant = ParticipantId.parse(_str(entry, "id", where) or "")
            except IdentifierError as exc:
                raise StaticDirectoryError(f"{where}.id: {exc}") from exc
            doctypes = self._doctypes.setdefault(participant.uri, [])
            for j, service in enumerate(entry["services"]):
                swhere = f"{where}.services[{j}]"
                if not isinstance(service, dict) or not isinstance(service.get("endpoints"), list):
                    raise StaticDirectoryError(
                        f"{swhere}: needs document_type, process and an 'endpoints' list"
                    )
                try:
                    doctype = DocumentTypeId.parse(_str(service, "document_type", swhere) or "")
                    process = ProcessId.parse(_str(service, "process", swhere) or "")
                except IdentifierError as exc:
                    raise StaticDirectoryError(f"{swhere}: {exc}") from exc
                endpoints = tuple(
                    self._endpoint(ep, f"{swhere}.endpoints[{k}]")
                    for k, ep in enumerate(service["endpoints"])
                )
                if doctype not in doctypes:
                    doctypes.append(doctype)
                grouped.setdefault((participant.uri, doctype.uri), []).append(
                    ProcessRecord((RawId(process.scheme, process.value),), endpoints)
                )
        for (pid, did), processes in grouped.items():
            pscheme, _, pvalue = pid.partition("::")
            dscheme, _, dvalue = did.partition("::")
            self._docs[(pid, did)] = ServiceMetadataDoc(
                SmpDialect.PEPPOL, RawId(pscheme, pvalue), RawId(dscheme, dvalue), tuple(processes)
            )

    # -- API --------------------------------------------------------------------------------------

    def lookup(
        self,
        participant: ParticipantId,
        document_type: DocumentTypeId,
        process: ProcessId,
        transport_profile: str = TRANSPORT_PROFILE_AS4_V2,
        *,
        moment: datetime | None = None,
    ) -> LookupResult:
        """Same contract as :meth:`smp_client.Discovery.lookup`."""
        steps: list[Step] = [Step("static", f"static directory {self.path}")]
        with attach_steps(steps):
            if participant.uri not in self._doctypes:
                raise ParticipantNotRegistered(f"{participant.uri} is not in the static directory")
            doc = self._docs.get((participant.uri, document_type.uri))
            if doc is None:
                raise DocumentTypeNotServed(
                    f"{participant.uri} has no entry for document type {document_type.uri}"
                )
            when = moment or datetime.now(UTC)
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            selection = select_endpoint(doc, RawId(process.scheme, process.value), transport_profile, when)
            record = selection.endpoint
            assert record is not None  # static documents have no redirects
            steps.append(Step("endpoint", f"{record.url} [{record.transport_profile}]"))
            cert = self._certs[record.certificates[0]]
            check = self._check(cert, moment)
            steps.append(Step("certificate", f"{check.subject}: {check.detail}"))
            endpoint = record.to_endpoint(cert)
            return LookupResult(
                participant=participant,
                document_type=document_type,
                process=process,
                transport_profile=transport_profile,
                endpoint=endpoint,
                certificate=check,
                steps=tuple(steps),
                source="static",
            )

    def _check(self, cert: x509.Certificate, moment: datetime | None) -> EndpointCheck:
        if self.ap_validator is None:
            return EndpointCheck(
                cert.subject.rfc4514_string(),
                cert.issuer.rfc4514_string(),
                None,
                "pinned by the static directory (not validated)",
            )
        return check_endpoint_certificate(self.ap_validator, cert, moment)[0]

    def service_group_result(self, participant: ParticipantId) -> ServiceGroupResult:
        steps = [Step("static", f"static directory {self.path}")]
        with attach_steps(steps):
            doctypes = self._doctypes.get(participant.uri)
            if doctypes is None:
                raise ParticipantNotRegistered(f"{participant.uri} is not in the static directory")
            steps.append(Step("service-group", f"{len(doctypes)} document type(s)"))
            return ServiceGroupResult(participant, tuple(doctypes), tuple(steps), source="static")


def _one_line(exc: Exception) -> str:
    """A parser error on one line: YAML's message spans several (problem, context, a caret under the text)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(exc).split())
