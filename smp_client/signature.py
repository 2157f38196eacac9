"""XMLDSig verification of SMP responses (Peppol SMP 1.x §5.5, BDXR 1 §3.6.2, BDXR 2 §5.6.2).

Verification always runs on the raw response bytes (never a re-serialised tree) and returns what
was actually signed, re-parsed from the canonical form, so that nothing unsigned (comments,
whitespace tricks) reaches the caller. The structure is checked against an allow-list before any
cryptography: exactly one enveloped ``ds:Signature`` as the last child of the root, one
``Reference URI=""``, the enveloped-signature transform (plus at most an allowed C14N transform),
and allow-listed canonicalisation, signature and digest algorithms. SHA-1 is refused unless the
caller opts into the legacy policy. The signer certificate from ``KeyInfo`` is checked by the
caller-supplied :data:`SignerCheck` (SMP CA only) before the signature math.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration, XMLVerifier

from peppol.pki import KeyLoadError, load_certificate
from peppol.xml import (
    XmlCanonicalizationError,
    XmlError,
    XmlMixedContentError,
    make_parser,
    parse_bytes,
    simple_text,
)
from smp_client.errors import SmpSignatureError, SmpXmlError

NS_DSIG: Final = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

C14N_10: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_11: Final = "http://www.w3.org/2006/12/xml-c14n11"
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
#: Canonicalisations accepted for SignedInfo and as an extra reference transform (no comments).
ALLOWED_C14N: Final = frozenset({C14N_10, C14N_11, EXC_C14N})

#: Signature methods accepted by default (RSA PKCS#1 v1.5 with SHA-2).
MODERN_SIGNATURE_METHODS: Final = frozenset(
    {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512}
)
#: Digest methods accepted by default.
MODERN_DIGESTS: Final = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})

#: Called with the signer certificate and the validation moment; returns a human description of the
#: trust decision or raises :class:`~smp_client.errors.SmpSignerUntrusted`.
SignerCheck = Callable[[x509.Certificate, datetime | None], str]


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    """What an acceptable SMP signature looks like."""

    #: Also accept RSA-SHA1 / SHA-1 (SMPs predating Peppol SMP 1.3.0). Off by default.
    allow_sha1: bool = False

    @property
    def signature_methods(self) -> frozenset[SignatureMethod]:
        return (
            MODERN_SIGNATURE_METHODS | {SignatureMethod.RSA_SHA1}
            if self.allow_sha1
            else MODERN_SIGNATURE_METHODS
        )

    @property
    def digests(self) -> frozenset[DigestAlgorithm]:
        return MODERN_DIGESTS | {DigestAlgorithm.SHA1} if self.allow_sha1 else MODERN_DIGESTS


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    """A verified SMP response: the signed content and facts about its signature."""

    #: Root of what was signed (canonical form re-parsed; no ``ds:Signature``, no comments).
    root: etree._Element
    signer: x509.Certificate
    signer_subject: str
    trust: str
    c14n: str
    signature_method: str
    digest_method: str


def _ds(local: str) -> str:
    return f"{{{NS_DSIG}}}{local}"


def _one(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = parent.findall(path)
    if len(found) != 1:
        raise SmpSignatureError(f"signature must have exactly one {what} (found {len(found)})")
    return found[0]


def _check_structure(root: etree._Element, policy: SignaturePolicy) -> tuple[etree._Element, str, str, str]:
    """Allow-list checks on the signature's shape; returns (signature, c14n, sig method, digest)."""
    signatures = list(root.iter(_ds("Signature")))
    if not signatures:
        raise SmpSignatureError("SMP response is not signed (no ds:Signature)")
    if len(signatures) > 1:
        raise SmpSignatureError(
            f"SMP response carries {len(signatures)} signatures; exactly one is supported"
        )
    signature = signatures[0]
    elements = [child for child in root if isinstance(child.tag, str)]
    if signature.getparent() is not root or elements[-1] is not signature:
        raise SmpSignatureError("ds:Signature must be the last child of the document element (enveloped)")
    signed_info = _one(signature, _ds("SignedInfo"), "SignedInfo")
    c14n = _one(signed_info, _ds("CanonicalizationMethod"), "CanonicalizationMethod").get("Algorithm", "")
    if c14n not in ALLOWED_C14N:
        raise SmpSignatureError(f"canonicalisation {c14n!r} is not allowed")
    method = _one(signed_info, _ds("SignatureMethod"), "SignatureMethod").get("Algorithm", "")
    if method not in {m.value for m in policy.signature_methods}:
        hint = " (SHA-1 needs the explicit legacy option)" if "sha1" in method else ""
        raise SmpSignatureError(f"signature method {method!r} is not allowed{hint}")
    reference = _one(signed_info, _ds("Reference"), "Reference")
    if reference.get("URI") != "":
        raise SmpSignatureError(f"Reference URI must be empty (whole document), got {reference.get('URI')!r}")
    transforms = [
        t.get("Algorithm", "") for t in reference.iterfind(f"{_ds('Transforms')}/{_ds('Transform')}")
    ]
    if not transforms or transforms[0] != ENVELOPED:
        raise SmpSignatureError("the first Transform must be enveloped-signature")
    extra = transforms[1:]
    if len(extra) > 1 or any(t not in ALLOWED_C14N for t in extra):
        raise SmpSignatureError(f"unexpected reference transforms {transforms!r}")
    digest = _one(reference, _ds("DigestMethod"), "DigestMethod").get("Algorithm", "")
    if digest not in {d.value for d in policy.digests}:
        hint = " (SHA-1 needs the explicit legacy option)" if "sha1" in digest else ""
        raise SmpSignatureError(f"digest method {digest!r} is not allowed{hint}")
    return signature, c14n, method, digest


