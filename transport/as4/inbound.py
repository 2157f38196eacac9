"""Inbound UserMessage security processing on the original bytes: decrypt, verify, gunzip.

Steps, each mapped to its ebMS error (documented in docs/as4.md):

1. Parse the SOAP part with the hardened parser; locate *the* ``eb:Messaging`` (child of ``S12:Header``)
   and *the* ``wsse:Security`` header; collect ids (duplicates refused) — 0009 / 0101. Parse the
   UserMessage: malformed — 0009, P-Mode values (agreement, roles, party id type) — 0010.
2. Algorithm allow-list and direct BST key references — 0103; unsigned / unencrypted — 0103.
3. Authenticate before any key-dependent work: the SignatureValue over SignedInfo, coverage (this
   Messaging, the Body, every PartInfo; no unannounced part), the signer certificate (caller's
   validator; CN == From/PartyId) — 0101.
4. Decrypt: EncryptedKey (RSA-OAEP) → AES key; each EncryptedData's ``cid:`` part through AES-128-GCM
   (in memory when small, else streamed into ``work_dir``) — 0102. Then recompute every reference
   digest over the decrypted parts — 0101.
5. Gunzip with size and ratio caps — 0303 (into memory up to ``payload_memory_bytes``, else a file).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from peppol.pki.memo import PerObject
from peppol.xml import XmlError, parse_bytes, simple_text
from transport.as4.builder import KeyHolder
from transport.as4.constants import (
    ALG_SWA_CIPHERTEXT,
    ALLOWED_DATA_ENCRYPTION,
    ALLOWED_KEY_TRANSPORT,
    ALLOWED_MGFS,
    ALLOWED_OAEP_DIGESTS,
    COMPRESSION_GZIP,
    NS_DS,
    NS_EB,
    NS_S12,
    NS_WSSE,
    NS_XENC,
    NS_XENC11,
    PART_PROP_COMPRESSION_TYPE,
    TYPE_ATTACHMENT_CONTENT_ONLY,
)
from transport.as4.dsig import (
    TOKEN_CERTIFICATE_CACHE_SIZE,
    Reference,
    _b64,
    collect_ids,
    element_ids,
    resolve_token_certificate,
    same_certificate,
    verify_references,
    verify_signature_value,
)
from transport.as4.header import UserMessageHeader, parse_user_message
from transport.as4.streams import (
    Spooled,
    SpoolWriter,
    WorkDir,
    attachment_content_digest,
    gcm_decrypt_bytes,
    gcm_decrypt_file,
    gunzip_capped,
    resolve_work_dir,
    unwrap_key,
)
from transport.errors import (
    DecompressionFailure,
    EbmsError,
    FailedAuthentication,
    FailedDecryption,
    InvalidHeader,
    MimeInconsistency,
    PolicyNoncompliance,
)

#: Largest decompressed payload accepted by default (1 GiB; Peppol sets no limit, the Testbed sends ~100 MB).
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 1024 * 1024 * 1024
#: Largest decompressed/compressed ratio accepted by default (repetitive XML reaches ~80:1; bombs ~1000:1).
DEFAULT_MAX_COMPRESSION_RATIO: Final = 200.0
#: Encrypted attachments up to this size are decrypted in memory (saves a temporary file per message).
IN_MEMORY_ATTACHMENT_BYTES: Final = 4 * 1024 * 1024
#: Largest SOAP envelope accepted (the envelope never carries payload in Peppol).
MAX_ENVELOPE_BYTES: Final = 4 * 1024 * 1024

S12 = f"{{{NS_S12}}}"
EB = f"{{{NS_EB}}}"
WSSE = f"{{{NS_WSSE}}}"
XENC = f"{{{NS_XENC}}}"
DS = f"{{{NS_DS}}}"


@dataclass(frozen=True)
class InboundAttachment:
    """One MIME part after the SOAP part, transfer encoding already undone: its body is in the file
    ``path`` or, for a small part kept in memory, in ``data`` (exactly one of them is set)."""

    content_id: str
    headers: Mapping[str, str]
    path: Path | None = None
    data: bytes | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("an InboundAttachment needs exactly one of path and data")

    @property
    def source(self) -> Path | bytes:
        """The body: the bytes when in memory, else the file."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.source_path().stat().st_size

    def source_path(self) -> Path:
        assert self.path is not None
        return self.path

    @property
    def cid(self) -> str:
        """The Content-ID without angle brackets or surrounding space."""
        return normalise_cid(self.content_id)

    @property
    def content_type(self) -> str:
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value
        return "application/octet-stream"


