"""End-to-end discovery over loopback: real DNS (dnslib) + SMP over TLS, signed with the test PKI."""

from __future__ import annotations

import pytest

from peppol.identifiers import ParticipantId
from smp_client import (
    DnsTechnicalFailure,
    DocumentTypeNotServed,
    IdentifierMismatch,
    NoMatchingEndpoint,
    NoMatchingSmpService,
    ParticipantNotRegistered,
    RedirectError,
    SmlRecordError,
    SmpDialect,
    SmpHttpError,
    SmpSignatureError,
    SmpSignerUntrusted,
    SmpUnavailable,
    UntrustedEndpointCertificate,
)
from tests.smp_client.world import AP_URL, DOCTYPE, ORDER, P, World, smp_path


def test_lookup_peppol_smp_over_tls(smp_world: World) -> None:
    result = smp_world.lookup("good")
    assert result.endpoint.url == AP_URL
    assert result.endpoint.transport_profile == "peppol-transport-as4-v2_0"
    assert result.endpoint.certificate == smp_world.pki.aps[0].certificate()
    assert result.signature is not None and result.signature.valid
    assert "PFR000501" in result.signature.signer_subject
    assert result.certificate.valid and result.certificate.seat_id == "PFR000001"
    assert result.smp_url == smp_world.smp_url
    names = [s.name for s in result.steps]
    assert names[:2] == ["dns-name", "naptr"]
    assert {"smp-url", "http", "signature", "identifiers", "endpoint", "certificate"} <= set(names)


def test_smp_url_is_percent_encoded_per_segment(smp_world: World) -> None:
    smp_world.lookup("good")
    expected = smp_path(P["good"], DOCTYPE)
    assert expected in smp_world.smp.requests
    assert "%3A%3A" in expected and "%23%23" in expected and expected.count("/") == 4


def test_lookup_bdxr1_dialect(smp_world: World) -> None:
    assert smp_world.lookup("bdxr1").endpoint.url == AP_URL


def test_lookup_bdxr2_dialect_c14n11(smp_world: World) -> None:
    result = smp_world.lookup("bdxr2", dialect=SmpDialect.BDXR2)
    assert result.endpoint.url == AP_URL
    assert result.signature is not None and result.signature.c14n.endswith("xml-c14n11")


def test_lookup_exclusive_c14n_with_extra_transform(smp_world: World) -> None:
    assert smp_world.lookup("exc").endpoint.url == AP_URL


def test_endpoint_certificate_with_pem_armour_and_whitespace(smp_world: World) -> None:
    assert smp_world.lookup("pem").endpoint.certificate == smp_world.pki.aps[0].certificate()


def test_sha1_signature_refused_by_default_and_allowed_by_legacy_option(smp_world: World) -> None:
    with pytest.raises(SmpSignatureError, match="legacy"):
        smp_world.lookup("sha1")
    assert smp_world.lookup("sha1", allow_sha1=True).endpoint.url == AP_URL


def test_service_group_lists_document_types(smp_world: World) -> None:
    doctypes = smp_world.discovery().service_group(ParticipantId.parse(P["good"]))
    assert [d.uri for d in doctypes] == [DOCTYPE, ORDER]


def test_service_group_bdxr2(smp_world: World) -> None:
    disco = smp_world.discovery(dialect=SmpDialect.BDXR2)
    assert [d.uri for d in disco.service_group(ParticipantId.parse(P["bdxr2"]))] == [DOCTYPE, ORDER]


# --- SML failures --------------------------------------------------------------------------------


def test_participant_not_registered(smp_world: World) -> None:
    with pytest.raises(ParticipantNotRegistered) as info:
        smp_world.lookup("unknown")
    assert not info.value.retryable
    assert info.value.steps[0].name == "dns-name"


def test_dns_servfail_is_technical_failure(smp_world: World) -> None:
    with pytest.raises(DnsTechnicalFailure, match="SERVFAIL") as info:
        smp_world.lookup("servfail")
    assert info.value.retryable


