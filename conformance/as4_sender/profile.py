"""Profile checks on one message sent by the access point under test: one case per property, each with
a stable id, its public id where one exists, a requirement level and a spec reference
(``as4.md`` §2–§5, ``conformance.md`` §2 and §7)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from cryptography import x509
from lxml import etree

from conformance.model import Level, Outcome
from peppol.pki import Identity
from transport.as4.constants import (
    AGREEMENT_REF,
    ALG_AES128_GCM,
    ALG_EXC_C14N,
    ALG_MGF1_SHA256,
    ALG_RSA_OAEP_11,
    ALG_RSA_SHA256,
    ALG_SHA256,
    ALG_SWA_CIPHERTEXT,
    ALG_SWA_CONTENT_SIGNATURE,
    BST_ENCODING_BASE64,
    BST_VALUE_TYPE_X509V3,
    COMPRESSION_GZIP,
    NS_XENC11,
    PARTY_ID_TYPE,
    ROLE_INITIATOR,
    ROLE_RESPONDER,
    SOAP_CONTENT_TYPE,
    TYPE_ATTACHMENT_CONTENT_ONLY,
)
from transport.as4.dsig import element_ids
from transport.as4.inbound import certificate_cn, normalise_cid
from transport.mime import parse_content_type

from .message import DS, EB, S12, WSSE, XENC, Opened, cid_of

AS4: Final = "Peppol AS4 profile 2.0.3"
CEF: Final = "CEF eDelivery AS4 1.14"
#: Names a few algorithm URIs in reasons.
_ALG_NAMES: Final = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": "RSA-SHA1",
    "http://www.w3.org/2000/09/xmldsig#sha1": "SHA-1",
    "http://www.w3.org/2001/04/xmlenc#rsa-1_5": "RSA 1.5",
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p": "RSA-OAEP-MGF1P (MGF1-SHA1)",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc": "AES-128-CBC",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": "inclusive C14N",
}
ISO6523: Final = "iso6523-actorid-upis"
SEAT_ID: Final = re.compile(r"^P[A-Z]{2}\d{6}$")


def _name(uri: str | None) -> str:
    return f"{uri} ({_ALG_NAMES[uri]})" if uri in _ALG_NAMES else repr(uri)


@dataclass
class Facts:
    """What a check may look at besides the message."""

    identity: Identity
    validate_signer: Callable[[x509.Certificate], object] | None = None
    #: The answer of the strict receiver core: ``None`` = receipt, else the error it raised.
    core_error: str | None = None
    core_code: str | None = None


@dataclass
class Judgement:
    outcome: Outcome
    reason: str
    details: list[str] = field(default_factory=list)


def ok(reason: str, *details: str) -> Judgement:
    return Judgement(Outcome.PASSED, reason, list(details))


def bad(reason: str, *details: str) -> Judgement:
    return Judgement(Outcome.FAILED, reason, list(details))


def skip(reason: str) -> Judgement:
    return Judgement(Outcome.SKIPPED, reason)


Judge = Callable[[Opened, Facts], Judgement]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    level: Level
    spec: str
    judge: Judge
    public_id: str | None = None


def _text(el: object) -> str:
    return "".join(str(t) for t in el.itertext()).strip() if isinstance(el, etree._Element) else ""


def _alg(el: object) -> str | None:
    return el.get("Algorithm") if isinstance(el, etree._Element) else None


def _needs_signature(judge: Judge) -> Judge:
    def wrapped(m: Opened, f: Facts) -> Judgement:
        if m.root is None:
            return bad(m.why_missing("mime", "soap"))
        if m.security is None:
            return bad("The message has no wsse:Security header: it is neither signed nor encrypted")
        if m.signature is None:
            return bad("The message is not signed (no ds:Signature in wsse:Security)")
        return judge(m, f)

    return wrapped


# --- signature -------------------------------------------------------------------------------------


@_needs_signature
def _signature_method(m: Opened, f: Facts) -> Judgement:
    alg = _alg(m.signature.find(f"{DS}SignedInfo/{DS}SignatureMethod"))  # type: ignore[union-attr]
    if alg != ALG_RSA_SHA256:
        return bad(f"The signature method is {_name(alg)}, not RSA-SHA256 ({ALG_RSA_SHA256})")
    return ok("The signature method is RSA-SHA256")


@_needs_signature
def _digest_methods(m: Opened, f: Facts) -> Judgement:
    refs = m.signature.findall(f"{DS}SignedInfo/{DS}Reference")  # type: ignore[union-attr]
    wrong = [f"{r.get('URI')}: {_name(_alg(r.find(f'{DS}DigestMethod')))}" for r in refs]
    wrong = [w for w, r in zip(wrong, refs, strict=True) if _alg(r.find(f"{DS}DigestMethod")) != ALG_SHA256]
    if not refs:
        return bad("ds:SignedInfo has no ds:Reference")
    if wrong:
        return bad(f"Digest method other than SHA-256 for {'; '.join(wrong)}")
    return ok(f"All {len(refs)} references use SHA-256")


@_needs_signature
def _canonicalization(m: Opened, f: Facts) -> Judgement:
    info = m.signature.find(f"{DS}SignedInfo")  # type: ignore[union-attr]
    c14n = _alg(info.find(f"{DS}CanonicalizationMethod")) if info is not None else None
    if c14n != ALG_EXC_C14N:
        return bad(f"SignedInfo canonicalization is {_name(c14n)}, not exclusive C14N")
    problems = []
    for ref in m.signature.iterfind(f"{DS}SignedInfo/{DS}Reference"):  # type: ignore[union-attr]
        uri = ref.get("URI") or ""
        transforms = [_alg(t) for t in ref.iterfind(f"{DS}Transforms/{DS}Transform")]
        wanted = ALG_SWA_CONTENT_SIGNATURE if uri.startswith("cid:") else ALG_EXC_C14N
        if transforms != [wanted]:
            problems.append(f"{uri}: transforms {transforms} (expected [{wanted}])")
    if problems:
        return bad(f"Reference transforms deviate: {'; '.join(problems)}")
    return ok("SignedInfo and XML references use exclusive C14N, attachments the SwA content transform")


@_needs_signature
def _binary_security_token(m: Opened, f: Facts) -> Judgement:
    assert m.signature is not None and m.root is not None
    key_info = m.signature.find(f"{DS}KeyInfo")
    ref = key_info.find(f"{WSSE}SecurityTokenReference/{WSSE}Reference") if key_info is not None else None
    if ref is None:
        used = (
            ", ".join(sorted({el.tag.split("}")[-1] for el in key_info.iter() if el is not key_info}))
            if key_info is not None
            else "no ds:KeyInfo"
        )
        return bad(
            "The signature's key is not a direct reference to a wsse:BinarySecurityToken "
            f"(ds:KeyInfo holds: {used or 'nothing'})"
        )
    uri = ref.get("URI") or ""
    token = _token(m.root, uri)
    if token is None:
        return bad(f"The signature references {uri!r}, which is no wsse:BinarySecurityToken in the message")
    if token.get("ValueType") != BST_VALUE_TYPE_X509V3:
        return bad(f"The signing BinarySecurityToken has ValueType {token.get('ValueType')!r}, not X509v3")
    if token.get("EncodingType", BST_ENCODING_BASE64) != BST_ENCODING_BASE64:
        return bad("The signing BinarySecurityToken is not Base64Binary")
    return ok("The signing certificate is a BinarySecurityToken (X509v3) referenced directly")


def _token(root: etree._Element, uri: str) -> etree._Element | None:
    """The wsse:BinarySecurityToken a ``#id`` reference points to."""
    if not uri.startswith("#"):
        return None
    return next((t for t in root.iter(f"{WSSE}BinarySecurityToken") if uri[1:] in element_ids(t)), None)


