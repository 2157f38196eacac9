"""Fuzz ``smp_client``: SMP documents of the three dialects (ServiceGroup, ServiceMetadata, redirects),
mutated, parsed directly and pushed through :class:`~smp_client.Discovery` with an in-memory HTTP
stub (unit level: no DNS, no sockets). Only :class:`~smp_client.errors.DiscoveryError` subclasses
may come out.
"""

from __future__ import annotations

import base64
import re
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import event, given
from hypothesis import strategies as st
from lxml import etree

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from peppol.pki import load_private_key
from peppol.xml import XmlError, parse_bytes
from smp_client import Discovery, DiscoveryConfig, DiscoveryError
from smp_client.documents import parse_service_group, parse_service_metadata, parse_xs_datetime
from smp_client.endpoints import decode_certificate, select_endpoint
from smp_client.errors import SmpSignatureError, SmpXmlError, UntrustedEndpointCertificate
from smp_client.http import HttpResult
from smp_client.model import RawId
from tests.fuzz import fuzz_settings, mutated, token_mutated, xml_mutated
from tests.smp_client.smp_docs import (
    Ep,
    bdxr2_metadata,
    bdxr2_redirect,
    bdxr2_service_group,
    sign,
    v1_metadata,
    v1_redirect,
    v1_service_group,
)

PARTICIPANT = "iso6523-actorid-upis::9915:fuzz"
DOCTYPE = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
SMP_URL = "https://smp.fuzz.test/"
AS4 = "peppol-transport-as4-v2_0"

_TOKENS = (
    b"ServiceGroup",
    b"ServiceMetadataReferenceCollection",
    b"ServiceMetadataReference",
    b"ServiceReference",
    b"SignedServiceMetadata",
    b"ServiceMetadata",
    b"ServiceInformation",
    b"ParticipantIdentifier",
    b"ParticipantID",
    b"DocumentIdentifier",
    b"ProcessList",
    b"ProcessMetadata",
    b"Process",
    b"ProcessIdentifier",
    b"ServiceEndpointList",
    b"Endpoint",
    b"EndpointReference",
    b"EndpointURI",
    b"AddressURI",
    b"Address",
    b"transportProfile",
    b"TransportProfileID",
    b"Certificate",
    b"ContentBinaryObject",
    b"ServiceActivationDate",
    b"ServiceExpirationDate",
    b"ActivationDate",
    b"ExpirationDate",
    b"Redirect",
    b"PublisherURI",
    b"CertificateUID",
    b"href",
    b"scheme",
    b"schemeID",
    b"/services/",
    b"%3A%3A",
    b"::",
    b"2020-01-01",
    b"2099-12-31",
    b"T00:00:00",
    b"Z",
    b"+",
    b"MII",
    b"-----BEGIN CERTIFICATE-----",
)


class _Docs(dict[str, bytes]):
    def __repr__(self) -> str:
        return f"<SMP documents {sorted(self)}>"


@pytest.fixture(scope="module")
def smp_docs(test_pki: Any) -> dict[str, bytes]:
    cert = test_pki.aps[1].certificate()
    ep = Ep(
        "https://ap.fuzz.test/as4",
        cert,
        activation="2020-01-01T00:00:00Z",
        expiration="2099-12-31",
    )
    ep_pem = Ep("https://ap.fuzz.test/as4", cert, activation="2020-01-01", cert_text=None)

    def text(root: etree._Element) -> bytes:
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return _Docs(
        {
            "sg-peppol": v1_service_group(PARTICIPANT, SMP_URL, [DOCTYPE, "busdox-docid-qns::x"]),
            "sg-bdxr1": v1_service_group(PARTICIPANT, SMP_URL, [DOCTYPE], bdxr1=True),
            "sg-bdxr2": bdxr2_service_group(PARTICIPANT, [DOCTYPE]),
            "sm-peppol": text(v1_metadata(PARTICIPANT, DOCTYPE, PROCESS, [ep, ep_pem])),
            "sm-bdxr1": text(v1_metadata(PARTICIPANT, DOCTYPE, PROCESS, [ep], bdxr1=True)),
            "sm-bdxr2": text(bdxr2_metadata(PARTICIPANT, DOCTYPE, PROCESS, [ep, ep_pem])),
            "redirect-peppol": text(v1_redirect(SMP_URL + "other", "CN=SMP")),
            "redirect-bdxr1": text(v1_redirect(SMP_URL + "other", "CN=SMP", bdxr1=True)),
            "redirect-bdxr2": text(bdxr2_redirect(PARTICIPANT, DOCTYPE, PROCESS, SMP_URL + "x", cert)),
        }
    )


