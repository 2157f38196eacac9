"""Outbound UserMessage: gzip → sign → encrypt → one serialisation → MIME, streamed end to end.

Order (as4.md §5.4, §10): the SBD is gzipped (digest computed while writing), the three references
(``eb:Messaging``, ``S12:Body``, ``cid:``) are signed over the *plaintext gzip*, then the gzip stream is
AES-128-GCM encrypted chunk by chunk straight into the MIME body. The ``wsse:Security`` children are
emitted as phase4/WSS4J emit them: BST(receiver), EncryptedKey, EncryptedData, BST(sender), Signature.

The envelope is written as text, not built element by element: the signed elements (``eb:Messaging``,
``S12:Body``, ``ds:SignedInfo``) are also written in their exclusive canonical form, which is what is
digested and signed (property tests hold both forms against lxml's parser and canonicaliser; the
receiver tests verify the result). Building the ~75 elements with lxml and canonicalising them cost
more than the RSA signature (issue 11). The element builders below stay for signals and the
conformance suite, which build deliberately broken messages.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import IO, BinaryIO, Final, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from peppol.pki.memo import PerObject
from transport.as4.constants import (
    ALG_AES128_GCM,
    ALG_EXC_C14N,
    ALG_MGF1_SHA256,
    ALG_RSA_OAEP_11,
    ALG_RSA_SHA256,
    ALG_SHA256,
    ALG_SWA_CIPHERTEXT,
    BST_ENCODING_BASE64,
    BST_VALUE_TYPE_X509V3,
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
    add_token_reference,
    attachment_reference,
    b64,
    sha256_b64,
)
from transport.as4.header import (
    MESSAGE_ID_DOMAIN,
    UserMessageHeader,
    c14n_attr,
    escape_attr,
    random_uuids,
    render_messaging,
)
from transport.as4.streams import (
    gcm_encrypt_bytes,
    gcm_encrypt_stream,
    gzip_bytes,
    gzip_stream,
    new_content_key,
    wrap_key,
)

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


def _der_b64(certificate: x509.Certificate) -> str:
    return b64(certificate.public_bytes(Encoding.DER))


#: The BinarySecurityToken text (base64 DER) of a certificate, once per certificate object: ours goes
#: into every message, the receiver's into every message to it (by identity: hashing a certificate
#: object for ``functools.lru_cache`` costs about as much as encoding it).
certificate_b64: Final = PerObject(_der_b64)
#: The public key of a certificate, loaded once per certificate object (an endpoint's certificate comes
#: back as the same object from the SMP client's cache; loading the key costs as much as wrapping it).
public_key_of: Final = PerObject(x509.Certificate.public_key)


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


_SECURITY_OPEN: Final = (
    f'<wsse:Security xmlns:wsse="{NS_WSSE}" xmlns:wsu="{NS_WSU}" S12:mustUnderstand="true">'
)
_TOKEN_REFERENCE: Final = (
    '<wsse:SecurityTokenReference><wsse:Reference URI="#{token}" '
    f'ValueType="{BST_VALUE_TYPE_X509V3}"/></wsse:SecurityTokenReference>'
)
_REFERENCE: Final = (
    '<ds:Reference URI="{uri}"><ds:Transforms><ds:Transform Algorithm="{transform}"/></ds:Transforms>'
    '<ds:DigestMethod Algorithm="{method}"/><ds:DigestValue>'
)
_REFERENCE_CLOSE: Final = "</ds:DigestValue></ds:Reference>"


def _bst(certificate: x509.Certificate, token_id: str) -> str:
    return (
        f'<wsse:BinarySecurityToken EncodingType="{BST_ENCODING_BASE64}" ValueType="{BST_VALUE_TYPE_X509V3}"'
        f' wsu:Id="{token_id}">{certificate_b64(certificate)}</wsse:BinarySecurityToken>'
    )


def _encrypted_key_text(wrapped: bytes, *, ek_id: str, token_id: str, ed_id: str) -> str:
    """What :func:`_encrypted_key` builds, as text."""
    return (
        f'<xenc:EncryptedKey xmlns:xenc="{NS_XENC}" Id="{ek_id}">'
        f'<xenc:EncryptionMethod Algorithm="{ALG_RSA_OAEP_11}">'
        f'<ds:DigestMethod xmlns:ds="{NS_DS}" Algorithm="{ALG_SHA256}"/>'
        f'<xenc11:MGF xmlns:xenc11="{NS_XENC11}" Algorithm="{ALG_MGF1_SHA256}"/></xenc:EncryptionMethod>'
        f'<ds:KeyInfo xmlns:ds="{NS_DS}">{_TOKEN_REFERENCE.format(token=token_id)}</ds:KeyInfo>'
        f"<xenc:CipherData><xenc:CipherValue>{b64(wrapped)}</xenc:CipherValue></xenc:CipherData>"
        f'<xenc:ReferenceList><xenc:DataReference URI="#{ed_id}"/></xenc:ReferenceList></xenc:EncryptedKey>'
    )


def _encrypted_data_text(*, ed_id: str, ek_id: str, content_id: str) -> str:
    """What :func:`_encrypted_data` builds, as text."""
    return (
        f'<xenc:EncryptedData xmlns:xenc="{NS_XENC}" Id="{ed_id}" MimeType="{COMPRESSION_GZIP}"'
        f' Type="{TYPE_ATTACHMENT_CONTENT_ONLY}"><xenc:EncryptionMethod Algorithm="{ALG_AES128_GCM}"/>'
        f'<ds:KeyInfo xmlns:ds="{NS_DS}"><wsse:SecurityTokenReference xmlns:wsse11="{NS_WSSE11}"'
        f' wsse11:TokenType="{TOKEN_TYPE_ENCRYPTED_KEY}"><wsse:Reference URI="#{ek_id}"/>'
        "</wsse:SecurityTokenReference></ds:KeyInfo><xenc:CipherData>"
        f'<xenc:CipherReference URI="{escape_attr("cid:" + content_id)}"><xenc:Transforms>'
        f'<ds:Transform xmlns:ds="{NS_DS}" Algorithm="{ALG_SWA_CIPHERTEXT}"/></xenc:Transforms>'
        "</xenc:CipherReference></xenc:CipherData></xenc:EncryptedData>"
    )


def _reference_open(ref: Reference) -> str:
    (transform,) = ref.transforms
    return _REFERENCE.format(uri=escape_attr(ref.uri), transform=transform, method=ref.digest_method)


def _signed_info(references: tuple[Reference, ...], *, canonical: bool) -> str:
    """``ds:SignedInfo`` over ``references`` as written in the envelope (``ds`` declared on the
    enclosing ``ds:Signature``), or in its exclusive canonical form (what is signed)."""
    if canonical:
        head = f'<ds:SignedInfo xmlns:ds="{NS_DS}">'
        refs = "".join(
            f'<ds:Reference URI="{c14n_attr(ref.uri)}"><ds:Transforms><ds:Transform Algorithm='
            f'"{ref.transforms[0]}"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm='
            f'"{ref.digest_method}"></ds:DigestMethod><ds:DigestValue>{ref.digest_value}</ds:DigestValue>'
            "</ds:Reference>"
            for ref in references
        )
        return f"{head}{_SIGNED_INFO_METHODS_C14N}{refs}</ds:SignedInfo>"
    refs = "".join(f"{_reference_open(ref)}{ref.digest_value}{_REFERENCE_CLOSE}" for ref in references)
    return f"<ds:SignedInfo>{_SIGNED_INFO_METHODS}{refs}</ds:SignedInfo>"


_C14N_METHOD: Final = f'<ds:CanonicalizationMethod Algorithm="{ALG_EXC_C14N}"/>'
_SIGNED_INFO_METHODS: Final = _C14N_METHOD + f'<ds:SignatureMethod Algorithm="{ALG_RSA_SHA256}"/>'
_SIGNED_INFO_METHODS_C14N: Final = (
    f'<ds:CanonicalizationMethod Algorithm="{ALG_EXC_C14N}"></ds:CanonicalizationMethod>'
    f'<ds:SignatureMethod Algorithm="{ALG_RSA_SHA256}"></ds:SignatureMethod>'
)


def _sign_envelope(
    header: UserMessageHeader,
    ids: _Ids,
    attachment: Reference,
    security: str,
    private_key: rsa.RSAPrivateKey,
) -> tuple[bytes, tuple[Reference, ...]]:
    """The envelope bytes, signed over ``eb:Messaging``, ``S12:Body`` and ``attachment``, and the three
    References, written as text: the digests and the signature are computed over the exclusive
    canonical forms of the three elements, written directly (see :func:`render_messaging`), and the
    receiver, canonicalising what it parses, recomputes exactly these bytes (exc-c14n of an element
    depends only on its subtree and the namespaces it uses, all declared on it or on S12:Envelope).
    Tested against lxml's canonicalisation and against our receiver."""
    body = f'<S12:Body xmlns:wsu="{NS_WSU}" wsu:Id="{ids.body}"/>'
    body_c14n = f'<S12:Body xmlns:S12="{NS_S12}" xmlns:wsu="{NS_WSU}" wsu:Id="{ids.body}"></S12:Body>'
    messaging = render_messaging(header, ids.messaging)
    references = (
        Reference(
            f"#{ids.messaging}",
            ALG_SHA256,
            sha256_b64(render_messaging(header, ids.messaging, canonical=True).encode("utf-8")),
            _XML_TRANSFORMS,
        ),
        Reference(f"#{ids.body}", ALG_SHA256, sha256_b64(body_c14n.encode("utf-8")), _XML_TRANSFORMS),
        attachment,
    )
    canonical = _signed_info(references, canonical=True).encode("utf-8")
    value = b64(private_key.sign(canonical, padding.PKCS1v15(), hashes.SHA256()))
    envelope = (
        f"<?xml version='1.0' encoding='UTF-8'?>\n<S12:Envelope xmlns:S12=\"{NS_S12}\"><S12:Header>"
        f"{_SECURITY_OPEN}{security}"
        f'<ds:Signature xmlns:ds="{NS_DS}" Id="{ids.signature}">{_signed_info(references, canonical=False)}'
        f"<ds:SignatureValue>{value}</ds:SignatureValue>"
        f"<ds:KeyInfo>{_TOKEN_REFERENCE.format(token=ids.sender_token)}</ds:KeyInfo></ds:Signature>"
        f"</wsse:Security>{messaging}</S12:Header>{body}</S12:Envelope>"
    )
    return envelope.encode("utf-8"), references


