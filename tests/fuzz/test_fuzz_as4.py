"""Fuzz the inbound AS4 path: ``transport.mime.read_message``, ``transport.receiver.receive`` and the
sender-side ``parse_signal`` / ``verify_receipt``.

A real signed+encrypted UserMessage (``aps[0]`` → ``aps[1]`` of the session test PKI) is built once;
each example mutates its bytes, MIME structure (boundaries, Content-IDs, transfer encodings, headers),
HTTP Content-Type or SOAP envelope, and posts it to the receiver core. The receiver must answer every
one with HTTP 200 + an ebMS signal or a plain 4xx: never an exception, never a 500, never an "internal
error" (a caught crash), and a message it *accepts* must deliver exactly the SBD that was signed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from tests.fuzz import fuzz_settings, mutated, token_mutated, xml_mutated
from transport.as4 import (
    OutboundMessage,
    build_user_message,
    new_user_message_header,
    parse_signal,
    verify_receipt,
)
from transport.errors import DeliveryFailure, EbmsError, InvalidReceipt
from transport.mime import MimeError, MimeLimits, MimePart, parse_content_type, read_message
from transport.receiver import (
    CallbackHooks,
    ReceivedMessage,
    ReceiverConfig,
    ReceiverResponse,
    Verdict,
    receive,
)
from transport.sbdh import build_sbd, header_for_document

SENDER = "iso6523-actorid-upis::0088:5790000435951"
RECEIVER = "iso6523-actorid-upis::0088:5798000000001"
DOCTYPE = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
    b"<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    b"</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
    b"<cbc:ID>FUZZ-1</cbc:ID></Invoice>\n"
)
#: Receiver memory budgets drawn by the tests: default (in memory), always files, and budgets that run
#: out inside the attachment (which then moves to a file half-way).
MEMORY_BUDGETS = st.sampled_from((None, 0, 1, 100, 5000))
#: Longest a single receive() may take before the example counts as a hang (seconds).
HANG_SECONDS = 30


class Hang(Exception):
    """A call did not return within :data:`HANG_SECONDS`."""


@contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail (instead of blocking CI) when the body runs longer than ``seconds`` (main thread only)."""

    def fire(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def make_sbd(document: bytes = INVOICE) -> bytes:
    header = header_for_document(
        document,
        sender=ParticipantId.parse(SENDER),
        receiver=ParticipantId.parse(RECEIVER),
        process=ProcessId.parse(PROCESS),
        country_c1="FR",
        document_type=DocumentTypeId.parse(DOCTYPE),
    )
    return build_sbd(header, document)


def build(pki: Any, sbd: bytes) -> OutboundMessage:
    signer = pki.aps[0].identity()
    header = new_user_message_header(
        from_party=signer.seat_id,
        to_party=pki.aps[1].seat_id,
        sender=ParticipantId.parse(SENDER),
        receiver=ParticipantId.parse(RECEIVER),
        document_type=DocumentTypeId.parse(DOCTYPE),
        process=ProcessId.parse(PROCESS),
    )
    return build_user_message(header, sbd, signer=signer, recipient_certificate=pki.aps[1].certificate())


def body_of(message: OutboundMessage) -> bytes:
    with message.open_body() as fh:
        return fh.read()


@dataclass
class Recorder:
    payloads: list[bytes] = field(default_factory=list)

    def accepted(self, message: ReceivedMessage, receipt: bytes) -> None:
        self.payloads.append(message.sbd_path.read_bytes())

    def hooks(self) -> CallbackHooks:
        return CallbackHooks(acknowledged_fn=self.accepted)


class Exchange:
    """One valid message and everything needed to post variations of it (a plain class: Hypothesis
    pretty-prints dataclasses field by field, which would dump whole messages into failure reports)."""

    def __init__(
        self, pki: Any, message: OutboundMessage, sbd: bytes, validate: Callable[[Any], object], work: Path
    ) -> None:
        self.pki = pki
        self.message = message
        self.body = body_of(message)
        self.sbd = sbd
        self.validate = validate
        self.work = work
        self.receipt = b""
        self.receipt_content_type = ""

    def __repr__(self) -> str:
        return f"<Exchange {self.message.message_id}>"

    def check_signer(self, cert: Any) -> None:
        self.validate(cert)

    @property
    def boundary(self) -> bytes:
        return parse_content_type(self.message.content_type)[1]["boundary"].encode()

    def post(
        self,
        body: bytes,
        content_type: str | None = None,
        *,
        limits: MimeLimits | None = None,
        memory_bytes: int | None = None,
    ) -> tuple[ReceiverResponse, Recorder]:
        """POST ``body`` to a fresh receiver. ``memory_bytes`` (None = the default) picks in-memory
        processing, files (0) or a budget that runs out in the middle of a part."""
        config = ReceiverConfig(
            identity=self.pki.aps[1].identity(),
            validate_signer=self.validate,
            work_dir=self.work,
            mime_limits=limits if limits is not None else MimeLimits(),
        )
        if memory_bytes is not None:
            config = dataclasses.replace(config, memory_bytes=memory_bytes)
        recorder = Recorder()
        headers = {} if content_type is None else {"Content-Type": content_type}
        with no_hang():
            response = receive(headers, io.BytesIO(body), config, recorder.hooks())
        return response, recorder


@pytest.fixture(scope="module")
def exchange(test_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Exchange:
    sbd = make_sbd()
    message = build(test_pki, sbd)
    validator = test_pki.ap_validator()
    validator.validate(test_pki.aps[0].certificate())  # warm (asn1crypto lazy parsing)
    ex = Exchange(test_pki, message, sbd, validator.validate, tmp_path_factory.mktemp("rx"))
    response, recorder = ex.post(ex.body, message.content_type)
    assert response.decision.verdict is Verdict.ACCEPTED, response.decision.reason
    assert recorder.payloads == [sbd]
    ex.receipt, ex.receipt_content_type = response.body, response.content_type
    return ex


def check_response(ex: Exchange, response: ReceiverResponse, recorder: Recorder) -> None:
    """The receiver's contract for any input."""
    decision = response.decision
    code = decision.error.code if decision.error is not None else ""
    if currently_in_test_context():
        event(f"{response.status} {decision.verdict.value} {code}")
    assert response.status != 500 and response.status < 500, (response.status, response.body[:300])
    if response.status != 200:
        assert 400 <= response.status < 500
        assert decision.verdict is Verdict.MALFORMED
        assert response.content_type.startswith("text/plain")
        assert response.body.strip(), "a 4xx carries its reason"
        assert response.body.count(b"\n") == 1 and response.body.endswith(b"\n"), "a one-line reason"
        assert recorder.payloads == []
        return
    assert response.content_type.startswith("application/soap+xml")
    sig = parse_signal(response.body, response.content_type)
    assert sig.signed
    if decision.verdict is Verdict.ACCEPTED:
        assert sig.kind == "receipt"
        # accepted means: exactly what was signed was delivered, once
        assert recorder.payloads == [ex.sbd]
        return
    assert decision.verdict is Verdict.REJECTED, decision
    assert sig.kind == "error" and sig.errors and sig.errors[0].code.startswith("EBMS:")
    assert recorder.payloads == []
    error = decision.error
    assert isinstance(error, EbmsError)
    internal = isinstance(error, DeliveryFailure) and "internal error" in error.description
    assert not internal, f"a crash inside the receiver was masked as EBMS:0202: {error.description}"


# --- raw byte mutations ------------------------------------------------------------------------------


@fuzz_settings(120)
@given(data=st.data())
def test_receiver_mutated_bytes_get_ebms_error_or_4xx(exchange: Exchange, data: st.DataObject) -> None:
    body = data.draw(mutated(exchange.body, max_ops=3), label="body")
    memory = data.draw(MEMORY_BUDGETS, label="memory_bytes")
    response, recorder = exchange.post(body, exchange.message.content_type, memory_bytes=memory)
    check_response(exchange, response, recorder)


# --- MIME structure -----------------------------------------------------------------------------------


def _mime_tokens(ex: Exchange) -> tuple[bytes, ...]:
    cids = re.findall(rb"Content-ID: <([^>]+)>", ex.body)
    return (
        b"--" + ex.boundary,
        ex.boundary,
        b"--\r\n",
        b"\r\n\r\n",
        b"\r\n",
        b"Content-Type",
        b"Content-ID",
        b"Content-Transfer-Encoding",
        b"binary",
        b"application/soap+xml",
        b"application/octet-stream",
        b"<",
        b">",
        *cids,
    )


@fuzz_settings(120)
@given(data=st.data())
def test_receiver_mutated_mime_structure_gets_ebms_error_or_4xx(
    exchange: Exchange, data: st.DataObject
) -> None:
    body = data.draw(token_mutated(exchange.body, _mime_tokens(exchange), max_ops=3), label="body")
    memory = data.draw(MEMORY_BUDGETS, label="memory_bytes")
    response, recorder = exchange.post(body, exchange.message.content_type, memory_bytes=memory)
    check_response(exchange, response, recorder)


def _split_parts(ex: Exchange) -> list[tuple[bytes, bytes]]:
    """(headers, content) of each part of the valid body."""
    delim = b"--" + ex.boundary
    chunks = ex.body.split(delim)[1:-1]
    parts = []
    for chunk in chunks:
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, content = chunk.partition(b"\r\n\r\n")
        parts.append((head, content))
    return parts


def _qp(data: bytes) -> bytes:
    return binascii.b2a_qp(data, istext=False)


@st.composite
def reassembled(draw: st.DrawFn, ex: Exchange) -> tuple[bytes, str]:
    """The valid message re-serialised with legal and illegal MIME variations."""
    eol = draw(st.sampled_from((b"\r\n", b"\n")), label="eol")
    boundary = draw(st.sampled_from((ex.boundary, b"b", b"x" * 70, b"x" * 71, b"a b", b"\xe9t\xe9", b"")))
    parts = _split_parts(ex)
    out = bytearray()
    if draw(st.booleans(), label="preamble"):
        out += b"preamble text" + eol
    for head, content in parts:
        encoding = draw(
            st.sampled_from(("binary", "8bit", "7bit", "base64", "quoted-printable", "x-gzip", "BASE64", "")),
            label="encoding",
        )
        if encoding.lower() == "base64":
            body = base64.encodebytes(content)
            if draw(st.booleans(), label="garble-b64"):
                body = body[: len(body) // 2] + b"!!==" + body[len(body) // 2 :]
        elif encoding == "quoted-printable":
            body = _qp(content)
            if draw(st.booleans(), label="garble-qp"):
                body = body + b"=Z" + b"=\r"
        else:
            body = content
        lines = [
            line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-transfer-encoding")
        ]
        if encoding:
            lines.append(b"Content-Transfer-Encoding: " + encoding.encode())
        if draw(st.booleans(), label="strip-cid-brackets"):
            lines = [re.sub(rb"Content-ID: <([^>]*)>", rb"Content-ID: \1", line) for line in lines]
        if draw(st.booleans(), label="fold-header"):
            lines = [line.replace(b"; ", b";" + eol + b"\t") for line in lines]
        padding = draw(st.sampled_from((b"", b"  ", b"\t")), label="padding")
        out += b"--" + boundary + padding + eol + eol.join(lines) + eol + eol + body + eol
    close = draw(st.sampled_from((b"--", b"", b"--garbage")), label="close")
    if close or draw(st.booleans(), label="drop-close"):
        out += b"--" + boundary + close + eol
    media = draw(
        st.sampled_from(("multipart/related", "Multipart/Related", "multipart/mixed")), label="media"
    )
    start = draw(st.sampled_from(("keep", "drop", "wrong", "unbracketed")), label="start")
    params = parse_content_type(ex.message.content_type)[1]
    ctype = f'{media}; boundary="{boundary.decode("latin-1")}"; type="application/soap+xml"'
    if start == "keep":
        ctype += f'; start="{params["start"]}"'
    elif start == "wrong":
        ctype += '; start="<nope@x>"'
    elif start == "unbracketed":
        ctype += f'; start="{params["start"].strip("<>")}"'
    return bytes(out), ctype


@fuzz_settings(120)
@given(data=st.data())
def test_receiver_reassembled_mime_variants_get_ebms_error_or_4xx(
    exchange: Exchange, data: st.DataObject
) -> None:
    body, ctype = data.draw(reassembled(exchange), label="message")
    memory = data.draw(MEMORY_BUDGETS, label="memory_bytes")
    response, recorder = exchange.post(body, ctype, memory_bytes=memory)
    check_response(exchange, response, recorder)


_CONTENT_TYPES = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.sampled_from(
        (
            "",
            "multipart/related",
            "multipart/related; boundary=",
            'multipart/related; boundary=""',
            "multipart/related; boundary*=utf-8''%ff%fe",
            "multipart/related; boundary*0=a; boundary*1=b",
            'multipart/related; boundary="x"; start="<',
            "application/soap+xml",
            "application/soap+xml; charset=nonsense",
            "text/xml",
            "multipart/related; boundary=\u20ac",
            "multipart/related;;;;;;; boundary=x;;;",
            "multipart/related; boundary=x\r\nX-Injected: 1",
        )
    ),
)


@fuzz_settings(120)
@given(data=st.data())
def test_receiver_hostile_content_type_headers_get_4xx_or_ebms_error(
    exchange: Exchange, data: st.DataObject
) -> None:
    ctype = data.draw(_CONTENT_TYPES, label="content-type")
    body = data.draw(
        st.sampled_from((exchange.body, exchange.message.envelope, b"", b"--x\r\n\r\n<a/>")), label="body"
    )
    response, recorder = exchange.post(body, ctype)
    check_response(exchange, response, recorder)


@fuzz_settings(60)
@given(
    data=st.data(),
    limits=st.builds(
        MimeLimits,
        max_total_bytes=st.integers(0, 40000),
        max_parts=st.integers(0, 4),
        max_header_bytes=st.integers(0, 400),
        max_envelope_bytes=st.integers(0, 20000),
    ),
)
def test_receiver_over_cap_bodies_get_4xx_or_ebms_error(
    exchange: Exchange, data: st.DataObject, limits: MimeLimits
) -> None:
    body = exchange.body
    if data.draw(st.booleans(), label="mutate"):
        body = data.draw(mutated(body, max_ops=2), label="body")
    memory = data.draw(MEMORY_BUDGETS, label="memory_bytes")
    response, recorder = exchange.post(
        body, exchange.message.content_type, limits=limits, memory_bytes=memory
    )
    check_response(exchange, response, recorder)


# --- SOAP envelope ------------------------------------------------------------------------------------

_ENVELOPE_TOKENS = (
    b"S12:Envelope",
    b"S12:Header",
    b"S12:Body",
    b"wsse:Security",
    b"wsse:BinarySecurityToken",
    b"wsse:SecurityTokenReference",
    b"wsse:Reference",
    b"xenc:EncryptedKey",
    b"xenc:EncryptedData",
    b"xenc:CipherValue",
    b"xenc:DataReference",
    b"ds:Signature",
    b"ds:SignedInfo",
    b"ds:Reference",
    b"ds:DigestValue",
    b"ds:SignatureValue",
    b"ds:Transform",
    b"ds:KeyInfo",
    b"eb:Messaging",
    b"eb:UserMessage",
    b"eb:MessageId",
    b"eb:PartInfo",
    b"eb:Property",
    b"Algorithm=",
    b"URI=",
    b"wsu:Id=",
    b"href=",
    b"cid:",
    b"#",
    b'"',
    b"=",
    b"/>",
)


def _with_envelope(ex: Exchange, envelope: bytes) -> bytes:
    original = ex.message.envelope
    assert original in ex.body
    return ex.body.replace(original, envelope, 1)


@fuzz_settings(150)
@given(data=st.data())
def test_receiver_mutated_soap_envelope_gets_ebms_error_or_4xx(
    exchange: Exchange, data: st.DataObject
) -> None:
    envelope = exchange.message.envelope
    how = data.draw(st.sampled_from(("tree", "tokens", "bytes")), label="how")
    if how == "tree":
        envelope = data.draw(xml_mutated(envelope, max_ops=2), label="envelope")
    elif how == "tokens":
        envelope = data.draw(token_mutated(envelope, _ENVELOPE_TOKENS, max_ops=3), label="envelope")
    else:
        envelope = data.draw(mutated(envelope, max_ops=3), label="envelope")
    response, recorder = exchange.post(_with_envelope(exchange, envelope), exchange.message.content_type)
    check_response(exchange, response, recorder)


# --- signed messages carrying hostile SBDs ------------------------------------------------------------

_SBD_TOKENS = (
    b"StandardBusinessDocumentHeader",
    b"Sender",
    b"Receiver",
    b"Identifier",
    b"Authority",
    b"Scope",
    b"DOCUMENTID",
    b"PROCESSID",
    b"COUNTRY_C1",
    b"InstanceIdentifier",
    b"CreationDateAndTime",
    b"0088:",
    b"::",
    b"<",
    b">",
)


@fuzz_settings(40)
@given(data=st.data())
def test_receiver_signed_messages_with_mutated_sbds_get_signed_0004(
    exchange: Exchange, data: st.DataObject
) -> None:
    """Properly signed and encrypted messages whose SBD is broken: the receiver's SBDH checks answer."""
    how = data.draw(st.sampled_from(("tokens", "bytes")), label="how")
    if how == "tokens":
        sbd = data.draw(token_mutated(exchange.sbd, _SBD_TOKENS, max_ops=2), label="sbd")
    else:
        sbd = data.draw(mutated(exchange.sbd, max_ops=3), label="sbd")
    message = build(exchange.pki, sbd)
    accepted_sbd = exchange.sbd
    exchange.sbd = sbd  # what must be delivered if accepted
    try:
        memory = data.draw(MEMORY_BUDGETS, label="memory_bytes")
        response, recorder = exchange.post(body_of(message), message.content_type, memory_bytes=memory)
        check_response(exchange, response, recorder)
        # The envelope, signature and encryption are intact: only the SBDH checks may refuse it, with
        # EBMS:0004 (a signature or decryption code here would be a refusal for the wrong reason).
        if response.decision.verdict is not Verdict.ACCEPTED:
            assert response.status == 200
            assert response.decision.error is not None and response.decision.error.code == "EBMS:0004", (
                response.decision.reason
            )
    finally:
        exchange.sbd = accepted_sbd


# --- receipts (sender side) ---------------------------------------------------------------------------

_RECEIPT_TOKENS = (
    b"eb:SignalMessage",
    b"eb:Receipt",
    b"eb:MessageInfo",
    b"eb:RefToMessageId",
    b"eb:MessageId",
    b"eb:Error",
    b"ebbp:NonRepudiationInformation",
    b"ebbp:MessagePartNRInformation",
    b"ds:Reference",
    b"ds:DigestValue",
    b"ds:Signature",
    b"ds:SignatureValue",
    b"wsse:Security",
    b"wsse:BinarySecurityToken",
    b"S12:Body",
    b"S12:Header",
    b"URI=",
    b"wsu:Id=",
    b"Algorithm=",
    b'"',
)


@fuzz_settings(150)
@given(data=st.data())
def test_mutated_receipts_raise_only_ebms_errors(exchange: Exchange, data: st.DataObject) -> None:
    receipt = exchange.receipt
    how = data.draw(st.sampled_from(("tree", "tokens", "bytes", "multipart")), label="how")
    content_type: str | None = exchange.receipt_content_type
    if how == "tree":
        receipt = data.draw(xml_mutated(receipt, max_ops=3), label="receipt")
    elif how == "tokens":
        receipt = data.draw(token_mutated(receipt, _RECEIPT_TOKENS, max_ops=3), label="receipt")
    elif how == "bytes":
        receipt = data.draw(mutated(receipt, max_ops=3), label="receipt")
    else:
        boundary = data.draw(st.sampled_from(("b", "=_x", "\u00e9", "\u20ac", "")), label="boundary")
        cid = data.draw(st.sampled_from(("<r@x>", "r@x", "<\u20ac>", "")), label="cid")
        part = b"Content-Type: application/soap+xml\r\nContent-ID: " + cid.encode("utf-8") + b"\r\n\r\n"
        receipt = (
            b"--"
            + boundary.encode("utf-8")
            + b"\r\n"
            + part
            + receipt
            + b"\r\n--"
            + boundary.encode("utf-8")
            + b"--"
        )
        content_type = f'multipart/related; boundary="{boundary}"; start="{cid}"; type="application/soap+xml"'
    try:
        sig = parse_signal(receipt, content_type)
    except EbmsError as exc:
        assert exc.code.startswith("EBMS:")
    else:
        assert sig.kind in ("receipt", "error")
    try:
        verified = verify_receipt(
            receipt,
            sent=exchange.message,
            receiver_certificate=exchange.pki.aps[1].certificate(),
            validate_signer=exchange.check_signer,
            content_type=content_type,
        )
    except EbmsError as exc:
        assert exc.code == "EBMS:0302", exc
    else:
        assert verified.ref_to_message_id == exchange.message.message_id


def test_non_latin1_response_content_type_is_invalid_receipt() -> None:
    """Regression (found by the fuzzer): ``soap_part`` encoded the Content-Type as ISO-8859-1 and
    raised UnicodeEncodeError for anything else instead of InvalidReceipt."""
    for content_type in ("multipart/related; boundary=\u20ac", "MULTIPART/\u0100"):
        with pytest.raises(InvalidReceipt, match="not ISO-8859-1"):
            parse_signal(b"--x\r\n\r\n<a/>\r\n--x--", content_type)


@fuzz_settings(100)
@given(content_type=_CONTENT_TYPES, body=st.binary(max_size=300))
def test_parse_signal_garbage_raises_only_ebms_errors(content_type: str | None, body: bytes) -> None:
    try:
        parse_signal(body, content_type)
    except EbmsError as exc:
        assert exc.code == "EBMS:0302"


# --- the MIME reader on its own ----------------------------------------------------------------------


@fuzz_settings(150)
@given(data=st.data())
def test_read_message_raises_only_mime_errors(exchange: Exchange, data: st.DataObject) -> None:
    how = data.draw(st.sampled_from(("bytes", "tokens", "reassembled")), label="how")
    ctype: str | None = exchange.message.content_type
    if how == "bytes":
        body = data.draw(mutated(exchange.body, max_ops=4), label="body")
    elif how == "tokens":
        body = data.draw(token_mutated(exchange.body, _mime_tokens(exchange), max_ops=4), label="body")
    else:
        body, ctype = data.draw(reassembled(exchange), label="message")
    with tempfile.TemporaryDirectory(dir=exchange.work) as tmp, no_hang():
        try:
            memory = data.draw(st.sampled_from((0, 1, 100, 10**6)), label="memory_bytes")
            parsed = read_message(ctype, io.BytesIO(body), Path(tmp), memory_bytes=memory)
        except MimeError as exc:
            assert exc.code == "EBMS:0007"
            return
        for part in parsed.attachments:
            assert len(_content(part)) == part.size


class Trickle(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read (a slow network)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size < 0 else min(size, self._step)
        chunk = bytes(self._data[self._pos : self._pos + n])
        self._pos += len(chunk)
        return chunk


def _content(part: MimePart) -> bytes:
    """An attachment's bytes, in memory or on disk (exactly one of the two)."""
    assert (part.data is None) != (part.path is None), "exactly one of data and path is set"
    if part.data is not None:
        return part.data
    assert part.path is not None
    return part.path.read_bytes()


def _read_all(
    ctype: str | None, stream: Any, work: Path, memory_bytes: int = 0
) -> tuple[bytes, list[tuple[str | None, bytes]]] | str:
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        try:
            parsed = read_message(ctype, stream, Path(tmp), memory_bytes=memory_bytes)
        except MimeError as exc:
            return type(exc).__name__
        parts = []
        for part in parsed.attachments:
            content = _content(part)
            assert len(content) == part.size
            parts.append((part.content_id, content))
        return parsed.envelope, parts


@fuzz_settings(60)
@given(data=st.data(), step=st.sampled_from((1, 2, 3, 7, 45, 46, 47, 48, 64, 1000)))
def test_read_message_result_does_not_depend_on_read_sizes(
    exchange: Exchange, data: st.DataObject, step: int
) -> None:
    """Delimiters split across reads, and parts kept in memory or spilled to files half-way, must not
    change what is read (no lost or extra bytes)."""
    how = data.draw(st.sampled_from(("valid", "reassembled", "tokens")), label="how")
    ctype: str | None = exchange.message.content_type
    body = exchange.body
    if how == "reassembled":
        body, ctype = data.draw(reassembled(exchange), label="message")
    elif how == "tokens":
        body = data.draw(token_mutated(exchange.body, _mime_tokens(exchange), max_ops=2), label="body")
    with no_hang():
        whole = _read_all(ctype, io.BytesIO(body), exchange.work)
        memory = data.draw(st.sampled_from((0, 1, 100, 5000, 10**6)), label="memory_bytes")
        trickled = _read_all(ctype, Trickle(body, step), exchange.work, memory)
    assert trickled == whole
    if how == "valid":
        assert not isinstance(whole, str)
        assert whole[0] == exchange.message.envelope


@fuzz_settings(20)
@given(step=st.integers(1, 200))
def test_read_message_plain_soap_does_not_depend_on_read_sizes(exchange: Exchange, step: int) -> None:
    envelope = exchange.message.envelope
    whole = _read_all("application/soap+xml", io.BytesIO(envelope), exchange.work)
    assert not isinstance(whole, str) and whole[0] == envelope
    assert _read_all("application/soap+xml", Trickle(envelope, step), exchange.work) == whole


# --- the sender's view of hostile answers ---------------------------------------------------------------


@fuzz_settings(120)
@given(
    data=st.data(),
    status=st.sampled_from((200, 200, 200, 202, 204, 301, 400, 404, 413, 415, 500, 502, 503, 599, 999, 100)),
)
def test_sender_classifies_hostile_answers_without_raising(
    exchange: Exchange, data: st.DataObject, status: int
) -> None:
    """``As4Sender.classify`` turns any HTTP answer into an Outcome: delivered only with HTTP 200 and a
    receipt that verifies; otherwise an ebMS code or an HTTP failure, never an exception."""
    from transport.sender import As4Sender

    how = data.draw(st.sampled_from(("tree", "bytes", "tokens", "garbage", "receipt")), label="how")
    body = exchange.receipt
    if how == "tree":
        body = data.draw(xml_mutated(body, max_ops=3), label="body")
    elif how == "bytes":
        body = data.draw(mutated(body, max_ops=3), label="body")
    elif how == "tokens":
        body = data.draw(token_mutated(body, _RECEIPT_TOKENS, max_ops=3), label="body")
    elif how == "garbage":
        body = data.draw(st.binary(max_size=200), label="body")
    content_type = data.draw(
        st.one_of(st.none(), _CONTENT_TYPES, st.just(exchange.receipt_content_type)), label="ct"
    )
    with As4Sender(validate_signer=exchange.validate) as sender:
        outcome = sender.classify(
            status, content_type, body, exchange.message, exchange.pki.aps[1].certificate()
        )
    event(f"delivered={outcome.delivered} {outcome.code}")
    assert outcome.summary
    assert outcome.http_status == status
    if how == "receipt" and status == 200 and content_type == exchange.receipt_content_type:
        assert outcome.delivered, outcome  # control: the untouched receipt verifies
    if outcome.delivered:
        assert status == 200 and outcome.receipt is not None
        assert outcome.receipt.ref_to_message_id == exchange.message.message_id
        assert outcome.code is None and not outcome.retryable
    elif outcome.code is None:
        # no ebMS signal: a plain HTTP failure, retried only for 5xx
        assert 400 <= status < 600, outcome
        assert outcome.retryable is (status >= 500)
        assert outcome.detail
    else:
        # the code may be the peer's own (eb:Error/@errorCode is passed through); ours is EBMS:0302
        assert outcome.code.strip() and outcome.detail is not None
        if outcome.code == "EBMS:0302":
            assert not outcome.retryable


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<eb:UserMessage>", b'<eb:UserMessage xmlns:q="relative/uri" q:a="1">'),
        (b"<S12:Body ", b'<S12:Body xmlns:z="rel" z:b="x" '),
    ],
)
def test_relative_namespace_in_signed_part_is_0101_not_internal_error(
    exchange: Exchange, old: bytes, new: bytes
) -> None:
    """Regression (found by fuzzing): a signed element that cannot be canonicalised (relative namespace
    URI) made lxml's C14NError escape signature verification; the receiver answered EBMS:0202 "internal
    error" (retryable) instead of a FailedAuthentication."""
    envelope = exchange.message.envelope
    assert old in envelope
    response, recorder = exchange.post(
        _with_envelope(exchange, envelope.replace(old, new, 1)), exchange.message.content_type
    )
    check_response(exchange, response, recorder)
    assert response.decision.error is not None and response.decision.error.code == "EBMS:0101"


# --- hostile (but signed) MessageIds into the directory inbox -------------------------------------------

_ID_ALPHABET = st.sampled_from([*'abc019-_.@/\\:*?"<>|~ %\u00e9\u20ac\U0001f600\t', "..", "../", "%2e%2e%2f"])


@fuzz_settings(25)
@given(data=st.data())
def test_sql_ledger_with_hostile_signed_message_ids(
    exchange: Exchange, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """A sender controls the (signed) MessageId, which the ledger stores and keys on: whatever it is,
    the message is accepted or rejected with an ebMS error, files stay inside the inbox, and a resend
    gets the same receipt without a second delivery."""
    from access_point.store import open_store

    pieces = data.draw(st.lists(_ID_ALPHABET, min_size=1, max_size=60), label="pieces")
    message_id = "".join(pieces) + data.draw(st.sampled_from(("", "@x", "x" * 300)), label="suffix")
    signer = exchange.pki.aps[0].identity()
    header = dataclasses.replace(
        new_user_message_header(
            from_party=signer.seat_id,
            to_party=exchange.pki.aps[1].seat_id,
            sender=ParticipantId.parse(SENDER),
            receiver=ParticipantId.parse(RECEIVER),
            document_type=DocumentTypeId.parse(DOCTYPE),
            process=ProcessId.parse(PROCESS),
        ),
        message_id=message_id,
    )
    try:
        message = build_user_message(
            header, exchange.sbd, signer=signer, recipient_certificate=exchange.pki.aps[1].certificate()
        )
    except ValueError:  # our own builder refuses it: nothing to send
        event("refused by the builder")
        return
    root = tmp_path_factory.mktemp("inbox-root")
    store = open_store(root / "inbox")
    config = ReceiverConfig(
        identity=exchange.pki.aps[1].identity(),
        validate_signer=exchange.validate,
        ledger=store.ledger,
        work_dir=exchange.work,
    )
    body = body_of(message)
    answers = []
    try:
        for _ in range(2):
            with no_hang():
                answers.append(
                    receive({"Content-Type": message.content_type}, io.BytesIO(body), config, CallbackHooks())
                )
        records = store.ledger.records()
    finally:
        store.close()
    first, second = answers
    event(f"{first.status} {first.decision.verdict.value}")
    assert first.status == 200 and second.status == 200
    assert [p.name for p in root.iterdir()] == ["inbox"], "nothing may be written outside the inbox"
    if first.decision.verdict is Verdict.ACCEPTED:
        assert second.decision.verdict is Verdict.DUPLICATE
        assert second.body == first.body
        assert [r.message_id for r in records] == [message_id]
        assert store.blobs.read_bytes(records[0].payload_sha256) == exchange.sbd
    else:
        error = first.decision.error
        assert error is not None
        assert not (isinstance(error, DeliveryFailure) and "internal error" in error.description), error


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1",
        "https://h:99999/as4",
        "https://h:abc/as4",
        "https://",
        "https:///as4",
        "https://a b/as4",
    ],
)
def test_sender_refuses_malformed_url_before_connecting(url: str) -> None:
    """A URL-syntax problem is the caller's error (InsecureUrlError → CLI exit 2), not a retryable
    connection failure."""
    from transport.sender import As4Sender, InsecureUrlError

    with As4Sender() as sender, pytest.raises(InsecureUrlError, match="invalid endpoint URL") as info:
        sender.check_url(url)
    assert "\n" not in str(info.value)


def test_receiver_plain_text_reason_is_one_line(exchange: Exchange) -> None:
    """libxml2 ends some messages with a line break ('Char 0x0 out of allowed range\\n, line 1'):
    the plain-text 400 still carries a one-line reason."""
    response, recorder = exchange.post(_with_envelope(exchange, b"<\x00"), exchange.message.content_type)
    assert response.status == 400
    assert b"not well-formed XML" in response.body
    check_response(exchange, response, recorder)