def _certificate(el: etree._Element | None) -> x509.Certificate | None:
    """The certificate in a BST or ds:X509Certificate element (``None`` when unreadable)."""
    if el is None:
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(_text(el).split())))
    except (binascii.Error, ValueError):
        return None


def _signer(m: Opened) -> x509.Certificate | None:
    if m.signature is None or m.root is None:
        return None
    ref = m.signature.find(f"{DS}KeyInfo/{WSSE}SecurityTokenReference/{WSSE}Reference")
    token = _token(m.root, (ref.get("URI") or "") if ref is not None else "")
    return _certificate(token if token is not None else m.signature.find(f".//{DS}X509Certificate"))


@_needs_signature
def _coverage(m: Opened, f: Facts) -> Judgement:
    assert m.signature is not None
    uris = {r.get("URI") or "" for r in m.signature.iterfind(f"{DS}SignedInfo/{DS}Reference")}
    missing = []
    for name, el in (("eb:Messaging", m.messaging), ("S12:Body", m.body)):
        if el is None or not any(f"#{i}" in uris for i in element_ids(el)):
            missing.append(name)
    for part in m.um("PayloadInfo/PartInfo"):
        href = normalise_cid(part.get("href") or "")
        if href not in {normalise_cid(u) for u in uris if u.startswith("cid:")}:
            missing.append(f"cid:{href}")
    if missing:
        return bad(f"The signature does not cover {', '.join(missing)}")
    return ok("The signature covers eb:Messaging, the SOAP Body and every payload part")


