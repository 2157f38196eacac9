"""Signal envelopes (receipts, error signals) written as text, already in exclusive canonical form.

A signal is small and entirely ours, apart from the received ``ds:Reference`` elements a receipt
copies. Built as an lxml tree, then canonicalised three times (``eb:Messaging``, ``S12:Body``,
``ds:SignedInfo``) and serialised, its Python work cost about as much as its RSA signature. Here the
three signed elements are written directly in their exc-c14n form, so each digest is the SHA-256 of
the text itself and the signature is computed over the SignedInfo text; the same text goes into the
document. A verifier that parses the document and canonicalises an element gets these bytes back:
every namespace an element uses is declared on it (or on a signed ancestor) exactly as exc-c14n
renders it, attributes are in canonical order, values are escaped as c14n escapes them, and empty
elements have end tags.

The copied references: a receipt's ``eb:Messaging`` contains each received ``ds:Reference``
verbatim. Its canonical form inside our Messaging equals its own exc-c14n (taken from the received
tree) unless it visibly uses one of the prefix bindings our ancestors render (``S12``, ``eb``,
``wsu``, ``ebbp``), which exc-c14n would then not repeat. :func:`copied_reference` detects that case,
and the Messaging is then canonicalised by lxml from the text (correct in every case, slower).
Tests compare the text with lxml's canonical form of the parsed document.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from peppol.xml import exc_c14n, parse_bytes
from transport.as4.builder import KeyHolder
from transport.as4.constants import (
    ALG_EXC_C14N,
    ALG_RSA_SHA256,
    ALG_SHA256,
    BST_ENCODING_BASE64,
    BST_VALUE_TYPE_X509V3,
    NS_DS,
    NS_EB,
    NS_EBBP,
    NS_S12,
    NS_WSSE,
    NS_WSU,
)
from transport.as4.dsig import _der_b64, b64
from transport.as4.header import format_timestamp

#: The XML declaration of every envelope we write (as ``builder.serialize`` writes it).
XML_DECLARATION: Final = "<?xml version='1.0' encoding='UTF-8'?>\n"
#: Prefix bindings rendered by the ancestors of a copied ``ds:Reference`` in a receipt's Messaging.
_ANCESTOR_BINDINGS: Final = tuple(f'xmlns:{prefix}="'.encode() for prefix in ("S12", "eb", "wsu", "ebbp"))
_TEXT_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTR_ESCAPES: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"}
)


def c14n_text(value: str) -> str:
    """``value`` as canonical XML character data (C14N 1.0 §2.3: ``& < >`` and CR escaped)."""
    return value.translate(_TEXT_ESCAPES)


def c14n_attr(value: str) -> str:
    """``value`` as a canonical double-quoted attribute value (``& < "`` and TAB, LF, CR escaped)."""
    return value.translate(_ATTR_ESCAPES)


def copied_reference(ref: etree._Element) -> tuple[str, bool]:
    """The exc-c14n text of a received ``ds:Reference`` and whether it is also its canonical form inside
    our Messaging (False when it uses a prefix binding of ours: see the module docstring)."""
    text = exc_c14n(ref)
    return text.decode("utf-8"), not any(binding in text for binding in _ANCESTOR_BINDINGS)


def message_info(message_id: str, ref_to: str | None) -> str:
    """A canonical ``eb:MessageInfo`` stamped now (``eb`` declared by the enclosing Messaging)."""
    ref = f"<eb:RefToMessageId>{c14n_text(ref_to)}</eb:RefToMessageId>" if ref_to else ""
    return (
        f"<eb:MessageInfo><eb:Timestamp>{format_timestamp(datetime.now(UTC))}</eb:Timestamp>"
        f"<eb:MessageId>{c14n_text(message_id)}</eb:MessageId>{ref}</eb:MessageInfo>"
    )


_MESSAGING_START: Final = (
    f'<eb:Messaging xmlns:S12="{NS_S12}" xmlns:eb="{NS_EB}" xmlns:wsu="{NS_WSU}" wsu:Id="{{}}" '
    'S12:mustUnderstand="true"><eb:SignalMessage>'
)
_MESSAGING_END: Final = "</eb:SignalMessage></eb:Messaging>"
_BODY: Final = f'<S12:Body xmlns:S12="{NS_S12}" xmlns:wsu="{NS_WSU}" wsu:Id="{{}}"></S12:Body>'
_SIGNED_INFO_START: Final = (
    f'<ds:SignedInfo xmlns:ds="{NS_DS}"><ds:CanonicalizationMethod Algorithm="{ALG_EXC_C14N}">'
    f'</ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="{ALG_RSA_SHA256}"></ds:SignatureMethod>'
)
_SIGNED_REFERENCE: Final = (
    '<ds:Reference URI="#{}"><ds:Transforms>'
    f'<ds:Transform Algorithm="{ALG_EXC_C14N}"></ds:Transform></ds:Transforms>'
    f'<ds:DigestMethod Algorithm="{ALG_SHA256}"></ds:DigestMethod>'
    "<ds:DigestValue>{}</ds:DigestValue></ds:Reference>"
)
_SECURITY_START: Final = (
    f'<wsse:Security xmlns:wsse="{NS_WSSE}" xmlns:wsu="{NS_WSU}" S12:mustUnderstand="true">'
    f'<wsse:BinarySecurityToken EncodingType="{BST_ENCODING_BASE64}" ValueType="{BST_VALUE_TYPE_X509V3}" '
    'wsu:Id="{token}">{der}</wsse:BinarySecurityToken>'
    f'<ds:Signature xmlns:ds="{NS_DS}" Id="{{signature}}">'
)
_SECURITY_END: Final = (
    "<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><wsse:SecurityTokenReference>"
    f'<wsse:Reference URI="#{{token}}" ValueType="{BST_VALUE_TYPE_X509V3}"/>'
    "</wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature></wsse:Security>"
)


def _digest(text: str) -> str:
    return b64(hashlib.sha256(text.encode("utf-8")).digest())


def signal_envelope(
    signal_content: Iterable[str], signer: KeyHolder | None, *, canonical: bool = True
) -> bytes:
    """The SOAP envelope of an ``eb:SignalMessage`` whose children are ``signal_content`` (canonical
    text written in the scope of the Messaging, which declares ``S12``, ``eb`` and ``wsu``), signed
    over Messaging and Body when ``signer`` is given. ``canonical=False``: the content is well-formed
    but maybe not canonical in place (see :func:`copied_reference`); lxml canonicalises the Messaging.
    """
    unique = uuid.uuid4()  # one per envelope: the prefixes keep its ids apart
    messaging_id, body_id = f"msg-{unique}", f"body-{unique}"
    messaging = _MESSAGING_START.format(messaging_id) + "".join(signal_content) + _MESSAGING_END
    if not canonical:
        messaging = exc_c14n(parse_bytes(messaging.encode("utf-8")).getroot()).decode("utf-8")
    body = _BODY.format(body_id)
    security = ""
    if signer is not None:
        signed_info = (
            _SIGNED_INFO_START
            + _SIGNED_REFERENCE.format(messaging_id, _digest(messaging))
            + _SIGNED_REFERENCE.format(body_id, _digest(body))
            + "</ds:SignedInfo>"
        )
        value = signer.private_key.sign(signed_info.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        token = f"X509-{unique}"
        security = (
            _SECURITY_START.format(token=token, der=_der_b64(signer.certificate), signature=f"SIG-{unique}")
            + signed_info
            + _SECURITY_END.format(value=b64(value), token=token)
        )
    return (
        f'{XML_DECLARATION}<S12:Envelope xmlns:S12="{NS_S12}"><S12:Header>{security}{messaging}'
        f"</S12:Header>{body}</S12:Envelope>"
    ).encode()


def non_repudiation_information(references: Iterable[str]) -> str:
    """A canonical ``eb:Receipt`` holding one ``ebbp:MessagePartNRInformation`` per reference text."""
    parts = "".join(
        f"<ebbp:MessagePartNRInformation>{ref}</ebbp:MessagePartNRInformation>" for ref in references
    )
    return (
        f'<eb:Receipt><ebbp:NonRepudiationInformation xmlns:ebbp="{NS_EBBP}">{parts}'
        "</ebbp:NonRepudiationInformation></eb:Receipt>"
    )
