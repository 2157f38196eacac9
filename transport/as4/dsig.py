"""Detached XML-DSig as WS-Security 1.1 uses it in AS4: build and verify ``ds:Signature`` over ``#id``
and ``cid:`` references, with a strict algorithm allow-list.

Verification always runs on the tree parsed from the bytes as received (never re-serialised), resolves
ids itself (``wsu:Id``, ``Id``, ``id``; duplicates are refused) and checks ``SignatureValue`` before it
spends time on reference digests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from peppol.pki.memo import PerObject
from peppol.xml import XmlError, XmlMixedContentError, exc_c14n, simple_text
from transport.as4.constants import (
    ALG_EXC_C14N,
    ALG_RSA_SHA256,
    ALG_SHA256,
    ALG_SWA_CONTENT_SIGNATURE,
    ALLOWED_ATTACHMENT_TRANSFORMS,
    ALLOWED_C14N_METHODS,
    ALLOWED_DIGEST_METHODS,
    ALLOWED_SIGNATURE_METHODS,
    ALLOWED_XML_TRANSFORMS,
    BST_ENCODING_BASE64,
    BST_VALUE_TYPE_X509V3,
    NS_DS,
    NS_EC,
    NS_WSSE,
    NS_WSU,
)
from transport.errors import FailedAuthentication, PolicyNoncompliance

DS = f"{{{NS_DS}}}"
WSSE = f"{{{NS_WSSE}}}"
WSU_ID = f"{{{NS_WSU}}}Id"
_ID_ATTRIBUTES = (WSU_ID, "Id", "id", "ID")
#: Most references accepted in one SignedInfo (a UserMessage needs 2 + one per part); bounds digest work.
MAX_REFERENCES: Final = 32
#: Largest canonical SignedInfo accepted (a UserMessage's is ~2 KB): our receipt echoes every Reference
#: as received and is kept per MessageId, so a bloated one (huge PrefixList, foreign children) is refused.
MAX_SIGNED_INFO_BYTES: Final = 64 * 1024
#: Decoded BinarySecurityToken certificates kept, by DER: a partner sends the same certificate with
#: every message (twice in a UserMessage: signer and encryption recipient).
TOKEN_CERTIFICATE_CACHE_SIZE: Final = 256
#: Longest BST text kept in that cache (a Peppol AP certificate is ~2 KB of base64): an attacker's
#: bloated self-signed certificates are decoded each time instead of being kept alive.
MAX_CACHED_TOKEN_CHARS: Final = 16 * 1024


@dataclass(frozen=True)
class Reference:
    """A ``ds:Reference``: ``transforms`` lists the Transform algorithm URIs in document order."""

    uri: str
    digest_method: str
    digest_value: str
    transforms: tuple[str, ...]

    def matches(self, other: Reference) -> bool:
        """Semantic equality (as4.md §6.1): URI, set of transforms, digest method, decoded digest value.

        Prefixes, whitespace, ``InclusiveNamespaces`` children and base64 line breaks do not matter.
        """
        return (
            self.uri == other.uri
            and self.digest_method == other.digest_method
            and set(self.transforms) == set(other.transforms)
            and _b64(self.digest_value) == _b64(other.digest_value)
        )


def _b64(text: str) -> bytes | None:
    """Strict base64 (whitespace ignored: line breaks are allowed in XML-DSig values), or None."""
    try:
        return binascii.a2b_base64("".join(text.split()).encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):  # UnicodeEncodeError is a ValueError
        return None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sha256_b64(data: bytes) -> str:
    return b64(hashlib.sha256(data).digest())


# --- ids --------------------------------------------------------------------------------------------


def element_id(el: etree._Element) -> str | None:
    """The id of ``el`` by the rule of as4.md §10: ``wsu:Id``, then ``Id``, then ``id``."""
    for attr in _ID_ATTRIBUTES:
        value = el.get(attr)
        if value is not None:
            return value
    return None


def element_ids(el: etree._Element) -> set[str]:
    """All id values of ``el`` (``wsu:Id``, ``Id``, ``id``, ``ID``)."""
    return {v for v in (el.get(a) for a in _ID_ATTRIBUTES) if v is not None}


#: Every id attribute value in the document (document order), selected in C: each result knows its
#: element (``getparent()``), so only the ~5 ids of an envelope of ~75 elements are looked at in Python.
_ID_VALUES: Final = etree.XPath(
    "descendant-or-self::*/@wsu:Id | descendant-or-self::*/@Id | descendant-or-self::*/@id"
    " | descendant-or-self::*/@ID",
    namespaces={"wsu": NS_WSU},
)


def collect_ids(root: etree._Element) -> dict[str, etree._Element]:
    """Every id in the document; an id used twice (on one or two elements) is a wrapping attack signal."""
    ids: dict[str, etree._Element] = {}
    found = _ID_VALUES(root)
    assert isinstance(found, list)
    for value in found:
        assert isinstance(value, etree._ElementUnicodeResult)
        el = value.getparent()
        assert el is not None
        known = ids.setdefault(str(value), el)
        # one element may carry the same value twice (Domibus: wsu:Id and id); two elements may not
        if known is not el:
            raise FailedAuthentication(f"duplicate id {str(value)!r} in the envelope (signature wrapping?)")
    return ids


# --- building ---------------------------------------------------------------------------------------


def digest_element(el: etree._Element) -> str:
    """SHA-256 (base64) of the exclusive canonical form of ``el``, as referenced with exc-c14n."""
    return sha256_b64(exc_c14n(el))


def xml_reference(el: etree._Element) -> Reference:
    """A Reference to ``el`` by its id, exc-c14n + SHA-256."""
    el_id = element_id(el)
    if el_id is None:
        raise ValueError(f"{el.tag} has no id to reference")
    return Reference(f"#{el_id}", ALG_SHA256, digest_element(el), (ALG_EXC_C14N,))


def attachment_reference(content_id: str, digest_b64: str) -> Reference:
    """A Reference to a MIME part (``cid:``) with the SwA Attachment-Content-Signature-Transform."""
    return Reference(f"cid:{content_id}", ALG_SHA256, digest_b64, (ALG_SWA_CONTENT_SIGNATURE,))


def add_binary_security_token(
    parent: etree._Element, cert: x509.Certificate, token_id: str
) -> etree._Element:
    """Append a ``wsse:BinarySecurityToken`` (X509v3, base64 DER) with ``wsu:Id``."""
    bst = etree.SubElement(
        parent,
        f"{WSSE}BinarySecurityToken",
        {"EncodingType": BST_ENCODING_BASE64, "ValueType": BST_VALUE_TYPE_X509V3, WSU_ID: token_id},
    )
    bst.text = _der_b64(cert)
    return bst


def _der_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


#: DER of a certificate, per certificate object. ``cryptography`` hashes and compares certificates
#: slowly (~15-20 µs for ``hash`` or ``==`` of equal ones): our own certificate, going into every
#: signed message and receipt and compared with every EncryptedKey's, is encoded once instead.
_der: Final = PerObject(_der_of, maxsize=TOKEN_CERTIFICATE_CACHE_SIZE)


#: Base64 DER of a certificate (the BST text), per certificate object.
_der_b64: Final[PerObject[x509.Certificate, str]] = PerObject(
    lambda cert: b64(_der(cert)), maxsize=TOKEN_CERTIFICATE_CACHE_SIZE
)


def same_certificate(a: x509.Certificate, b: x509.Certificate) -> bool:
    """``a == b``, by DER bytes remembered per object."""
    return a is b or _der(a) == _der(b)


def add_token_reference(parent: etree._Element, token_id: str) -> etree._Element:
    """``wsse:SecurityTokenReference/wsse:Reference`` (direct reference, X509v3) under ``parent``."""
    str_el = etree.SubElement(parent, f"{WSSE}SecurityTokenReference", nsmap={"wsse": NS_WSSE})
    etree.SubElement(str_el, f"{WSSE}Reference", {"URI": f"#{token_id}", "ValueType": BST_VALUE_TYPE_X509V3})
    return str_el


def _append_reference(signed_info: etree._Element, ref: Reference) -> None:
    ref_el = etree.SubElement(signed_info, f"{DS}Reference", {"URI": ref.uri})
    transforms = etree.SubElement(ref_el, f"{DS}Transforms")
    for alg in ref.transforms:
        etree.SubElement(transforms, f"{DS}Transform", {"Algorithm": alg})
    etree.SubElement(ref_el, f"{DS}DigestMethod", {"Algorithm": ref.digest_method})
    etree.SubElement(ref_el, f"{DS}DigestValue").text = ref.digest_value


def add_signature(
    parent: etree._Element,
    references: Sequence[Reference],
    private_key: rsa.RSAPrivateKey,
    *,
    token_id: str,
    signature_id: str,
) -> etree._Element:
    """Append a ``ds:Signature`` (exc-c14n, RSA-SHA256) over ``references`` to ``parent``.

    The key is referenced through a direct reference to the BST ``token_id``. SignedInfo is
    canonicalised in place, so the signature holds for the document serialised afterwards.
    """
    sig = etree.SubElement(parent, f"{DS}Signature", {"Id": signature_id}, nsmap={"ds": NS_DS})
    signed_info = etree.SubElement(sig, f"{DS}SignedInfo")
    etree.SubElement(signed_info, f"{DS}CanonicalizationMethod", {"Algorithm": ALG_EXC_C14N})
    etree.SubElement(signed_info, f"{DS}SignatureMethod", {"Algorithm": ALG_RSA_SHA256})
    for ref in references:
        _append_reference(signed_info, ref)
    value = private_key.sign(exc_c14n(signed_info), padding.PKCS1v15(), hashes.SHA256())
    etree.SubElement(sig, f"{DS}SignatureValue").text = b64(value)
    key_info = etree.SubElement(sig, f"{DS}KeyInfo")
    add_token_reference(key_info, token_id)
    return sig


# --- verifying --------------------------------------------------------------------------------------


def _prefix_list(el: etree._Element) -> list[str] | None:
    inc = el.find(f"{{{NS_EC}}}InclusiveNamespaces")
    if inc is None:
        return None
    prefixes = [p for p in (inc.get("PrefixList") or "").split() if p != "#default"]
    return prefixes or None


def signed_text(el: etree._Element, what: str) -> str:
    """The text of a value element inside signed XML (or a signature); a comment, processing instruction
    or child element inside it is FailedAuthentication: exclusive c14n drops comments, so ``el.text``
    could differ from what was signed."""
    try:
        return simple_text(el)
    except XmlMixedContentError as exc:
        raise FailedAuthentication(f"{what}: {exc}") from exc


_TRANSFORMS: Final = f"{DS}Transforms"
_TRANSFORM: Final = f"{DS}Transform"
_DIGEST_METHOD: Final = f"{DS}DigestMethod"
_DIGEST_VALUE: Final = f"{DS}DigestValue"


def parse_reference(ref_el: etree._Element) -> Reference:
    """Read a ``ds:Reference`` element into a :class:`Reference` (no checks beyond :func:`signed_text`):
    the Transform algorithms of its ``ds:Transforms`` children in document order, its first
    ``ds:DigestMethod`` and its first ``ds:DigestValue`` (one pass over its children)."""
    return _read_reference(ref_el)[0]


def _read_reference(ref_el: etree._Element) -> tuple[Reference, etree._Element | None]:
    """:func:`parse_reference`, also returning the first ``ds:Transform`` element."""
    transforms: list[str] = []
    first: etree._Element | None = None
    dm: etree._Element | None = None
    dv: etree._Element | None = None
    for child in ref_el:
        tag = child.tag
        if tag == _TRANSFORMS:
            for transform in child.iterchildren(_TRANSFORM):
                first = transform if first is None else first
                transforms.append(transform.get("Algorithm") or "")
        elif tag == _DIGEST_METHOD:
            dm = child if dm is None else dm
        elif tag == _DIGEST_VALUE:
            dv = child if dv is None else dv
    ref = Reference(
        uri=ref_el.get("URI") or "",
        digest_method=(dm.get("Algorithm") or "") if dm is not None else "",
        digest_value="".join(signed_text(dv, "ds:DigestValue").split()) if dv is not None else "",
        transforms=tuple(transforms),
    )
    return ref, first


def resolve_token_certificate(
    key_info_parent: etree._Element, ids: dict[str, etree._Element], what: str
) -> x509.Certificate:
    """Follow ``ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference`` to a BST and load its certificate.

    Only a direct reference to an X509v3 BST is accepted (Peppol; phase4 since 4.2.6): SKI, IssuerSerial,
    embedded X509Data or PKIPath tokens are EBMS:0103.
    """
    key_info = key_info_parent.find(f"{DS}KeyInfo")
    ref = None if key_info is None else key_info.find(f"{WSSE}SecurityTokenReference/{WSSE}Reference")
    uri = "" if ref is None else ref.get("URI") or ""
    if not uri.startswith("#"):
        raise PolicyNoncompliance(f"{what}: key must be a direct reference to a BinarySecurityToken")
    token = ids.get(uri[1:])
    if token is None or token.tag != f"{WSSE}BinarySecurityToken":
        raise PolicyNoncompliance(f"{what}: reference {uri!r} does not point to a BinarySecurityToken")
    if token.get("ValueType") != BST_VALUE_TYPE_X509V3:
        raise PolicyNoncompliance(f"{what}: BinarySecurityToken ValueType must be X509v3")
    if token.get("EncodingType", BST_ENCODING_BASE64) != BST_ENCODING_BASE64:
        raise PolicyNoncompliance(f"{what}: BinarySecurityToken must be Base64Binary")
    return _token_certificate(signed_text(token, f"{what}: wsse:BinarySecurityToken"), what)


def _token_certificate(text: str, what: str) -> x509.Certificate:
    """The certificate of a BST's base64 text (decoded once per text: a partner sends the same token
    with every message, twice in a UserMessage)."""
    cached = _TOKEN_CERTIFICATES.get(text)
    if cached is not None:
        return cached
    der = _b64(text)
    if not der:
        raise PolicyNoncompliance(f"{what}: BinarySecurityToken is not valid base64")
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise PolicyNoncompliance(f"{what}: BinarySecurityToken does not hold an X.509 certificate") from exc
    if len(text) <= MAX_CACHED_TOKEN_CHARS:
        if len(_TOKEN_CERTIFICATES) >= TOKEN_CERTIFICATE_CACHE_SIZE:
            _TOKEN_CERTIFICATES.clear()
        _TOKEN_CERTIFICATES[text] = cert
    return cert


#: BST text → certificate (see :func:`_token_certificate`), cleared when full; the same text gives the
#: same certificate object, so per-object memos (CN, fingerprint, verdicts) hit too. Decoding errors
#: are not kept. A plain dict: its get and set are atomic under the GIL, and a race only decodes twice.
_TOKEN_CERTIFICATES: dict[str, x509.Certificate] = {}


#: Given a ``cid:`` content id, return the base64 SHA-256 of the attachment after the content transform,
#: or ``None`` to leave the reference unchecked (only for verifying dumps whose attachment we cannot read).
CidDigester = Callable[[str], str | None]


def check_signature_algorithms(signature: etree._Element) -> etree._Element:
    """Allow-list check of SignedInfo (c14n, signature, digests, transforms); returns SignedInfo."""
    return _checked_signed_info(signature)[0]


def _checked_signed_info(signature: etree._Element) -> tuple[etree._Element, tuple[Reference, ...]]:
    """:func:`check_signature_algorithms`, also returning the parsed References (document order)."""
    infos = signature.findall(f"{DS}SignedInfo")
    if len(infos) != 1:
        raise FailedAuthentication("ds:Signature must contain exactly one ds:SignedInfo")
    signed_info = infos[0]
    c14n = signed_info.find(f"{DS}CanonicalizationMethod")
    if c14n is None or c14n.get("Algorithm") not in ALLOWED_C14N_METHODS:
        raise PolicyNoncompliance(
            f"canonicalization {None if c14n is None else c14n.get('Algorithm')!r} is not allowed"
        )
    method = signed_info.find(f"{DS}SignatureMethod")
    if method is None or method.get("Algorithm") not in ALLOWED_SIGNATURE_METHODS:
        raise PolicyNoncompliance(
            f"signature method {None if method is None else method.get('Algorithm')!r} is not allowed"
        )
    refs = signed_info.findall(f"{DS}Reference")
    if not refs:
        raise FailedAuthentication("ds:SignedInfo has no ds:Reference")
    if len(refs) > MAX_REFERENCES:
        raise PolicyNoncompliance(f"ds:SignedInfo has {len(refs)} references (at most {MAX_REFERENCES})")
    uris = [r.get("URI") for r in refs]
    if len(set(uris)) != len(uris):
        raise FailedAuthentication("ds:SignedInfo references the same URI twice")
    parsed = tuple(parse_reference(ref_el) for ref_el in refs)
    for ref in parsed:
        if ref.digest_method not in ALLOWED_DIGEST_METHODS:
            raise PolicyNoncompliance(f"digest method {ref.digest_method!r} is not allowed ({ref.uri})")
        allowed = ALLOWED_ATTACHMENT_TRANSFORMS if ref.uri.startswith("cid:") else ALLOWED_XML_TRANSFORMS
        if len(ref.transforms) != 1 or ref.transforms[0] not in allowed:
            raise PolicyNoncompliance(f"transforms {list(ref.transforms)} are not allowed for {ref.uri!r}")
    return signed_info, parsed


def verify_signature_value(signature: etree._Element, certificate: x509.Certificate) -> tuple[Reference, ...]:
    """Allow-list check, then the RSA signature over the canonical SignedInfo; no digests yet.

    Returns the (now authenticated) References so callers can check coverage before they spend time on
    decryption and digests.
    """
    signed_info, references = _checked_signed_info(signature)
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise PolicyNoncompliance("the signing certificate does not hold an RSA key")
    sig_value = signature.find(f"{DS}SignatureValue")
    raw = _b64(signed_text(sig_value, "ds:SignatureValue")) if sig_value is not None else None
    if not raw:
        raise FailedAuthentication("ds:SignatureValue is missing or not base64")
    c14n_method = signed_info.find(f"{DS}CanonicalizationMethod")
    assert c14n_method is not None  # checked by check_signature_algorithms
    try:
        canonical = exc_c14n(signed_info, inclusive_prefixes=_prefix_list(c14n_method))
        if len(canonical) > MAX_SIGNED_INFO_BYTES:
            raise PolicyNoncompliance(
                f"ds:SignedInfo has {len(canonical)} bytes canonicalised (at most {MAX_SIGNED_INFO_BYTES})"
            )
        key.verify(raw, canonical, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise FailedAuthentication("ds:SignatureValue does not verify") from exc
    except XmlError as exc:  # e.g. a relative namespace URI: cannot be canonicalised, cannot verify
        raise FailedAuthentication(f"ds:SignedInfo cannot be canonicalised: {exc}") from exc
    return references


def verify_references(
    signature: etree._Element,
    ids: dict[str, etree._Element],
    cid_digest: CidDigester | None = None,
) -> tuple[Reference, ...]:
    """Recompute every Reference digest of an already verified signature (see :func:`verify_signature`)."""
    out: list[Reference] = []
    for ref_el in signature.iterfind(f"{DS}SignedInfo/{DS}Reference"):
        ref, transform = _read_reference(ref_el)
        expected = _b64(ref.digest_value)
        if ref.uri.startswith("#"):
            target = ids.get(ref.uri[1:])
            if target is None:
                raise FailedAuthentication(f"reference {ref.uri!r} does not resolve")
            assert transform is not None  # one allowed transform: checked with the SignatureValue
            actual: bytes | None = _c14n_sha256(target, _prefix_list(transform))
        elif ref.uri.startswith("cid:"):
            if cid_digest is None:
                raise FailedAuthentication(f"attachment reference {ref.uri!r} cannot be resolved")
            computed = cid_digest(ref.uri[4:])
            actual = None if computed is None else _b64(computed) or b""
        else:
            raise FailedAuthentication(f"reference URI {ref.uri!r} is neither #id nor cid:")
        if actual is not None and (expected is None or not hmac.compare_digest(actual, expected)):
            raise FailedAuthentication(f"digest mismatch for reference {ref.uri!r}")
        out.append(ref)
    return tuple(out)


def verify_signature(
    signature: etree._Element,
    ids: dict[str, etree._Element],
    certificate: x509.Certificate,
    cid_digest: CidDigester | None = None,
) -> tuple[Reference, ...]:
    """Verify ``signature`` with ``certificate``'s RSA key; return its References (document order).

    ``#id`` references are resolved through ``ids`` (see :func:`collect_ids`) and digested with exc-c14n
    (honouring ``InclusiveNamespaces``); ``cid:`` references through ``cid_digest``. Any failure raises
    FailedAuthentication (0101); a disallowed algorithm raises PolicyNoncompliance (0103). The
    SignatureValue is checked first, so no digest work is done for an unauthenticated SignedInfo.
    """
    verify_signature_value(signature, certificate)
    return verify_references(signature, ids, cid_digest)


def _c14n_sha256(el: etree._Element, inclusive_prefixes: list[str] | None) -> bytes:
    """SHA-256 of the exc-c14n form of a referenced element; an element that cannot be canonicalised
    (relative namespace URI) cannot have been signed: FailedAuthentication."""
    try:
        return hashlib.sha256(exc_c14n(el, inclusive_prefixes=inclusive_prefixes)).digest()
    except XmlError as exc:
        raise FailedAuthentication(f"referenced element cannot be canonicalised: {exc}") from exc


def referenced_uris(refs: Iterable[Reference]) -> set[str]:
    return {r.uri for r in refs}