@_needs_signature
def _signing_certificate(m: Opened, f: Facts) -> Judgement:
    cert = _signer(m)
    if cert is None:
        return bad("The signing certificate cannot be found in the message")
    subject = cert.subject.rfc4514_string()
    from_party = [_text(p) for p in m.um("PartyInfo/From/PartyId")]
    cn = certificate_cn(cert)
    if from_party and cn != from_party[0]:
        return bad(f"The signer's CN {cn!r} is not the From PartyId {from_party[0]!r}", subject)
    if f.validate_signer is None:
        return skip("No AP trust store given (--trust): the signing certificate's chain cannot be checked")
    try:
        f.validate_signer(cert)
    except Exception as exc:
        return bad(f"The signing certificate is not a valid Peppol AP certificate: {exc}", subject)
    return ok(f"The signer {subject} is a valid AP certificate and its CN is the From PartyId")


def _accepted(m: Opened, f: Facts) -> Judgement:
    if f.core_error is None:
        return ok("A strict Peppol receiver (decrypt, verify, gunzip, SBDH checks) accepted the message")
    return bad(f"A strict Peppol receiver refused the message with {f.core_code}: {f.core_error}")


# --- encryption ------------------------------------------------------------------------------------


EncryptionJudge = Callable[[Opened, Facts, etree._Element, etree._Element], Judgement]


def _needs_encryption(judge: EncryptionJudge) -> Judge:
    """Runs ``judge(message, facts, EncryptedKey, EncryptedData)`` on an encrypted message."""

    def wrapped(m: Opened, f: Facts) -> Judgement:
        if m.security is None:
            return bad("The message has no wsse:Security header: the payload is not encrypted")
        ek = m.security.find(f"{XENC}EncryptedKey")
        ed = m.security.find(f"{XENC}EncryptedData")
        if ek is None or ed is None:
            return bad("The payload is not encrypted (no xenc:EncryptedKey / xenc:EncryptedData)")
        return judge(m, f, ek, ed)

    return wrapped


@_needs_encryption
def _data_encryption(m: Opened, f: Facts, ek: etree._Element, ed: etree._Element) -> Judgement:
    alg = _alg(ed.find(f"{XENC}EncryptionMethod"))
    if alg != ALG_AES128_GCM:
        return bad(f"The payload is encrypted with {_name(alg)}, not AES-128-GCM")
    if ed.get("Type") != TYPE_ATTACHMENT_CONTENT_ONLY:
        return bad(f"xenc:EncryptedData Type is {ed.get('Type')!r}, not Attachment-Content-Only")
    transforms = [_alg(t) for t in ed.iterfind(f"{XENC}CipherData/{XENC}CipherReference/{XENC}Transforms/*")]
    if transforms != [ALG_SWA_CIPHERTEXT]:
        return bad(
            f"xenc:CipherReference transforms are {transforms}, not the Attachment-Ciphertext-Transform"
        )
    if "decrypt" in m.problems:
        return bad(f"AES-128-GCM is declared but {m.problems['decrypt']}")
    return ok("The payload is AES-128-GCM encrypted (Attachment-Content-Only) and decrypts")


@_needs_encryption
def _key_transport(m: Opened, f: Facts, ek: etree._Element, ed: etree._Element) -> Judgement:
    method = ek.find(f"{XENC}EncryptionMethod")
    alg = _alg(method)
    if alg != ALG_RSA_OAEP_11 or method is None:
        return bad(f"The key transport is {_name(alg)}, not RSA-OAEP ({ALG_RSA_OAEP_11})")
    digest = _alg(method.find(f"{DS}DigestMethod"))
    mgf = _alg(method.find(f"{{{NS_XENC11}}}MGF"))
    if digest != ALG_SHA256:
        return bad(f"The RSA-OAEP digest is {_name(digest)}, not SHA-256")
    if mgf != ALG_MGF1_SHA256:
        return bad(f"The RSA-OAEP MGF is {mgf!r} (absent means MGF1-SHA1), not MGF1-SHA256")
    return ok("The content key is transported with RSA-OAEP, SHA-256 digest and MGF1-SHA256")


