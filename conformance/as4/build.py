"""The suite's own message builder: the steps of ``transport.as4.build_user_message`` (gzip → sign →
encrypt → MIME), each one switchable, with hooks between them, so that every deviation a case needs
(unsigned, unencrypted, uncompressed, damaged gzip, downgraded algorithms, tampering after signing,
comments inside signed values, hostile XML) is one :class:`Recipe`.

Messages are built in memory (the large-message case too: 50 MB is fine for a test client).
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from peppol.xml import exc_c14n
from transport.as4 import KeyHolder, OutboundMessage, Reference, UserMessageHeader
from transport.as4.builder import (
    _encrypted_data,
    _encrypted_key,
    add_body,
    new_envelope,
    serialize,
)
from transport.as4.constants import (
    ALG_AES128_CBC,
    ALG_AES128_GCM,
    ALG_EXC_C14N,
    ALG_RSA_1_5,
    ALG_RSA_OAEP_11,
    ALG_RSA_SHA1,
    ALG_RSA_SHA256,
    ALG_SHA1,
    ALG_SHA256,
    ALG_SWA_CONTENT_SIGNATURE,
    COMPRESSION_GZIP,
    ENCRYPTED_PART_CONTENT_TYPE,
    NS_DS,
    NS_S12,
    NS_WSSE,
    NS_WSU,
    NS_XENC,
    PART_PROP_COMPRESSION_TYPE,
    PART_PROP_MIME_TYPE,
    SOAP_CONTENT_TYPE,
    SOAP_PART_CONTENT_TYPE,
)
from transport.as4.dsig import add_binary_security_token, add_token_reference, element_id
from transport.as4.header import MESSAGE_ID_DOMAIN, build_messaging
from transport.as4.streams import attachment_content_digest, new_content_key, wrap_key

S12, WSSE, DS, XENC = (f"{{{ns}}}" for ns in (NS_S12, NS_WSSE, NS_DS, NS_XENC))
WSU_ID: Final = f"{{{NS_WSU}}}Id"
_HASHES: Final = {ALG_SHA256: hashes.SHA256, ALG_SHA1: hashes.SHA1}
_SIGNATURE_HASHES: Final = {ALG_RSA_SHA256: hashes.SHA256, ALG_RSA_SHA1: hashes.SHA1}

#: A hook on the envelope tree (before signing, or after signing and before encryption details).
TreeEdit = Callable[[etree._Element], None]


@dataclass
class Part:
    """One MIME part after the SOAP part: Content-ID (no brackets), Content-Type and raw bytes."""

    content_id: str
    content_type: str
    data: bytes


@dataclass
class Recipe:
    """How to build one message. Defaults = a valid Peppol AS4 UserMessage."""

    header: UserMessageHeader
    payload: bytes
    signer: KeyHolder
    recipient: x509.Certificate
    compress: bool = True
    damage_gzip: bool = False
    sign: bool = True
    encrypt: bool = True
    signature_method: str = ALG_RSA_SHA256
    digest_method: str = ALG_SHA256
    key_transport: str = ALG_RSA_OAEP_11
    data_encryption: str = ALG_AES128_GCM
    mime_type: str = "application/xml"
    #: Edits of the header tree before the signature is computed (the signature covers them).
    before_signing: list[TreeEdit] = field(default_factory=list)
    #: Edits of the envelope after signing (tampering: the signature no longer covers them).
    after_signing: list[TreeEdit] = field(default_factory=list)
    #: Edits of the serialised SOAP part (raw bytes: comments, DOCTYPE).
    soap_bytes: list[Callable[[bytes], bytes]] = field(default_factory=list)
    #: Edits of the MIME parts after encryption (payload tampering, extra parts).
    parts: list[Callable[[list[Part], bytes], None]] = field(default_factory=list)
    #: Extra references (URI, element-less) added to SignedInfo before signing.
    extra_reference_uris: list[str] = field(default_factory=list)
    drop_attachment_reference: bool = False
    #: Content-Type of the HTTP request (None: the proper multipart/related).
    content_type: str | None = None
    #: A signed header value split by a comment (see :func:`conformance.as4.edits.comment_inside`).
    split_value: str | None = None


@dataclass
class Built:
    """A built message: what to POST, plus what the receipt's NRR must echo."""

    message: OutboundMessage
    content_key: bytes | None
    gzip_bytes: bytes