def test_bad_naptr_regexp(smp_world: World) -> None:
    with pytest.raises(SmlRecordError, match="regexp pattern does not compile") as info:
        smp_world.lookup("badregexp")
    assert not info.value.retryable


def test_no_meta_smp_naptr(smp_world: World) -> None:
    with pytest.raises(NoMatchingSmpService, match="E2U\\+sip"):
        smp_world.lookup("nosmp")


# --- SMP signature and trust ---------------------------------------------------------------------


def test_tampered_signed_service_metadata(smp_world: World) -> None:
    with pytest.raises(SmpSignatureError, match=r"[Dd]igest"):
        smp_world.lookup("tampered")


def test_signer_issued_by_ap_ca_is_untrusted(smp_world: World) -> None:
    with pytest.raises(SmpSignerUntrusted, match=r"wrong-purpose: .*the SMP CA is required"):
        smp_world.lookup("apsigned")


def test_expired_smp_certificate(smp_world: World) -> None:
    with pytest.raises(SmpSignerUntrusted, match="expired"):
        smp_world.lookup("expiredsmp")


# --- Redirects -----------------------------------------------------------------------------------


def test_redirect_one_hop_with_matching_certificate_uid(smp_world: World) -> None:
    result = smp_world.lookup("redirectok")
    assert result.endpoint.url == AP_URL
    assert result.metadata_url is not None and result.metadata_url.endswith("/other/ok")
    assert "redirect" in [s.name for s in result.steps]


def test_redirect_to_a_second_redirect(smp_world: World) -> None:
    with pytest.raises(RedirectError, match="one hop"):
        smp_world.lookup("redirect2")
    assert not any(r.endswith("/other/hop2") for r in smp_world.smp.requests)


def test_redirect_to_plain_http_is_refused_before_any_request(smp_world: World) -> None:
    """A signed redirect cannot downgrade the next hop to plain HTTP."""
    from smp_client import BadSmpResponse

    before = len(smp_world.smp.requests)
    with pytest.raises(BadSmpResponse, match=r"refusing plain-http SMP URL http://.*/other/ok"):
        smp_world.lookup("redirecthttp")
    assert smp_world.smp.requests[before:] == [smp_path(P["redirecthttp"], DOCTYPE)]


def test_smp_http_client_refuses_other_schemes() -> None:
    from smp_client import BadSmpResponse
    from smp_client.http import SmpHttp

    client = SmpHttp()
    for url in ("ftp://smp.example/x", "https:///no-host"):
        with pytest.raises(BadSmpResponse, match="not an http"):
            client.get(url)


def test_redirect_signer_does_not_match_certificate_uid(smp_world: World) -> None:
    with pytest.raises(RedirectError, match="does not match"):
        smp_world.lookup("redirectbad")


# --- identifiers, endpoints, certificates --------------------------------------------------------


def test_smp_answering_for_a_different_document_type(smp_world: World) -> None:
    with pytest.raises(IdentifierMismatch, match="document type"):
        smp_world.lookup("wrongdoctype")


def test_expired_endpoint(smp_world: World) -> None:
    with pytest.raises(NoMatchingEndpoint, match="expired"):
        smp_world.lookup("expiredep")


def test_endpoint_not_yet_active(smp_world: World) -> None:
    with pytest.raises(NoMatchingEndpoint, match="not active before"):
        smp_world.lookup("future")


def test_wrong_transport_profile(smp_world: World) -> None:
    with pytest.raises(NoMatchingEndpoint, match="busdox-transport-as2-ver2p0"):
        smp_world.lookup("as2only")


def test_transport_profile_is_compared_exactly(smp_world: World) -> None:
    with pytest.raises(NoMatchingEndpoint, match="'peppol-transport-as4-v2_0 ' is not offered"):
        smp_world.lookup("good", profile="peppol-transport-as4-v2_0 ")


def test_endpoint_certificate_revoked(smp_world: World) -> None:
    with pytest.raises(UntrustedEndpointCertificate, match="revoked") as info:
        smp_world.lookup("revoked")
    assert info.value.certificate_code == "revoked"