def _mutate(data: st.DataObject, seed: bytes) -> bytes:
    how = data.draw(st.sampled_from(("tree", "tokens", "tree", "bytes", "tree", "both")), label="how")
    if how == "tree":
        return data.draw(xml_mutated(seed, max_ops=3), label="tree-mutated")
    if how in ("tokens", "both"):
        seed = data.draw(token_mutated(seed, _TOKENS, max_ops=3), label="token-mutated")
    if how in ("bytes", "both"):
        seed = data.draw(mutated(seed, max_ops=3), label="byte-mutated")
    return seed


def _exercise_metadata(root: etree._Element) -> None:
    doc = parse_service_metadata(root)
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    for proc in doc.processes:
        for ep in proc.endpoints:
            for cert in ep.certificates:
                with suppress(DiscoveryError):
                    decode_certificate(cert)
    with suppress(DiscoveryError):
        select_endpoint(doc, RawId(*PROCESS.split("::", 1)), AS4, moment)


@fuzz_settings(200)
@given(data=st.data())
def test_smp_document_parsers_raise_only_discovery_errors(
    smp_docs: dict[str, bytes], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(smp_docs)), label="seed")
    blob = _mutate(data, smp_docs[name])
    try:
        root = parse_bytes(blob).getroot()
    except XmlError:
        return
    try:
        if name.startswith("sg-"):
            parse_service_group(root)
        else:
            _exercise_metadata(root)
    except DiscoveryError as exc:
        assert exc.code, exc


@pytest.mark.parametrize(
    ("text", "end_of_day"),
    [
        ("0001-01-01T00:00:00+01:00", False),
        ("9999-12-31T23:59:59-01:00", False),
        ("0001-01-01+01:00", False),
        ("2020-01-01+99999999999:00", False),
        ("2020-01-01+14:01", False),
        ("2020-01-01T00:00:00-15:00", False),
    ],
)
def test_parse_xs_datetime_out_of_range_is_smp_xml_error(text: str, end_of_day: bool) -> None:
    with pytest.raises(SmpXmlError):
        parse_xs_datetime(text, end_of_day=end_of_day)


@pytest.mark.parametrize("text", ["9999-12-31", "9999-12-31Z", "9999-12-31-05:00"])
def test_parse_xs_datetime_end_of_last_day_is_clamped(text: str) -> None:
    """The end of 9999-12-31 (a common "never expires") is past ``datetime.max``: clamped to it."""
    assert parse_xs_datetime(text, end_of_day=True) == datetime.max.replace(tzinfo=UTC)


def test_endpoint_expiring_9999_12_31_parses(test_pki: Any) -> None:
    ep = Ep("https://ap.fuzz.test/as4", test_pki.aps[1].certificate(), expiration="9999-12-31")
    doc = parse_service_metadata(v1_metadata(PARTICIPANT, DOCTYPE, PROCESS, [ep]))
    assert doc.processes[0].endpoints[0].expiration == datetime.max.replace(tzinfo=UTC)


# --- through Discovery (signature, redirects, identifier checks) --------------------------------------


