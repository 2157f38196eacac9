"""Property tests (hypothesis) for the parts without keys: header build/parse, gzip/gunzip streaming,
the SwA text normalisation across chunk boundaries, semantic Reference equality."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import transport.as4.streams as streams
from peppol.xml import exc_c14n
from transport.as4.constants import AGREEMENT_REF, NS_S12
from transport.as4.dsig import Reference
from transport.as4.header import (
    UserMessageHeader,
    build_messaging,
    parse_user_message,
    random_uuids,
    render_messaging,
)
from transport.errors import DecompressionFailure

xml_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=60, deadline=None)
@given(
    message_id=xml_text,
    conversation=xml_text,
    service=xml_text,
    action=xml_text,
    sender=xml_text,
    receiver=xml_text,
    cid=st.from_regex(r"[a-z0-9.-]{1,20}@[a-z0-9]{1,10}", fullmatch=True),
    millis=st.integers(min_value=0, max_value=10**12),
)
def test_header_build_parse_round_trip(
    message_id, conversation, service, action, sender, receiver, cid, millis
) -> None:  # type: ignore[no-untyped-def]
    header = UserMessageHeader(
        message_id=message_id,
        conversation_id=conversation,
        timestamp=datetime.fromtimestamp(millis / 1000, UTC),
        from_party="PFR000001",
        to_party="PFR000002",
        service=service,
        service_type="cenbii-procid-ubl",
        action=action,
        agreement_ref=AGREEMENT_REF,
        original_sender=sender,
        original_sender_type="iso6523-actorid-upis",
        final_recipient=receiver,
        final_recipient_type="iso6523-actorid-upis",
        payload_content_id=cid,
        payload_properties={"MimeType": "application/xml", "CompressionType": "application/gzip"},
    )
    parent = etree.Element(f"{{{NS_S12}}}Header")
    messaging = build_messaging(header, "msg-1", parent)
    parsed = parse_user_message(etree.fromstring(etree.tostring(messaging)))
    assert parsed == header


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=5000), chunk=st.integers(min_value=1, max_value=64))
def test_gzip_stream_then_capped_gunzip_round_trip(
    tmp_path: Path, monkeypatch, data: bytes, chunk: int
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(streams, "CHUNK_SIZE", chunk)
    out = io.BytesIO()
    digest, size = streams.gzip_stream(data, out)
    gz = out.getvalue()
    assert size == len(gz) and base64.b64decode(digest) == hashlib.sha256(gz).digest()
    assert gzip.decompress(gz) == data
    target = io.BytesIO()
    assert streams.gunzip_capped(gz, target, max_bytes=10**6, max_ratio=10**6) == len(data)
    assert target.getvalue() == data


def test_gunzip_accepts_concatenated_members() -> None:
    target = io.BytesIO()
    streams.gunzip_capped(gzip.compress(b"ab") + gzip.compress(b"cd"), target, max_bytes=100, max_ratio=100)
    assert target.getvalue() == b"abcd"


@pytest.mark.parametrize(
    "bad",
    # mtime=0: the ids must be the same in every xdist worker (a gzip header holds the time of compression)
    [b"", b"\x1f\x8b", gzip.compress(b"x" * 100, mtime=0)[:-3], gzip.compress(b"x", mtime=0) + b"junk"],
    ids=["empty", "magic-only", "truncated", "trailing-junk"],
)
def test_gunzip_rejects_broken_streams(bad: bytes) -> None:
    with pytest.raises(DecompressionFailure):
        streams.gunzip_capped(bad, io.BytesIO(), max_bytes=10**6, max_ratio=10**6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(st.sampled_from([b"a", b"b", b"\r", b"\n"]), max_size=300).map(b"".join),
    chunk=st.integers(min_value=1, max_value=7),
)
def test_swa_text_crlf_normalisation_independent_of_chunking(
    tmp_path: Path, monkeypatch, text: bytes, chunk: int
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(streams, "CHUNK_SIZE", chunk)
    expected = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    got = streams.attachment_content_digest(text, "text/plain")
    assert base64.b64decode(got) == hashlib.sha256(expected).digest()


def test_swa_xml_attachment_is_canonicalised() -> None:
    a = streams.attachment_content_digest(b'<a  x="1" ><b/></a>', "application/xml")
    b = streams.attachment_content_digest(b'<?xml version="1.0"?>\n<a x="1"><b></b></a>', "text/xml")
    assert a == b
    assert streams.attachment_content_digest(b"<a/>", "application/gzip") != a


@given(st.binary(min_size=32, max_size=32), st.text(" \n", max_size=3))
def test_reference_semantic_equality(raw: bytes, ws: str) -> None:
    value = base64.b64encode(raw).decode()
    a = Reference("#x", "sha256", value, ("t1", "t2"))
    assert a.matches(Reference("#x", "sha256", ws + value[:8] + ws + value[8:], ("t2", "t1")))
    assert not a.matches(Reference("#y", "sha256", value, ("t1", "t2")))
    assert not a.matches(Reference("#x", "sha1", value, ("t1", "t2")))
    assert not a.matches(Reference("#x", "sha256", value, ("t1",)))
    flipped = base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode()
    assert not a.matches(Reference("#x", "sha256", flipped, ("t1", "t2")))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(st.binary(max_size=3000), st.text(max_size=2000).map(str.encode)))
def test_user_message_round_trip_any_payload(test_pki, tmp_path_factory, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    from tests.transport.test_as4_roundtrip import build, receive

    msg = build(test_pki, payload, payload_mime_type="application/octet-stream")
    inbound = receive(test_pki, msg, tmp_path_factory.mktemp("prop"))
    assert inbound.payload_path.read_bytes() == payload
    assert inbound.header.message_id == msg.message_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-29T15:39:03.805Z", datetime(2026, 1, 29, 15, 39, 3, 805000, tzinfo=UTC)),
        ("2026-01-29T16:39:03.805+01:00", datetime(2026, 1, 29, 15, 39, 3, 805000, tzinfo=UTC)),  # old phase4
        ("2026-01-29T15:39:03", datetime(2026, 1, 29, 15, 39, 3, tzinfo=UTC)),  # Z optional
        (
            "2026-01-29T15:39:03.1234567Z",
            datetime(2026, 1, 29, 15, 39, 3, 123456, tzinfo=UTC),
        ),  # .NET 7 digits
    ],
)
def test_timestamp_parsing_lenient_on_input(text: str, expected: datetime) -> None:
    from transport.as4.header import format_timestamp, parse_timestamp

    assert parse_timestamp(text) == expected
    assert format_timestamp(expected).endswith("Z")


# Characters XML must escape, and the whitespace an attribute keeps only as a character reference.
_markup_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from(list("&<>\"'\t\n\r")),
    min_size=1,
    max_size=30,
)


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(_markup_text, min_size=12, max_size=12),
    ref_to=st.none() | _markup_text,
    service_type=st.none() | _markup_text,
    properties=st.dictionaries(_markup_text, _markup_text, max_size=3),
)
def test_rendered_messaging_is_canonically_the_built_one(
    values: list[str], ref_to: str | None, service_type: str | None, properties: dict[str, str]
) -> None:
    # The builder writes eb:Messaging as text and digests its canonical form written as text (issue 11,
    # build speed): parsed back, the text must have the exact canonical form of the element tree
    # build_messaging makes, and that canonical form must be the canonical text.
    header = UserMessageHeader(
        message_id=values[0],
        conversation_id=values[1],
        timestamp=datetime(2026, 12, 7, 8, 0, 0, 123456, UTC),
        from_party=values[2],
        to_party=values[3],
        service=values[4],
        service_type=service_type,
        action=values[5],
        agreement_ref=values[6],
        original_sender=values[7],
        original_sender_type=values[8],
        final_recipient=values[9],
        final_recipient_type=values[10],
        ref_to_message_id=ref_to,
        payload_content_id=values[11],
        payload_properties=properties,
    )
    messaging_id = 'msg-<&"1">'
    parent = etree.Element(f"{{{NS_S12}}}Header", nsmap={"S12": NS_S12})
    built = build_messaging(header, messaging_id, parent)
    text = f'<S12:Header xmlns:S12="{NS_S12}">{render_messaging(header, messaging_id)}</S12:Header>'
    rendered = etree.fromstring(text.encode())[0]
    assert exc_c14n(rendered) == exc_c14n(built)
    # and the canonical text the builder digests is lxml's exclusive canonical form of those elements
    assert render_messaging(header, messaging_id, canonical=True).encode() == exc_c14n(built)


def test_random_uuids_are_version_4_uuids() -> None:
    ids = random_uuids(50)
    assert len(set(ids)) == 50
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids)


@settings(max_examples=40, deadline=None)
@given(uri=_markup_text, digest=st.binary(min_size=32, max_size=32))
def test_signed_info_text_is_canonical(uri: str, digest: bytes) -> None:
    # What the builder signs is SignedInfo's canonical form written as text (issue 11): it must be
    # lxml's exclusive canonical form of the SignedInfo it writes into the envelope.
    from transport.as4.builder import _signed_info
    from transport.as4.constants import ALG_EXC_C14N, ALG_SHA256, ALG_SWA_CONTENT_SIGNATURE, NS_DS

    value = base64.b64encode(digest).decode()
    refs = (
        Reference(f"#{uri}", ALG_SHA256, value, (ALG_EXC_C14N,)),
        Reference(f"cid:{uri}", ALG_SHA256, value, (ALG_SWA_CONTENT_SIGNATURE,)),
    )
    text = f'<ds:Signature xmlns:ds="{NS_DS}">{_signed_info(refs, canonical=False)}</ds:Signature>'
    assert exc_c14n(etree.fromstring(text.encode())[0]) == _signed_info(refs, canonical=True).encode()
