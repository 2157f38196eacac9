"""A directory inbox: receiver hooks that write each accepted message to ``DIR/<message-id>.sbd.xml``
plus ``DIR/<message-id>.json`` (metadata needed for routing and Peppol reporting).

It is also a durable :class:`~transport.duplicates.DuplicateStore`: the receipt returned for a message
is kept as ``DIR/<message-id>.receipt.xml``, so a resend after a restart still gets the same receipt
and is not delivered again.

Writes are atomic (temporary file, fsync, rename) so a crash never leaves a half-written document
that looks complete. The JSON is written by ``persist`` (before the receipt is signed) and completed
with the receipt's MessageId by ``acknowledged``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from peppol.xml import XmlError, parse_bytes
from transport.receiver.model import IsServed, ReceivedMessage, serve_everything

#: Longest file-name stem derived from a MessageId (file systems allow 255 bytes per name).
MAX_NAME_LENGTH: Final = 150
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._@+=-]")
#: Separates an altered name from its hash; matched by ``_UNSAFE``, so never part of an unaltered name.
_ALTERED_MARK: Final = ","
_NS_EB: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"


def safe_file_name(message_id: str) -> str:
    """A file-name stem for ``message_id``: unsafe characters replaced, no leading dot, bounded length;
    a short hash keeps altered names unique. An altered name carries :data:`_ALTERED_MARK`, a character
    no unaltered name holds, so no MessageId can name the files of another (a squatter sending the
    altered form of a victim's id as its own)."""
    cleaned = _UNSAFE.sub("_", message_id).lstrip(".")
    if cleaned == message_id and 0 < len(cleaned) <= MAX_NAME_LENGTH:
        return cleaned
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:12]
    return f"{cleaned[: MAX_NAME_LENGTH - 13]}{_ALTERED_MARK}{digest}"


def receipt_message_id(receipt: bytes) -> str | None:
    """The ``eb:MessageId`` of a signal message (our own receipt)."""
    try:
        root = parse_bytes(receipt).getroot()
    except XmlError:
        return None
    found = root.find(f".//{{{_NS_EB}}}SignalMessage/{{{_NS_EB}}}MessageInfo/{{{_NS_EB}}}MessageId")
    return None if found is None or found.text is None else found.text.strip()


def _write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    write(tmp)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable: ``persist`` runs before the receipt is signed, so a crash after
    the receipt must not lose the directory entry (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"


class DirectoryInbox:
    """:class:`~transport.receiver.ReceiverHooks` writing accepted messages into ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        is_served_fn: IsServed = serve_everything,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._is_served = is_served_fn

    def paths(self, message_id: str) -> tuple[Path, Path]:
        stem = safe_file_name(message_id)
        return self.directory / f"{stem}.sbd.xml", self.directory / f"{stem}.json"

    def receipt_path(self, message_id: str) -> Path:
        return self.directory / f"{safe_file_name(message_id)}.receipt.xml"

    # --- DuplicateStore ---

    def get(self, message_id: str) -> bytes | None:
        path = self.receipt_path(message_id)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def put(self, message_id: str, receipt: bytes) -> None:
        path = self.receipt_path(message_id)
        if not path.exists():
            _write_atomic(path, lambda tmp: tmp.write_bytes(receipt))

    def is_served(self, receiver: ParticipantId, document_type: DocumentTypeId, process: ProcessId) -> bool:
        return self._is_served(receiver, document_type, process)

    @staticmethod
    def metadata(message: ReceivedMessage) -> dict[str, Any]:
        return {
            "message_id": message.message_id,
            "conversation_id": message.conversation_id,
            "sender": str(message.sender),
            "receiver": str(message.receiver),
            "document_type": str(message.document_type),
            "process": str(message.process),
            "country_c1": message.country_c1,
            "instance_id": message.instance_id,
            "from_party": message.from_party,
            "to_party": message.to_party,
            "signer_subject": message.signer_certificate.subject.rfc4514_string(),
            "received_at": datetime.now(UTC).isoformat(),
            "receipt_id": None,
        }

    def persist(self, message: ReceivedMessage) -> None:
        sbd_target, json_target = self.paths(message.message_id)
        _write_atomic(sbd_target, message.sbd.copy_to)
        meta = _json_bytes(self.metadata(message))
        _write_atomic(json_target, lambda tmp: tmp.write_bytes(meta))

    def acknowledged(self, message: ReceivedMessage, receipt: bytes) -> None:
        _, json_target = self.paths(message.message_id)
        data = json.loads(json_target.read_text())
        data["receipt_id"] = receipt_message_id(receipt)
        meta = _json_bytes(data)
        _write_atomic(json_target, lambda tmp: tmp.write_bytes(meta))


__all__ = ["DirectoryInbox", "receipt_message_id", "safe_file_name"]
