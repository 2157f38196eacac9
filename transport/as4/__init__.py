"""AS4 UserMessage and WS-Security core for the Peppol AS4 profile.

Build (gzip → sign → encrypt → MIME, streamed), process inbound messages on their original bytes
(decrypt → verify → gunzip), and build/parse/verify receipts and error signals. See ``docs/as4.md``.
"""

from transport.as4.builder import DEFAULT_SPOOL_THRESHOLD, KeyHolder, OutboundMessage, build_user_message
from transport.as4.dsig import Reference
from transport.as4.header import UserMessageHeader, new_message_id, new_user_message_header
from transport.as4.inbound import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    InboundAttachment,
    InboundUserMessage,
    SecurityPolicy,
    message_id_of,
    process_inbound,
)
from transport.as4.signals import (
    ReceiptSignerPolicy,
    ReceivedSignal,
    SignalError,
    build_error_signal,
    build_receipt,
    check_nrr,
    parse_signal,
    verify_receipt,
    verify_signal,
)

__all__ = [
    "DEFAULT_MAX_COMPRESSION_RATIO",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "DEFAULT_SPOOL_THRESHOLD",
    "InboundAttachment",
    "InboundUserMessage",
    "KeyHolder",
    "OutboundMessage",
    "ReceiptSignerPolicy",
    "ReceivedSignal",
    "Reference",
    "SecurityPolicy",
    "SignalError",
    "UserMessageHeader",
    "build_error_signal",
    "build_receipt",
    "build_user_message",
    "check_nrr",
    "message_id_of",
    "new_message_id",
    "new_user_message_header",
    "parse_signal",
    "process_inbound",
    "verify_receipt",
    "verify_signal",
]