@_needs_encryption
def _encrypted_for_us(m: Opened, f: Facts, ek: etree._Element, ed: etree._Element) -> Judgement:
    assert m.root is not None
    ref = ek.find(f"{DS}KeyInfo/{WSSE}SecurityTokenReference/{WSSE}Reference")
    token = _token(m.root, (ref.get("URI") or "") if ref is not None else "")
    if token is None:
        return bad("xenc:EncryptedKey does not reference a BinarySecurityToken directly")
    cert = _certificate(token)
    if cert is None:
        return bad("The encryption BinarySecurityToken does not hold a certificate")
    if cert != f.identity.certificate:
        return bad(
            f"The key is encrypted for {cert.subject.rfc4514_string()}, not for our certificate "
            f"{f.identity.certificate.subject.rfc4514_string()}"
        )
    if "decrypt" in m.problems:
        return bad(m.problems["decrypt"])
    return ok("The content key is encrypted for our (the receiver's) certificate and decrypts with our key")


def _security_order(m: Opened, f: Facts) -> Judgement:
    if m.security is None or m.signature is None:
        return skip("No signed and encrypted wsse:Security header to look at")
    children = list(m.security)
    ek = m.security.find(f"{XENC}EncryptedKey")
    if ek is None:
        return skip("The message is not encrypted")
    if children.index(ek) > children.index(m.signature):
        return bad("ds:Signature comes before xenc:EncryptedKey: WSS4J receivers would digest the ciphertext")
    return ok("xenc:EncryptedKey/EncryptedData precede ds:Signature (sign, then encrypt)")


# --- compression and MIME --------------------------------------------------------------------------


def _part_properties(m: Opened) -> dict[str, str]:
    return {p.get("name") or "": _text(p) for p in m.um("PayloadInfo/PartInfo/PartProperties/Property")}


def _compression(m: Opened, f: Facts) -> Judgement:
    props = _part_properties(m)
    kind = props.get("CompressionType")
    if kind is None:
        return bad("The payload part has no CompressionType PartProperty: it is not gzip-compressed")
    if kind != COMPRESSION_GZIP:
        return bad(f"CompressionType is {kind!r}, not application/gzip")
    if m.plain is None:
        return skip(f"The payload cannot be checked: {m.why_missing('decrypt')}")
    if m.plain[:2] != b"\x1f\x8b" or "gunzip" in m.problems:
        return bad(m.problems.get("gunzip", "CompressionType says gzip but the payload is not a gzip stream"))
    return ok("The payload is gzip-compressed and announced with CompressionType=application/gzip")


def _mime_type(m: Opened, f: Facts) -> Judgement:
    value = _part_properties(m).get("MimeType")
    if not value:
        return bad("The payload part has no MimeType PartProperty")
    if value not in ("application/xml", "text/xml"):
        return bad(f"MimeType is {value!r}: the SBD is XML (application/xml)")
    return ok(f"MimeType is {value} (the type before compression)")


def _mime_layout(m: Opened, f: Facts) -> Judgement:
    if m.mime is None:
        return bad(m.why_missing("mime"))
    media, params = parse_content_type(m.content_type)
    if media != "multipart/related":
        return bad(f"The request Content-Type is {media!r}, not multipart/related")
    if params.get("type") != SOAP_CONTENT_TYPE:
        return bad(f"multipart/related type is {params.get('type')!r}, not {SOAP_CONTENT_TYPE}")
    parts = m.mime.attachments
    if len(parts) != 1:
        return bad(f"The message has {len(parts)} attachment parts (Peppol: the SBD in exactly one part)")
    hrefs = [normalise_cid(p.get("href") or "") for p in m.um("PayloadInfo/PartInfo")]
    if hrefs != [cid_of(parts[0])]:
        return bad(f"eb:PartInfo hrefs {hrefs} do not name the attachment's Content-ID <{cid_of(parts[0])}>")
    disposition = next((v for k, v in parts[0].headers.items() if k.lower() == "content-disposition"), "")
    if "filename" in disposition.lower():
        return bad(f"The payload part carries a Content-Disposition filename ({disposition})")
    return ok("SOAP part first, the SBD in one separate MIME part named by eb:PartInfo, no filename")