_XML_TRANSFORMS: Final = (ALG_EXC_C14N,)


@dataclass(frozen=True, slots=True)
class _Ids:
    """The ids of one message, all from one random UUID (distinct by prefix, unique across messages)."""

    attachment: str
    recipient_token: str
    sender_token: str
    encrypted_key: str
    encrypted_data: str
    messaging: str
    body: str
    signature: str
    soap: str

    @classmethod
    def new(cls) -> _Ids:
        (u,) = random_uuids(1)
        return cls(
            f"att-{u}",
            f"X509-{u}",
            f"X509-s-{u}",
            f"EK-{u}",
            f"ED-{u}",
            f"msg-{u}",
            f"body-{u}",
            f"SIG-{u}",
            f"soap-{u}",
        )


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
    temporary directory) and the MIME body is written to a file there (``body_path``). A payload given
    as bytes no larger than ``spool_threshold`` is compressed and encrypted in memory in one call each.
    """
    recipient_key = public_key_of(recipient_certificate)
    if not isinstance(recipient_key, rsa.RSAPublicKey):
        raise ValueError("the recipient certificate does not hold an RSA key")
    ids = _Ids.new()
    content_id = header.payload_content_id or f"{ids.attachment}@{MESSAGE_ID_DOMAIN}"
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

    with contextlib.ExitStack() as stack:
        gz: bytes | IO[bytes]
        if isinstance(payload, bytes) and len(payload) <= spool_threshold:
            gz = gzip_bytes(payload)
            gz_digest, gz_size = sha256_b64(gz), len(gz)
        else:
            gz = stack.enter_context(
                tempfile.SpooledTemporaryFile(
                    max_size=spool_threshold, dir=None if spool_dir is None else str(spool_dir)
                )
            )
            gz_digest, gz_size = gzip_stream(payload, gz)
            gz.seek(0)

        key = new_content_key()
        security = (
            _bst(recipient_certificate, ids.recipient_token)
            + _encrypted_key_text(
                wrap_key(key, recipient_key),
                ek_id=ids.encrypted_key,
                token_id=ids.recipient_token,
                ed_id=ids.encrypted_data,
            )
            + _encrypted_data_text(ed_id=ids.encrypted_data, ek_id=ids.encrypted_key, content_id=content_id)
            + _bst(signer.certificate, ids.sender_token)
        )
        soap_bytes, references = _sign_envelope(
            header, ids, attachment_reference(content_id, gz_digest), security, signer.private_key
        )

        boundary = f"----=_Part_{os.urandom(16).hex()}"
        soap_cid = f"{ids.soap}@{MESSAGE_ID_DOMAIN}"
        head = (
            (
                f"--{boundary}\r\n"
                f"Content-Type: {SOAP_PART_CONTENT_TYPE}\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{soap_cid}>\r\n\r\n"
            ).encode("ascii")
            + soap_bytes
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
        if total <= spool_threshold:
            data = gz if isinstance(gz, bytes) else gz.read()
            body_bytes = b"".join((head, gcm_encrypt_bytes(key, data), tail))
        else:
            source = io.BytesIO(gz) if isinstance(gz, bytes) else gz
            fd, name = tempfile.mkstemp(prefix="as4-out-", suffix=".mime", dir=spool_dir)
            body_path = Path(name)
            try:
                with open(fd, "wb") as out:
                    out.write(head)
                    gcm_encrypt_stream(key, source, out)
                    out.write(tail)
            except BaseException:
                body_path.unlink(missing_ok=True)
                raise

    return OutboundMessage(
        message_id=header.message_id,
        content_type=content_type,
        body=body_bytes,
        body_path=body_path,
        signed_references=references,
        headers=MIME_HEADERS,
        envelope=soap_bytes,
        payload_content_id=content_id,
    )
