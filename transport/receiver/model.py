"""Types of the inbound pipeline: configuration, the hook contract, the accepted message, the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

from cryptography import x509

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from peppol.pki import Identity
from transport.as4 import SecurityPolicy
from transport.errors import EbmsError
from transport.mime import MimeLimits
from transport.receiver.ledger import InboundLedger, InMemoryLedger
from transport.receiver.message import ReceivedMessage

SOAP_RESPONSE_CONTENT_TYPE: Final = "application/soap+xml; charset=UTF-8"
TEXT_RESPONSE_CONTENT_TYPE: Final = "text/plain; charset=UTF-8"
#: Attachments and payloads up to this size (per request) are processed in memory, larger ones are
#: streamed through files in the working directory (memory stays flat for any message size).
DEFAULT_MEMORY_BYTES: Final = 4 * 1024 * 1024
#: Oldest signed ``eb:Timestamp`` a new message may carry (seconds). A ledger that forgets MessageIds
#: (a purge of old records) would otherwise deliver a replay again: keep it no longer than the ledger's
#: retention. A resend of a message the ledger still holds is answered with its receipt at any age.
DEFAULT_MAX_MESSAGE_AGE_SECONDS: Final = 24 * 3600.0
#: How far ahead of our clock an ``eb:Timestamp`` may be (sender clock skew, seconds).
DEFAULT_MAX_CLOCK_SKEW_SECONDS: Final = 3600.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


#: ``is_served(receiver, document_type, process)``.
IsServed = Callable[[ParticipantId, DocumentTypeId, ProcessId], bool]


class ReceiverHooks(Protocol):
    """What the caller plugs into the receiver besides the ledger; called for a message that passed the
    security and SBDH checks: ``is_served`` before the ledger, ``acknowledged`` after it accepted the
    message (documented in ``docs/as4-operations.md``)."""

    def is_served(self, receiver: ParticipantId, document_type: DocumentTypeId, process: ProcessId) -> bool:
        """Whether this access point serves the (receiver, document type, process) triple. False →
        ``EBMS:0004`` with ``PEPPOL:NOT_SERVICED``."""
        ...

    def acknowledged(self, message: ReceivedMessage, receipt: bytes) -> None:
        """Called once the ledger accepted a new message (not for a duplicate), before the receipt is
        returned; e.g. to wake a worker. Failures are logged, not reported: the ledger holds the message."""
        ...


def serve_everything(receiver: ParticipantId, document_type: DocumentTypeId, process: ProcessId) -> bool:
    """An ``is_served`` that accepts every triple (a catch-all receiver, e.g. the CLI test receiver)."""
    return True


def _ignore_ack(message: ReceivedMessage, receipt: bytes) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CallbackHooks:
    """:class:`ReceiverHooks` built from plain callables (the defaults serve everything, ignore acks)."""

    is_served_fn: IsServed = serve_everything
    acknowledged_fn: Callable[[ReceivedMessage, bytes], None] = _ignore_ack

    def is_served(self, receiver: ParticipantId, document_type: DocumentTypeId, process: ProcessId) -> bool:
        return self.is_served_fn(receiver, document_type, process)

    def acknowledged(self, message: ReceivedMessage, receipt: bytes) -> None:
        self.acknowledged_fn(message, receipt)


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """Receiver settings: our AP identity (decrypts, signs receipts and errors), the signer check
    (e.g. ``CertificateValidator(...).validate``; raise to reject), the inbound ledger (default: a
    process-local :class:`InMemoryLedger`), the security policy, MIME caps, where per-request working
    directories are created and up to what size a message is processed in memory instead
    (``memory_bytes``: the attachments of one request together, and separately its decompressed
    payload; 0 = always through files), and the freshness window of a new message's signed
    ``eb:Timestamp`` (``max_message_age`` back, ``max_clock_skew`` ahead)."""

    identity: Identity
    validate_signer: Callable[[x509.Certificate], object]
    ledger: InboundLedger = field(default_factory=InMemoryLedger)
    policy: SecurityPolicy = field(default_factory=SecurityPolicy)
    mime_limits: MimeLimits = field(default_factory=MimeLimits)
    work_dir: Path | None = None
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    #: ``None`` turns the age check off (for a ledger that never forgets)
    max_message_age: float | None = DEFAULT_MAX_MESSAGE_AGE_SECONDS
    max_clock_skew: float = DEFAULT_MAX_CLOCK_SKEW_SECONDS
    clock: Callable[[], datetime] = _utc_now


class Verdict(StrEnum):
    """What the receiver decided."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Decision:
    """Verdict plus context for logging and metrics. ``error`` is set for REJECTED (and for MALFORMED
    when the failure had an ebMS code); ``message`` for ACCEPTED."""

    verdict: Verdict
    message_id: str | None = None
    error: EbmsError | None = None
    message: ReceivedMessage | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiverResponse:
    """The HTTP answer to send back."""

    status: int
    content_type: str
    body: bytes
    decision: Decision
