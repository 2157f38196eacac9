"""The outbound pipeline, once: ``prepare`` (map, detect, validate, SBDH, discover, build) and
``attempt`` (one POST, classified). Shared by ``ap as4 send``, the demo, the service and the
conformance suites (``design.md`` outbound steps 1–6).

Stages, each usable alone::

    document = prepare_document(request, validator=validator)       # map, detect, validate, SBDH
    endpoint = discover(document, resolver=directory)                # SML/SMP or a static directory
    message = build(document, endpoint, identity=identity)           # gzip, sign, encrypt, MIME
    outcome = attempt(message, endpoint, sender=as4_sender)          # exactly one POST, no sleeping

or ``prepare(request, validator=..., resolver=..., identity=...)`` for the first three. A retry calls
:func:`attempt` again with the same :class:`PreparedMessage`: the identical bytes (same MessageId, same
digests) are posted, so the receiver answers a duplicate with its stored receipt.

Errors are :class:`~exchange.errors.ExchangeError` subclasses with a ``code`` and ``permanent``;
:func:`attempt` never raises for a failed delivery (it returns a failed :class:`AttemptOutcome`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Protocol, get_args

from cryptography import x509

from exchange.errors import (
    BuildFailed,
    DiscoveryFailed,
    EnvelopeFailed,
    InvalidRequest,
    MappingFailed,
    ValidationFailed,
)
from peppol.endpoint import Endpoint
from peppol.identifiers import DocumentTypeId, IdentifierError, ParticipantId, ProcessId
from peppol.pki import Identity
from peppol.pki.names import seat_id
from smp_client.discovery import LookupResult
from smp_client.errors import (
    DiscoveryError,
    DocumentTypeNotServed,
    NoMatchingEndpoint,
    ParticipantNotRegistered,
    SmlRecordError,
    UntrustedEndpointCertificate,
)
from transport.as4 import OutboundMessage, ReceivedSignal, build_user_message, new_user_message_header
from transport.sbdh import SbdhError, SbdhHeader, header_for_document, read_sbd, wrap_document, write_sbd
from transport.sender import As4Sender, InsecureUrlError
from ubl.result import ValidationResult

InputFormat = Literal["ubl", "ocds", "decp"]
INPUT_FORMATS: Final = get_args(InputFormat)
#: Mapping target used for platform data when the request names none.
DEFAULT_MAPPING_TARGET: Final = "peppol-t004"
#: Discovery failures that the same request will hit again (no retry makes sense).
PERMANENT_DISCOVERY_ERRORS: Final = (
    ParticipantNotRegistered,
    DocumentTypeNotServed,
    NoMatchingEndpoint,
    UntrustedEndpointCertificate,
    SmlRecordError,
)
#: :attr:`AttemptOutcome.code` of an HTTP failure that carried no ebMS error.
HTTP_FAILURE_CODE: Final = "HTTP_ERROR"
#: :attr:`AttemptOutcome.code` of an endpoint URL we must not post to (plain HTTP not allowed, bad URL).
BAD_ENDPOINT_URL_CODE: Final = "BAD_ENDPOINT_URL"

#: ``validator(ubl) -> ValidationResult`` (the UBL as bytes, or the file holding a large one), e.g.
#: ``functools.partial(ubl.validate.validate_document, store=store)``.
Validator = Callable[[bytes | Path], ValidationResult]


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """What a platform hands to its access point (C1 → C2).

    ``payload``: UBL bytes (``input_format="ubl"``) or platform data (``"ocds"``/``"decp"``, mapped to
    ``mapping_target``, e.g. ``peppol-t004``); or the file holding it (a large UBL document is then
    wrapped into its SBD from file to file, never held in memory). ``document_type``/``process``
    default to what the UBL document declares (detected through :mod:`ubl.registry`). ``instance_id``
    defaults to a new UUID.
    """

    payload: bytes | Path
    sender: ParticipantId
    receiver: ParticipantId
    c1_country: str
    input_format: InputFormat = "ubl"
    document_type: DocumentTypeId | None = None
    process: ProcessId | None = None
    mapping_target: str | None = None
    instance_id: str | None = None


@dataclass(frozen=True)
class PreparedDocument:
    """A validated business document in its SBD. ``sbd`` is the SBD (bytes, or a file for an SBD the
    caller already had); ``document`` the UBL (``None`` when read from a ready SBD); ``validation`` the
    report (``None`` when no validator ran)."""

    header: SbdhHeader
    sbd: bytes | Path
    document: bytes | Path | None = None
    validation: ValidationResult | None = None

    @property
    def sender(self) -> ParticipantId:
        return self.header.sender

    @property
    def receiver(self) -> ParticipantId:
        return self.header.receiver

    @property
    def document_type(self) -> DocumentTypeId:
        return self.header.document_type

    @property
    def process(self) -> ProcessId:
        return self.header.process

    @property
    def instance_id(self) -> str:
        return self.header.instance_id


@dataclass(frozen=True)
class PreparedMessage:
    """A built UserMessage ready to post, and for whom it was built. ``message`` holds the exact
    bytes (``message.body`` or the file ``message.body_path``), content type, MessageId and the signed
    references the receipt must echo; every :func:`attempt` re-posts them unchanged."""

    message: OutboundMessage
    endpoint: Endpoint
    document: PreparedDocument

    @property
    def message_id(self) -> str:
        return self.message.message_id

    @property
    def content_type(self) -> str:
        return self.message.content_type

    @property
    def receiver_certificate(self) -> x509.Certificate:
        return self.endpoint.certificate

    def body_bytes(self) -> bytes:
        """The exact bytes posted (read from the spool file for a large message)."""
        if self.message.body is not None:
            return self.message.body
        with self.message.open_body() as fh:
            return fh.read()


class Resolver(Protocol):
    """Discovery as :func:`discover` needs it: :class:`smp_client.Discovery`,
    :class:`smp_client.StaticDirectory`, or :class:`FixedEndpoint`."""

    def lookup(
        self, participant: ParticipantId, document_type: DocumentTypeId, process: ProcessId
    ) -> LookupResult | Endpoint: ...


@dataclass(frozen=True)
class FixedEndpoint:
    """A :class:`Resolver` that always answers ``endpoint`` (a URL and certificate known in advance,
    e.g. ``ap as4 send --url --receiver-cert``). ``validate_certificate`` (raise to refuse) checks the
    certificate on every lookup, as discovery would."""

    endpoint: Endpoint
    validate_certificate: Callable[[x509.Certificate], object] | None = None

    def lookup(
        self, participant: ParticipantId, document_type: DocumentTypeId, process: ProcessId
    ) -> Endpoint:
        if self.validate_certificate is not None:
            try:
                self.validate_certificate(self.endpoint.certificate)
            except Exception as exc:
                raise DiscoveryFailed(
                    f"receiver certificate rejected: {exc}", code=UntrustedEndpointCertificate.code
                ) from exc
        return self.endpoint


# --- stage 1: the document ------------------------------------------------------------------------


def map_platform_data(request: OutboundRequest) -> bytes | Path:
    """The UBL of ``request`` (mapped from OCDS/DECP when needed; a UBL file stays a file)."""
    if request.input_format not in INPUT_FORMATS:
        raise InvalidRequest(
            f"unknown input format {request.input_format!r} (one of {', '.join(INPUT_FORMATS)})"
        )
    if request.input_format == "ubl":
        return request.payload
    from mappings.convert import convert
    from mappings.errors import MappingError

    target = request.mapping_target or DEFAULT_MAPPING_TARGET
    if not target.startswith("peppol-"):
        raise InvalidRequest(f"mapping target {target!r} is not a Peppol document (peppol-t004, …)")
    data = request.payload if isinstance(request.payload, bytes) else request.payload.read_bytes()
    try:
        return convert(data, source=request.input_format, target=target).data
    except MappingError as exc:
        code = f"MAPPING_{exc.code.upper().replace('-', '_')}"
        raise MappingFailed(str(exc), path=exc.path, code=code) from exc


def _detected_ids(document: bytes | Path) -> tuple[DocumentTypeId | None, ProcessId | None]:
    """Document type and process of a registered UBL type (``None`` when not detected: the SBDH writer
    then derives them from the document's CustomizationID and ProfileID)."""
    from peppol.xml import XmlError
    from ubl.detect import UnknownDocumentType, detect

    try:
        found = detect(document)
    except (UnknownDocumentType, XmlError):
        return None, None
    try:
        doctype = DocumentTypeId.for_value(found.document_type_id) if found.document_type_id else None
        process = ProcessId.of(found.profile_id) if found.profile_id else None
    except IdentifierError:
        return None, None
    return doctype, process


def prepare_document(
    request: OutboundRequest, *, validator: Validator | None, spool_dir: Path | None = None
) -> PreparedDocument:
    """Map (platform data), detect, validate (``validator=None`` skips it) and wrap in an SBDH.

    A UBL payload given as a file is wrapped into an SBD file in ``spool_dir`` (default: the payload's
    directory), streamed; the caller removes it (``PreparedDocument.sbd``).

    Raises :class:`InvalidRequest`, :class:`MappingFailed`, :class:`ValidationFailed` (carrying the
    :class:`~ubl.result.ValidationResult`) or :class:`EnvelopeFailed`.
    """
    document = map_platform_data(request)
    validation: ValidationResult | None = None
    if validator is not None:
        from ubl.detect import UnknownDocumentType

        try:
            validation = validator(document)
        except UnknownDocumentType as exc:  # not a document any rule set applies to: the caller's input
            raise InvalidRequest(f"unknown document type: {exc}", code="UNKNOWN_DOCUMENT_TYPE") from exc
        if not validation.valid:
            raise ValidationFailed(validation)
    doctype, process = request.document_type, request.process
    if doctype is None or process is None:
        detected_type, detected_process = _detected_ids(document)
        if doctype is None and detected_type is not None:
            doctype = detected_type
            process = process or detected_process
    envelope: dict[str, Any] = {
        "sender": request.sender,
        "receiver": request.receiver,
        "process": process,
        "country_c1": request.c1_country,
        "document_type": doctype,
        "instance_id": request.instance_id,
    }
    sbd: bytes | Path
    try:
        if isinstance(document, bytes):  # header and SBD in one pass over the document
            header, sbd = wrap_document(document, **envelope)
        else:
            header = header_for_document(document, **envelope)
            sbd = _sbd_file(header, document, spool_dir)
    except SbdhError as exc:
        raise EnvelopeFailed(str(exc), code=f"SBDH_{exc.code.upper().replace('-', '_')}") from exc
    return PreparedDocument(header, sbd, document, validation)


def _sbd_file(header: SbdhHeader, document: Path, spool_dir: Path | None) -> Path:
    """The SBD of the UBL file ``document``, written (streamed) to a new file in ``spool_dir``."""
    fd, name = tempfile.mkstemp(prefix="sbd-", suffix=".xml", dir=spool_dir or document.parent)
    path = Path(name)
    try:
        with open(fd, "wb") as out:
            write_sbd(header, document, out)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def document_from_sbd(sbd: bytes | Path) -> PreparedDocument:
    """A :class:`PreparedDocument` for an SBD made elsewhere (its header is read and checked)."""
    try:
        header = read_sbd(sbd).header
    except SbdhError as exc:
        raise EnvelopeFailed(str(exc), code=f"SBDH_{exc.code.upper().replace('-', '_')}") from exc
    return PreparedDocument(header, sbd)


# --- stage 2: discovery ---------------------------------------------------------------------------


def discover(document: PreparedDocument, *, resolver: Resolver) -> Endpoint:
    """The receiver's endpoint for ``document``; :class:`DiscoveryFailed` (``permanent`` per
    :data:`PERMANENT_DISCOVERY_ERRORS`) when there is none."""
    try:
        found = resolver.lookup(document.receiver, document.document_type, document.process)
    except DiscoveryFailed:
        raise
    except DiscoveryError as exc:
        permanent = isinstance(exc, PERMANENT_DISCOVERY_ERRORS)
        raise DiscoveryFailed(str(exc), code=exc.code, permanent=permanent) from exc
    return found.endpoint if isinstance(found, LookupResult) else found


# --- stage 3: the AS4 message ---------------------------------------------------------------------


def build(
    document: PreparedDocument,
    endpoint: Endpoint,
    *,
    identity: Identity,
    spool_dir: Path | None = None,
    conversation_id: str | None = None,
) -> PreparedMessage:
    """Build the signed, encrypted UserMessage of ``document`` for ``endpoint`` (certificate already
    validated by discovery). Large messages are spooled to ``spool_dir`` (default: a new temporary
    directory; the caller removes it once the message is settled)."""
    header = new_user_message_header(
        from_party=identity.seat_id,
        to_party=seat_id(endpoint.certificate),
        sender=document.sender,
        receiver=document.receiver,
        document_type=document.document_type,
        process=document.process,
        conversation_id=conversation_id,
    )
    work = spool_dir if spool_dir is not None else Path(tempfile.mkdtemp(prefix="as4-out-"))
    try:
        message = build_user_message(
            header, document.sbd, signer=identity, recipient_certificate=endpoint.certificate, spool_dir=work
        )
    except ValueError as exc:
        raise BuildFailed(str(exc)) from exc
    return PreparedMessage(message, endpoint, document)


def prepare(
    request: OutboundRequest,
    *,
    validator: Validator | None,
    resolver: Resolver,
    identity: Identity,
    spool_dir: Path | None = None,
) -> PreparedMessage:
    """:func:`prepare_document` → :func:`discover` → :func:`build`."""
    document = prepare_document(request, validator=validator)
    endpoint = discover(document, resolver=resolver)
    return build(document, endpoint, identity=identity, spool_dir=spool_dir)


# --- one attempt ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    """The result of one POST.

    Delivered: ``receipt`` holds the verified receipt bytes as received and ``evidence`` the parsed,
    verified signal (its NRR references are the non-repudiation evidence). Failed: ``code`` (ebMS code,
    :data:`HTTP_FAILURE_CODE` or :data:`BAD_ENDPOINT_URL_CODE`), ``detail``, ``permanent`` (no retry
    makes sense) and ``http_status`` (``None`` when no HTTP answer came).
    """

    delivered: bool
    code: str | None = None
    detail: str | None = None
    permanent: bool = False
    http_status: int | None = None
    receipt: bytes | None = None
    evidence: ReceivedSignal | None = field(default=None, repr=False)

    @classmethod
    def success(cls, receipt: bytes, evidence: ReceivedSignal, http_status: int = 200) -> AttemptOutcome:
        return cls(True, http_status=http_status, receipt=receipt, evidence=evidence)

    @classmethod
    def failed(
        cls, code: str, detail: str, *, permanent: bool, http_status: int | None = None
    ) -> AttemptOutcome:
        return cls(False, code=code, detail=detail, permanent=permanent, http_status=http_status)

    @property
    def receipt_id(self) -> str | None:
        """The MessageId of the receipt (delivered only)."""
        return self.evidence.message_id if self.evidence is not None else None

    @property
    def summary(self) -> str:
        if self.delivered:
            return "delivered: receipt verified"
        where = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        kind = "permanent failure" if self.permanent else "retryable failure"
        return f"{kind}{where}: {self.code}: {self.detail or ''}".rstrip(": ")


def attempt(message: PreparedMessage, endpoint: Endpoint, *, sender: As4Sender) -> AttemptOutcome:
    """Exactly one POST of ``message`` to ``endpoint``, classified by :class:`transport.sender.As4Sender`
    (``as4.md`` §7.1); never sleeps, never retries, never raises for a failed delivery."""
    try:
        outcome = sender.post(message.message, endpoint.url, endpoint.certificate)
    except InsecureUrlError as exc:
        return AttemptOutcome.failed(BAD_ENDPOINT_URL_CODE, str(exc), permanent=True)
    if outcome.delivered and outcome.receipt is not None and outcome.receipt_bytes is not None:
        return AttemptOutcome.success(outcome.receipt_bytes, outcome.receipt, outcome.http_status or 200)
    return AttemptOutcome.failed(
        outcome.code or HTTP_FAILURE_CODE,
        outcome.detail or "",
        permanent=not outcome.retryable,
        http_status=outcome.http_status,
    )