def _digest(data: bytes, method: str) -> str:
    h = hashes.Hash(_HASHES[method]())
    h.update(data)
    return base64.b64encode(h.finalize()).decode()


def _append_reference(
    signed_info: etree._Element, uri: str, transform: str, method: str, digest: str
) -> None:
    ref = etree.SubElement(signed_info, f"{DS}Reference", {"URI": uri})
    transforms = etree.SubElement(ref, f"{DS}Transforms")
    etree.SubElement(transforms, f"{DS}Transform", {"Algorithm": transform})
    etree.SubElement(ref, f"{DS}DigestMethod", {"Algorithm": method})
    etree.SubElement(ref, f"{DS}DigestValue").text = digest


def sign_signed_info(signature: etree._Element, key: rsa.RSAPrivateKey, method: str) -> None:
    """(Re)compute the SignatureValue over SignedInfo with ``key``."""
    signed_info = signature.find(f"{DS}SignedInfo")
    value = signature.find(f"{DS}SignatureValue")
    assert signed_info is not None
    if value is None:
        value = etree.Element(f"{DS}SignatureValue")
        signed_info.addnext(value)
    raw = key.sign(exc_c14n(signed_info), padding.PKCS1v15(), _SIGNATURE_HASHES[method]())
    value.text = base64.b64encode(raw).decode()


def _signature(
    security: etree._Element,
    recipe: Recipe,
    targets: list[etree._Element],
    content_id: str,
    attachment_octets: bytes,
    token_id: str,
) -> tuple[etree._Element, tuple[Reference, ...]]:
    sig = etree.SubElement(security, f"{DS}Signature", {"Id": f"SIG-{uuid.uuid4()}"}, nsmap={"ds": NS_DS})
    signed_info = etree.SubElement(sig, f"{DS}SignedInfo")
    etree.SubElement(signed_info, f"{DS}CanonicalizationMethod", {"Algorithm": ALG_EXC_C14N})
    etree.SubElement(signed_info, f"{DS}SignatureMethod", {"Algorithm": recipe.signature_method})
    refs: list[Reference] = []
    for target in targets:
        digest = _digest(exc_c14n(target), recipe.digest_method)
        uri = f"#{element_id(target)}"
        _append_reference(signed_info, uri, ALG_EXC_C14N, recipe.digest_method, digest)
        refs.append(Reference(uri, recipe.digest_method, digest, (ALG_EXC_C14N,)))
    for uri in recipe.extra_reference_uris:
        _append_reference(
            signed_info, uri, ALG_EXC_C14N, recipe.digest_method, _digest(b"x", recipe.digest_method)
        )
    if not recipe.drop_attachment_reference:
        mime = COMPRESSION_GZIP if recipe.compress else recipe.mime_type
        if recipe.digest_method == ALG_SHA256:
            digest = attachment_content_digest(attachment_octets, mime)
        else:
            digest = _digest(attachment_octets, recipe.digest_method)
        uri = f"cid:{content_id}"
        _append_reference(signed_info, uri, ALG_SWA_CONTENT_SIGNATURE, recipe.digest_method, digest)
        refs.append(Reference(uri, recipe.digest_method, digest, (ALG_SWA_CONTENT_SIGNATURE,)))
    sign_signed_info(sig, recipe.signer.private_key, recipe.signature_method)
    key_info = etree.SubElement(sig, f"{DS}KeyInfo")
    add_token_reference(key_info, token_id)
    return sig, tuple(refs)


def _encrypt(key: bytes, data: bytes, method: str) -> bytes:
    if method == ALG_AES128_CBC:
        iv = os.urandom(16)
        pad = 16 - len(data) % 16
        enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        return iv + enc.update(data + bytes([pad]) * pad) + enc.finalize()
    iv = os.urandom(12)
    gcm = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    body = gcm.update(data) + gcm.finalize()
    return iv + body + gcm.tag


def _wrap(key: bytes, recipient: rsa.RSAPublicKey, method: str) -> bytes:
    if method == ALG_RSA_1_5:
        return recipient.encrypt(key, padding.PKCS1v15())
    return wrap_key(key, recipient)


def aes_gcm_reencrypt(key: bytes, plaintext: bytes) -> bytes:
    """``IV || AES-128-GCM(plaintext) || tag`` with ``key`` (payload replaced after signing)."""
    return _encrypt(key, plaintext, ALG_AES128_GCM)