def test_endpoint_without_certificate_is_untrusted(smp_world: World) -> None:
    """An endpoint we could not encrypt for is refused with the certificate error, not an IndexError."""
    with pytest.raises(UntrustedEndpointCertificate, match="publishes no certificate"):
        smp_world.lookup("nocert")


def test_endpoint_certificate_expired(smp_world: World) -> None:
    with pytest.raises(UntrustedEndpointCertificate, match="expired"):
        smp_world.lookup("expiredcert")


# --- HTTP ----------------------------------------------------------------------------------------


def test_http_302_is_not_followed(smp_world: World) -> None:
    with pytest.raises(SmpHttpError, match="302") as info:
        smp_world.lookup("found302")
    assert info.value.status == 302
    assert "/elsewhere" not in smp_world.smp.requests


def test_http_404_document_type_not_served(smp_world: World) -> None:
    with pytest.raises(DocumentTypeNotServed, match="404") as info:
        smp_world.lookup("notserved")
    assert not info.value.retryable


def test_smp_read_timeout_is_unavailable(smp_world: World) -> None:
    with pytest.raises(SmpUnavailable) as info:
        smp_world.lookup("slow", read_timeout=0.3)
    assert info.value.retryable


def test_tls_verification_against_wrong_ca(smp_world: World) -> None:
    from dataclasses import replace

    from smp_client import Discovery, SmpTlsError

    cfg = smp_world.config()
    cfg = replace(cfg, http=replace(cfg.http, ca_bundle=str(smp_world.pki.ap_truststore)))
    disco = Discovery(
        cfg, smp_validator=smp_world.pki.smp_validator(), ap_validator=smp_world.pki.ap_validator()
    )
    with pytest.raises(SmpTlsError, match="CERTIFICATE_VERIFY_FAILED"):
        disco.lookup(*_ids("good"))


def _ids(scenario: str):  # type: ignore[no-untyped-def]
    from peppol.identifiers import DocumentTypeId, ProcessId
    from tests.smp_client.world import PROCESS

    return ParticipantId.parse(P[scenario]), DocumentTypeId.parse(DOCTYPE), ProcessId.parse(PROCESS)


# --- caching -------------------------------------------------------------------------------------


def test_cached_lookup_is_a_dictionary_hit(smp_world: World) -> None:
    disco = smp_world.discovery()
    first = disco.lookup(*_ids("good"))
    before = (len(smp_world.smp.requests), len(smp_world.dns.log))
    second = disco.lookup(*_ids("good"))
    assert not first.cached and second.cached
    assert (len(smp_world.smp.requests), len(smp_world.dns.log)) == before
    assert second.endpoint == first.endpoint


def test_failures_are_not_cached(smp_world: World) -> None:
    disco = smp_world.discovery()
    path = smp_path(P["notserved"], DOCTYPE)
    before = smp_world.smp.requests.count(path)
    for _ in range(2):
        with pytest.raises(DocumentTypeNotServed):
            disco.lookup(*_ids("notserved"))
    assert smp_world.smp.requests.count(path) - before == 2


def test_signer_issued_by_tls_ca_is_untrusted(smp_world: World) -> None:
    with pytest.raises(SmpSignerUntrusted, match=r"untrusted: .*no path to a trusted root"):
        smp_world.lookup("tlssigned")


def test_smp_answering_for_a_different_participant(smp_world: World) -> None:
    with pytest.raises(IdentifierMismatch, match="participant"):
        smp_world.lookup("wrongparticipant")


def test_bdxr2_per_process_redirect_with_announced_certificate(smp_world: World) -> None:
    disco = smp_world.discovery(dialect=SmpDialect.BDXR2)
    ids = _ids("bdxr2redirect")
    result = disco.lookup(*ids)
    assert result.endpoint.url == AP_URL
    assert result.metadata_url is not None and result.metadata_url.endswith("/other/bdxr2")
    before = len(smp_world.smp.requests)
    assert disco.lookup(*ids).endpoint.url == AP_URL  # both documents now come from the cache
    assert len(smp_world.smp.requests) == before


