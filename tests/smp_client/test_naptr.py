"""U-NAPTR record logic (RFC 3402/3403, SML 1.3): filtering, ordering, anchored regexp, URI checks."""

from __future__ import annotations

import pytest

from smp_client.errors import NoMatchingSmpService, SmlRecordError
from smp_client.naptr import NaptrRecord, apply_regexp, check_smp_uri, select_smp_uri, smp_records

NAME = (
    "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a.iso6523-actorid-upis"
    ".participant.sml.test.tech.peppol.org"
)


def rec(order: int, pref: int, regexp: str, flags: str = "U", service: str = "Meta:SMP") -> NaptrRecord:
    return NaptrRecord(order, pref, flags, service, regexp)


def test_sml_regexp_dot_star_yields_uri_once() -> None:
    # re.sub(".*", ...) would produce the URL twice; the anchored match must not.
    assert apply_regexp("!.*!https://smp.example.org!", NAME) == "https://smp.example.org"


def test_sml_regexp_backreference_and_case_flag() -> None:
    assert apply_regexp("!^([a-z0-9]+)\\..*$!https://smp.example/\\1!", NAME) == (
        "https://smp.example/eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a"
    )
    assert apply_regexp("!EH5BOA.*!https://x!i", NAME) == "https://x"
    assert apply_regexp("!EH5BOA.*!https://x!", NAME) is None


def test_sml_regexp_is_anchored() -> None:
    # Unanchored "iso6523" would match inside the name with re.search; anchoring makes it a miss.
    assert apply_regexp("!iso6523!https://x!", NAME) is None


def test_sml_regexp_other_delimiter_and_escaped_delimiter() -> None:
    assert apply_regexp("#.*#https://smp.example/a\\#b#", NAME) == "https://smp.example/a#b"


@pytest.mark.parametrize(
    ("regexp", "reason"),
    [
        ("", "too short"),
        ("!!", "too short"),
        ("a.*ahttps://xa", "invalid delimiter 'a'"),
        ("!.*!https://x", "does not have three delimited fields"),
        ("!.*!https://x!q", "unsupported flags 'q'"),
        ("!(!https://x!", "pattern does not compile: .*missing \\)"),
        ("!(.*)!https://\\2!", "refers to missing group"),
        ("!(a|aa)+$!https://x!", "quantified group is refused"),
        ("!a{99999999999}!https://x!", "pattern does not compile: .*repetition number is too large"),
    ],
)
def test_sml_bad_regexp_raises(regexp: str, reason: str) -> None:
    with pytest.raises(SmlRecordError, match=reason):
        apply_regexp(regexp, NAME)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://smp.example", "must use https"),
        ("ftp://smp.example", "must use https"),
        ("https://", "no host or carries credentials"),
        ("https://user:pw@smp.example/", "no host or carries credentials"),
        ("https://smp x", "contains whitespace"),
        ("https://smp.example/?q=1", "must not carry a query or fragment"),
        ("https://smp.example:99999/", "is not a URL: .*Port out of range"),
        ("https://smp.example:0/", "has port 0"),
        ("smp.example", "must use https"),
    ],
)
def test_sml_resolved_uri_must_be_https_url(uri: str, reason: str) -> None:
    with pytest.raises(SmlRecordError, match=reason):
        check_smp_uri(uri)


def test_sml_http_uri_only_with_explicit_option() -> None:
    assert check_smp_uri("http://smp.example/", allow_http=True) == "http://smp.example/"


def test_sml_filters_flags_u_and_service_meta_smp_case_insensitively() -> None:
    records = [
        rec(10, 10, "!.*!https://a!", flags="S"),
        rec(10, 10, "!.*!https://b!", service="Meta:SMX"),
        rec(10, 10, "!.*!https://c!", service="https://wrong.example"),  # phoss-smp #482
        rec(20, 10, "!.*!https://d!", flags="u", service="meta:smp"),
    ]
    assert [r.regexp for r in smp_records(records)] == ["!.*!https://d!"]


def test_sml_orders_by_order_then_preference() -> None:
    records = [
        rec(200, 1, "!.*!https://late!"),
        rec(100, 20, "!.*!https://second!"),
        rec(100, 10, "!.*!https://first!"),
    ]
    selected, uri = select_smp_uri(records, NAME)
    assert uri == "https://first"
    assert selected.preference == 10


def test_sml_skips_record_with_unusable_regexp() -> None:
    records = [rec(100, 10, "!(!https://broken!"), rec(100, 20, "!.*!https://good!")]
    assert select_smp_uri(records, NAME)[1] == "https://good"


def test_sml_no_matching_smp_service() -> None:
    with pytest.raises(NoMatchingSmpService, match="E2U\\+sip"):
        select_smp_uri([rec(1, 1, "!.*!https://a!", service="E2U+sip")], NAME)


def test_sml_only_bad_regexps_is_record_error() -> None:
    with pytest.raises(SmlRecordError, match="must use https"):
        select_smp_uri([rec(1, 1, "!.*!http://plain!")], NAME)


def test_sml_regexp_catastrophic_backtracking_refused_fast() -> None:
    # A forged NAPTR with nested quantifiers would take ages on a 90-character name.
    with pytest.raises(SmlRecordError, match="quantified group"):
        apply_regexp("!^(([a-z0-9]+)*)+!https://x!", NAME + "!")