def _body_empty(m: Opened, f: Facts) -> Judgement:
    if m.body is None:
        return bad(m.why_missing("mime", "soap") if m.root is None else "The envelope has no S12:Body")
    if len(m.body) or (m.body.text or "").strip():
        return bad("The SOAP Body is not empty: payloads belong in MIME parts")
    return ok("The SOAP Body is empty")


# --- ebMS header ------------------------------------------------------------------------------------

_ORDER: Final = {
    "UserMessage": ["MessageInfo", "PartyInfo", "CollaborationInfo", "MessageProperties", "PayloadInfo"],
    "UserMessage/MessageInfo": ["Timestamp", "MessageId", "RefToMessageId"],
    "UserMessage/PartyInfo": ["From", "To"],
    "UserMessage/CollaborationInfo": ["AgreementRef", "Service", "Action", "ConversationId"],
}
_REQUIRED: Final = {
    "UserMessage": ["MessageInfo", "PartyInfo", "CollaborationInfo", "MessageProperties", "PayloadInfo"],
    "UserMessage/MessageInfo": ["Timestamp", "MessageId"],
    "UserMessage/PartyInfo": ["From", "To"],
    "UserMessage/CollaborationInfo": ["AgreementRef", "Service", "Action", "ConversationId"],
}


def _header_structure(m: Opened, f: Facts) -> Judgement:
    if m.messaging is None:
        return bad(m.why_missing("mime", "soap"))
    if m.messaging.get(f"{S12}mustUnderstand") not in ("true", "1"):
        return bad('eb:Messaging lacks S12:mustUnderstand="true"')
    ums = m.messaging.findall(f"{EB}UserMessage")
    if len(ums) != 1 or len(m.messaging) != 1:
        return bad(f"eb:Messaging must hold exactly one eb:UserMessage and nothing else ({len(m.messaging)})")
    problems = []
    for path, order in _ORDER.items():
        el = m.messaging.find("/".join(f"{EB}{p}" for p in path.split("/")))
        if el is None:
            continue
        names = [c.tag.split("}")[-1] for c in el if isinstance(c.tag, str)]
        missing = [n for n in _REQUIRED[path] if n not in names]
        if missing:
            problems.append(f"eb:{path.split('/')[-1]} lacks {', '.join('eb:' + n for n in missing)}")
        known = [n for n in names if n in order]
        if known != sorted(known, key=order.index) or len(names) != len(known):
            problems.append(f"eb:{path.split('/')[-1]} children {names} (schema order {order})")
    if problems:
        return bad(f"The UserMessage does not follow the ebMS schema: {'; '.join(problems)}")
    return ok("eb:Messaging (mustUnderstand) holds one UserMessage with every required element in order")


def _message_info(m: Opened, f: Facts) -> Judgement:
    ids = [_text(e) for e in m.um("MessageInfo/MessageId")]
    stamps = [_text(e) for e in m.um("MessageInfo/Timestamp")]
    if not ids or not ids[0]:
        return bad("eb:MessageId is missing or empty")
    mid = ids[0]
    if mid.startswith("<") or "@" not in mid or " " in mid:
        return bad(f"eb:MessageId {mid!r} is not an RFC 2822 msg-id without angle brackets (id@domain)")
    if m.um("MessageInfo/RefToMessageId"):
        return bad("eb:RefToMessageId is set on a one-way UserMessage")
    if stamps and not (stamps[0].endswith("Z") or stamps[0].endswith("+00:00")):
        return bad(f"eb:Timestamp {stamps[0]!r} is not in UTC")
    return ok(f"eb:MessageId {mid} (id@domain), UTC timestamp, no RefToMessageId")


def _party_ids(m: Opened, f: Facts) -> Judgement:
    problems = []
    ours = certificate_cn(f.identity.certificate)
    for side in ("From", "To"):
        pids = m.um(f"PartyInfo/{side}/PartyId")
        if len(pids) != 1:
            problems.append(f"eb:{side} has {len(pids)} PartyIds (exactly one required)")
            continue
        if pids[0].get("type") != PARTY_ID_TYPE:
            problems.append(f"eb:{side}/PartyId type is {pids[0].get('type')!r}, not {PARTY_ID_TYPE}")
        if not SEAT_ID.match(_text(pids[0])):
            problems.append(f"eb:{side}/PartyId {_text(pids[0])!r} is not a seat id (PXX000000)")
        if side == "To" and _text(pids[0]) != ours:
            problems.append(f"eb:To/PartyId {_text(pids[0])!r} is not our seat {ours!r}")
    for side, role in (("From", ROLE_INITIATOR), ("To", ROLE_RESPONDER)):
        roles = [_text(r) for r in m.um(f"PartyInfo/{side}/Role")]
        if roles != [role]:
            problems.append(f"eb:{side}/Role is {roles}, not {role}")
    if problems:
        return bad("; ".join(problems))
    return ok("Exactly one PartyId (Peppol AP type, seat id) in From and To, To is our seat, standard roles")