def test_participant_value_is_case_insensitive(smp_world: World) -> None:
    from peppol.identifiers import DocumentTypeId, ProcessId
    from tests.smp_client.world import PROCESS

    upper = ParticipantId.parse(P["good"].replace("9915:good", "9915:GOOD"))
    result = smp_world.discovery().lookup(upper, DocumentTypeId.parse(DOCTYPE), ProcessId.parse(PROCESS))
    assert result.endpoint.url == AP_URL


def test_concurrent_lookups_share_one_discovery(smp_world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    disco = smp_world.discovery()
    scenarios = ["good", "bdxr1", "pem", "exc", "redirectok"] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        urls = list(pool.map(lambda s: disco.lookup(*_ids(s)).endpoint.url, scenarios))
    assert urls == [AP_URL] * len(scenarios)


def test_lookup_through_an_https_proxy(smp_world: World) -> None:
    from dataclasses import replace

    from smp_client import Discovery
    from tests.smp_client.proxy import running_connect_proxy

    with running_connect_proxy() as proxy:
        cfg = smp_world.config()
        cfg = replace(cfg, http=replace(cfg.http, proxies={"https": proxy.url}))
        disco = Discovery(
            cfg, smp_validator=smp_world.pki.smp_validator(), ap_validator=smp_world.pki.ap_validator()
        )
        assert disco.lookup(*_ids("good")).endpoint.url == AP_URL
    assert f"127.0.0.1:{smp_world.smp.port}" in proxy.targets


def test_http_500_is_a_retryable_http_error(smp_world: World) -> None:
    with pytest.raises(SmpHttpError) as info:
        smp_world.lookup("error500")
    assert info.value.status == 500 and info.value.retryable


def test_smp_answering_non_smp_xml(smp_world: World) -> None:
    from smp_client import SmpXmlError

    with pytest.raises(SmpXmlError, match="not an SMP document"):
        smp_world.lookup("garbage")


def test_smp_answering_an_empty_body(smp_world: World) -> None:
    from smp_client import BadSmpResponse

    with pytest.raises(BadSmpResponse, match="is empty"):
        smp_world.lookup("emptybody")


def test_explicit_smp_url_skips_the_sml(smp_world: World) -> None:
    dns_queries = len(smp_world.dns.log)
    result = smp_world.discovery().lookup(*_ids("good"), smp_url=smp_world.smp_url)
    assert result.endpoint.url == AP_URL and len(smp_world.dns.log) == dns_queries


@pytest.mark.parametrize("smp_url", ["http://smp.example/", "https://", "ftp://x/"])
def test_explicit_smp_url_must_be_https(smp_world: World, smp_url: str) -> None:
    with pytest.raises(ValueError, match="SMP URL"):
        smp_world.discovery().lookup(*_ids("good"), smp_url=smp_url)


def test_smp_connection_refused_is_unavailable(smp_world: World) -> None:
    import socket

    with socket.socket() as sock:  # bind, never listen: connections to it are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(SmpUnavailable, match="cannot connect") as info:
            smp_world.discovery().lookup(*_ids("good"), smp_url=f"https://127.0.0.1:{port}/smp")
    assert info.value.retryable


def test_smp_response_over_the_size_cap_is_refused(smp_world: World) -> None:
    """The SMP body is read up to ``max_bytes`` and then refused, never buffered whole."""
    from dataclasses import replace

    from smp_client import BadSmpResponse, Discovery

    size = len(smp_world.bodies["good"])
    cfg = smp_world.config()
    for cap, refused in ((size - 1, True), (size, False)):
        disco = Discovery(
            replace(cfg, http=replace(cfg.http, max_bytes=cap)),
            smp_validator=smp_world.pki.smp_validator(),
            ap_validator=smp_world.pki.ap_validator(),
        )
        if refused:
            with pytest.raises(BadSmpResponse, match=f"exceeds {cap} bytes"):
                disco.lookup(*_ids("good"))
        else:
            assert disco.lookup(*_ids("good")).endpoint.url == AP_URL
