"""SML lookups against a real DNS server on loopback (dnslib, UDP + TCP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smp_client.errors import (
    DnsTechnicalFailure,
    DomainNameSyntaxError,
    NoMatchingSmpService,
    ParticipantNotRegistered,
    SmlRecordError,
)
from smp_client.sml import Nameserver, SmlClient, SmlConfig
from tests.smp_client.dns_server import FakeSml, running_dns, silent_udp_port

ZONE = "sml.test.invalid"
GOOD = f"good.iso6523-actorid-upis.{ZONE}"
SECOND = f"second.iso6523-actorid-upis.{ZONE}"
SERVFAIL = f"servfail.iso6523-actorid-upis.{ZONE}"
BADRE = f"badre.iso6523-actorid-upis.{ZONE}"
OTHER = f"other.iso6523-actorid-upis.{ZONE}"
BIG = f"big.iso6523-actorid-upis.{ZONE}"
NODATA = f"nodata.iso6523-actorid-upis.{ZONE}"
LEGACY = f"b-0123.iso6523-actorid-upis.{ZONE}"


@pytest.fixture(scope="module")
def sml() -> Iterator[FakeSml]:
    fake = FakeSml()
    fake.smp(GOOD, "https://smp.example.org")
    fake.naptr(
        SECOND,
        (100, 20, "U", "Meta:SMP", "!.*!https://two.example!"),
        (100, 10, "U", "Meta:SMP", "!.*!https://one.example!"),
    )
    fake.mode(SERVFAIL, "servfail")
    fake.naptr(BADRE, (100, 10, "U", "Meta:SMP", "!(!https://x!"))
    fake.naptr(OTHER, (100, 10, "U", "E2U+sip", "!.*!sip:x@example!"))
    fake.smp(BIG, "https://big.example")
    fake.mode(BIG, "truncate")
    fake.address(NODATA)
    fake.address(LEGACY, cname="smp1.publisher." + ZONE)
    with running_dns(fake):
        yield fake


def client(sml: FakeSml, *, tcp_fallback: bool = True) -> SmlClient:
    server = Nameserver.parse(sml.nameserver)
    return SmlClient(SmlConfig(zone=ZONE, nameservers=(server,), timeout=2.0, tcp_fallback=tcp_fallback))


def test_sml_naptr_lookup_over_real_dns(sml: FakeSml) -> None:
    answer = client(sml).resolve_naptr(GOOD)
    assert answer.smp_url == "https://smp.example.org"
    assert answer.transport == "udp"
    assert answer.selected is not None and answer.selected.service == "Meta:SMP"
    assert answer.nameserver == sml.nameserver


def test_sml_preference_order_over_dns(sml: FakeSml) -> None:
    assert client(sml).resolve_naptr(SECOND).smp_url == "https://one.example"


def test_sml_not_registered_is_nxdomain(sml: FakeSml) -> None:
    with pytest.raises(ParticipantNotRegistered) as info:
        client(sml).resolve_naptr(f"unknown.iso6523-actorid-upis.{ZONE}")
    assert not info.value.retryable


def test_sml_not_registered_is_nodata(sml: FakeSml) -> None:
    with pytest.raises(ParticipantNotRegistered, match="NODATA"):
        client(sml).resolve_naptr(NODATA)


def test_sml_servfail_is_retryable_technical_failure(sml: FakeSml) -> None:
    with pytest.raises(DnsTechnicalFailure, match="SERVFAIL") as info:
        client(sml).resolve_naptr(SERVFAIL)
    assert info.value.retryable


def test_sml_bad_regexp(sml: FakeSml) -> None:
    with pytest.raises(SmlRecordError, match="does not compile"):
        client(sml).resolve_naptr(BADRE)


def test_sml_no_smp_service(sml: FakeSml) -> None:
    with pytest.raises(NoMatchingSmpService, match="E2U\\+sip"):
        client(sml).resolve_naptr(OTHER)


def test_sml_tcp_fallback_on_truncation(sml: FakeSml) -> None:
    answer = client(sml).resolve_naptr(BIG)
    assert answer.transport == "tcp"
    assert answer.smp_url == "https://big.example"
    assert ("tcp", "NAPTR", BIG) in sml.log


def test_sml_truncation_without_tcp_fallback_fails(sml: FakeSml) -> None:
    with pytest.raises(DnsTechnicalFailure, match="truncated"):
        client(sml, tcp_fallback=False).resolve_naptr(BIG)


def test_sml_silent_server_times_out_then_next_server_answers(sml: FakeSml) -> None:
    with silent_udp_port() as dead:
        cfg = SmlConfig(
            zone=ZONE, nameservers=(Nameserver.parse(dead), Nameserver.parse(sml.nameserver)), timeout=1.0
        )
        assert SmlClient(cfg).resolve_naptr(GOOD).smp_url == "https://smp.example.org"
        with pytest.raises(DnsTechnicalFailure):
            SmlClient(SmlConfig(zone=ZONE, nameservers=(Nameserver.parse(dead),), timeout=0.3)).resolve_naptr(
                GOOD
            )


def test_sml_invalid_domain_name() -> None:
    with pytest.raises(DomainNameSyntaxError, match="label is > 63 octets"):
        SmlClient(SmlConfig(zone=ZONE, nameservers=(Nameserver("127.0.0.1", 9),))).resolve_naptr(
            "a" * 70 + ".x"
        )


def test_sml_legacy_cname_lookup(sml: FakeSml) -> None:
    answer = client(sml).resolve_cname(LEGACY)
    assert answer.smp_url == f"http://{LEGACY}/"
    assert answer.method == "cname"
    assert answer.cname_target == "smp1.publisher." + ZONE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("10.0.0.1", Nameserver("10.0.0.1", 53)),
        ("[::1]:53", Nameserver("::1", 53)),
        ("::1", Nameserver("::1", 53)),
    ],
)
def test_sml_nameserver_parsing(text: str, expected: Nameserver) -> None:
    assert Nameserver.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("127.0.0.1:0", "invalid name server"),
        ("", "empty name server"),
        ("[::1", "unterminated IPv6 literal"),
    ],
)
def test_sml_nameserver_parsing_rejects_bad_port(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Nameserver.parse(text)