def _agreement(m: Opened, f: Facts) -> Judgement:
    refs = m.um("CollaborationInfo/AgreementRef")
    if len(refs) != 1:
        return bad(f"{len(refs)} eb:AgreementRef elements")
    ref = refs[0]
    if _text(ref) != AGREEMENT_REF:
        return bad(f"eb:AgreementRef is {_text(ref)!r}, not {AGREEMENT_REF}")
    extra = [a for a in ("type", "pmode") if ref.get(a) is not None]
    if extra:
        return bad(f"eb:AgreementRef carries @{', @'.join(extra)} (Peppol: none)")
    return ok(f"eb:AgreementRef is {AGREEMENT_REF} without type or pmode")


def _service_action(m: Opened, f: Facts) -> Judgement:
    services, actions = m.um("CollaborationInfo/Service"), m.um("CollaborationInfo/Action")
    if len(services) != 1 or len(actions) != 1:
        return bad("eb:CollaborationInfo needs exactly one eb:Service and one eb:Action")
    service, service_type, action = _text(services[0]), services[0].get("type"), _text(actions[0])
    if "%" in service or "%" in action:
        return bad(f"eb:Service {service!r} or eb:Action {action!r} is percent-encoded")
    if m.sbd is None:
        return skip(
            f"Service/Action cannot be compared with the SBDH: {m.why_missing('decrypt', 'gunzip', 'sbdh')}"
        )
    sbdh = m.sbd.header
    want_action = f"{sbdh.document_type.scheme}::{sbdh.document_type.value}"
    if (service_type, service) != (sbdh.process.scheme, sbdh.process.value):
        return bad(
            f"eb:Service {service_type}::{service} is not the SBDH process "
            f"{sbdh.process.scheme}::{sbdh.process.value}"
        )
    if action != want_action:
        return bad(f"eb:Action {action!r} is not the SBDH document type {want_action!r}")
    return ok("eb:Service (with its scheme as type) and eb:Action equal the SBDH process and document type")


def _properties(m: Opened, f: Facts) -> Judgement:
    props = m.um("MessageProperties/Property")
    by_name: dict[str, list[tuple[str, str | None]]] = {}
    for p in props:
        by_name.setdefault(p.get("name") or "", []).append((_text(p), p.get("type")))
    problems = []
    if "trackingIdentifier" in by_name:
        problems.append("trackingIdentifier is set (Peppol: MUST NOT)")
    for name in ("originalSender", "finalRecipient"):
        values = by_name.get(name, [])
        if len(values) != 1:
            problems.append(f"{len(values)} {name} properties (exactly one required)")
        elif values[0][1] != ISO6523:
            problems.append(f"{name} has type {values[0][1]!r}, not {ISO6523}")
    if problems:
        return bad("; ".join(problems))
    if m.sbd is None:
        return skip(
            f"The properties cannot be compared with the SBDH: {m.why_missing('decrypt', 'gunzip', 'sbdh')}"
        )
    sbdh = m.sbd.header
    for name, party in (("originalSender", sbdh.sender), ("finalRecipient", sbdh.receiver)):
        value, type_ = by_name[name][0]
        if type_ != party.scheme or value.lower() != party.value.lower():
            return bad(f"{name} {type_}::{value} differs from the SBDH {party.scheme}::{party.value}")
    return ok("originalSender and finalRecipient (iso6523-actorid-upis) match the SBDH Sender and Receiver")


def _sbdh_valid(m: Opened, f: Facts) -> Judgement:
    if m.sbd is None:
        return bad(m.why_missing("mime", "decrypt", "gunzip", "sbdh"))
    h = m.sbd.header
    return ok(
        f"The SBDH passes the Peppol envelope rules (instance {h.instance_id}, COUNTRY_C1 {h.country_c1})"
    )