@dataclass(frozen=True)
class SecurityPolicy:
    """Receiver security policy. ``require_encryption=False`` is an explicit, loud testing option; a
    UserMessage is always required to be signed (a receipt must echo its signed references), so
    ``require_signature`` only exists for signals and symmetry."""

    require_signature: bool = True
    require_encryption: bool = True
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO


@dataclass(frozen=True)
class InboundUserMessage:
    """A UserMessage that passed decryption, signature verification and decompression. ``payload`` is
    the decrypted, decompressed SBD (in memory or in a file, see :func:`process_inbound`)."""

    header: UserMessageHeader
    signer_certificate: x509.Certificate
    references: tuple[Reference, ...]
    payload: Spooled
    envelope: bytes
    #: The envelope as parsed for verification (read-only: the receipt copies its references from it
    #: instead of parsing ``envelope`` again).
    soap: SoapHeaders | None = field(default=None, repr=False, compare=False)

    @property
    def payload_path(self) -> Path:
        """A file holding the payload (an in-memory payload is written to ``work_dir`` on first use)."""
        return self.payload.path


def normalise_cid(value: str) -> str:
    """``<id>`` (MIME header) or ``id`` / percent-encoded (``cid:`` URI) → ``id``."""
    value = value.strip()
    if value.lower().startswith("cid:"):
        value = value[4:]
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return unquote(value.strip())


