"""Build → parse round trips (property-based): identifiers, countries, dates, additional attributes,
XML payloads with awkward characters and binary payloads of random bytes, across chunk boundaries."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from transport.sbdh import (
    ASIC_E_MIME_TYPE,
    SbdhError,
    SbdhHeader,
    build_sbd,
    extract_payload,
    header_for_document,
    parse_sbd,
    read_sbd,
    sources,
    wrap_document,
    write_binary_sbd,
    write_sbd,
    write_text_sbd,
)
from transport.sbdh.model import MLS_TYPES, RESERVED_SCOPE_TYPES
from transport.sbdh.xmltext import escape_attr, escape_text

ACTIVE_ICDS = ["0002", "0007", "0088", "0192", "0208", "9915", "9925", "9930"]

participants = st.builds(
    lambda icd, local: ParticipantId.of(f"{icd}:{local}"),
    st.sampled_from(ACTIVE_ICDS),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-._~]{0,29}", fullmatch=True),
)
countries = st.from_regex(r"[A-Z0-9]{2}", fullmatch=True)
namespaces = st.one_of(
    st.sampled_from(["Invoice", "Order", "CallForTenders", "Tender"]).map(
        lambda d: f"urn:oasis:names:specification:ubl:schema:xsd:{d}-2"
    ),
    st.from_regex(r"urn:example:[a-z0-9]{1,12}", fullmatch=True),
)
local_names = st.from_regex(r"[A-Z][A-Za-z0-9]{0,15}", fullmatch=True)
customizations = st.from_regex(r"urn:[a-z0-9.:#_-]{1,40}", fullmatch=True)
versions = st.from_regex(r"[0-9]\.[0-9]", fullmatch=True)
processes = st.from_regex(r"urn:[a-z0-9.:_-]{1,40}", fullmatch=True).map(ProcessId.of)
# Printable text including the characters XML must escape; surrounding whitespace is trimmed on read.
xml_safe = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), max_size=30
)
instance_ids = st.one_of(st.uuids().map(str), xml_safe.map(str.strip).filter(bool))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
creations = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC) | offsets
)
additional_keys = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True).filter(
    lambda k: k not in RESERVED_SCOPE_TYPES
)
additionals = st.dictionaries(additional_keys, xml_safe.map(str.strip), max_size=4)
mls_tos = st.none() | st.from_regex(r"0242:[0-9]{6}", fullmatch=True).map(ParticipantId.of)


@st.composite
def headers(draw: st.DrawFn) -> SbdhHeader:
    ns = draw(namespaces)
    local = draw(local_names)
    version = draw(versions)
    doctype = DocumentTypeId.of(f"{ns}::{local}##{draw(customizations)}::{version}")
    return SbdhHeader(
        sender=draw(participants),
        receiver=draw(participants),
        document_type=doctype,
        process=draw(processes),
        country_c1=draw(countries),
        instance_id=draw(instance_ids),
        creation=draw(creations),
        standard=ns,
        type_version=version,
        type=local,
        mls_to=draw(mls_tos),
        mls_type=draw(st.none() | st.sampled_from(MLS_TYPES)),
        additional=draw(additionals),
    )


def payload_for(header: SbdhHeader, text: str, attr: str) -> bytes:
    body = (
        f'<{header.type} xmlns="{header.standard}" xmlns:x="urn:x" x:a="{escape_attr(attr)}">'
        f"<x:child>{escape_text(text)}</x:child><!-- c --><?pi data?><x:e/></{header.type}>"
    )
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8")


@settings(max_examples=80, deadline=None)
@given(header=headers(), text=xml_safe, attr=xml_safe, chunk=st.integers(min_value=1, max_value=300))
def test_xml_payload_round_trip(header: SbdhHeader, text: str, attr: str, chunk: int) -> None:
    doc = payload_for(header, text, attr)
    with mock.patch.object(sources, "CHUNK_SIZE", chunk):
        sbd = build_sbd(header, doc)
        parsed = read_sbd(sbd)
        out = io.BytesIO()
        info = extract_payload(sbd, out)
    assert parsed.header == header
    assert parsed.warnings == ()
    assert info.kind == "xml" and info.namespace == header.standard and info.local_name == header.type
    # Byte-exact: only the payload's own XML declaration is replaced by ours.
    assert out.getvalue() == doc
    assert parse_sbd(sbd).header == header


@settings(max_examples=80, deadline=None)
@given(
    header=headers(),
    content=st.binary(max_size=5000),
    chunk=st.integers(min_value=1, max_value=1000),
    encoding=st.none() | st.just("UTF-8"),
)
def test_binary_payload_round_trip(
    header: SbdhHeader, content: bytes, chunk: int, encoding: str | None
) -> None:
    buf = io.BytesIO()
    with mock.patch.object(sources, "CHUNK_SIZE", chunk):
        write_binary_sbd(header, content, ASIC_E_MIME_TYPE, buf, encoding=encoding)
        parsed = read_sbd(buf.getvalue())
        out = io.BytesIO()
        extract_payload(buf.getvalue(), out)
    assert parsed.header == header
    assert parsed.payload.kind == "binary"
    assert parsed.payload.mime_type == ASIC_E_MIME_TYPE
    assert parsed.payload.encoding == encoding
    assert out.getvalue() == content
    assert parse_sbd(buf.getvalue()).payload_bytes() == content


@settings(max_examples=40, deadline=None)
@given(
    header=headers(),
    text=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
            lambda c: c in "\t\n\r" or ord(c) >= 0x20
        ),
        max_size=500,
    ),
)
def test_text_payload_round_trip(header: SbdhHeader, text: str) -> None:
    buf = io.BytesIO()
    write_text_sbd(header, text, "text/plain", buf)
    parsed = read_sbd(buf.getvalue())
    out = io.BytesIO()
    extract_payload(buf.getvalue(), out)
    assert parsed.header == header
    assert parsed.payload.kind == "text"
    assert out.getvalue() == text.encode("utf-8")


_FUZZ_BASE = build_sbd(
    SbdhHeader(
        sender=ParticipantId.of("0088:5798000000001"),
        receiver=ParticipantId.of("0088:5798000000002"),
        document_type=DocumentTypeId.of("urn:example:inv::Invoice##urn:c::2.1"),
        process=ProcessId.of("urn:p"),
        country_c1="DK",
        instance_id="i",
        creation=datetime(2026, 1, 1, tzinfo=UTC),
        standard="urn:example:inv",
        type_version="2.1",
        type="Invoice",
        additional={"k": "v"},
    ),
    b'<Invoice xmlns="urn:example:inv" xmlns:x="urn:x" x:a="1"><x:b>t</x:b><!-- c --><x:c/></Invoice>',
)
_MUTATION_BYTES = st.sampled_from(
    [b"<", b">", b"/", b'"', b"&", b"]]>", b"<!--", b"<?", b"\x00", b"\xff", b"x", b" "]
)


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(_FUZZ_BASE)), st.integers(0, 3), _MUTATION_BYTES),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_sbd_fails_only_with_sbdh_error(edits: list[tuple[int, int, bytes]]) -> None:
    data = _FUZZ_BASE
    for pos, cut, insert in edits:
        data = data[:pos] + insert + data[pos + cut :]
    # Accepted or refused with the typed error, never another exception (a crash). The streaming reader
    # stops at the payload start tag (damage after it is the in-memory parser's to find), so: what the
    # parser accepts the reader accepts with the same header, and what the reader refuses the parser
    # refuses too (the codes may differ: lxml checks more of the payload start tag than the scanner).
    outcomes: list[object] = []
    for action in (read_sbd, parse_sbd):
        try:
            outcomes.append(action(data).header)
        except SbdhError as exc:
            outcomes.append(exc.code)
    streamed, whole = outcomes
    if not isinstance(whole, str):
        assert streamed == whole
    if isinstance(streamed, str):
        assert isinstance(whole, str), (streamed, whole)
    with contextlib.suppress(SbdhError):
        extract_payload(data, io.BytesIO())


def _wrap(header: SbdhHeader, payload: bytes | io.BytesIO) -> bytes | tuple[str, str]:
    out = io.BytesIO()
    try:
        write_sbd(header, payload, out)
    except SbdhError as exc:
        return exc.code, str(exc)
    return out.getvalue()


_PROLOGS = st.sampled_from(
    [b"", b'<?xml version="1.0" encoding="UTF-8"?>\n', b"<!-- a -->\n<?pi x?>", b"\xef\xbb\xbf"]
)
_EPILOGS = st.sampled_from([b"", b"\n", b" \r\n\t", b"<!-- after -->", b"<?pi?>\n", b"text", b"<x/>"])


@settings(max_examples=150, deadline=None)
@given(
    header=headers(),
    text=xml_safe,
    prolog=_PROLOGS,
    epilog=_EPILOGS,
    edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), _MUTATION_BYTES), max_size=2),
)
def test_payload_in_memory_is_wrapped_exactly_as_streamed(
    header: SbdhHeader, text: str, prolog: bytes, epilog: bytes, edits: list[tuple[int, int, bytes]]
) -> None:
    # write_sbd finds the root of an in-memory payload without walking it (issue 11): the SBD, or the
    # refusal (code and message), must be the streaming path's, for odd prologs, epilogs and damage.
    doc = payload_for(header, text, "a")
    data = prolog + doc[doc.index(b"?>") + 2 :].lstrip() + epilog
    for pos, cut, insert in edits:
        data = data[:pos] + insert + data[pos + cut :]
    assert _wrap(header, data) == _wrap(header, io.BytesIO(data))


def _header_then_sbd(data: bytes, **fields: object) -> object:
    try:
        header = header_for_document(data, **fields)  # type: ignore[arg-type]
        return header, build_sbd(header, data)
    except SbdhError as exc:
        return exc.code, str(exc)


def _wrapped(data: bytes, **fields: object) -> object:
    try:
        return wrap_document(data, **fields)  # type: ignore[arg-type]
    except SbdhError as exc:
        return exc.code, str(exc)


@settings(max_examples=100, deadline=None)
@given(
    header=headers(),
    other=headers(),
    prolog=_PROLOGS,
    epilog=_EPILOGS,
    edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), _MUTATION_BYTES), max_size=1),
)
def test_wrap_document_is_header_for_document_then_build_sbd(
    header: SbdhHeader,
    other: SbdhHeader,
    prolog: bytes,
    epilog: bytes,
    edits: list[tuple[int, int, bytes]],
) -> None:
    doc = payload_for(header, "text", "a")
    data = prolog + doc[doc.index(b"?>") + 2 :].lstrip() + epilog
    for pos, cut, insert in edits:
        data = data[:pos] + insert + data[pos + cut :]
    for ids in (header, other):  # the document's own type, or another one (refused the same way)
        fields = {
            "sender": header.sender,
            "receiver": header.receiver,
            "process": ids.process,
            "country_c1": header.country_c1,
            "document_type": ids.document_type,
            "instance_id": header.instance_id,
            "creation": header.creation,
            "mls_to": header.mls_to,
            "mls_type": header.mls_type,
            "additional": header.additional,
        }
        assert _wrapped(data, **fields) == _header_then_sbd(data, **fields)