class StubHttp:
    """Answers every GET with the same body (unit-level stub for the SMP)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def get(self, url: str) -> HttpResult:
        return HttpResult(url, 200, self.body, "text/xml", 0.001)


@pytest.fixture(scope="module")
def signer(test_pki: Any) -> tuple[Any, Any]:
    return load_private_key(test_pki.smp.key), test_pki.smp.certificate()


@pytest.fixture(scope="module")
def validators(test_pki: Any) -> tuple[Any, Any]:
    smp_validator = test_pki.smp_validator()
    ap_validator = test_pki.ap_validator()
    smp_validator.validate(test_pki.smp.certificate())
    ap_validator.validate(test_pki.aps[1].certificate())
    return smp_validator, ap_validator


def _discovery(validators: tuple[Any, Any], body: bytes) -> Discovery:
    smp_validator, ap_validator = validators
    return Discovery(
        DiscoveryConfig(cache_ttl=0),
        smp_validator=smp_validator,
        ap_validator=ap_validator,
        http=StubHttp(body),  # type: ignore[arg-type]
    )


def _lookup(discovery: Discovery, group: bool) -> None:
    participant = ParticipantId.parse(PARTICIPANT)
    try:
        if group:
            discovery.service_group_result(participant, smp_url=SMP_URL)
        else:
            result = discovery.lookup(
                participant, DocumentTypeId.parse(DOCTYPE), ProcessId.parse(PROCESS), smp_url=SMP_URL
            )
            assert result.endpoint is not None
            event("lookup succeeded")
    except DiscoveryError as exc:
        event(f"{type(exc).__name__}: {str(exc)[:60]}")
        assert exc.code


@fuzz_settings(100)
@given(data=st.data())
def test_discovery_with_mutated_signed_responses_raises_only_discovery_errors(
    smp_docs: dict[str, bytes], signer: tuple[Any, Any], validators: tuple[Any, Any], data: st.DataObject
) -> None:
    """Mutate, then sign with the (trusted) test SMP key: the documents reach the parsers through
    the real signature check. Some examples also mutate after signing (signature must fail cleanly)."""
    name = data.draw(st.sampled_from(sorted(smp_docs)), label="seed")
    blob = _mutate(data, smp_docs[name])
    group = name.startswith("sg-")
    if not group:
        try:
            root = parse_bytes(blob).getroot()
        except XmlError:
            root = None
        if root is not None:
            try:
                blob = sign(root, signer[0], signer[1])
            except etree.C14NError:  # the test SMP cannot sign it (relative namespace): send it unsigned
                event("unsignable document")
            if data.draw(st.booleans(), label="mutate-after-signing"):
                blob = data.draw(mutated(blob, max_ops=2), label="tampered")
    _lookup(_discovery(validators, blob), group)


@fuzz_settings(40)
@given(body=st.binary(max_size=400), group=st.booleans())
def test_discovery_with_garbage_responses_raises_only_discovery_errors(
    validators: tuple[Any, Any], body: bytes, group: bool
) -> None:
    _lookup(_discovery(validators, body), group)


def _bad_name(cert: Any, marker: bytes) -> bytes:
    """``cert`` as DER with two bytes of a name attribute replaced by invalid UTF-8: it still loads
    (cryptography decodes names lazily) but reading ``subject`` raises ValueError."""
    der = bytes(cert.public_bytes(serialization.Encoding.DER))
    i = der.index(marker)
    return der[:i] + b"\xff\xfe" + der[i + 2 :]


def _lookup_raises_only_discovery_errors(
    validators: tuple[Any, Any], body: bytes, expected: type[DiscoveryError] = DiscoveryError
) -> None:
    with pytest.raises(expected):
        _discovery(validators, body).lookup(
            ParticipantId.parse(PARTICIPANT),
            DocumentTypeId.parse(DOCTYPE),
            ProcessId.parse(PROCESS),
            smp_url=SMP_URL,
        )


def test_signer_certificate_with_malformed_subject_is_a_discovery_error(
    smp_docs: dict[str, bytes], signer: tuple[Any, Any], validators: tuple[Any, Any]
) -> None:
    signed = sign(parse_bytes(smp_docs["sm-peppol"]).getroot(), signer[0], signer[1]).decode()
    good = re.search(r"<ds:X509Certificate>(.*?)</ds:X509Certificate>", signed, re.S)
    assert good is not None
    bad = base64.b64encode(_bad_name(signer[1], b"Generated Test SMP")).decode()
    _lookup_raises_only_discovery_errors(
        validators, signed.replace(good.group(1), bad).encode(), SmpSignatureError
    )


def test_endpoint_certificate_with_malformed_subject_is_a_discovery_error(
    test_pki: Any, signer: tuple[Any, Any], validators: tuple[Any, Any]
) -> None:
    bad = base64.b64encode(_bad_name(test_pki.aps[1].certificate(), b"Generated Test Access Point")).decode()
    ep = Ep("https://ap.fuzz.test/as4", None, cert_text=bad)
    root = v1_metadata(PARTICIPANT, DOCTYPE, PROCESS, [ep])
    _lookup_raises_only_discovery_errors(
        validators, sign(root, signer[0], signer[1]), UntrustedEndpointCertificate
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<ServiceMetadata>", b'<ServiceMetadata xmlns:r="rel" r:x="1">'),
        (b"<ServiceInformation>", b'<ServiceInformation xmlns="rel">'),
    ],
)
def test_relative_namespace_in_smp_response_is_a_discovery_error(
    smp_docs: dict[str, bytes], signer: tuple[Any, Any], validators: tuple[Any, Any], old: bytes, new: bytes
) -> None:
    signed = sign(parse_bytes(smp_docs["sm-peppol"]).getroot(), signer[0], signer[1])
    assert old in signed
    _lookup_raises_only_discovery_errors(validators, signed.replace(old, new, 1), SmpSignatureError)