CHECKS: Final[tuple[Check, ...]] = (
    Check("as4s.sig.algorithm", "Signature method RSA-SHA256", Level.MUST, f"{CEF} §3.2.6; as4.md §5.1",
          _signature_method, "eSENS_TA13"),
    Check("as4s.sig.digest", "Digest method SHA-256 on every reference", Level.MUST,
          f"{CEF} §3.2.6; as4.md §5.1", _digest_methods, "eSENS_TA13"),
    Check("as4s.sig.c14n", "Exclusive C14N and the SwA attachment transform", Level.MUST,
          "as4.md §5.1, §5.2", _canonicalization),
    Check("as4s.sig.bst", "Signing certificate in a BinarySecurityToken, referenced directly", Level.MUST,
          f"{AS4} (BST key identifier, X509v3); as4.md §5.3", _binary_security_token),
    Check("as4s.sig.coverage", "Signature covers eb:Messaging, Body and every part", Level.MUST,
          "AS4 profile §5.1.4; as4.md §5.2", _coverage),
    Check("as4s.sig.certificate", "Signer is a valid AP certificate whose CN is the From PartyId",
          Level.MUST, f"{AS4} (Use of Peppol PKI); as4.md §7.2", _signing_certificate, "eSENS_TA13"),
    Check("as4s.enc.data", "Payload encrypted with AES-128-GCM", Level.MUST, f"{CEF} §3.2.6; as4.md §5.1",
          _data_encryption, "eSENS_TA14"),
    Check("as4s.enc.key-transport", "Key transport RSA-OAEP with SHA-256 and MGF1-SHA256", Level.MUST,
          "as4.md §5.1", _key_transport, "eSENS_TA14"),
    Check("as4s.enc.recipient", "Encrypted for the receiver's (our) certificate", Level.MUST,
          "as4.md §5.3; conformance.md §2", _encrypted_for_us, "eSENS_TA14"),
    Check("as4s.enc.order", "Sign, then encrypt: encryption elements precede the signature", Level.SHOULD,
          "as4.md §5.4", _security_order, "AS4_TA21"),
    Check("as4s.compression.gzip", "Payload gzip-compressed with CompressionType", Level.MUST,
          "as4.md §4; AS4 profile §3.1", _compression, "AS4_TA06, AS4_TA07"),
    Check("as4s.compression.mime-type", "MimeType PartProperty (type before compression)", Level.MUST,
          "as4.md §3.2", _mime_type, "AS4_TA08"),
    Check("as4s.mime.layout", "SBD in a separate MIME part named by eb:PartInfo", Level.MUST,
          "as4.md §4; Peppol AS4 §2", _mime_layout, "AS4_TA28"),
    Check("as4s.mime.body-empty", "SOAP Body empty", Level.MUST, "as4.md §2; eSENS AS4", _body_empty,
          "eSENS_TA05"),
    Check("as4s.header.structure", "eb:Messaging structure and element order", Level.MUST,
          "ebMS 3.0 core §5.2 (schema); as4.md §3", _header_structure),
    Check("as4s.header.message-info", "MessageId id@domain, UTC Timestamp, no RefToMessageId", Level.MUST,
          "as4.md §3.2; Peppol AS4 §2 (one-way)", _message_info),
    Check("as4s.header.party-ids", "Exactly one PartyId (Peppol AP type) in From and To; roles", Level.MUST,
          "as4.md §3.2", _party_ids, "eSENS_TA03, AS4_TA27"),
    Check("as4s.header.agreement", "AgreementRef value, no type or pmode", Level.MUST, "as4.md §3.2",
          _agreement),
    Check("as4s.header.service-action", "Service and Action from the SBDH process and document type",
          Level.MUST, "as4.md §3.2", _service_action),
    Check("as4s.header.properties", "originalSender / finalRecipient match the SBDH; no trackingIdentifier",
          Level.MUST, "as4.md §2, §3.2", _properties, "eSENS_TA15"),
    Check("as4s.sbdh.valid", "SBDH valid (Peppol envelope rules, COUNTRY_C1)", Level.MUST,
          "Peppol Business Message Envelope 2.0.1; discovery.md", _sbdh_valid),
    Check("as4s.receiver.accepted", "A strict Peppol receiver accepts the message", Level.MUST,
          "as4.md §7.3", _accepted, "eSENS_TA01"),
)  # fmt: skip


__all__ = ["CHECKS", "Check", "Facts", "Judgement"]