def _subject_cn(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


#: The subject CN, per certificate object (the token cache gives a partner's signer as the same object
#: in every message; a ``functools`` cache would hash the certificate, which costs ~15 µs).
certificate_cn: Final = PerObject(_subject_cn, maxsize=TOKEN_CERTIFICATE_CACHE_SIZE)


@dataclass(frozen=True)
class SoapHeaders:
    """The parsed envelope with *the* Messaging and Security blocks located."""

    root: etree._Element
    messaging: etree._Element
    security: etree._Element | None
    body: etree._Element
    ids: dict[str, etree._Element]


def parse_envelope(envelope: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> etree._Element:
    """The root of ``envelope`` parsed by the hardened parser (raises ``peppol.xml.XmlError``)."""
    return parse_bytes(envelope, max_bytes=max_bytes).getroot()


def locate_headers(
    envelope: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES, root: etree._Element | None = None
) -> SoapHeaders:
    """Parse an S12 envelope and find its one ``eb:Messaging`` and at most one ``wsse:Security``.

    ``root``, when given, is ``envelope`` already parsed by :func:`parse_envelope` (with the same
    ``max_bytes``): it is used instead of parsing the bytes a second time.
    """
    if root is None:
        try:
            root = parse_envelope(envelope, max_bytes=max_bytes)
        except XmlError as exc:
            raise InvalidHeader(f"SOAP envelope is not acceptable XML: {exc}") from exc
    if root.tag != f"{S12}Envelope":
        raise InvalidHeader(f"root element must be a SOAP 1.2 Envelope, got {root.tag}")
    headers = root.findall(f"{S12}Header")
    bodies = root.findall(f"{S12}Body")
    if len(headers) != 1 or len(bodies) != 1:
        raise InvalidHeader("SOAP envelope must have exactly one Header and one Body")
    messagings = headers[0].findall(f"{EB}Messaging")
    if len(messagings) != 1:
        raise InvalidHeader(f"S12:Header must contain exactly one eb:Messaging (found {len(messagings)})")
    securities = headers[0].findall(f"{WSSE}Security")
    if len(securities) > 1:
        raise FailedAuthentication("more than one wsse:Security header")
    ids = collect_ids(root)
    return SoapHeaders(root, messagings[0], securities[0] if securities else None, bodies[0], ids)


def message_id_in(root: etree._Element) -> str | None:
    """The ``eb:MessageId`` of a parsed envelope (see :func:`message_id_of`)."""
    el = root.find(f"{S12}Header/{EB}Messaging/*/{EB}MessageInfo/{EB}MessageId")
    try:  # a comment/PI/element inside: no id to echo (parse_user_message refuses it with 0009)
        return (simple_text(el).strip() or None) if el is not None else None
    except XmlError:
        return None


def message_id_of(envelope: bytes) -> str | None:
    """Best-effort MessageId of a (possibly broken) envelope, for ``refToMessageInError``."""
    try:
        return message_id_in(parse_envelope(envelope))
    except XmlError:
        match = re.search(rb"<(?:[\w.-]+:)?MessageId>\s*([^<\s]{1,256})\s*</", envelope[:MAX_ENVELOPE_BYTES])
        return match.group(1).decode("utf-8", "replace") if match else None


def _check_key_transport(ek: etree._Element) -> None:
    method = ek.find(f"{XENC}EncryptionMethod")
    alg = None if method is None else method.get("Algorithm")
    if method is None or alg not in ALLOWED_KEY_TRANSPORT:
        raise PolicyNoncompliance(f"key transport {alg!r} is not allowed")
    digest = method.find(f"{DS}DigestMethod")
    if digest is None or digest.get("Algorithm") not in ALLOWED_OAEP_DIGESTS:
        raise PolicyNoncompliance("RSA-OAEP digest must be SHA-256")
    mgf = method.find(f"{{{NS_XENC11}}}MGF")
    # xmlenc11 default without an MGF element is MGF1-SHA1: refused.
    if mgf is None or mgf.get("Algorithm") not in ALLOWED_MGFS:
        raise PolicyNoncompliance("RSA-OAEP MGF must be MGF1-SHA256 (xenc11:MGF)")


@dataclass
class _Decrypted:
    """A decrypted attachment: in memory when small, else on disk."""

    source: Path | bytes
    mime_type: str


def _new_file(work_dir: WorkDir, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="as4-in-", suffix=suffix, dir=resolve_work_dir(work_dir))
    os.close(fd)
    return Path(name)


class _WorkFiles:
    """Temporary files in ``work_dir`` (created on first use), removed unless kept."""

    def __init__(self, work_dir: WorkDir) -> None:
        self.work_dir = work_dir
        self.paths: list[Path] = []

    def new(self, suffix: str) -> Path:
        path = _new_file(self.work_dir, suffix)
        self.paths.append(path)
        return path

    def cleanup(self, keep: Path | None = None) -> None:
        for path in self.paths:
            if path != keep:
                with contextlib.suppress(OSError):
                    path.unlink()


def _decrypt_attachments(
    soap: SoapHeaders, attachments: Mapping[str, InboundAttachment], identity: KeyHolder, files: _WorkFiles
) -> dict[str, _Decrypted]:
    assert soap.security is not None
    eks = soap.security.findall(f"{XENC}EncryptedKey")
    stray = [
        el
        for el in soap.root.iter(f"{XENC}EncryptedKey", f"{XENC}EncryptedData")
        if el.getparent() is not soap.security
    ]
    if stray:
        raise PolicyNoncompliance("xenc elements outside wsse:Security are not supported")
    if not eks:
        return {}
    if len(eks) > 1:
        raise PolicyNoncompliance("more than one xenc:EncryptedKey")
    ek = eks[0]
    _check_key_transport(ek)
    cert = resolve_token_certificate(ek, soap.ids, "xenc:EncryptedKey")
    # An identity set (``peppol.pki.IdentitySet``, a certificate renewal) decrypts for any of its
    # certificates; a plain identity only for its own.
    select = getattr(identity, "decryption_key", None)
    private_key = select(cert) if callable(select) else None
    if private_key is None and same_certificate(cert, identity.certificate):
        private_key = identity.private_key
    if private_key is None:
        raise FailedDecryption("the message is encrypted for another certificate")
    cipher_value = ek.find(f"{XENC}CipherData/{XENC}CipherValue")
    wrapped = _b64(cipher_value.text or "") if cipher_value is not None else None
    if not wrapped:
        raise FailedDecryption("xenc:EncryptedKey has no CipherValue")
    key = unwrap_key(wrapped, private_key)

    out: dict[str, _Decrypted] = {}
    data_refs = ek.findall(f"{XENC}ReferenceList/{XENC}DataReference")
    if not data_refs:
        raise FailedDecryption("xenc:EncryptedKey lists no xenc:DataReference")
    for data_ref in data_refs:
        uri = data_ref.get("URI") or ""
        ed = soap.ids.get(uri[1:]) if uri.startswith("#") else None
        if ed is None or ed.tag != f"{XENC}EncryptedData" or ed.getparent() is not soap.security:
            raise FailedDecryption(f"xenc:DataReference {uri!r} does not resolve to an xenc:EncryptedData")
        method = ed.find(f"{XENC}EncryptionMethod")
        alg = None if method is None else method.get("Algorithm")
        if alg not in ALLOWED_DATA_ENCRYPTION:
            raise PolicyNoncompliance(f"data encryption {alg!r} is not allowed")
        if ed.get("Type") != TYPE_ATTACHMENT_CONTENT_ONLY:
            raise PolicyNoncompliance(f"xenc:EncryptedData Type {ed.get('Type')!r} is not supported")
        cref = ed.find(f"{XENC}CipherData/{XENC}CipherReference")
        if cref is None or not (cref.get("URI") or "").startswith("cid:"):
            raise PolicyNoncompliance("xenc:EncryptedData must reference its attachment with cid:")
        transforms = [t.get("Algorithm") for t in cref.iterfind(f"{XENC}Transforms/{DS}Transform")]
        if transforms != [ALG_SWA_CIPHERTEXT]:
            raise PolicyNoncompliance("xenc:CipherReference needs the Attachment-Ciphertext-Transform")
        cid = normalise_cid(cref.get("URI") or "")
        attachment = attachments.get(cid)
        if attachment is None:
            raise FailedDecryption(f"encrypted attachment cid:{cid} is missing")
        if cid in out:
            raise FailedDecryption(f"attachment cid:{cid} is encrypted twice")
        source: Path | bytes
        if attachment.data is not None:
            source = gcm_decrypt_bytes(key, attachment.data)
        elif attachment.size <= IN_MEMORY_ATTACHMENT_BYTES:
            source = gcm_decrypt_bytes(key, attachment.source_path().read_bytes())
        else:
            source = files.new(".dec")
            with source.open("wb") as fh:
                gcm_decrypt_file(key, attachment.source_path(), fh)
        out[cid] = _Decrypted(source, ed.get("MimeType") or attachment.content_type)
    return out


def process_inbound(
    envelope: bytes,
    attachments: Sequence[InboundAttachment],
    *,
    identity: KeyHolder,
    validate_signer: Callable[[x509.Certificate], None],
    policy: SecurityPolicy = SecurityPolicy(),
    work_dir: WorkDir,
    payload_memory_bytes: int = 0,
    root: etree._Element | None = None,
) -> InboundUserMessage:
    """Decrypt, verify and decompress an inbound UserMessage; raises ``transport.errors.EbmsError``.

    ``envelope`` is the SOAP part exactly as received; ``attachments`` the other MIME parts (on disk or
    in memory). ``validate_signer`` checks the BST certificate (chain, validity, revocation) and raises
    on failure (mapped to EBMS:0101). The returned ``payload`` is the decrypted, decompressed SBD: held
    in memory when it is at most ``payload_memory_bytes``, else a file in ``work_dir`` (a directory or a
    callable creating one on first use); intermediate files are removed. ``root`` is ``envelope``
    already parsed by :func:`parse_envelope`, if the caller has it (saves a second parse).
    """
    soap = locate_headers(envelope, root=root)
    header = parse_user_message(soap.messaging)
    by_cid: dict[str, InboundAttachment] = {}
    for att in attachments:
        if att.cid in by_cid:
            raise MimeInconsistency(f"two MIME parts with Content-ID <{att.cid}>")
        by_cid[att.cid] = att
    part_cids = [header.payload_content_id]  # parse_user_message requires exactly one eb:PartInfo
    for cid in part_cids:
        if normalise_cid(cid) not in by_cid:
            raise MimeInconsistency(f"eb:PartInfo cid:{cid} has no MIME part")
    extra = set(by_cid) - {normalise_cid(c) for c in part_cids}
    if extra:
        raise FailedAuthentication(f"MIME parts not announced in eb:PayloadInfo: {sorted(extra)}")

    if soap.security is None:
        raise PolicyNoncompliance("the message has no wsse:Security header (unsigned, unencrypted)")
    signatures = soap.security.findall(f"{DS}Signature")
    if len(signatures) != 1:
        raise PolicyNoncompliance(
            "the message is not signed" if not signatures else "more than one ds:Signature"
        )

    # Authenticate before any expensive or key-dependent work: SignatureValue, coverage, signer.
    signer = resolve_token_certificate(signatures[0], soap.ids, "ds:Signature")
    signed_refs = verify_signature_value(signatures[0], signer)
    _check_coverage(soap, signed_refs, part_cids)
    try:
        validate_signer(signer)
    except EbmsError:
        raise
    except Exception as exc:
        raise FailedAuthentication(f"signer certificate rejected: {exc}") from exc
    cn = certificate_cn(signer)
    if cn != header.from_party:
        raise FailedAuthentication(
            f"signer CN {cn!r} does not match eb:From/eb:PartyId {header.from_party!r}"
        )

    files = _WorkFiles(work_dir)
    try:
        decrypted = _decrypt_attachments(soap, by_cid, identity, files)
        if policy.require_encryption and set(decrypted) != set(by_cid):
            missing = sorted(set(by_cid) - set(decrypted))
            raise PolicyNoncompliance(f"attachments not encrypted: {missing}" if missing else "not encrypted")

        def cid_digest(cid: str) -> str:
            cid = normalise_cid(cid)
            dec = decrypted.get(cid)
            if dec is not None:
                return attachment_content_digest(dec.source, dec.mime_type)
            att = by_cid.get(cid)
            if att is None:
                raise FailedAuthentication(f"signed attachment cid:{cid} is missing")
            return attachment_content_digest(att.source, att.content_type)

        references = verify_references(signatures[0], soap.ids, cid_digest)
        payload = _payload(header, by_cid, decrypted, policy, files, payload_memory_bytes)
    except BaseException:
        files.cleanup()
        raise
    files.cleanup(keep=None if payload.data is not None else payload.path)
    return InboundUserMessage(header, signer, references, payload, envelope, soap)


def _check_coverage(soap: SoapHeaders, references: Sequence[Reference], part_cids: Sequence[str]) -> None:
    uris = {r.uri for r in references}
    for name, el in (("eb:Messaging", soap.messaging), ("S12:Body", soap.body)):
        if not any(f"#{el_id}" in uris for el_id in element_ids(el)):
            raise FailedAuthentication(f"the signature does not cover the {name} being processed")
    signed_cids = {normalise_cid(u) for u in uris if u.startswith("cid:")}
    for cid in part_cids:
        if normalise_cid(cid) not in signed_cids:
            raise FailedAuthentication(f"the signature does not cover attachment cid:{cid}")


def _payload(
    header: UserMessageHeader,
    by_cid: Mapping[str, InboundAttachment],
    decrypted: Mapping[str, _Decrypted],
    policy: SecurityPolicy,
    files: _WorkFiles,
    memory_bytes: int,
) -> Spooled:
    cid = normalise_cid(header.payload_content_id)
    dec = decrypted.get(cid)
    source = dec.source if dec is not None else by_cid[cid].source

    def spill() -> Path:  # outlives process_inbound: not one of the intermediate ``files``
        return _new_file(files.work_dir, ".payload")

    compression = header.payload_properties.get(PART_PROP_COMPRESSION_TYPE)
    if compression is None:
        if isinstance(source, Path) and dec is not None:
            return Spooled(source)
        if isinstance(source, bytes) and len(source) <= memory_bytes:
            return Spooled(source, spill)
        target = files.new(".payload")
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            shutil.copyfile(source, target)
        return Spooled(target)
    if compression != COMPRESSION_GZIP:
        raise DecompressionFailure(f"unsupported CompressionType {compression!r}")
    sink = SpoolWriter(memory_bytes, lambda: files.new(".payload"))
    try:
        gunzip_capped(
            source, sink, max_bytes=policy.max_decompressed_bytes, max_ratio=policy.max_compression_ratio
        )
    finally:
        sink.close()
    return sink.result(spill)
