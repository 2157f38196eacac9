"""Outbound UserMessage: gzip → sign → encrypt → one serialisation → MIME, streamed end to end.

Order (as4.md §5.4, §10): the SBD is gzipped (digest computed while writing), the three references
(``eb:Messaging``, ``S12:Body``, ``cid:``) are signed over the *plaintext gzip*, then the gzip stream is
AES-128-GCM encrypted chunk by chunk straight into the MIME body. The ``wsse:Security`` children are
emitted as phase4/WSS4J emit them: BST(receiver), EncryptedKey, EncryptedData, BST(sender), Signature.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO, Final, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from transport.as4.constants import (
    ALG_AES128_GCM,
    ALG_MGF1_SHA256,
    ALG_RSA_OAEP_11,
    ALG_SHA256,
    ALG_SWA_CIPHERTEXT,
    COMPRESSION_GZIP,
    ENCRYPTED_PART_CONTENT_TYPE,
    GCM_IV_BYTES,
    GCM_TAG_BYTES,
    NS_DS,
    NS_S12,
    NS_WSSE,
    NS_WSSE11,
    NS_WSU,
    NS_XENC,
    NS_XENC11,
    PART_PROP_COMPRESSION_TYPE,
    PART_PROP_MIME_TYPE,
    SOAP_CONTENT_TYPE,
    SOAP_PART_CONTENT_TYPE,
    TOKEN_TYPE_ENCRYPTED_KEY,
    TYPE_ATTACHMENT_CONTENT_ONLY,
)
from transport.as4.dsig import (
    Reference,
    add_binary_security_token,
    add_signature,
    add_token_reference,
    attachment_reference,
    b64,
    xml_reference,
)
from transport.as4.header import MESSAGE_ID_DOMAIN, UserMessageHeader, build_messaging
from transport.as4.streams import gcm_encrypt_stream, gzip_stream, new_content_key, wrap_key

#: Default size above which the gzip stream and the MIME body go to files instead of memory.
DEFAULT_SPOOL_THRESHOLD: Final = 8 * 1024 * 1024
#: MIME headers that accompany the body on the HTTP request.
MIME_HEADERS: Final[Mapping[str, str]] = MappingProxyType({"MIME-Version": "1.0"})

S12 = f"{{{NS_S12}}}"
WSSE = f"{{{NS_WSSE}}}"
WSU_ID = f"{{{NS_WSU}}}Id"
XENC = f"{{{NS_XENC}}}"
DS = f"{{{NS_DS}}}"


class KeyHolder(Protocol):
    """What we need from ``peppol.pki.Identity``: the RSA private key and its certificate."""

    @property
    def private_key(self) -> rsa.RSAPrivateKey: ...

    @property
    def certificate(self) -> x509.Certificate: ...


@dataclass(frozen=True)
class OutboundMessage:
    """A built, signed and encrypted UserMessage: the exact bytes to POST (and re-POST on retry).

    Exactly one of ``body`` (small messages) and ``body_path`` (spooled; the caller deletes the file
    when the message is settled) is set. ``envelope`` is the SOAP part as sent; ``signed_references``
    what the receipt's NRR must echo.
    """

    message_id: str
    content_type: str
    body: bytes | None
    body_path: Path | None
    signed_references: tuple[Reference, ...]
    headers: Mapping[str, str] = field(default_factory=lambda: MIME_HEADERS)
    envelope: bytes = b""
    payload_content_id: str = ""

    def open_body(self) -> BinaryIO:
        """A fresh binary stream over the body (call again for every retry)."""
        if self.body is not None:
            return io.BytesIO(self.body)
        if self.body_path is None:
            raise ValueError("OutboundMessage has neither body nor body_path")
        return self.body_path.open("rb")

    @property
    def size(self) -> int:
        if self.body is not None:
            return len(self.body)
        assert self.body_path is not None
        return self.body_path.stat().st_size


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def _encrypted_key(
    parent: etree._Element, wrapped: bytes, *, ek_id: str, token_id: str, data_ids: list[str]
) -> etree._Element:
    ek = etree.SubElement(parent, f"{XENC}EncryptedKey", {"Id": ek_id}, nsmap={"xenc": NS_XENC})
    method = etree.SubElement(ek, f"{XENC}EncryptionMethod", {"Algorithm": ALG_RSA_OAEP_11})
    etree.SubElement(method, f"{DS}DigestMethod", {"Algorithm": ALG_SHA256}, nsmap={"ds": NS_DS})
    etree.SubElement(
        method, f"{{{NS_XENC11}}}MGF", {"Algorithm": ALG_MGF1_SHA256}, nsmap={"xenc11": NS_XENC11}
    )
    key_info = etree.SubElement(ek, f"{DS}KeyInfo", nsmap={"ds": NS_DS})
    add_token_reference(key_info, token_id)
    cipher_data = etree.SubElement(ek, f"{XENC}CipherData")
    etree.SubElement(cipher_data, f"{XENC}CipherValue").text = b64(wrapped)
    ref_list = etree.SubElement(ek, f"{XENC}ReferenceList")
    for data_id in data_ids:
        etree.SubElement(ref_list, f"{XENC}DataReference", {"URI": f"#{data_id}"})
    return ek


def _encrypted_data(parent: etree._Element, *, ed_id: str, ek_id: str, content_id: str) -> etree._Element:
    ed = etree.SubElement(
        parent,
        f"{XENC}EncryptedData",
        {"Id": ed_id, "MimeType": COMPRESSION_GZIP, "Type": TYPE_ATTACHMENT_CONTENT_ONLY},
        nsmap={"xenc": NS_XENC},
    )
    etree.SubElement(ed, f"{XENC}EncryptionMethod", {"Algorithm": ALG_AES128_GCM})
    key_info = etree.SubElement(ed, f"{DS}KeyInfo", nsmap={"ds": NS_DS})
    str_el = etree.SubElement(
        key_info,
        f"{WSSE}SecurityTokenReference",
        {f"{{{NS_WSSE11}}}TokenType": TOKEN_TYPE_ENCRYPTED_KEY},
        nsmap={"wsse11": NS_WSSE11},
    )
    etree.SubElement(str_el, f"{WSSE}Reference", {"URI": f"#{ek_id}"})
    cipher_data = etree.SubElement(ed, f"{XENC}CipherData")
    cref = etree.SubElement(cipher_data, f"{XENC}CipherReference", {"URI": f"cid:{content_id}"})
    transforms = etree.SubElement(cref, f"{XENC}Transforms")
    etree.SubElement(transforms, f"{DS}Transform", {"Algorithm": ALG_SWA_CIPHERTEXT}, nsmap={"ds": NS_DS})
    return ed


def new_envelope() -> tuple[etree._Element, etree._Element, etree._Element]:
    """An empty ``S12:Envelope`` with ``wsse:Security`` (mustUnderstand) in the Header; returns
    (envelope, header, security)."""
    envelope = etree.Element(f"{S12}Envelope", nsmap={"S12": NS_S12})
    header = etree.SubElement(envelope, f"{S12}Header")
    security = etree.SubElement(
        header, f"{WSSE}Security", {f"{S12}mustUnderstand": "true"}, nsmap={"wsse": NS_WSSE, "wsu": NS_WSU}
    )
    return envelope, header, security


def add_body(envelope: etree._Element, body_id: str) -> etree._Element:
    """The empty, signed ``S12:Body`` with its ``wsu:Id``."""
    return etree.SubElement(envelope, f"{S12}Body", {WSU_ID: body_id}, nsmap={"wsu": NS_WSU})


def serialize(envelope: etree._Element) -> bytes:
    """The one serialisation of an envelope: UTF-8, XML declaration, no pretty-printing."""
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def build_user_message(
    header: UserMessageHeader,
    payload: bytes | Path,
    *,
    signer: KeyHolder,
    recipient_certificate: x509.Certificate,
    payload_mime_type: str = "application/xml",
    spool_dir: Path | None = None,
    spool_threshold: int = DEFAULT_SPOOL_THRESHOLD,
) -> OutboundMessage:
    """Build the complete Peppol AS4 UserMessage for ``payload`` (the SBD, as bytes or a file).

    The recipient certificate must already be validated by the caller (it comes from the SMP).
    Payloads whose gzip exceeds ``spool_threshold`` are spooled to ``spool_dir`` (default: the system
    temporary directory) and the MIME body is written to a file there (``body_path``).
    """
    recipient_key = recipient_certificate.public_key()
    if not isinstance(recipient_key, rsa.RSAPublicKey):
        raise ValueError("the recipient certificate does not hold an RSA key")
    content_id = header.payload_content_id or f"{_new_id('att')}@{MESSAGE_ID_DOMAIN}"
    header = replace(
        header,
        payload_content_id=content_id,
        payload_properties=MappingProxyType(
            {
                **header.payload_properties,
                PART_PROP_MIME_TYPE: payload_mime_type,
                PART_PROP_COMPRESSION_TYPE: COMPRESSION_GZIP,
            }
        ),
    )

    with tempfile.SpooledTemporaryFile(
        max_size=spool_threshold, dir=None if spool_dir is None else str(spool_dir)
    ) as gz:
        gz_digest, gz_size = gzip_stream(payload, gz)
        gz.seek(0)

        envelope, soap_header, security = new_envelope()
        recipient_token, sender_token = _new_id("X509"), _new_id("X509")
        ek_id, ed_id = _new_id("EK"), _new_id("ED")
        messaging = build_messaging(header, _new_id("msg"), soap_header)
        body = add_body(envelope, _new_id("body"))
        references = (
            xml_reference(messaging),
            xml_reference(body),
            attachment_reference(content_id, gz_digest),
        )
        key = new_content_key()
        add_binary_security_token(security, recipient_certificate, recipient_token)
        _encrypted_key(
            security, wrap_key(key, recipient_key), ek_id=ek_id, token_id=recipient_token, data_ids=[ed_id]
        )
        _encrypted_data(security, ed_id=ed_id, ek_id=ek_id, content_id=content_id)
        add_binary_security_token(security, signer.certificate, sender_token)
        add_signature(
            security, references, signer.private_key, token_id=sender_token, signature_id=_new_id("SIG")
        )
        soap = serialize(envelope)

        boundary = f"----=_Part_{uuid.uuid4().hex}"
        soap_cid = f"{_new_id('soap')}@{MESSAGE_ID_DOMAIN}"
        head = (
            (
                f"--{boundary}\r\n"
                f"Content-Type: {SOAP_PART_CONTENT_TYPE}\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{soap_cid}>\r\n\r\n"
            ).encode("ascii")
            + soap
            + (
                f"\r\n--{boundary}\r\n"
                f"Content-Type: {ENCRYPTED_PART_CONTENT_TYPE}\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{content_id}>\r\n\r\n"
            ).encode("ascii")
        )
        tail = f"\r\n--{boundary}--\r\n".encode("ascii")
        content_type = (
            f'multipart/related; boundary="{boundary}"; type="{SOAP_CONTENT_TYPE}"; start="<{soap_cid}>"'
        )
        total = len(head) + GCM_IV_BYTES + gz_size + GCM_TAG_BYTES + len(tail)

        body_bytes: bytes | None = None
        body_path: Path | None = None
        if total > spool_threshold:
            fd, name = tempfile.mkstemp(prefix="as4-out-", suffix=".mime", dir=spool_dir)
            body_path = Path(name)
            try:
                with open(fd, "wb") as out:
                    out.write(head)
                    gcm_encrypt_stream(key, gz, out)
                    out.write(tail)
            except BaseException:
                body_path.unlink(missing_ok=True)
                raise
        else:
            buf = io.BytesIO()
            buf.write(head)
            gcm_encrypt_stream(key, gz, buf)
            buf.write(tail)
            body_bytes = buf.getvalue()

    return OutboundMessage(
        message_id=header.message_id,
        content_type=content_type,
        body=body_bytes,
        body_path=body_path,
        signed_references=references,
        headers=MIME_HEADERS,
        envelope=soap,
        payload_content_id=content_id,
    )
