"""Signed Peppol SMP 1.x ServiceMetadata documents for the loopback network of ``ap dev pair``, as an
SMP would publish them (enveloped XMLDSig, RSA-SHA256, the SMP certificate in KeyInfo)."""

from __future__ import annotations

import base64
from typing import Final

from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2
from peppol.pki import Identity

NS_SMP: Final = "http://busdox.org/serviceMetadata/publishing/1.0/"
NS_IDS: Final = "http://busdox.org/transport/identifiers/1.0/"
NS_WSA: Final = "http://www.w3.org/2005/08/addressing"


def _split(uri: str) -> tuple[str, str]:
    scheme, _, value = uri.partition("::")
    return scheme, value


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    element.text = text
    return element


def signed_metadata(
    participant: str, document_type: str, process: str, url: str, ap_certificate_der: bytes, smp: Identity
) -> bytes:
    """``SignedServiceMetadata`` announcing one AS4 endpoint for one (participant, document type, process)."""
    nsmap = {None: NS_SMP, "ids": NS_IDS, "wsa": NS_WSA}
    root = etree.Element(f"{{{NS_SMP}}}SignedServiceMetadata", nsmap=nsmap)  # type: ignore[arg-type]
    info = _sub(_sub(root, f"{{{NS_SMP}}}ServiceMetadata"), f"{{{NS_SMP}}}ServiceInformation")
    scheme, value = _split(participant)
    _sub(info, f"{{{NS_IDS}}}ParticipantIdentifier", value, scheme=scheme)
    scheme, value = _split(document_type)
    _sub(info, f"{{{NS_IDS}}}DocumentIdentifier", value, scheme=scheme)
    proc = _sub(_sub(info, f"{{{NS_SMP}}}ProcessList"), f"{{{NS_SMP}}}Process")
    scheme, value = _split(process)
    _sub(proc, f"{{{NS_IDS}}}ProcessIdentifier", value, scheme=scheme)
    endpoints = _sub(proc, f"{{{NS_SMP}}}ServiceEndpointList")
    endpoint = _sub(endpoints, f"{{{NS_SMP}}}Endpoint", transportProfile=TRANSPORT_PROFILE_AS4_V2)
    _sub(_sub(endpoint, f"{{{NS_WSA}}}EndpointReference"), f"{{{NS_WSA}}}Address", url)
    _sub(endpoint, f"{{{NS_SMP}}}RequireBusinessLevelSignature", "false")
    _sub(endpoint, f"{{{NS_SMP}}}Certificate", base64.b64encode(ap_certificate_der).decode())
    _sub(endpoint, f"{{{NS_SMP}}}ServiceDescription", "ap dev pair access point")
    _sub(endpoint, f"{{{NS_SMP}}}TechnicalContactUrl", "mailto:ops@localhost")
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0.value,
    )
    pem = smp.certificate.public_bytes(serialization.Encoding.PEM).decode()
    signed = signer.sign(root, key=smp.private_key, cert=[pem], exclude_c14n_transform_element=True)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
