"""Peppol identifiers (PFUOI 4.4) and SML host names (discovery digest §2, §5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from peppol.identifiers import (
    DOCTYPE_SCHEME,
    DOCTYPE_WILDCARD_SCHEME,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    SML_ZONES,
    DocumentTypeId,
    IdentifierError,
    ParticipantId,
    ProcessId,
    is_seat_id,
    resolve_zone,
    sml_cname_name,
    sml_naptr_name,
)

PROD = "participant.sml.prod.tech.peppol.org"
TEST = "participant.sml.test.tech.peppol.org"

# discovery.md §2.5: (value, NAPTR label, CNAME label or None) -- every vector of the digest.
SML_VECTORS = [
    (
        "9915:test",
        "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a",
        "B-85008b8279e07ab0392da75fa55856a2",
    ),
    (
        "0088:123abc",
        "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq",
        "B-f5e78500450d37de5aabe6648ac3bb70",
    ),
    (
        "0088:123ABC",
        "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq",
        "B-f5e78500450d37de5aabe6648ac3bb70",
    ),
    (
        "0010:5798000000001",
        "xukhfqabqziki3ykvr2fhr4snfa3pf5vpq6k4tonv3lmvsy5arvq",
        "B-e49b223851f6e97cbfce4f72c3402aac",
    ),
    (
        "0088:1234567890123",
        "sjsyvccmqyjxk3weuapffq4x3umcrf4qryherj4vovhmonh7gccq",
        "B-382fe691db401c7c4fa3cba634b225c0",
    ),
    ("0208:0677424046", "yrudm3nqrm76uobzh4griobewmqd4mx574cfdtm75zphrex4ydya", None),
    ("0242:001066", "tit36qle62y2yvwovq5nxg6rquymoabfh4ng7xvgtzmaehfre5pa", None),
    (
        "9930:DE298946909",
        "b3q5ak3dgc7jujjdfw5halimost5v5vembtiw3mhwfydauxo244q",
        "B-40e8abe94e9a400e1e63bd292502a587",
    ),
    (
        "0009:78430177200025",
        "t26qyv5vbk4klevdv53xmzuaf46uq3cilefx6zaf2n2xruhbvkpq",
        "B-a37d726d52c3f198c4e89d9f8285b89d",
    ),
    (
        "9957:FR12345678901",
        "sh6jjwacwchy3o6pf4nx3jfnynatr4ytfhqw57vnvfdns4eoe7kq",
        "B-5e08e637f4a898f3cbcf7a2fe38be803",
    ),
]


def _pid(value: str) -> ParticipantId:
    # 0010 is not in the ICD list (the SML spec example predates it): build it leniently.
    return ParticipantId.of(value, strict=not value.startswith("0010:"))


@pytest.mark.parametrize(("value", "naptr", "cname"), SML_VECTORS)
@pytest.mark.parametrize("zone", ["prod", "test"])
def test_policy7_sml_naptr_and_cname_vectors(value: str, naptr: str, cname: str | None, zone: str) -> None:
    pid = _pid(value)
    domain = SML_ZONES[zone]
    assert sml_naptr_name(pid, zone) == f"{naptr}.iso6523-actorid-upis.{domain}"
    if cname is not None:
        assert sml_cname_name(pid, zone) == f"{cname}.iso6523-actorid-upis.{domain}"


def test_sml_worked_example_9915_test_on_test_zone() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::9915:test")
    assert (
        sml_naptr_name(pid, "test")
        == "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a.iso6523-actorid-upis." + TEST
    )


def test_sml_names_accept_any_domain_zone() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::0088:123ABC")
    assert sml_naptr_name(pid, "SML.Example.ORG.") == (
        "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq.iso6523-actorid-upis.sml.example.org"
    )
    assert sml_cname_name(pid, "edelivery.tech.ec.europa.eu") == (
        "B-f5e78500450d37de5aabe6648ac3bb70.iso6523-actorid-upis.edelivery.tech.ec.europa.eu"
    )


def test_resolve_zone_names_and_domains() -> None:
    assert resolve_zone("prod") == PROD
    assert resolve_zone("test") == TEST
    assert resolve_zone("acc.edelivery.tech.ec.europa.eu.") == "acc.edelivery.tech.ec.europa.eu"
    for bad in ["prd", "", "exa mple.org", "-bad.org", "a..b", "x" * 64 + ".org", "bad_label.org"]:
        with pytest.raises(IdentifierError) as info:
            resolve_zone(bad)
        assert info.value.code == "bad-zone"


def test_sml_name_longer_than_dns_limit_is_rejected() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::0088:1")
    zone = ".".join(["a" * 60] * 3) + ".org"  # valid domain, but the full name exceeds 253
    with pytest.raises(IdentifierError) as info:
        sml_naptr_name(pid, zone)
    assert info.value.code == "too-long"


# ------------------------------------------------------------------------------------------ participants


def test_policy2_participant_value_normalised_to_lower_case() -> None:
    a = ParticipantId.parse("iso6523-actorid-upis::0088:123ABC")
    b = ParticipantId.parse("iso6523-actorid-upis::0088:123abc")
    assert a == b
    assert hash(a) == hash(b)
    assert a.value == "0088:123abc"
    assert a.icd == "0088"
    assert a.local_id == "123abc"
    assert a.uri == str(a) == "iso6523-actorid-upis::0088:123abc"


def test_participant_of_uses_default_scheme() -> None:
    assert ParticipantId.of("0088:5798000000001") == ParticipantId(PARTICIPANT_SCHEME, "0088:5798000000001")


def test_participant_url_encoding_per_segment() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::0088:5798000000001")
    assert pid.url_encoded == "iso6523-actorid-upis%3A%3A0088%3A5798000000001"


def test_participant_scheme_is_case_sensitive() -> None:
    with pytest.raises(IdentifierError) as info:
        ParticipantId.parse("ISO6523-ACTORID-UPIS::0088:123")
    assert info.value.code == "bad-scheme"
    assert "case-sensitive" in str(info.value)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("0088:123", "bad-syntax"),
        ("iso6523-actorid-upis::", "bad-syntax"),
        ("::0088:123", "bad-syntax"),
        ("", "bad-syntax"),
        ("iso6523::0088:123", "bad-scheme"),
        ("busdox-actorid-upis::0088:123", "bad-scheme"),  # syntactically fine, but not the Peppol scheme
        ("a" * 11 + "-" + "b" * 11 + "-" + "c" * 11 + "::0088:1", "bad-scheme"),
        ("iso6523-actorid-upis::9999:x", "unknown-icd"),
        ("iso6523-actorid-upis::0037:003712345678", "removed-icd"),  # FI:OVT removed 2024-12-31
        ("iso6523-actorid-upis::9956:0123456789", "removed-icd"),
        ("iso6523-actorid-upis::88:123", "bad-value"),
        ("iso6523-actorid-upis::0088123", "bad-value"),
        ("iso6523-actorid-upis::0088:", "bad-value"),
        ("iso6523-actorid-upis::0088:12 3", "bad-value"),
        ("iso6523-actorid-upis::0088:12/3", "bad-charset"),
        ("iso6523-actorid-upis::0088:ab\u00e9", "bad-charset"),
        ("iso6523-actorid-upis::0088:\u20ac", "bad-charset"),
        ("iso6523-actorid-upis::0088:" + "1" * 131, "too-long"),
    ],
)
def test_invalid_participants_raise_typed_errors(text: str, code: str) -> None:
    with pytest.raises(IdentifierError) as info:
        ParticipantId.parse(text)
    assert info.value.code == code
    assert str(info.value)


def test_participant_maximum_length_135_is_accepted() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::0088:" + "1" * 130)
    assert len(pid.value) == 135


def test_unknown_icd_error_names_the_icd() -> None:
    with pytest.raises(IdentifierError, match="9999"):
        ParticipantId.parse("iso6523-actorid-upis::9999:x")


def test_deprecated_icd_usable_until_removal_date() -> None:
    before = dt.date(2026, 7, 6)
    pid = ParticipantId.parse("iso6523-actorid-upis::0193:abc", on=before)  # UBLBE, removal 2026-07-07
    assert pid.deprecated
    with pytest.raises(IdentifierError) as info:
        ParticipantId.parse("iso6523-actorid-upis::0193:abc", on=dt.date(2026, 7, 7))
    assert info.value.code == "removed-icd"
    assert ParticipantId.parse("iso6523-actorid-upis::9912:EU123").deprecated  # EU:VAT, no removal date
    assert not ParticipantId.parse("iso6523-actorid-upis::0088:1").deprecated


def test_lax_parsing_skips_code_list_checks_only() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::9999:x/y", strict=False)
    assert pid.icd == "9999"
    assert pid.local_id == "x/y"
    other = ParticipantId.parse("other-actorid-upis::ABC", strict=False)
    assert other.value == "abc"
    assert other.icd == ""
    with pytest.raises(IdentifierError, match="is not of the form 'NNNN:local-id'"):
        ParticipantId.parse("iso6523-actorid-upis::no-icd", strict=False)
    with pytest.raises(IdentifierError, match="contains whitespace"):
        ParticipantId.parse("iso6523-actorid-upis::0088:a b", strict=False)


@pytest.mark.parametrize(
    ("scheme", "code"),
    [
        ("a" * 11 + "-" + "b" * 11 + "-" + "c" * 11, "too-long"),
        ("with space", "bad-scheme"),
        ("with:colon", "bad-scheme"),
        ("caf\u00e9", "bad-scheme"),
    ],
)
def test_lax_schemes_still_have_limits(scheme: str, code: str) -> None:
    for build in (ParticipantId.of, DocumentTypeId.of, ProcessId.of):
        with pytest.raises(IdentifierError) as info:
            build("0088:1", scheme, strict=False)
        assert info.value.code == code


def test_lax_accepts_legacy_schemes() -> None:
    assert ProcessId.of("urn:x", "ptype", strict=False).scheme == "ptype"
    assert DocumentTypeId.of("urn:x", "busdox-docid-qns", strict=False).value == "urn:x"
    with pytest.raises(IdentifierError) as info:
        ProcessId.of("urn:x", "ptype")
    assert info.value.code == "bad-scheme"


def test_surrounding_whitespace_is_trimmed() -> None:
    assert ParticipantId.parse("  iso6523-actorid-upis::0088:1 \n") == ParticipantId.of("0088:1")


# ---------------------------------------------------------------------------------------- document types

INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
CFT = (
    "urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2::CallForTenders##"
    "urn:fdc:peppol.eu:prac:trns:t004:1.2::2.2"
)
PINT = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1@eu-1::2.1"


def test_doctype_parts() -> None:
    doc = DocumentTypeId.parse(f"busdox-docid-qns::{CFT}")
    assert doc.scheme == DOCTYPE_SCHEME
    assert doc.value == CFT
    assert doc.root_namespace == "urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2"
    assert doc.local_name == "CallForTenders"
    assert doc.customization_id == "urn:fdc:peppol.eu:prac:trns:t004:1.2"
    assert doc.version == "2.2"
    assert str(doc) == doc.uri == f"busdox-docid-qns::{CFT}"


def test_doctype_version_after_last_double_colon_and_ebxml_root() -> None:
    doc = DocumentTypeId.of(
        "urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0::QueryRequest##urn:fdc:peppol.eu:prac:trns:t011:1.2::4.0"
    )
    assert doc.root_namespace == "urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0"
    assert doc.local_name == "QueryRequest"
    assert doc.version == "4.0"


def test_doctype_url_encoding_matches_live_smp_href() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::0088:5798000000001")
    doc = DocumentTypeId.of(INVOICE)
    assert f"{pid.url_encoded}/services/{doc.url_encoded}" == (
        "iso6523-actorid-upis%3A%3A0088%3A5798000000001/services/busdox-docid-qns%3A%3Aurn%3Aoasis%3Anames"
        "%3Aspecification%3Aubl%3Aschema%3Axsd%3AInvoice-2%3A%3AInvoice%23%23urn%3Acen.eu%3Aen16931%3A2017"
        "%23compliant%23urn%3Afdc%3Apeppol.eu%3A2017%3Apoacc%3Abilling%3A3.0%3A%3A2.1"
    )


def test_doctype_is_case_sensitive() -> None:
    assert DocumentTypeId.of(INVOICE) != DocumentTypeId.of(INVOICE.replace("Invoice##", "INVOICE##"))
    assert DocumentTypeId.of(INVOICE.upper()).value == INVOICE.upper()


def test_wildcard_scheme_for_pint() -> None:
    doc = DocumentTypeId.for_value(PINT)
    assert doc.scheme == DOCTYPE_WILDCARD_SCHEME
    assert DocumentTypeId.for_value(INVOICE).scheme == DOCTYPE_SCHEME
    star = DocumentTypeId.parse(
        "peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
        "urn:peppol:pint:billing-1*::2.1"
    )
    assert star.customization_id == "urn:peppol:pint:billing-1*"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("busdox-docid-qns::" + INVOICE.replace("##", "#"), "bad-value"),
        ("busdox-docid-qns::urn:x:Invoice-2::Invoice##::2.1", "bad-value"),  # empty customization
        ("busdox-docid-qns::urn:x##cust::2.1", "bad-value"),
        ("busdox-docid-qns::urn:x:Invoice-2::Invoice##cust", "bad-value"),
        # a "*" needs the wildcard scheme
        ("busdox-docid-qns::urn:x:I-2::I##urn:peppol:pint:billing-1*::2.1", "bad-value"),
        ("peppol-doctype-wildcard::urn:x:I-2::I##urn:pint*:x::2.1", "bad-value"),  # '*' not at the end
        ("busdox-docid-qns::urn:x:I-2::I##cust with space::2.1", "bad-value"),
        ("busdox-docid-qns::urn:x:I-2::I##cust\u20ac::2.1", "bad-charset"),
        ("busdox-docid-qns::" + "u" * 501, "too-long"),
        ("busdox-procid-ubl::" + INVOICE, "bad-scheme"),
        ("Busdox-docid-qns::" + INVOICE, "bad-scheme"),
        (INVOICE, "bad-scheme"),  # no scheme: the root namespace is taken as one and refused
    ],
)
def test_invalid_doctypes_raise_typed_errors(text: str, code: str) -> None:
    with pytest.raises(IdentifierError) as info:
        DocumentTypeId.parse(text)
    assert info.value.code == code


def test_doctype_latin1_value_accepted() -> None:
    doc = DocumentTypeId.of("urn:x:I-2::I##urn:caf\u00e9::2.1")
    assert doc.customization_id == "urn:caf\u00e9"


def test_lax_doctype_allows_unstructured_values_but_parts_raise() -> None:
    doc = DocumentTypeId.parse("other-docid-qns::just-a-string", strict=False)
    with pytest.raises(IdentifierError, match="has no '##' before the customization") as info:
        _ = doc.local_name
    assert info.value.code == "bad-value"


# --------------------------------------------------------------------------------------------- processes


def test_process_parse_and_format() -> None:
    proc = ProcessId.parse("cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p002:1.2")
    assert proc == ProcessId.of("urn:fdc:peppol.eu:prac:bis:p002:1.2")
    assert proc.scheme == PROCESS_SCHEME
    assert proc.url_encoded == "cenbii-procid-ubl%3A%3Aurn%3Afdc%3Apeppol.eu%3Aprac%3Abis%3Ap002%3A1.2"
    assert ProcessId.of("urn:fdc:peppol.eu:poacc:bis:ordering:3") != ProcessId.of(
        "urn:fdc:peppol.eu:poacc:bis:ORDERING:3"
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("cenbii-procid-ubl::urn:a b", "bad-value"),
        ("cenbii-procid-ubl::" + "p" * 201, "too-long"),
        ("cenbii-procid-ubl::urn:\u20ac", "bad-charset"),
        ("oioubl-procid-ubl::Reference-Utility-1.0", "bad-scheme"),
        ("cenbii-procid-ubl", "bad-syntax"),
    ],
)
def test_invalid_processes_raise_typed_errors(text: str, code: str) -> None:
    with pytest.raises(IdentifierError) as info:
        ProcessId.parse(text)
    assert info.value.code == code


def test_process_max_length_200_is_accepted() -> None:
    assert len(ProcessId.of("p" * 200).value) == 200


# ----------------------------------------------------------------------------------------------- seat id


def test_seat_id_regex() -> None:
    assert is_seat_id("PDK000270")
    assert is_seat_id("POP000001")
    for bad in ["pdk000270", "PDK00027", "PDK0002700", "XDK000270", " PDK000270", "PDK000270\n"]:
        assert not is_seat_id(bad)


def test_direct_construction_still_normalises_participant_case() -> None:
    assert ParticipantId(PARTICIPANT_SCHEME, "0088:ABC") == ParticipantId.of("0088:abc")
    assert ParticipantId(PARTICIPANT_SCHEME, "0088:ABC").value == "0088:abc"


def test_identifier_without_separator_or_not_text_is_bad_syntax() -> None:
    with pytest.raises(IdentifierError, match="is not of the form 'scheme::value'") as info:
        ParticipantId.parse("0088:5798000000001")
    assert info.value.code == "bad-syntax"
    with pytest.raises(IdentifierError, match="identifier must be a string, not int") as info:
        ParticipantId.parse(88)  # type: ignore[arg-type]
    assert info.value.code == "bad-syntax"


@pytest.mark.parametrize(
    ("build", "code", "reason"),
    [
        (
            lambda: ParticipantId.parse("other-actorid-upis::0088:1"),
            "bad-scheme",
            "is not 'iso6523-actorid-upis'",
        ),
        (lambda: ProcessId.of("urn:a\x07b"), "bad-charset", "contains control characters"),
        (lambda: ProcessId.of("   "), "bad-value", "process value is empty"),
    ],
    ids=["other-well-formed-scheme", "control-character", "blank-value"],
)
def test_shared_identifier_checks_give_their_code(build: Any, code: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason) as info:
        build()
    assert info.value.code == code


def test_doctype_without_version_is_bad_value() -> None:
    with pytest.raises(IdentifierError, match="has no '::<ver") as info:
        DocumentTypeId.of("urn:x:X-2::X##urn:c")
    assert info.value.code == "bad-value"
