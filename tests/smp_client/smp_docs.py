"""Build SMP responses of the three dialects and sign them (enveloped XMLDSig with signxml), as an
SMP would. Test-only: signing in tests is how the loopback SMPs produce realistic answers."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from smp_client.documents import (
    NS_BDXR1,
    NS_BDXR2_CAC,
    NS_BDXR2_CBC,
    NS_BDXR2_SG,
    NS_BDXR2_SM,
    NS_PEPPOL,
    NS_PEPPOL_IDS,
    NS_WSA,
)

AS4: str = "peppol-transport-as4-v2_0"


@dataclass(frozen=True)
class Ep:
    url: str
    cert: x509.Certificate | None
    profile: str = AS4
    activation: str | None = None
    expiration: str | None = None
    cert_text: str | None = None  # overrides cert (e.g. PEM-armoured)


def b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _root(tag: str, nsmap: dict[str | None, str]) -> etree._Element:
    """``etree.Element`` with a default namespace (lxml-stubs do not allow a ``None`` prefix key)."""
    return etree.Element(tag, nsmap=nsmap)  # type: ignore[arg-type]


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _split(uri: str) -> tuple[str, str]:
    scheme, _, value = uri.partition("::")
    return scheme, value


# --- Peppol SMP 1.x / BDXR 1 ---------------------------------------------------------------------


def v1_metadata(
    participant: str,
    doctype: str,
    process: str,
    endpoints: Sequence[Ep],
    *,
    bdxr1: bool = False,
) -> etree._Element:
    ns = NS_BDXR1 if bdxr1 else NS_PEPPOL
    ids = NS_BDXR1 if bdxr1 else NS_PEPPOL_IDS
    nsmap: dict[str | None, str] = {None: ns} if bdxr1 else {None: ns, "ids": ids, "wsa": NS_WSA}
    root = _root(f"{{{ns}}}SignedServiceMetadata", nsmap)
    sm = _sub(root, f"{{{ns}}}ServiceMetadata")
    info = _sub(sm, f"{{{ns}}}ServiceInformation")
    pscheme, pvalue = _split(participant)
    _sub(info, f"{{{ids}}}ParticipantIdentifier", pvalue, scheme=pscheme)
    dscheme, dvalue = _split(doctype)
    _sub(info, f"{{{ids}}}DocumentIdentifier", dvalue, scheme=dscheme)
    proc = _sub(_sub(info, f"{{{ns}}}ProcessList"), f"{{{ns}}}Process")
    rscheme, rvalue = _split(process)
    _sub(proc, f"{{{ids}}}ProcessIdentifier", rvalue, scheme=rscheme)
    eplist = _sub(proc, f"{{{ns}}}ServiceEndpointList")
    for ep in endpoints:
        e = _sub(eplist, f"{{{ns}}}Endpoint", transportProfile=ep.profile)
        if bdxr1:
            _sub(e, f"{{{ns}}}EndpointURI", ep.url)
        else:
            _sub(_sub(e, f"{{{NS_WSA}}}EndpointReference"), f"{{{NS_WSA}}}Address", ep.url)
        _sub(e, f"{{{ns}}}RequireBusinessLevelSignature", "false")
        if ep.activation:
            _sub(e, f"{{{ns}}}ServiceActivationDate", ep.activation)
        if ep.expiration:
            _sub(e, f"{{{ns}}}ServiceExpirationDate", ep.expiration)
        cert_text = ep.cert_text if ep.cert_text is not None else (b64(ep.cert) if ep.cert else "")
        _sub(e, f"{{{ns}}}Certificate", cert_text)
        _sub(e, f"{{{ns}}}ServiceDescription", "Test access point")
        _sub(e, f"{{{ns}}}TechnicalContactUrl", "mailto:ops@example.test")
    return root


def v1_redirect(href: str, certificate_uid: str, *, bdxr1: bool = False) -> etree._Element:
    ns = NS_BDXR1 if bdxr1 else NS_PEPPOL
    root = _root(f"{{{ns}}}SignedServiceMetadata", {None: ns})
    sm = _sub(root, f"{{{ns}}}ServiceMetadata")
    redirect = _sub(sm, f"{{{ns}}}Redirect", href=href)
    _sub(redirect, f"{{{ns}}}CertificateUID", certificate_uid)
    return root


def v1_service_group(
    participant: str, smp_base: str, doctypes: Sequence[str], *, bdxr1: bool = False
) -> bytes:
    from urllib.parse import quote

    ns = NS_BDXR1 if bdxr1 else NS_PEPPOL
    ids = NS_BDXR1 if bdxr1 else NS_PEPPOL_IDS
    root = _root(f"{{{ns}}}ServiceGroup", {None: ns, "ids": ids} if not bdxr1 else {None: ns})
    pscheme, pvalue = _split(participant)
    _sub(root, f"{{{ids}}}ParticipantIdentifier", pvalue, scheme=pscheme)
    coll = _sub(root, f"{{{ns}}}ServiceMetadataReferenceCollection")
    for d in doctypes:
        href = f"{smp_base}{quote(participant, safe='')}/services/{quote(d, safe='')}"
        _sub(coll, f"{{{ns}}}ServiceMetadataReference", href=href)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- BDXR 2 --------------------------------------------------------------------------------------


def bdxr2_metadata(participant: str, doctype: str, process: str, endpoints: Sequence[Ep]) -> etree._Element:
    cac, cbc = NS_BDXR2_CAC, NS_BDXR2_CBC
    root = _root(f"{{{NS_BDXR2_SM}}}ServiceMetadata", {None: NS_BDXR2_SM, "cac": cac, "cbc": cbc})
    _sub(root, f"{{{cbc}}}SMPVersionID", "2.0")
    dscheme, dvalue = _split(doctype)
    _sub(root, f"{{{cbc}}}ID", dvalue, schemeID=dscheme)
    pscheme, pvalue = _split(participant)
    _sub(root, f"{{{cbc}}}ParticipantID", pvalue, schemeID=pscheme)
    meta = _sub(root, f"{{{cac}}}ProcessMetadata")
    rscheme, rvalue = _split(process)
    _sub(_sub(meta, f"{{{cac}}}Process"), f"{{{cbc}}}ID", rvalue, schemeID=rscheme)
    for ep in endpoints:
        e = _sub(meta, f"{{{cac}}}Endpoint")
        _sub(e, f"{{{cbc}}}TransportProfileID", ep.profile)
        _sub(e, f"{{{cbc}}}Description", "Test access point")
        _sub(e, f"{{{cbc}}}Contact", "ops@example.test")
        _sub(e, f"{{{cbc}}}AddressURI", ep.url)
        if ep.activation:
            _sub(e, f"{{{cbc}}}ActivationDate", ep.activation)
        if ep.expiration:
            _sub(e, f"{{{cbc}}}ExpirationDate", ep.expiration)
        if ep.cert is not None:
            c = _sub(e, f"{{{cac}}}Certificate")
            _sub(c, f"{{{cbc}}}TypeCode", "signing+encryption")
            _sub(c, f"{{{cbc}}}ContentBinaryObject", b64(ep.cert), mimeCode="application/base64")
    return root


def bdxr2_redirect(
    participant: str, doctype: str, process: str, publisher: str, cert: x509.Certificate
) -> etree._Element:
    """A BDXR 2 ServiceMetadata whose only ProcessMetadata redirects to ``publisher``."""
    cac, cbc = NS_BDXR2_CAC, NS_BDXR2_CBC
    root = _root(f"{{{NS_BDXR2_SM}}}ServiceMetadata", {None: NS_BDXR2_SM, "cac": cac, "cbc": cbc})
    _sub(root, f"{{{cbc}}}SMPVersionID", "2.0")
    dscheme, dvalue = _split(doctype)
    _sub(root, f"{{{cbc}}}ID", dvalue, schemeID=dscheme)
    pscheme, pvalue = _split(participant)
    _sub(root, f"{{{cbc}}}ParticipantID", pvalue, schemeID=pscheme)
    meta = _sub(root, f"{{{cac}}}ProcessMetadata")
    rscheme, rvalue = _split(process)
    _sub(_sub(meta, f"{{{cac}}}Process"), f"{{{cbc}}}ID", rvalue, schemeID=rscheme)
    redirect = _sub(meta, f"{{{cac}}}Redirect")
    _sub(redirect, f"{{{cbc}}}PublisherURI", publisher)
    c = _sub(redirect, f"{{{cac}}}Certificate")
    _sub(c, f"{{{cbc}}}ContentBinaryObject", b64(cert), mimeCode="application/base64")
    return root


def bdxr2_service_group(participant: str, doctypes: Sequence[str]) -> bytes:
    cac, cbc = NS_BDXR2_CAC, NS_BDXR2_CBC
    root = _root(f"{{{NS_BDXR2_SG}}}ServiceGroup", {None: NS_BDXR2_SG, "cac": cac, "cbc": cbc})
    _sub(root, f"{{{cbc}}}SMPVersionID", "2.0")
    pscheme, pvalue = _split(participant)
    _sub(root, f"{{{cbc}}}ParticipantID", pvalue, schemeID=pscheme)
    for d in doctypes:
        dscheme, dvalue = _split(d)
        _sub(_sub(root, f"{{{cac}}}ServiceReference"), f"{{{cbc}}}ID", dvalue, schemeID=dscheme)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- signing -------------------------------------------------------------------------------------


class _LegacySigner(XMLSigner):
    """signxml refuses to *produce* SHA-1 signatures; old SMPs did, and the tests need one."""

    def check_deprecated_methods(self) -> None:
        return None


def sign(
    root: etree._Element,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    *,
    c14n: str = CanonicalizationMethod.CANONICAL_XML_1_0.value,
    sha1: bool = False,
    single_transform: bool = True,
) -> bytes:
    """Enveloped signature over the whole document, KeyInfo with the signer certificate.

    ``single_transform`` emits only the enveloped-signature transform, as the SMP specs require
    (signxml's default adds a C14N transform, which verifiers must tolerate).
    """
    signer = (_LegacySigner if sha1 else XMLSigner)(
        signature_algorithm=SignatureMethod.RSA_SHA1 if sha1 else SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA1 if sha1 else DigestAlgorithm.SHA256,
        c14n_algorithm=c14n,
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    signed = signer.sign(root, key=key, cert=[pem], exclude_c14n_transform_element=single_transform)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
