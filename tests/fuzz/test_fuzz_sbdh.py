"""Fuzz ``transport.sbdh``: mutated good SBDs from the corpus fail only with :class:`SbdhError`."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peppol.identifiers import ParticipantId
from tests.fuzz import fuzz_settings, mutated, token_mutated, xml_mutated
from tests.fuzz.test_fuzz_as4 import INVOICE, RECEIVER, SENDER
from transport.errors import OtherError
from transport.sbdh import SbdhError, build_sbd, extract_payload, header_for_document, parse_sbd, read_sbd

GOOD = "sbdh/peppol-commons/good"

#: Structural pieces of an SBDH whose removal / duplication / swap exercises each header rule.
_TOKENS = (
    b"StandardBusinessDocumentHeader",
    b"StandardBusinessDocument",
    b"HeaderVersion",
    b"Sender",
    b"Receiver",
    b"Identifier",
    b"Authority",
    b"DocumentIdentification",
    b"Standard",
    b"TypeVersion",
    b"InstanceIdentifier",
    b"Type",
    b"CreationDateAndTime",
    b"BusinessScope",
    b"Scope",
    b"InstanceIdentifier",
    b"DOCUMENTID",
    b"PROCESSID",
    b"COUNTRY_C1",
    b"iso6523-actorid-upis",
    b"busdox-docid-qns",
    b"cenbii-procid-ubl",
    b"::",
    b"0088:",
    b"xmlns",
    b"http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader",
    b"T",
    b"Z",
    b"+",
    b"1.0",
    b"2.1",
    b">",
    b"<",
    b"</",
)


class _Blobs(dict[str, bytes]):
    def __repr__(self) -> str:
        return f"<{len(self)} corpus SBDs>"


@pytest.fixture(scope="module")
def good_sbds(corpus: Path) -> dict[str, bytes]:
    files = sorted((corpus / GOOD).glob("*.xml"))
    assert files, f"no good SBDs in {corpus / GOOD}"
    return _Blobs({f.name: f.read_bytes() for f in files})


def _input(data: st.DataObject, good: dict[str, bytes]) -> bytes:
    seed = good[data.draw(st.sampled_from(sorted(good)), label="seed")]
    how = data.draw(st.sampled_from(("tree", "bytes", "tree", "tokens", "both")), label="how")
    if how == "tree":
        return data.draw(xml_mutated(seed, max_ops=3), label="tree-mutated")
    if how in ("tokens", "both"):
        seed = data.draw(token_mutated(seed, _TOKENS, max_ops=3), label="token-mutated")
    if how in ("bytes", "both"):
        seed = data.draw(mutated(seed, max_ops=4), label="byte-mutated")
    return seed


def _only_sbdh_error(exc: SbdhError) -> None:
    assert exc.code, "an SbdhError must carry its peppol-commons error id"
    ebms = exc.to_ebms()
    assert isinstance(ebms, OtherError) and ebms.code == "EBMS:0004"


@fuzz_settings(200)
@given(data=st.data())
def test_read_sbd_mutated_corpus_raises_only_sbdh_error(
    good_sbds: dict[str, bytes], data: st.DataObject
) -> None:
    blob = _input(data, good_sbds)
    strict_c1 = data.draw(st.booleans(), label="require_country_c1")
    source = data.draw(st.sampled_from(("bytes", "stream")), label="source")
    try:
        parsed = read_sbd(blob if source == "bytes" else io.BytesIO(blob), require_country_c1=strict_c1)
    except SbdhError as exc:
        _only_sbdh_error(exc)
        return
    assert parsed.header.sender is not None and parsed.header.receiver is not None


@fuzz_settings(120)
@given(data=st.data())
def test_parse_sbd_mutated_corpus_raises_only_sbdh_error(
    good_sbds: dict[str, bytes], data: st.DataObject
) -> None:
    blob = _input(data, good_sbds)
    try:
        doc = parse_sbd(blob)
    except SbdhError as exc:
        _only_sbdh_error(exc)
        return
    try:
        assert isinstance(doc.payload_bytes(), bytes)
    except SbdhError as exc:
        _only_sbdh_error(exc)


@fuzz_settings(120)
@given(data=st.data())
def test_extract_payload_mutated_corpus_raises_only_sbdh_error(
    good_sbds: dict[str, bytes], data: st.DataObject
) -> None:
    blob = _input(data, good_sbds)
    out = io.BytesIO()
    try:
        extract_payload(blob, out)
    except SbdhError as exc:
        _only_sbdh_error(exc)


_WRAPPED = b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">'


@fuzz_settings(80)
@given(
    kind=st.sampled_from(("BinaryContent", "TextContent")),
    content=st.binary(max_size=64),
    encoding=st.sampled_from((None, "base64", "Base64", "UTF-8", "ISO-8859-1", "nonsense", "")),
    mime=st.sampled_from((None, "application/pdf", "text/plain", "", "x")),
    garble=st.booleans(),
)
def test_wrapped_payloads_with_garbage_content_raise_only_sbdh_error(
    good_sbds: dict[str, bytes],
    kind: str,
    content: bytes,
    encoding: str | None,
    mime: str | None,
    garble: bool,
) -> None:
    """Replace the payload of a good SBD by a Binary/TextContent wrapper with hostile attributes."""
    seed = good_sbds["good.xml"]
    head_end = seed.index(b"</StandardBusinessDocumentHeader>") + len(b"</StandardBusinessDocumentHeader>")
    head = seed[:head_end]
    attrs = b""
    if mime is not None:
        attrs += b' mimeType="' + mime.encode() + b'"'
    if encoding is not None:
        attrs += b' encoding="' + encoding.encode() + b'"'
    text = base64.b64encode(content)
    if garble:
        text = text[:-1] + b"!*" if text else b"!"
    wrapper = b'<bc:%s xmlns:bc="http://peppol.eu/xsd/ticc/envelope/1.0"%s>%s</bc:%s>' % (
        kind.encode(),
        attrs,
        text,
        kind.encode(),
    )
    blob = head + wrapper + b"</StandardBusinessDocument>"
    out = io.BytesIO()
    try:
        extract_payload(blob, out)
        parse_sbd(blob).payload_bytes()
    except SbdhError as exc:
        _only_sbdh_error(exc)


def test_read_sbd_unreadable_sources_raise_sbdh_error(tmp_path: Path) -> None:
    """Empty input, a directory and a missing file: a typed error (or OSError for the file system)."""
    with pytest.raises(SbdhError, match="not well-formed XML: no element found") as empty:
        read_sbd(b"")
    assert empty.value.code == "invalid-sbd-xml"
    with pytest.raises(SbdhError, match="not well-formed XML") as binary:
        read_sbd(io.BytesIO(b"\x00\x01"))
    assert binary.value.code == "invalid-sbd-xml"
    for path in (tmp_path / "missing.xml", tmp_path):
        with pytest.raises((SbdhError, OSError)):
            read_sbd(path)


@fuzz_settings(100)
@given(data=st.data())
def test_header_for_mutated_bare_documents_raises_only_sbdh_error(data: st.DataObject) -> None:
    """``ap as4 send`` builds the SBDH of a bare document from its content: a broken document gives an
    SbdhError, and a header that is built writes an SBD that reads back."""
    how = data.draw(st.sampled_from(("tree", "bytes")), label="how")
    doc = (
        data.draw(xml_mutated(INVOICE, max_ops=3), label="doc")
        if how == "tree"
        else data.draw(mutated(INVOICE, max_ops=3), label="doc")
    )
    country = data.draw(st.sampled_from(("FR", "fr", "", "F", "\u20ac\u20ac")), label="country")
    try:
        header = header_for_document(
            doc,
            sender=ParticipantId.parse(SENDER),
            receiver=ParticipantId.parse(RECEIVER),
            country_c1=country,
        )
        sbd = build_sbd(header, doc)
    except SbdhError as exc:
        _only_sbdh_error(exc)
        return
    parsed = read_sbd(sbd)
    assert parsed.header.document_type == header.document_type
