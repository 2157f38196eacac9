"""Unit tests of the discovery building blocks: URLs, XML dialects, endpoint selection, names, cache."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from peppol.testpki import TestPki
from peppol.xml import parse_bytes
from smp_client.cache import TtlCache
from smp_client.documents import (
    doctype_from_href,
    parse_service_group,
    parse_service_metadata,
    parse_xs_datetime,
)
from smp_client.endpoints import decode_certificate, select_endpoint
from smp_client.errors import NoMatchingEndpoint, SmpXmlError, UntrustedEndpointCertificate
from smp_client.model import EndpointRecord, ProcessRecord, RawId, ServiceMetadataDoc, SmpDialect
from smp_client.names import certificate_uid_matches
from smp_client.urls import service_group_url, service_metadata_url
from tests.smp_client.smp_docs import Ep, bdxr2_metadata, v1_metadata, v1_redirect, v1_service_group

PID = ("iso6523-actorid-upis", "0088:5798000000001")
DOC = (
    "busdox-docid-qns",
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017#compliant"
    "#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1",
)


# --- URLs ----------------------------------------------------------------------------------------


def test_smp_url_per_segment_encoding_matches_live_smps() -> None:
    url = service_metadata_url("https://smp.example/", PID, DOC, SmpDialect.PEPPOL)
    assert url == (
        "https://smp.example/iso6523-actorid-upis%3A%3A0088%3A5798000000001/services/"
        "busdox-docid-qns%3A%3Aurn%3Aoasis%3Anames%3Aspecification%3Aubl%3Aschema%3Axsd%3AInvoice-2%3A%3A"
        "Invoice%23%23urn%3Acen.eu%3Aen16931%3A2017%23compliant%23urn%3Afdc%3Apeppol.eu%3A2017%3Apoacc%3A"
        "billing%3A3.0%3A%3A2.1"
    )


def test_smp_url_base_without_slash_and_path() -> None:
    assert service_group_url("https://smp.example/smp", PID, SmpDialect.PEPPOL) == (
        "https://smp.example/smp/iso6523-actorid-upis%3A%3A0088%3A5798000000001"
    )


def test_smp_url_bdxr2_prefix_and_empty_scheme() -> None:
    assert service_group_url("https://smp.example", ("", "0088:1/x"), SmpDialect.BDXR2) == (
        "https://smp.example/bdxr-smp-2/0088%3A1%2Fx"
    )


# --- documents -----------------------------------------------------------------------------------


def test_doctype_from_raw_and_encoded_hrefs() -> None:
    raw = "http://B-abc.iso6523-actorid-upis.edelivery.tech.ec.europa.eu/iso6523-actorid-upis::0088:1/services/busdox-docid-qns::a::b##c::2.1"
    assert doctype_from_href(raw) == RawId("busdox-docid-qns", "a::b##c::2.1")
    enc = "https://smp.example/iso6523-actorid-upis%3A%3A0088%3A1/SERVICES/busdox-docid-qns%3A%3Aa%3A%3Ab%23%23c%3A%3A2.1"
    assert doctype_from_href(enc) == RawId("busdox-docid-qns", "a::b##c::2.1")
    assert doctype_from_href("https://smp.example/something-else") is None


@pytest.mark.parametrize(
    ("text", "end_of_day", "expected"),
    [
        ("2020-08-04T23:59:59Z", False, datetime(2020, 8, 4, 23, 59, 59, tzinfo=UTC)),
        ("2020-08-04T23:59:59", False, datetime(2020, 8, 4, 23, 59, 59, tzinfo=UTC)),
        ("2020-08-04T23:59:59+02:00", False, datetime(2020, 8, 4, 21, 59, 59, tzinfo=UTC)),
        ("2020-08-04", False, datetime(2020, 8, 4, tzinfo=UTC)),
        ("2020-08-04Z", True, datetime(2020, 8, 5, tzinfo=UTC)),
    ],
)
def test_xs_datetime_parsing(text: str, end_of_day: bool, expected: datetime) -> None:
    assert parse_xs_datetime(text, end_of_day=end_of_day) == expected


def test_xs_datetime_rejects_garbage() -> None:
    with pytest.raises(SmpXmlError):
        parse_xs_datetime("tomorrow")


def test_unknown_root_is_malformed() -> None:
    with pytest.raises(SmpXmlError, match="not an SMP document: root element html"):
        parse_service_metadata(parse_bytes(b"<html><body>login</body></html>").getroot())
    with pytest.raises(SmpXmlError, match="not an SMP document: root element html"):
        parse_service_group(parse_bytes(b"<html/>").getroot())


def test_xs_datetime_zone_beyond_14_hours_is_refused() -> None:
    with pytest.raises(SmpXmlError, match="time zone offset beyond"):
        parse_xs_datetime("2020-01-01T00:00:00+15:00")
    assert parse_xs_datetime("2020-01-01T00:00:00+14:00") == datetime(2019, 12, 31, 10, tzinfo=UTC)


def _without(doc, local: str, attribute: str | None = None):  # type: ignore[no-untyped-def]
    """``doc`` with every ``local`` element removed (or only its ``attribute``)."""
    from lxml import etree

    for el in list(doc.iter()):
        if isinstance(el.tag, str) and etree.QName(el).localname == local:
            if attribute is None:
                el.getparent().remove(el)
            else:
                el.attrib.pop(attribute, None)
    return doc


def test_required_smp_parts_are_checked(test_pki: TestPki) -> None:
    ep = [Ep("https://ap.example/as4", test_pki.aps[0].certificate())]
    with pytest.raises(SmpXmlError, match="Endpoint without transportProfile"):
        parse_service_metadata(
            _without(v1_metadata("a::0088:1", "d::x", "p::y", ep), "Endpoint", "transportProfile")
        )
    with pytest.raises(SmpXmlError, match="lacks ParticipantIdentifier"):
        parse_service_metadata(
            _without(v1_metadata("a::0088:1", "d::x", "p::y", ep), "ParticipantIdentifier")
        )
    with pytest.raises(SmpXmlError, match="Redirect without href"):
        parse_service_metadata(
            _without(v1_redirect("https://other.example/x", "CN=SMP1,C=BE"), "Redirect", "href")
        )


def test_peppol_and_bdxr_documents_read_the_same(test_pki: TestPki) -> None:
    cert = test_pki.aps[0].certificate()
    ep = [Ep("https://ap.example/as4", cert, activation="2020-01-01T00:00:00Z")]
    docs = [
        parse_service_metadata(v1_metadata("a::0088:1", "d::x", "p::y", ep)),
        parse_service_metadata(v1_metadata("a::0088:1", "d::x", "p::y", ep, bdxr1=True)),
        parse_service_metadata(bdxr2_metadata("a::0088:1", "d::x", "p::y", ep)),
    ]
    assert [d.dialect for d in docs] == [SmpDialect.PEPPOL, SmpDialect.BDXR1, SmpDialect.BDXR2]
    for doc in docs:
        assert doc.participant == RawId("a", "0088:1") and doc.document_type == RawId("d", "x")
        record = doc.processes[0].endpoints[0]
        assert record.url == "https://ap.example/as4"
        assert record.activation == datetime(2020, 1, 1, tzinfo=UTC)
        assert decode_certificate(record.certificates[0]) == cert


def test_redirect_document() -> None:
    doc = parse_service_metadata(v1_redirect("https://other.example/x", "CN=SMP1,C=BE"))
    assert doc.redirect is not None and doc.redirect.href == "https://other.example/x"
    assert doc.redirect.certificate_uid == "CN=SMP1,C=BE"


# --- endpoint selection --------------------------------------------------------------------------


PROC = RawId("p", "proc")


def _doc(*endpoints: EndpointRecord, process: RawId = PROC) -> ServiceMetadataDoc:
    return ServiceMetadataDoc(
        SmpDialect.PEPPOL, RawId("a", "b"), RawId("d", "e"), (ProcessRecord((process,), endpoints),)
    )


AS4 = "peppol-transport-as4-v2_0"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_select_first_active_endpoint_with_exact_profile() -> None:
    old = EndpointRecord(AS4, "https://old", ("x",), expiration=datetime(2026, 1, 1, tzinfo=UTC))
    new = EndpointRecord(AS4, "https://new", ("x",), activation=datetime(2026, 1, 1, tzinfo=UTC))
    as2 = EndpointRecord("busdox-transport-as2-ver2p0", "https://as2", ("x",))
    sel = select_endpoint(_doc(as2, old, new), RawId("p", "proc"), AS4, NOW)
    assert sel.endpoint is not None and sel.endpoint.url == "https://new"
    sel = select_endpoint(_doc(as2, old, new), RawId("p", "proc"), AS4, datetime(2025, 1, 1, tzinfo=UTC))
    assert sel.endpoint is not None and sel.endpoint.url == "https://old"


def test_select_process_is_case_sensitive() -> None:
    doc = _doc(EndpointRecord(AS4, "https://a", ("x",)))
    with pytest.raises(NoMatchingEndpoint, match="not offered"):
        select_endpoint(doc, RawId("p", "PROC"), AS4, NOW)


def test_select_expiration_instant_is_exclusive() -> None:
    doc = _doc(EndpointRecord(AS4, "https://a", ("x",), expiration=NOW))
    with pytest.raises(NoMatchingEndpoint, match="expired"):
        select_endpoint(doc, RawId("p", "proc"), AS4, NOW)


def test_decode_certificate_leniently(test_pki: TestPki) -> None:
    cert = test_pki.aps[0].certificate()
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    assert decode_certificate(pem) == cert
    body = "".join(pem.splitlines()[1:-1])
    assert decode_certificate("  " + " \n ".join(body[i : i + 64] for i in range(0, len(body), 64))) == cert
    for bad, reason in (
        ("", "endpoint certificate is empty"),
        ("-----BEGIN CERTIFICATE-----\n \n-----END CERTIFICATE-----", "endpoint certificate is empty"),
        ("not base64 !", "cannot be decoded"),
        ("AAAA", "cannot be decoded: not a PEM or DER certificate"),
    ):
        with pytest.raises(UntrustedEndpointCertificate, match=reason):
            decode_certificate(bad)


# --- CertificateUID ------------------------------------------------------------------------------


def test_certificate_uid_unordered_rdns(test_pki: TestPki) -> None:
    cert: x509.Certificate = test_pki.smp.certificate()  # C=FR,O=Generated Test SMP,CN=PFR000501
    assert certificate_uid_matches(cert, "CN=PFR000501, O=Generated Test SMP, C=FR")
    assert certificate_uid_matches(cert, "c=FR;o=generated test smp;cn=PFR000501")
    assert certificate_uid_matches(cert, "PFR000501")
    assert not certificate_uid_matches(cert, "CN=PFR000501, C=FR")
    assert not certificate_uid_matches(cert, "CN=PFR000502, O=Generated Test SMP, C=FR")
    assert not certificate_uid_matches(cert, "garbage without pairs, x")


# --- cache ---------------------------------------------------------------------------------------


def test_cache_ttl_and_size_bound() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(ttl=10, maxsize=2, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)  # evicts the least recently used: b
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    now[0] = 10.0
    assert cache.get("a") is None and len(cache) == 1


def test_cache_disabled_with_zero_ttl() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl=0)
    cache.put("a", 1)
    assert cache.get("a") is None


def test_cache_is_safe_under_threads() -> None:
    cache: TtlCache[int, int] = TtlCache(maxsize=50)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(2000):
                cache.put((i + offset) % 80, i)
                cache.get((i * 7) % 80)
        except BaseException as exc:  # pragma: no cover - only on failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 50


def test_service_group_where_metadata_was_asked_is_refused() -> None:
    group = v1_service_group("a::0088:1", "https://smp.example/", ["d::x"])
    with pytest.raises(SmpXmlError, match=r"expected SignedServiceMetadata, got .*ServiceGroup"):
        parse_service_metadata(parse_bytes(group).getroot())


def test_signed_service_metadata_without_service_metadata_is_refused(test_pki: TestPki) -> None:
    ep = [Ep("https://ap.example/as4", test_pki.aps[0].certificate())]
    doc = _without(v1_metadata("a::0088:1", "d::x", "p::y", ep), "ServiceMetadata")
    with pytest.raises(SmpXmlError, match="SignedServiceMetadata without ServiceMetadata"):
        parse_service_metadata(doc)


def test_service_metadata_without_information_or_redirect_is_refused(test_pki: TestPki) -> None:
    ep = [Ep("https://ap.example/as4", test_pki.aps[0].certificate())]
    doc = _without(v1_metadata("a::0088:1", "d::x", "p::y", ep), "ServiceInformation")
    with pytest.raises(SmpXmlError, match="has neither ServiceInformation nor Redirect"):
        parse_service_metadata(doc)