def build(recipe: Recipe) -> Built:
    """Build the message ``recipe`` describes."""
    recipient_key = recipe.recipient.public_key()
    if not isinstance(recipient_key, rsa.RSAPublicKey):
        raise ValueError("the recipient certificate does not hold an RSA key")
    content_id = recipe.header.payload_content_id or f"att-{uuid.uuid4()}@{MESSAGE_ID_DOMAIN}"
    properties = {**recipe.header.payload_properties, PART_PROP_MIME_TYPE: recipe.mime_type}
    if recipe.compress:
        properties[PART_PROP_COMPRESSION_TYPE] = COMPRESSION_GZIP
    header = replace(
        recipe.header, payload_content_id=content_id, payload_properties=MappingProxyType(properties)
    )
    octets = gzip.compress(recipe.payload, compresslevel=3, mtime=0) if recipe.compress else recipe.payload
    if recipe.damage_gzip:
        octets = octets[:10] + bytes(b ^ 0x5A for b in octets[10:40]) + octets[40:]

    envelope, soap_header, security = new_envelope()
    messaging = build_messaging(header, f"msg-{uuid.uuid4()}", soap_header)
    body = add_body(envelope, f"body-{uuid.uuid4()}")
    for edit in recipe.before_signing:
        edit(envelope)
    recipient_token, sender_token = f"X509-{uuid.uuid4()}", f"X509-{uuid.uuid4()}"
    ek_id, ed_id = f"EK-{uuid.uuid4()}", f"ED-{uuid.uuid4()}"
    key = new_content_key() if recipe.encrypt else None
    if key is not None:
        add_binary_security_token(security, recipe.recipient, recipient_token)
        ek = _encrypted_key(
            security,
            _wrap(key, recipient_key, recipe.key_transport),
            ek_id=ek_id,
            token_id=recipient_token,
            data_ids=[ed_id],
        )
        if recipe.key_transport != ALG_RSA_OAEP_11:
            method = ek.find(f"{XENC}EncryptionMethod")
            assert method is not None
            method.set("Algorithm", recipe.key_transport)
            for child in list(method):
                method.remove(child)
        ed = _encrypted_data(security, ed_id=ed_id, ek_id=ek_id, content_id=content_id)
        if not recipe.compress:
            ed.set("MimeType", recipe.mime_type)
        if recipe.data_encryption != ALG_AES128_GCM:
            method = ed.find(f"{XENC}EncryptionMethod")
            assert method is not None
            method.set("Algorithm", recipe.data_encryption)
    references: tuple[Reference, ...] = ()
    if recipe.sign:
        add_binary_security_token(security, recipe.signer.certificate, sender_token)
        _, references = _signature(security, recipe, [messaging, body], content_id, octets, sender_token)
    for edit in recipe.after_signing:
        edit(envelope)
    soap = serialize(envelope)
    for raw_edit in recipe.soap_bytes:
        soap = raw_edit(soap)
    data = _encrypt(key, octets, recipe.data_encryption) if key is not None else octets
    part_type = (
        ENCRYPTED_PART_CONTENT_TYPE
        if key is not None
        else (COMPRESSION_GZIP if recipe.compress else recipe.mime_type)
    )
    parts = [Part(content_id, part_type, data)]
    for part_edit in recipe.parts:
        part_edit(parts, key or b"")
    boundary = f"----=_Part_{uuid.uuid4().hex}"
    soap_cid = f"soap-{uuid.uuid4()}@{MESSAGE_ID_DOMAIN}"
    out = io.BytesIO()
    out.write(
        f"--{boundary}\r\nContent-Type: {SOAP_PART_CONTENT_TYPE}\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{soap_cid}>\r\n\r\n".encode("ascii")
    )
    out.write(soap)
    for part in parts:
        out.write(
            f"\r\n--{boundary}\r\nContent-Type: {part.content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{part.content_id}>\r\n\r\n".encode("ascii")
        )
        out.write(part.data)
    out.write(f"\r\n--{boundary}--\r\n".encode("ascii"))
    content_type = recipe.content_type or (
        f'multipart/related; boundary="{boundary}"; type="{SOAP_CONTENT_TYPE}"; start="<{soap_cid}>"'
    )
    message = OutboundMessage(
        message_id=header.message_id,
        content_type=content_type,
        body=out.getvalue(),
        body_path=None,
        signed_references=references,
        envelope=soap,
        payload_content_id=content_id,
    )
    return Built(message, key, octets)
