"""Property tests: parse/format round trips and participant case-insensitivity."""

from __future__ import annotations

import base64
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from peppol.codelists import PARTICIPANT_SCHEMES
from peppol.identifiers import (
    DocumentTypeId,
    IdentifierError,
    ParticipantId,
    ProcessId,
    sml_cname_name,
    sml_naptr_name,
)

_LOCAL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_ACTIVE_ICDS = sorted(icd for icd, s in PARTICIPANT_SCHEMES.items() if s.state == "active")

icds = st.sampled_from(_ACTIVE_ICDS)
local_ids = st.text(alphabet=_LOCAL_ALPHABET, min_size=1, max_size=130)
participant_values = st.builds(lambda icd, local: f"{icd}:{local}", icds, local_ids)
_URN_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@"
urn_parts = st.text(alphabet=_URN_ALPHABET, min_size=1, max_size=30)
case_flips = st.lists(st.booleans(), min_size=135, max_size=135)


def _flip(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=False))


@settings(max_examples=150, deadline=None)
@given(participant_values)
def test_participant_round_trip(value: str) -> None:
    pid = ParticipantId.of(value)
    assert ParticipantId.parse(str(pid)) == pid
    assert ParticipantId.parse(pid.uri) == pid
    assert pid.value == value.lower()
    assert f"{pid.icd}:{pid.local_id}" == pid.value


@settings(max_examples=150, deadline=None)
@given(participant_values, case_flips)
def test_participant_case_insensitive(value: str, flips: list[bool]) -> None:
    a = ParticipantId.of(value)
    b = ParticipantId.of(_flip(value, flips))
    assert a == b
    assert sml_naptr_name(a, "prod") == sml_naptr_name(b, "prod")
    assert sml_cname_name(a, "test") == sml_cname_name(b, "test")


@settings(max_examples=100, deadline=None)
@given(participant_values)
def test_naptr_label_is_lower_base32_sha256_of_value(value: str) -> None:
    pid = ParticipantId.of(value)
    label, scheme, *zone = sml_naptr_name(pid, "test").split(".")
    assert len(label) == 52 and label == label.lower()
    padded = label.upper() + "=" * 4
    assert base64.b32decode(padded) == hashlib.sha256(value.lower().encode()).digest()
    assert scheme == "iso6523-actorid-upis"
    assert ".".join(zone) == "participant.sml.test.tech.peppol.org"


@settings(max_examples=100, deadline=None)
@given(participant_values)
def test_url_encoded_contains_no_reserved_characters(value: str) -> None:
    encoded = ParticipantId.of(value).url_encoded
    assert ":" not in encoded and "/" not in encoded
    assert encoded.startswith("iso6523-actorid-upis%3A%3A")


@settings(max_examples=100, deadline=None)
@given(urn_parts, urn_parts, urn_parts, st.sampled_from(["2.1", "2.2", "2.3", "D16B", "4.0"]))
def test_doctype_round_trip(ns: str, local: str, cust: str, version: str) -> None:
    value = f"urn:{ns}::{local}##urn:{cust}::{version}"
    doc = DocumentTypeId.of(value)
    assert DocumentTypeId.parse(str(doc)) == doc
    assert doc.root_namespace == f"urn:{ns}"
    assert doc.local_name == local
    assert doc.customization_id == f"urn:{cust}"
    assert doc.version == version


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=_URN_ALPHABET + ":#", min_size=1, max_size=200))
def test_process_round_trip(value: str) -> None:
    proc = ProcessId.of(value)
    assert ProcessId.parse(proc.uri) == proc
    assert proc.value == value  # case kept


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    for kind in (ParticipantId, DocumentTypeId, ProcessId):
        try:
            kind.parse(text)
        except IdentifierError as exc:
            assert exc.code and str(exc)