def signer_certificate(signature: etree._Element) -> x509.Certificate:
    """The first ``KeyInfo/X509Data/X509Certificate`` (the signer; any further ones are chain)."""
    certs = signature.findall(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}")
    try:
        text = simple_text(certs[0]) if certs else ""
    except XmlMixedContentError as exc:
        raise SmpSignatureError(f"KeyInfo/X509Data/X509Certificate: {exc}") from exc
    if not text.strip():
        raise SmpSignatureError("signature has no KeyInfo/X509Data/X509Certificate")
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
        # load_certificate also decodes subject and issuer now (cryptography parses names lazily):
        # a malformed name is refused here, not as a bare ValueError in the trust check's message.
        return load_certificate(der)
    except (binascii.Error, ValueError, KeyLoadError) as exc:
        raise SmpSignatureError(f"X509Certificate in signature cannot be decoded: {exc}") from exc


def verify_smp_signature(
    data: bytes,
    *,
    signer_check: SignerCheck,
    policy: SignaturePolicy | None = None,
    moment: datetime | None = None,
    check_root: Callable[[etree._Element], object] | None = None,
) -> VerifiedDocument:
    """Verify the enveloped signature of an SMP response given as raw bytes.

    ``signer_check`` decides whether the certificate in ``KeyInfo`` may sign SMP data at ``moment``
    (default: now) and raises :class:`~smp_client.errors.SmpSignerUntrusted` if not. ``check_root``
    may reject the document element before any signature work (e.g. not an SMP document). Raises
    :class:`~smp_client.errors.SmpXmlError` for unparseable input and
    :class:`~smp_client.errors.SmpSignatureError` for any signature problem.
    """
    policy = policy or SignaturePolicy()
    try:
        tree = parse_bytes(data)
    except XmlError as exc:
        raise SmpXmlError(f"SMP response is not acceptable XML: {exc}") from exc
    if check_root is not None:
        check_root(tree.getroot())
    signature, c14n, method, digest = _check_structure(tree.getroot(), policy)
    signer = signer_certificate(signature)
    trust = signer_check(signer, moment)
    config = SignatureConfiguration(
        location="./",
        expect_references=1,
        signature_methods=policy.signature_methods,
        digest_algorithms=policy.digests,
        verification_time=moment,
    )
    try:
        result = XMLVerifier().verify(data, x509_cert=signer, parser=make_parser(), expect_config=config)
    except (etree.C14NError, XmlCanonicalizationError) as exc:
        # e.g. a relative namespace URI (xmlns:p="rel"): Canonical XML forbids it, so nothing can
        # have been signed over this document
        raise SmpSignatureError(f"SMP response cannot be canonicalised for verification: {exc}") from exc
    except (SignXMLException, etree.DocumentInvalid, ValueError) as exc:
        raise SmpSignatureError(f"SMP signature does not verify: {exc}") from exc
    assert not isinstance(result, list)  # expect_references=1 gives one result
    if result.signed_xml is None:
        raise SmpSignatureError("signed content is not XML")
    return VerifiedDocument(
        root=result.signed_xml,
        signer=signer,
        signer_subject=signer.subject.rfc4514_string(),
        trust=trust,
        c14n=c14n,
        signature_method=method,
        digest_method=digest,
    )
