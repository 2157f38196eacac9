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

__all__ = [
    "DEFAULT_MAX_COMPRESSION_RATIO",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "DEFAULT_SPOOL_THRESHOLD",
    "InboundAttachment",
    "InboundUserMessage",
    "KeyHolder",
    "OutboundMessage",
    "Reference",
    "SecurityPolicy",
    "UserMessageHeader",
    "build_user_message",
    "message_id_of",
    "new_message_id",
    "new_user_message_header",
    "process_inbound",
]
