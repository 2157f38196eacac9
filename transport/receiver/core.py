"""The receiver core: HTTP headers + body stream → decision + HTTP response (``design.md`` inbound flow).

Order of work: MIME (small parts in memory, large ones streamed to disk) →
:func:`transport.as4.process_inbound` (decrypt, verify, gunzip with caps) → SBDH read and checked
against the ebMS header → hook ``is_served`` → ledger ``find`` (a resend is answered with its stored
receipt) → freshness of a new message → signed receipt → ledger ``accept`` (payload, metadata and receipt
stored in one atomic step; the receipt that won is returned) → hook ``acknowledged``.

A message whose parts fit in :attr:`ReceiverConfig.memory_bytes` is processed without touching the
file system: the per-request working directory is only created when something must go to disk (a large
part or payload, or a hook asking for :attr:`ReceivedMessage.sbd_path`). On a slow disk the directory,
its files and their removal cost more than all the cryptography of a 10 KB message.

HTTP mapping (documented in ``docs/as4-operations.md``):

* accepted or duplicate → 200 + the signed receipt (a duplicate gets the very same receipt bytes);
* any ebMS error once a MessageId is known → 200 + a signed ``eb:Error`` signal (phase4 style: senders
  of every stack read an ebMS signal from a 200, while a 500 + SOAP Fault is read by fewer);
* a body that is not SOAP at all, or MIME so broken that no envelope can be read → plain-text 4xx
  (415 wrong Content-Type, 413 too large, 400 otherwise).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, Final

from cryptography import x509
from lxml import etree

from peppol.xml import XmlError, parse_bytes
from transport.as4 import (
    InboundAttachment,
    InboundUserMessage,
    build_error_signal,
    build_receipt,
    message_id_of,
    process_inbound,
)
from transport.as4.header import MAX_MESSAGE_ID_CHARS
from transport.as4.inbound import certificate_cn, message_id_in, parse_envelope
from transport.errors import DeliveryFailure, EbmsError, InvalidHeader, NotServiced, OtherError
from transport.mime import BodyTooLargeError, MimeError, NotSoapError, ParsedMime, read_message
from transport.receiver.ledger import LedgerStatus
from transport.receiver.message import ReceivedMessage
from transport.receiver.model import (
    SOAP_RESPONSE_CONTENT_TYPE,
    TEXT_RESPONSE_CONTENT_TYPE,
    Decision,
    ReceiverConfig,
    ReceiverHooks,
    ReceiverResponse,
    Verdict,
)
from transport.sbdh import SbdhError, check_as4_consistency, read_sbd

log = logging.getLogger(__name__)

_NS_S12: Final = "http://www.w3.org/2003/05/soap-envelope"


class _LazyWorkDir:
    """The per-request working directory, created on first use and removed by :meth:`close`; asking
    for it after :meth:`close` raises ``FileNotFoundError`` (everything in it is gone by then)."""

    def __init__(self, parent: Path | None) -> None:
        self._parent = parent
        self._path: Path | None = None
        self._closed = False
        self._lock = threading.Lock()

    def __call__(self) -> Path:
        with self._lock:
            if self._closed:
                raise FileNotFoundError("the per-request working directory is removed when receive() returns")
            if self._path is None:
                self._path = Path(tempfile.mkdtemp(prefix="as4-in-", dir=self._parent))
            return self._path

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._path is not None:
                shutil.rmtree(self._path, ignore_errors=True)


def _plain(status: int, text: str, decision: Decision) -> ReceiverResponse:
    """A plain-text answer of one line (libxml2 messages may hold line breaks)."""
    line = " ".join(text.split())
    return ReceiverResponse(status, TEXT_RESPONSE_CONTENT_TYPE, (line + "\n").encode(), decision)


def receive(
    headers: Mapping[str, str],
    body: BinaryIO,
    config: ReceiverConfig,
    hooks: ReceiverHooks,
) -> ReceiverResponse:
    """Process one inbound AS4 request and return the HTTP response to send.

    Never raises for bad input: every failure becomes a signed error signal or a plain-text 4xx.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    work = _LazyWorkDir(config.work_dir)
    try:
        try:
            mime = read_message(
                lowered.get("content-type"), body, work, config.mime_limits, memory_bytes=config.memory_bytes
            )
        except (NotSoapError, BodyTooLargeError) as exc:
            return _plain(exc.http_status, str(exc), Decision(Verdict.MALFORMED, error=exc, reason=str(exc)))
        except MimeError as exc:
            return _plain(400, str(exc), Decision(Verdict.MALFORMED, error=exc, reason=str(exc)))
        except OSError as exc:  # spooling parts failed (disk full, permissions): our fault, retryable
            log.exception("could not spool the request body")
            reason = f"the request could not be stored for processing: {type(exc).__name__}"
            return _plain(503, reason, Decision(Verdict.MALFORMED, reason=reason))
        try:
            root: etree._Element | None = parse_envelope(mime.envelope)
        except XmlError:
            root = None
        message_id = message_id_of(mime.envelope) if root is None else message_id_in(root)
        if message_id is None:
            return _no_message_id(mime, config)
        if len(message_id) > MAX_MESSAGE_ID_CHARS:  # refused before any work, and not echoed back
            error = InvalidHeader(
                f"eb:MessageId has {len(message_id)} characters (at most {MAX_MESSAGE_ID_CHARS})"
            )
            return _error_response(error, None, config)
        try:
            return _process(message_id, mime, root, work, config, hooks)
        except EbmsError as exc:
            return _error_response(exc, message_id, config)
        except Exception as exc:  # a bug or an unexpected library error: answer, never crash
            log.exception("internal error while receiving %s", message_id)
            failure = DeliveryFailure(f"internal error while processing the message: {type(exc).__name__}")
            return _error_response(failure, message_id, config)
    finally:
        work.close()


