"""``peppol.identifiers.check_identifier``: the library behind ``ap id check``."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from peppol.identifiers import (
    DocumentTypeId,
    IdentifierError,
    IdKind,
    ParticipantId,
    ProcessId,
    check_identifier,
    guess_kind,
)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("iso6523-actorid-upis::0088:1", IdKind.PARTICIPANT),
        ("busdox-docid-qns::urn:x:X-2::X##c::2.1", IdKind.DOCTYPE),
        ("peppol-doctype-wildcard::urn:x:X-2::X##c*::2.1", IdKind.DOCTYPE),
        ("cenbii-procid-ubl::urn:x", IdKind.PROCESS),
    ],
)
def test_guess_kind_from_scheme(text: str, kind: IdKind) -> None:
    assert guess_kind(text) is kind
    assert check_identifier(text).kind is kind


def test_guess_kind_unknown_scheme_suggests_lower_case() -> None:
    with pytest.raises(IdentifierError) as info:
        guess_kind("CENBII-PROCID-UBL::urn:x")
    assert info.value.code == "bad-scheme"
    assert "'cenbii-procid-ubl'" in str(info.value)


def test_participant_report_is_json_ready() -> None:
    report = check_identifier("iso6523-actorid-upis::0088:5798000000001", zone="test")
    assert report.identifier == ParticipantId.of("0088:5798000000001")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["sml"]["zone"] == "participant.sml.test.tech.peppol.org"
    assert data["icd_scheme"]["check_digits"] == "gs1"
    assert data["warnings"] == []  # valid GLN check digit


def test_participant_report_flags_bad_check_digit() -> None:
    report = check_identifier("iso6523-actorid-upis::0088:5798000000002")
    assert report.warnings == ("local id gs1 check digit is wrong",)


def test_deprecated_icd_report_before_removal() -> None:
    report = check_identifier("iso6523-actorid-upis::0193:x", on=dt.date(2026, 1, 1))
    assert any("deprecated" in w and "2026-07-07" in w for w in report.warnings)
    with pytest.raises(IdentifierError) as info:
        check_identifier("iso6523-actorid-upis::0193:x", on=dt.date(2026, 8, 1))
    assert info.value.code == "removed-icd"


def test_not_registrable_icd_warns() -> None:
    report = check_identifier("iso6523-actorid-upis::0205:abc")
    assert any("register" in w for w in report.warnings)


def test_doctype_report() -> None:
    report = check_identifier(
        "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2::"
        "ApplicationResponse##urn:fdc:peppol.eu:poacc:trns:mlr:3::2.1"
    )
    assert isinstance(report.identifier, DocumentTypeId)
    assert report.details["known"]["transaction"] == "MLR"
    assert report.details["local_name"] == "ApplicationResponse"


def test_lax_doctype_report_with_unstructured_value() -> None:
    report = check_identifier("busdox-docid-qns::free-text", strict=False)
    assert "root_namespace" not in report.details
    assert any("##" in w for w in report.warnings)


def test_process_report_unknown_process() -> None:
    report = check_identifier("cenbii-procid-ubl::urn:unknown")
    assert isinstance(report.identifier, ProcessId)
    assert report.details == {"known": None, "document_types": []}
    assert report.warnings == ("not one of the processes this access point uses",)


def test_missing_scheme_gets_a_helpful_message() -> None:
    with pytest.raises(IdentifierError) as info:
        check_identifier("0088:123")
    assert "iso6523-actorid-upis::0088:123" in str(info.value)
