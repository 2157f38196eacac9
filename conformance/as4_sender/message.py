"""One received UserMessage opened up for inspection, leniently: MIME parts, the SOAP tree, the
decrypted and decompressed payload and its SBDH, each step keeping the reason it failed, so that every
profile check can still judge what it looks at (an RSA-SHA1 signature does not stop the SBDH checks)."""

from __future__ import annotations

import base64
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from peppol.pki import Identity
from transport.as4.constants import COMPRESSION_GZIP, NS_DS, NS_EB, NS_S12, NS_WSSE, NS_XENC
from transport.as4.inbound import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    normalise_cid,
    parse_envelope,
)
from transport.as4.streams import gcm_decrypt_bytes, gunzip_capped, unwrap_key
from transport.mime import MimeError, MimePart, ParsedMime, read_message
from transport.sbdh import ParsedSbd, SbdhError, read_sbd

S12, EB, WSSE, DS, XENC = (f"{{{ns}}}" for ns in (NS_S12, NS_EB, NS_WSSE, NS_DS, NS_XENC))


@dataclass
class Opened:
    """What could be read of one message; ``problems`` names the step that failed for each missing
    piece (``mime``, ``soap``, ``decrypt``, ``gunzip``, ``sbdh``)."""

    content_type: str | None
    mime: ParsedMime | None = None
    root: etree._Element | None = None
    messaging: etree._Element | None = None
    security: etree._Element | None = None
    body: etree._Element | None = None
    signature: etree._Element | None = None
    part: MimePart | None = None
    part_bytes: bytes | None = None
    #: The attachment after decryption (the signed octets: gzip when compressed).
    plain: bytes | None = None
    payload: bytes | None = None
    sbd: ParsedSbd | None = None
    problems: dict[str, str] = field(default_factory=dict)

    def um(self, path: str) -> list[etree._Element]:
        """Elements under ``eb:UserMessage`` (``path`` in ``eb:`` local names joined by ``/``)."""
        if self.messaging is None:
            return []
        steps = "/".join(f"{EB}{p}" for p in path.split("/"))
        return list(self.messaging.iterfind(f"{EB}UserMessage/{steps}"))

    def why_missing(self, *steps: str) -> str:
        for step in steps:
            if step in self.problems:
                return self.problems[step]
        return "not available"


def _part_bytes(part: MimePart) -> bytes:
    if part.data is not None:
        return part.data
    assert part.path is not None
    return part.path.read_bytes()


def _text(el: etree._Element | None) -> str:
    return "".join(str(t) for t in el.itertext()).strip() if el is not None else ""


def _decrypt(opened: Opened, identity: Identity) -> None:
    assert opened.security is not None and opened.part_bytes is not None
    ek = opened.security.find(f"{XENC}EncryptedKey")
    if ek is None:
        opened.plain = opened.part_bytes
        return
    try:
        wrapped = base64.b64decode("".join(_text(ek.find(f"{XENC}CipherData/{XENC}CipherValue")).split()))
        key = unwrap_key(wrapped, identity.private_key)
        opened.plain = gcm_decrypt_bytes(key, opened.part_bytes)
    except Exception as exc:  # any failure (base64, RSA-OAEP, AES-GCM tag): reported, not raised
        opened.problems["decrypt"] = f"the attachment cannot be decrypted with our key: {exc}"


def _gunzip(opened: Opened) -> None:
    assert opened.plain is not None
    compression = None
    for prop in opened.um("PayloadInfo/PartInfo/PartProperties/Property"):
        if prop.get("name") == "CompressionType":
            compression = _text(prop)
    if compression != COMPRESSION_GZIP and opened.plain[:2] != b"\x1f\x8b":
        opened.payload = opened.plain
        return
    out = io.BytesIO()
    try:
        gunzip_capped(
            opened.plain,
            out,
            max_bytes=DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_ratio=DEFAULT_MAX_COMPRESSION_RATIO,
        )
    except Exception as exc:
        opened.problems["gunzip"] = f"the attachment does not gunzip: {exc}"
        return
    opened.payload = out.getvalue()


def open_message(content_type: str | None, body: bytes, identity: Identity) -> Opened:
    """Read ``body`` as far as possible (never raises for bad input)."""
    opened = Opened(content_type)
    with tempfile.TemporaryDirectory(prefix="as4s-") as work:
        try:
            opened.mime = read_message(content_type, io.BytesIO(body), Path(work), memory_bytes=len(body) + 1)
        except MimeError as exc:
            opened.problems["mime"] = f"the request is not readable AS4 MIME: {exc}"
            return opened
        attachments = opened.mime.attachments
        if attachments:
            opened.part = attachments[0]
            opened.part_bytes = _part_bytes(attachments[0])
    try:
        root = parse_envelope(opened.mime.envelope)
    except Exception as exc:
        opened.problems["soap"] = f"the SOAP part is not acceptable XML: {exc}"
        return opened
    opened.root = root
    header = root.find(f"{S12}Header")
    opened.body = root.find(f"{S12}Body")
    if header is not None:
        opened.messaging = header.find(f"{EB}Messaging")
        opened.security = header.find(f"{WSSE}Security")
    if opened.security is not None:
        opened.signature = opened.security.find(f"{DS}Signature")
    if opened.messaging is None:
        opened.problems["soap"] = "the SOAP header has no eb:Messaging"
    if opened.part_bytes is None:
        opened.problems["decrypt"] = "the message has no attachment part"
        return opened
    if opened.security is None:
        opened.plain = opened.part_bytes
    else:
        _decrypt(opened, identity)
    if opened.plain is None:
        return opened
    _gunzip(opened)
    if opened.payload is None:
        return opened
    try:
        opened.sbd = read_sbd(opened.payload)
    except SbdhError as exc:
        opened.problems["sbdh"] = f"the SBDH is not valid: {exc}"
    except Exception as exc:
        opened.problems["sbdh"] = f"the payload is not a readable SBD: {exc}"
    return opened


def cid_of(part: MimePart | None) -> str:
    return normalise_cid(part.content_id or "") if part is not None else ""


__all__ = ["Opened", "cid_of", "open_message"]