def _no_message_id(mime: ParsedMime, config: ReceiverConfig) -> ReceiverResponse:
    """A SOAP envelope without a readable ``eb:MessageId`` gets a signed 0009; anything else a 400."""
    try:
        root = parse_bytes(mime.envelope).getroot()
    except XmlError as exc:
        reason = f"the SOAP part is not well-formed XML: {exc}"
        return _plain(400, reason, Decision(Verdict.MALFORMED, reason=reason))
    if root.tag != etree.QName(_NS_S12, "Envelope").text:
        reason = "the body is not a SOAP 1.2 envelope"
        return _plain(400, reason, Decision(Verdict.MALFORMED, reason=reason))
    return _error_response(InvalidHeader("no eb:Messaging/eb:UserMessage with a MessageId"), None, config)


def _error_response(error: EbmsError, message_id: str | None, config: ReceiverConfig) -> ReceiverResponse:
    decision = Decision(Verdict.REJECTED, message_id=message_id, error=error, reason=str(error))
    log.info("rejected %s: %s", message_id, error)
    try:
        signal = build_error_signal(error, ref_to_message_id=message_id, signer=config.identity)
    except Exception:
        log.exception("could not build the error signal for %s", message_id)
        return _plain(500, str(error), decision)
    return ReceiverResponse(200, SOAP_RESPONSE_CONTENT_TYPE, signal, decision)


def _process(
    message_id: str,
    mime: ParsedMime,
    root: etree._Element | None,
    work: _LazyWorkDir,
    config: ReceiverConfig,
    hooks: ReceiverHooks,
) -> ReceiverResponse:
    attachments = [
        InboundAttachment(
            content_id=part.content_id or "", headers=part.headers, path=part.path, data=part.data
        )
        for part in mime.attachments
    ]

    def validate_signer(cert: x509.Certificate) -> None:
        config.validate_signer(cert)

    inbound = process_inbound(
        mime.envelope,
        attachments,
        identity=config.identity,
        validate_signer=validate_signer,
        policy=config.policy,
        work_dir=work,
        payload_memory_bytes=config.memory_bytes,
        root=root,
    )
    if inbound.header.message_id != message_id:  # the duplicate key must be what is delivered
        raise InvalidHeader(
            f"eb:MessageId {message_id!r} is not the UserMessage's {inbound.header.message_id!r}"
        )
    _check_addressed_to_us(inbound, config)
    message = _check_sbdh(message_id, inbound)
    if not hooks.is_served(message.receiver, message.document_type, message.process):
        raise NotServiced()
    stored = config.ledger.find(message_id)
    if stored is not None:  # a resend: answered from the ledger without signing anything new
        if stored.fingerprint != message.fingerprint:
            raise _reused(message_id)
        return _duplicate(message_id, stored.receipt)
    _check_fresh(inbound, config)  # only new messages: a resend of a stored one gets its receipt
    receipt = build_receipt(inbound, signer=config.identity)
    try:
        result = config.ledger.accept(message, receipt)
    except Exception as exc:
        log.exception("the ledger could not store %s", message_id)
        raise DeliveryFailure(f"the message could not be stored: {type(exc).__name__}") from exc
    if result.status is LedgerStatus.DUPLICATE and result.receipt is not None:  # a concurrent resend won
        return _duplicate(message_id, result.receipt)
    if result.status is LedgerStatus.MESSAGE_ID_REUSED:
        raise _reused(message_id)
    if result.status is LedgerStatus.DOCUMENT_DELIVERED:
        # The SBDH InstanceIdentifier is unique per document (Peppol Envelope): the same document sent
        # again under a new MessageId is refused naming the message that delivered it, never delivered
        # twice (conformance.md §12 item 7). Refusing, not answering with a receipt, loses nothing: a
        # document that reused an identifier by mistake comes back to its sender as an error.
        raise OtherError(
            f"document {message.instance_id!r} from {message.sender} was already delivered in message"
            f" {result.message_id!r}; it is not delivered again"
        )
    if result.status is not LedgerStatus.ACCEPTED or result.receipt is None:
        raise DeliveryFailure(f"the ledger answered {result.status} without a receipt")
    try:
        hooks.acknowledged(message, result.receipt)
    except Exception:
        log.exception("acknowledged hook failed for %s (the receipt is sent anyway)", message_id)
    decision = Decision(Verdict.ACCEPTED, message_id=message_id, message=message)
    return ReceiverResponse(200, SOAP_RESPONSE_CONTENT_TYPE, result.receipt, decision)


