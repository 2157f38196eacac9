"""Shared helpers for the receiver, sender, security-suite and end-to-end tests (no tests in here).

Builds real messages with ``transport.as4`` from the session test PKI (``aps[0]`` sends to ``aps[1]``)
and runs the real ASGI server on loopback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from transport.as4 import OutboundMessage, build_user_message, new_user_message_header
from transport.receiver import (
    CallbackHooks,
    InMemoryLedger,
    LedgerEntry,
    LedgerResult,
    ReceivedMessage,
    ReceiverConfig,
)
from transport.server import RunningServer, create_app, start_server

SENDER = "iso6523-actorid-upis::0088:5790000435951"
RECEIVER = "iso6523-actorid-upis::0088:5798000000001"
DOCTYPE = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def ubl_invoice(note: str = "hello", *, extra: bytes = b"") -> bytes:
    """A small UBL invoice whose CustomizationID/ProfileID match DOCTYPE/PROCESS."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        b"<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
        b"</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
        b"<cbc:ID>T-1</cbc:ID><cbc:Note>" + note.encode() + b"</cbc:Note>" + extra + b"</Invoice>\n"
    )


def sbdh_for(
    document: bytes, *, sender: str = SENDER, receiver: str = RECEIVER, country_c1: str = "FR"
) -> Any:
    from transport.sbdh import header_for_document

    return header_for_document(
        document,
        sender=ParticipantId.parse(sender),
        receiver=ParticipantId.parse(receiver),
        process=ProcessId.parse(PROCESS),
        country_c1=country_c1,
        document_type=DocumentTypeId.parse(DOCTYPE),
    )


def make_sbd(document: bytes | None = None, **kw: Any) -> bytes:
    from transport.sbdh import build_sbd

    document = document if document is not None else ubl_invoice()
    return build_sbd(sbdh_for(document, **kw), document)


def build_message(
    pki: Any,
    sbd: bytes | Path | None = None,
    *,
    signer: Any = None,
    recipient: Any = None,
    message_id: str | None = None,
    header_overrides: dict[str, Any] | None = None,
    spool_dir: Path | None = None,
) -> OutboundMessage:
    """A real signed+encrypted UserMessage from ``signer`` (default aps[0]) to ``recipient`` (aps[1])."""
    import dataclasses

    sbd = sbd if sbd is not None else make_sbd()
    signer = signer or pki.aps[0].identity()
    recipient_cert = recipient or pki.aps[1].certificate()
    header = new_user_message_header(
        from_party=signer.seat_id,
        to_party=pki.aps[1].seat_id,
        sender=ParticipantId.parse(SENDER),
        receiver=ParticipantId.parse(RECEIVER),
        document_type=DocumentTypeId.parse(DOCTYPE),
        process=ProcessId.parse(PROCESS),
        message_id=message_id,
    )
    if header_overrides:
        header = dataclasses.replace(header, **header_overrides)
    return build_user_message(
        header, sbd, signer=signer, recipient_certificate=recipient_cert, spool_dir=spool_dir
    )


@dataclass
class Recorder:
    """Hooks recording what the ledger accepted (``acknowledged`` runs once per accepted new message),
    and an inbound ledger (an :class:`InMemoryLedger` inside; used with ``receiver_config(recorder=)``)
    that can be told to fail storing (``fail``); ``served=False`` refuses service."""

    persisted: list[ReceivedMessage] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    receipts: list[bytes] = field(default_factory=list)
    served: bool = True
    fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    ledger: InMemoryLedger = field(default_factory=InMemoryLedger)

    # --- InboundLedger ---

    def find(self, message_id: str) -> LedgerEntry | None:
        return self.ledger.find(message_id)

    def accept(self, message: ReceivedMessage, receipt: bytes) -> LedgerResult:
        if self.fail:
            raise OSError("disk full")
        return self.ledger.accept(message, receipt)

    # --- hooks ---

    def acknowledged(self, message: ReceivedMessage, receipt: bytes) -> None:
        payload = message.sbd.read_bytes()
        with self.lock:
            self.persisted.append(message)
            self.payloads.append(payload)
            self.receipts.append(receipt)

    def hooks(self) -> CallbackHooks:
        return CallbackHooks(is_served_fn=lambda r, d, p: self.served, acknowledged_fn=self.acknowledged)


def receiver_config(pki: Any, work_dir: Path, **kw: Any) -> ReceiverConfig:
    """The receiver config of ``aps[1]``; ``recorder=`` makes that recorder the ledger."""
    validator = kw.pop("validator", None) or pki.ap_validator()
    recorder = kw.pop("recorder", None)
    if recorder is not None:
        kw.setdefault("ledger", recorder)
    return ReceiverConfig(
        identity=pki.aps[1].identity(), validate_signer=validator.validate, work_dir=work_dir, **kw
    )


def running_server(
    pki: Any, work_dir: Path, recorder: Recorder, *, tls: bool = False, **kw: Any
) -> Iterator[RunningServer]:
    """Generator for a fixture: the real ASGI app on an ephemeral loopback port."""
    app = create_app(receiver_config(pki, work_dir, recorder=recorder, **kw), recorder.hooks())
    if tls:
        server = start_server(
            app,
            tls_cert=pki.tls_server_chain,
            tls_key=pki.tls_server.key,
            url_host="localhost",
        )
    else:
        server = start_server(app)
    try:
        yield server
    finally:
        server.stop()


def body_of(message: OutboundMessage) -> bytes:
    with message.open_body() as fh:
        return fh.read()


def transform_envelope(body: bytes, envelope_fn: Callable[[bytes], bytes], content_type: str) -> bytes:
    """Apply ``envelope_fn`` to the SOAP part of a multipart body (first part, as our builder emits)."""
    from transport.mime import parse_content_type

    boundary = parse_content_type(content_type)[1]["boundary"].encode()
    delim = b"--" + boundary
    first = body.index(delim)
    header_end = body.index(b"\r\n\r\n", first) + 4
    env_end = body.index(b"\r\n" + delim, header_end)
    return body[:header_end] + envelope_fn(body[header_end:env_end]) + body[env_end:]
