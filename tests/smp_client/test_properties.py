"""Property tests: untrusted SML/SMP text never crashes the parsers, only raises the typed errors."""

from __future__ import annotations

import contextlib
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from smp_client.endpoints import decode_certificate
from smp_client.errors import SmlRecordError, UntrustedEndpointCertificate
from smp_client.model import SmpDialect
from smp_client.names import parse_dn
from smp_client.naptr import apply_regexp, check_smp_uri
from smp_client.urls import service_metadata_url

NAME = "abc.iso6523-actorid-upis.sml.example"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_naptr_regexp_arbitrary_text_is_typed_error_or_result(regexp: str) -> None:
    try:
        result = apply_regexp(regexp, NAME)
    except SmlRecordError:
        return
    assert result is None or isinstance(result, str)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_resolved_uri_check_arbitrary_text(uri: str) -> None:
    with contextlib.suppress(SmlRecordError):
        assert check_smp_uri(uri).lower().startswith("https:")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_certificate_decoding_arbitrary_text(text: str) -> None:
    with contextlib.suppress(UntrustedEndpointCertificate):
        decode_certificate(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_dn_parsing_arbitrary_text(text: str) -> None:
    try:
        pairs = parse_dn(text)
    except ValueError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)


_id_chars = st.characters(codec="latin-1", exclude_characters="\x00")


@settings(max_examples=200, deadline=None)
@given(st.text(_id_chars, min_size=1, max_size=40), st.text(_id_chars, min_size=1, max_size=60))
def test_smp_url_segments_round_trip(participant: str, doctype: str) -> None:
    url = service_metadata_url("https://smp.example/", ("iso6523-actorid-upis", participant), ("d", doctype),
                               SmpDialect.PEPPOL)  # fmt: skip
    path = url.removeprefix("https://smp.example/")
    first, services, second = path.split("/")
    assert services == "services"
    assert unquote(first) == f"iso6523-actorid-upis::{participant}"
    assert unquote(second) == f"d::{doctype}"