def _duplicate(message_id: str, receipt: bytes) -> ReceiverResponse:
    log.info("duplicate %s answered with its stored receipt", message_id)
    decision = Decision(Verdict.DUPLICATE, message_id=message_id, reason="duplicate MessageId")
    return ReceiverResponse(200, SOAP_RESPONSE_CONTENT_TYPE, receipt, decision)


def _reused(message_id: str) -> OtherError:
    """A stored receipt answers only a resend of the *same* message (same NRR digests, see
    :attr:`ReceivedMessage.fingerprint`). Another message reusing the MessageId (another seat that
    learnt it, or a sender re-using ids) must neither get the first sender's receipt nor count as
    delivered: EBMS:0004."""
    return OtherError(f"eb:MessageId {message_id!r} was already received for a different message")


def _check_fresh(inbound: InboundUserMessage, config: ReceiverConfig) -> None:
    """A new message's signed ``eb:Timestamp`` must lie in ``[now - max_message_age, now + max_clock_skew]``.

    Duplicate elimination remembers a MessageId only for its retention window; without this bound a
    captured message replayed after the window would be delivered a second time (conformance.md §12
    item 7). Refused with EBMS:0004, never delivered; the sender must send a new message.
    """
    if config.max_message_age is None:
        return
    now = config.clock()
    stamp = inbound.header.timestamp
    age = (now - stamp).total_seconds()
    if age > config.max_message_age:
        raise OtherError(
            f"eb:Timestamp {stamp.isoformat()} is {age / 3600:.1f} h old, more than this access point accepts"
            f" ({config.max_message_age / 3600:.1f} h): send the document again as a new message"
        )
    if -age > config.max_clock_skew:
        raise OtherError(
            f"eb:Timestamp {stamp.isoformat()} is {-age / 60:.0f} min ahead of this access point's clock"
            f" (at most {config.max_clock_skew / 60:.0f} min): check the sender's clock"
        )


def _check_addressed_to_us(inbound: InboundUserMessage, config: ReceiverConfig) -> None:
    """The signed ``eb:To/eb:PartyId`` must be our own seat id (the CN of our AP certificate): a message
    for another AP's seat is refused with EBMS:0004 (as4.md §3.2 and §7.3 item 6), never delivered."""
    ours = certificate_cn(config.identity.certificate)
    if inbound.header.to_party != ours:
        raise OtherError(
            f"eb:To/eb:PartyId {inbound.header.to_party!r} is not this access point's seat {ours!r}"
        )


def _check_sbdh(message_id: str, inbound: InboundUserMessage) -> ReceivedMessage:
    header = inbound.header
    try:
        parsed = read_sbd(inbound.payload.source)
        sbdh = parsed.header
        check_as4_consistency(
            sbdh,
            original_sender=header.original_sender,
            original_sender_type=header.original_sender_type,
            final_recipient=header.final_recipient,
            final_recipient_type=header.final_recipient_type,
            service=header.service,
            action=header.action,
            service_type=header.service_type,
        )
    except SbdhError as exc:
        code = getattr(exc, "code", "sbdh")
        raise OtherError(f"SBDH rejected: {exc}", detail=f"{code}: {exc}") from exc
    return ReceivedMessage(
        message_id=message_id,
        conversation_id=header.conversation_id,
        from_party=header.from_party,
        to_party=header.to_party,
        sender=sbdh.sender,
        receiver=sbdh.receiver,
        document_type=sbdh.document_type,
        process=sbdh.process,
        country_c1=sbdh.country_c1,
        instance_id=sbdh.instance_id,
        sbd=inbound.payload,
        signer_certificate=inbound.signer_certificate,
        header=header,
        sbdh=sbdh,
        inbound=inbound,
    )
