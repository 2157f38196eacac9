"""The project's code-list data, checked against the official Peppol Code Lists v9.7 (test oracle)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from peppol import codelists
from peppol.codelists import (
    CODELIST_VERSION,
    DOCUMENT_TYPES,
    PARTICIPANT_SCHEMES,
    PEPPOL_AS4_V2,
    PROCESSES,
    TRANSPORT_PROFILES,
    document_type,
    document_types_for,
    is_allowed_pair,
    participant_scheme,
    process,
    transport_profile,
)
from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId, document_type_id, processes_for

OFFICIAL = "peppol-codelists-v9.7"


def _official(corpus: Path, name: str) -> list[dict[str, Any]]:
    path = corpus / OFFICIAL / f"Peppol Code Lists - {name} v9.7.json"
    # the corpus fixture already skips when there is no corpus; a list missing from it is a failure
    assert path.is_file(), f"{path} not in the corpus"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == CODELIST_VERSION
    values: list[dict[str, Any]] = data["values"]
    assert len(values) == data["entry-count"]
    return values


@pytest.fixture(scope="module")
def official_icds(corpus: Path) -> dict[str, dict[str, Any]]:
    return {v["iso6523"]: v for v in _official(corpus, "Participant identifier schemes")}


@pytest.fixture(scope="module")
def official_doctypes(corpus: Path) -> dict[str, dict[str, Any]]:
    return {f"{v['scheme']}::{v['value']}": v for v in _official(corpus, "Document types")}


@pytest.fixture(scope="module")
def official_processes(corpus: Path) -> dict[str, dict[str, Any]]:
    return {f"{v['scheme']}::{v['value']}": v for v in _official(corpus, "Processes")}


@pytest.fixture(scope="module")
def official_transports(corpus: Path) -> dict[str, dict[str, Any]]:
    return {v["profile-id"]: v for v in _official(corpus, "Transport profiles")}


# ------------------------------------------------------------------------------------------------- ICDs


def test_every_official_icd_is_ours_with_same_facts(official_icds: dict[str, dict[str, Any]]) -> None:
    assert set(PARTICIPANT_SCHEMES) == set(official_icds)
    for icd, ref in official_icds.items():
        ours = participant_scheme(icd)
        assert ours is not None, icd
        assert ours.icd == icd
        assert ours.scheme_id == ref["schemeid"], icd
        assert ours.state == ref["state"], icd
        assert ours.registrable == ref["registrable"], icd
        assert ours.deprecation_release == ref.get("deprecation-release"), icd
        expected_removal = ref.get("removal-date")
        assert ours.removal_date == (dt.date.fromisoformat(expected_removal) if expected_removal else None), (
            icd
        )
        assert ours.country == ref["country"], icd


def test_value_hints_are_the_official_regexes(official_icds: dict[str, dict[str, Any]]) -> None:
    hinted = [s for s in PARTICIPANT_SCHEMES.values() if s.value_hint]
    assert len(hinted) >= 10
    for scheme in hinted:
        assert f"RegEx: {scheme.value_hint}" in official_icds[scheme.icd]["validation-rules"], scheme.icd


def test_official_examples_pass_our_syntax_and_check_digits(official_icds: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for scheme in PARTICIPANT_SCHEMES.values():
        examples = official_icds[scheme.icd].get("examples") or ""
        if not scheme.value_hint or not examples:
            continue
        for example in examples.split():
            assert scheme.check_local_id(example) == [], (scheme.icd, example)
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize(
    ("icd", "good", "bad"),
    [
        ("0088", "5798000000001", "5798000000002"),  # GS1 mod 10
        ("0002", "784301772", "784301773"),  # Luhn
        ("0192", "914730422", "914730423"),  # mod 11
        ("0208", "0677424046", "0677424047"),  # mod 97
    ],
)
def test_check_digits(icd: str, good: str, bad: str) -> None:
    scheme = participant_scheme(icd)
    assert scheme is not None
    assert scheme.check_local_id(good) == []
    assert scheme.check_local_id(bad) == [f"{scheme.check_digits} check digit is wrong"]
    assert "syntax" in scheme.check_local_id("abc")[0]


def test_icd_usable_on_respects_removal_date() -> None:
    ublbe = participant_scheme("0193")
    assert ublbe is not None and ublbe.state == "deprecated"
    assert ublbe.usable_on(dt.date(2026, 7, 6))
    assert not ublbe.usable_on(dt.date(2026, 7, 7))
    fi = participant_scheme("0037")
    assert fi is not None and not fi.usable_on(dt.date(2020, 1, 1))
    gln = participant_scheme("0088")
    assert gln is not None and gln.usable_on(dt.date(2100, 1, 1))
    assert participant_scheme("9999") is None


# ----------------------------------------------------------------------------------- transport profiles


def test_transport_profiles_match_official_states(official_transports: dict[str, dict[str, Any]]) -> None:
    peppol = {p.id for p in TRANSPORT_PROFILES.values() if p.peppol}
    assert peppol == set(official_transports)
    for pid, ref in official_transports.items():
        ours = TRANSPORT_PROFILES[pid]
        assert ours.state == ref["state"], pid
        assert ours.protocol == ref["protocol"], pid
        assert ours.version == ref["profile-version"], pid
        removal = ref.get("removal-date")
        assert ours.removal_date == (dt.date.fromisoformat(removal) if removal else None), pid


def test_transport_profile_lookup_is_exact() -> None:
    as4 = transport_profile(PEPPOL_AS4_V2)
    assert as4 is not None and as4.state == "active" and as4.peppol
    assert transport_profile(PEPPOL_AS4_V2 + " ") is None
    assert transport_profile(PEPPOL_AS4_V2.upper()) is None
    other = transport_profile("bdxr-transport-ebms3-as4-v1p0")
    assert other is not None and not other.peppol


# ----------------------------------------------------------------------------- document types, processes


def test_our_doctypes_exist_officially_with_same_state_and_pairing(
    official_doctypes: dict[str, dict[str, Any]],
) -> None:
    assert len(DOCUMENT_TYPES) >= 50
    for uri, ours in DOCUMENT_TYPES.items():
        ref = official_doctypes.get(uri)
        assert ref is not None, f"{uri} is not in the official list"
        assert ours.state == ref["state"], uri
        official_pairs = {f"{p['scheme']}::{p['value']}" for p in ref["process-ids"]}
        assert set(ours.process_uris) == official_pairs, uri


def test_our_processes_exist_officially_with_same_state(
    official_processes: dict[str, dict[str, Any]],
) -> None:
    for value, ours in PROCESSES.items():
        ref = official_processes.get(ours.uri)
        assert ref is not None, value
        assert ours.state == ref["state"], value


def test_every_active_official_preaward_transaction_is_ours(
    official_doctypes: dict[str, dict[str, Any]],
) -> None:
    official = {
        uri for uri, v in official_doctypes.items() if ":prac:trns:" in uri and v["state"] == "active"
    }
    assert official  # sanity: the oracle has them
    assert official <= set(DOCUMENT_TYPES)


def test_preaward_t001_to_t022_are_all_present() -> None:
    for n in range(1, 23):
        tx = f"T{n:03d}"
        versions = document_types_for(tx)
        assert versions, tx
        for info in versions:
            doc = DocumentTypeId.parse(info.uri)  # every value is a valid, structured identifier
            assert doc.customization_id == f"urn:fdc:peppol.eu:prac:trns:{tx.lower()}:{info.version}"
            assert info.area == "pre-award"


def test_codelist_roots_kept_verbatim_for_t019_t021_t022() -> None:
    # The code list's roots differ from the BIS syntax; the doc type id is a routing string (documents.md §3).
    assert document_type_id(document_types_for("T019")[0]).local_name == "Qualification"
    assert document_type_id(document_types_for("T021")[0]).local_name == "ExpressionOfInterestRequest"
    assert document_type_id(document_types_for("T022")[0]).local_name == "ExpressionOfInterestResponse"


@pytest.mark.parametrize(
    "tx",
    ["Order", "OrderResponse", "DespatchAdvice", "Catalogue", "Invoice", "CreditNote", "MLR", "MLS"],
)
def test_post_award_bis3_and_mls_present(tx: str) -> None:
    (info,) = document_types_for(tx)
    assert info.state == "active"
    assert info.process_values


def test_document_type_lookup_by_id_uri_and_value() -> None:
    (cft,) = [d for d in document_types_for("T004") if d.version == "1.2"]
    assert document_type(document_type_id(cft)) is cft
    assert document_type(cft.uri) is cft
    assert document_type(cft.value) is cft
    assert document_type(cft.value.replace("CallForTenders##", "callfortenders##")) is None  # exact case
    assert document_type(DocumentTypeId("peppol-doctype-wildcard", cft.value)) is None  # scheme matters
    assert document_type(42) is None


def test_processes_for_and_allowed_pairs() -> None:
    (cft,) = [d for d in document_types_for("T004") if d.version == "1.2"]
    p002 = ProcessId.of("urn:fdc:peppol.eu:prac:bis:p002:1.2")
    assert processes_for(document_type_id(cft)) == (p002,)
    assert is_allowed_pair(document_type_id(cft), p002)
    assert not is_allowed_pair(document_type_id(cft), ProcessId.of("urn:fdc:peppol.eu:prac:bis:p002:1.1"))
    unknown = DocumentTypeId.of("urn:x:X-2::X##urn:x::2.1")
    assert processes_for(unknown) == ()
    assert not is_allowed_pair(unknown, p002)
    mls = process("urn:peppol:edec:mls")
    assert mls is not None and mls.state == "active"


def test_invoice_allows_the_french_billing_processes() -> None:
    (invoice,) = document_types_for("Invoice")
    values = set(invoice.process_values)
    assert "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0" in values
    assert "urn:peppol:france:billing:regulated" in values


def test_lazy_mappings_behave_like_mappings() -> None:
    assert "0088" in PARTICIPANT_SCHEMES and "9999" not in PARTICIPANT_SCHEMES
    # (was len(x) == len(list(x)), true of any empty mapping too)
    assert len(PARTICIPANT_SCHEMES) == len(list(PARTICIPANT_SCHEMES)) == 105  # v9.7 entry-count
    assert PEPPOL_AS4_V2 in list(TRANSPORT_PROFILES) and len(TRANSPORT_PROFILES) >= 5
    assert PARTICIPANT_SCHEMES.get("0088") is participant_scheme("0088")
    assert repr(DOCUMENT_TYPES) == f"_LazyMapping({len(DOCUMENT_TYPES)} entries)"
    with pytest.raises(KeyError, match="9999"):
        PARTICIPANT_SCHEMES["9999"]


def test_participant_icd_scheme_property() -> None:
    pid = ParticipantId.parse("iso6523-actorid-upis::0009:78430177200025")
    assert pid.icd_scheme is not None and pid.icd_scheme.scheme_id == "FR:SIRET"
    assert codelists.participant_scheme("0009") is pid.icd_scheme
