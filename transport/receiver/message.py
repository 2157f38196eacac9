"""The message the receiver core hands to the inbound ledger once every check has passed.

Its own module so that :mod:`transport.receiver.ledger` (which takes it) and
:mod:`transport.receiver.model` (which defaults to an in-memory ledger) import it without a circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from cryptography import x509

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from transport.as4 import InboundUserMessage, UserMessageHeader
from transport.as4.streams import Spooled
from transport.sbdh import SbdhHeader


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message that passed every check, handed to :meth:`InboundLedger.accept`.

    ``sbd`` is the decrypted, decompressed StandardBusinessDocument, in memory for small messages or in
    a file in the per-request working directory: read it with ``sbd.read_bytes()``/``sbd.open()`` or
    store it with ``sbd.copy_to(path)`` (no temporary file for a small message). ``sbd_path`` names a
    file in that directory (written on first access for an in-memory SBD); the directory is deleted when
    :func:`~transport.receiver.receive` returns: the ledger must copy what it keeps.
    ``sender``/``receiver``/``document_type``/``process`` are the SBDH values (Peppol
    identifier objects, also in ``sbdh``); ``from_party``/``to_party`` the C2/C3 seat ids of the ebMS header.
    """

    message_id: str
    conversation_id: str
    from_party: str
    to_party: str
    sender: ParticipantId
    receiver: ParticipantId
    document_type: DocumentTypeId
    process: ProcessId
    country_c1: str | None
    instance_id: str | None
    sbd: Spooled
    signer_certificate: x509.Certificate
    header: UserMessageHeader
    sbdh: SbdhHeader
    inbound: InboundUserMessage

    @property
    def sbd_path(self) -> Path:
        """A file holding the SBD (see the class docstring; valid only during the hooks)."""
        return self.sbd.path

    @property
    def fingerprint(self) -> str:
        """What makes a resend the *same* message: SHA-256 (hex) over the signed references (URI and
        digest of the eb:Messaging, the Body and every part as received), order-independent. A resend
        of identical bytes has the same fingerprint; another message reusing the MessageId has not."""
        lines = sorted(
            f"{r.uri} {r.digest_method} {''.join(r.digest_value.split())}" for r in self.inbound.references
        )
        return sha256("\n".join(lines).encode()).hexdigest()
