"""Tolerant streaming MIME reader (as4.md §4, §12 pitfall 6; conformance.md §12 item 10)."""

from __future__ import annotations

import base64
import io
import quopri
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from transport.errors import MimeInconsistency
from transport.mime import (
    BodyTooLargeError,
    MimeError,
    MimeLimits,
    NotSoapError,
    parse_content_type,
    read_message,
    strip_content_id,
)

ENVELOPE = b'<?xml version="1.0" encoding="UTF-8"?><S12:Envelope xmlns:S12="http://www.w3.org/2003/05/soap-envelope"/>'
BOUNDARY = "----=_Part_0_1950117092.1769701143986"


def multipart(
    parts: list[tuple[list[str], bytes]], *, boundary: str = BOUNDARY, nl: bytes = b"\r\n", close: bool = True
) -> bytes:
    out = io.BytesIO()
    out.write(b"preamble text" + nl)
    for headers, body in parts:
        out.write(b"--" + boundary.encode() + nl)
        for h in headers:
            out.write(h.encode() + nl)
        out.write(nl + body + nl)
    # close=False: a final delimiter without the closing "--" (tolerated at end of stream)
    out.write(b"--" + boundary.encode() + (b"--" if close else b"") + nl)
    return out.getvalue()


def ctype(start: str | None = None, boundary: str = BOUNDARY) -> str:
    value = f'multipart/related; boundary="{boundary}"; type="application/soap+xml"'
    if start:
        value += f'; start="{start}"'
    return value


def test_content_type_parameters() -> None:
    media, params = parse_content_type(ctype("<root@x>"))
    assert media == "multipart/related"
    assert params["boundary"] == BOUNDARY
    assert strip_content_id(params["start"]) == "root@x"
    assert strip_content_id("plain@id") == "plain@id"


def _email_content_type(value: str) -> tuple[str, dict[str, str]]:
    """The general parser (``email``), which ``parse_content_type`` must agree with on its fast path."""
    import email.message
    import email.utils

    msg = email.message.Message()
    msg["Content-Type"] = value
    media = msg.get_content_type() if "/" in value.split(";", 1)[0] else ""
    return media.lower(), {
        n.lower(): email.utils.collapse_rfc2231_value(v) for n, v in msg.get_params(failobj=[])[1:]
    }


@pytest.mark.parametrize(
    "value",
    [
        ctype("<root@x>"),
        'Multipart/Related;boundary=abc;type="application/soap+xml"',
        "application/soap+xml; charset=UTF-8",
        'multipart/related; boundary="a;b"',
        'multipart/related; boundary=" a b "',
        "multipart/related; title*=us-ascii'en'This%20is",
        'x/y; a="b\\"c"',
        "x/y;",
        "x/y ; a = b ; ",
        "garbage",
        "x/y; A=1; a=2",
        'application/soap+xml; action=""',
    ],
)
def test_content_type_fast_path_agrees_with_the_email_parser(value: str) -> None:
    assert parse_content_type(value) == _email_content_type(value)


_token = st.text(alphabet="abcXYZ09-._+", min_size=1, max_size=8)
_param_value = st.one_of(_token, st.text(alphabet='ab <>;=/"\\', max_size=8).map(lambda v: f'"{v}"'))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    media=st.tuples(_token, _token),
    params=st.lists(st.tuples(_token, _param_value, st.sampled_from(["", " "])), max_size=4),
)
def test_content_type_parsing_equals_the_email_parser(
    media: tuple[str, str], params: list[tuple[str, str, str]]
) -> None:
    value = f"{media[0]}/{media[1]}" + "".join(f";{sp}{n}{sp}={sp}{v}" for n, v, sp in params)
    assert parse_content_type(value) == _email_content_type(value)


def test_phase4_shape_without_start_first_part_is_root(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 40
    body = multipart(
        [
            (
                ["Content-Type: application/soap+xml;charset=UTF-8", "Content-Transfer-Encoding: binary"],
                ENVELOPE,
            ),
            (
                [
                    "Content-Type: application/octet-stream",
                    "Content-Transfer-Encoding: binary",
                    "Content-ID: <att-1@cid>",
                ],
                payload,
            ),
        ]
    )
    parsed = read_message(ctype(), io.BytesIO(body), tmp_path)
    assert parsed.envelope == ENVELOPE
    assert len(parsed.attachments) == 1
    att = parsed.attachments[0]
    assert att.content_id == "att-1@cid"
    assert att.path.read_bytes() == payload
    assert att.size == len(payload)
    assert att.headers["content-type"] == "application/octet-stream"


def test_start_parameter_selects_root_even_when_not_first(tmp_path: Path) -> None:
    body = multipart(
        [
            (["Content-ID: att@x", "Content-Type: application/octet-stream"], b"DATA"),
            (["Content-ID: <root@x>", "Content-Type: application/soap+xml"], ENVELOPE),
        ]
    )
    parsed = read_message(ctype("<root@x>"), io.BytesIO(body), tmp_path)
    assert parsed.envelope == ENVELOPE
    assert [a.content_id for a in parsed.attachments] == ["att@x"]
    assert parsed.attachments[0].path.read_bytes() == b"DATA"


def test_start_without_matching_part_is_mime_inconsistency(tmp_path: Path) -> None:
    body = multipart([(["Content-ID: <a@x>"], ENVELOPE)])
    with pytest.raises(MimeInconsistency) as exc:
        read_message(ctype("<missing@x>"), io.BytesIO(body), tmp_path)
    assert exc.value.code == "EBMS:0007"


def test_lf_only_line_ends_bom_and_no_close_delimiter(tmp_path: Path) -> None:
    body = multipart(
        [
            (["Content-Type: application/soap+xml"], b"\xef\xbb\xbf" + ENVELOPE),
            (["Content-ID: <p@x>"], b"xy\r\nz"),
        ],
        nl=b"\n",
        close=False,
    )
    parsed = read_message(ctype(), io.BytesIO(body), tmp_path)
    assert parsed.envelope == ENVELOPE
    assert parsed.attachments[0].path.read_bytes() == b"xy\r\nz"


def test_base64_and_quoted_printable_parts(tmp_path: Path) -> None:
    payload = b"\x00\x01binary\xff" * 1000
    qp_text = "caf\u00e9 = ok\r\n".encode() * 50
    body = multipart(
        [
            (["Content-Transfer-Encoding: quoted-printable"], quopri.encodestring(ENVELOPE)),
            (["Content-ID: <b64@x>", "Content-Transfer-Encoding: base64"], base64.encodebytes(payload)),
            (
                ["Content-ID: <qp@x>", "Content-Transfer-Encoding: Quoted-Printable"],
                quopri.encodestring(qp_text),
            ),
        ]
    )
    parsed = read_message(ctype(), io.BytesIO(body), tmp_path)
    assert parsed.envelope == ENVELOPE
    assert parsed.attachments[0].path.read_bytes() == payload
    assert parsed.attachments[1].path.read_bytes() == qp_text


def test_boundary_lookalike_inside_content_is_data(tmp_path: Path) -> None:
    tricky = b"line\r\n--" + BOUNDARY.encode() + b"X not a boundary\r\nend"
    body = multipart([([], ENVELOPE), (["Content-ID: <t@x>"], tricky)])
    parsed = read_message(ctype(), io.BytesIO(body), tmp_path)
    assert parsed.attachments[0].path.read_bytes() == tricky


def test_plain_soap_body_without_attachments(tmp_path: Path) -> None:
    parsed = read_message(
        "application/soap+xml; charset=UTF-8", io.BytesIO(b"\xef\xbb\xbf" + ENVELOPE), tmp_path
    )
    assert parsed.envelope == ENVELOPE
    assert parsed.attachments == ()


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json", "text/html; charset=utf-8"])
def test_not_soap_content_type_is_refused_before_ebms(tmp_path: Path, content_type: str | None) -> None:
    with pytest.raises(NotSoapError):
        read_message(content_type, io.BytesIO(b"hello"), tmp_path)


def test_cap_total_size(tmp_path: Path) -> None:
    body = multipart([([], ENVELOPE), (["Content-ID: <a@x>"], b"A" * 100_000)])
    with pytest.raises(BodyTooLargeError):
        read_message(ctype(), io.BytesIO(body), tmp_path, MimeLimits(max_total_bytes=50_000))


def test_cap_part_count(tmp_path: Path) -> None:
    parts = [([], ENVELOPE)] + [([f"Content-ID: <p{i}@x>"], b"x") for i in range(5)]
    body = multipart(parts)
    with pytest.raises(MimeError, match="more than 4 MIME parts"):
        read_message(ctype(), io.BytesIO(body), tmp_path, MimeLimits(max_parts=4))


def test_cap_header_size(tmp_path: Path) -> None:
    body = multipart([(["X-Junk: " + "a" * 5000], ENVELOPE)])
    with pytest.raises(MimeError, match="header larger"):
        read_message(ctype(), io.BytesIO(body), tmp_path, MimeLimits(max_header_bytes=1024))


def test_cap_envelope_size(tmp_path: Path) -> None:
    body = multipart([([], ENVELOPE + b" " * 5000)])
    with pytest.raises(MimeError, match="envelope larger"):
        read_message(ctype(), io.BytesIO(body), tmp_path, MimeLimits(max_envelope_bytes=1000))


@pytest.mark.parametrize(
    "body",
    [
        b"no boundary here at all",
        b"--" + BOUNDARY.encode() + b"\r\nContent-Type: x\r\n",  # header never terminated
        b"--" + BOUNDARY.encode() + b"\r\n\r\nbody without end",  # no delimiter after the part
        b"--" + BOUNDARY.encode() + b"--\r\n",  # no parts
    ],
)
def test_malformed_boundaries_are_mime_inconsistency(tmp_path: Path, body: bytes) -> None:
    with pytest.raises(MimeError) as exc:
        read_message(ctype(), io.BytesIO(body), tmp_path)
    assert exc.value.code == "EBMS:0007"


def test_missing_boundary_parameter(tmp_path: Path) -> None:
    with pytest.raises(MimeError, match="boundary"):
        read_message("multipart/related", io.BytesIO(b""), tmp_path)


def test_unknown_transfer_encoding(tmp_path: Path) -> None:
    body = multipart([(["Content-Transfer-Encoding: x-uuencode"], ENVELOPE)])
    with pytest.raises(MimeError, match="Transfer-Encoding"):
        read_message(ctype(), io.BytesIO(body), tmp_path)


def test_real_phase4_dump_parses(corpus: Path, tmp_path: Path) -> None:
    raw = (corpus / "as4-interop/phase4/dump-raw.as4out").read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    content_type = next(
        line.split(b":", 1)[1].decode().strip()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-type")
    )
    parsed = read_message(content_type, io.BytesIO(body), tmp_path)
    assert parsed.envelope.startswith(b'<?xml version="1.0" encoding="UTF-8"?><S12:Envelope')
    assert parsed.envelope.endswith(b"</S12:Envelope>")
    assert len(parsed.attachments) == 1
    assert parsed.attachments[0].content_id is not None
    assert parsed.attachments[0].content_id.startswith("phase4-att-")
    assert parsed.attachments[0].size > 0


class _Trickle(io.RawIOBase):
    """A stream that returns at most ``n`` bytes per read, to exercise boundaries split across reads."""

    def __init__(self, data: bytes, n: int) -> None:
        self._data = io.BytesIO(data)
        self._n = n

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(self._n, size if size > 0 else self._n))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.binary(min_size=0, max_size=4000),
    step=st.integers(min_value=1, max_value=97),
    nl=st.sampled_from([b"\r\n", b"\n"]),
)
def test_round_trip_any_payload_any_read_size(tmp_path: Path, payload: bytes, step: int, nl: bytes) -> None:
    # With bare-LF framing a trailing CR is indistinguishable from a CRLF delimiter (as in any reader).
    assume(nl == b"\r\n" or not payload.endswith(b"\r"))
    body = multipart([([], ENVELOPE), (["Content-ID: <p@x>"], payload)], nl=nl)
    work = tmp_path / f"w{step}{len(payload)}{len(nl)}"
    work.mkdir(exist_ok=True)
    parsed = read_message(ctype(), _Trickle(body, step), work)  # type: ignore[arg-type]
    assert parsed.envelope == ENVELOPE
    assert parsed.attachments[0].path.read_bytes() == payload


def test_header_line_without_colon_is_mime_inconsistency(tmp_path: Path) -> None:
    body = multipart([(["Content-Type application/soap+xml"], ENVELOPE)])
    with pytest.raises(MimeError, match="malformed MIME header line 'Content-Type application") as exc:
        read_message(ctype(), io.BytesIO(body), tmp_path)
    assert exc.value.code == "EBMS:0007"


def test_endless_garbage_after_a_boundary_is_refused(tmp_path: Path) -> None:
    """A delimiter line that never ends (no newline within the header cap) is not buffered forever."""
    body = b"--" + BOUNDARY.encode() + b" " * 5000  # transport padding that never reaches a newline
    with pytest.raises(MimeError, match="garbage after a MIME boundary"):
        read_message(ctype(), io.BytesIO(body), tmp_path, MimeLimits(max_header_bytes=1024))


def test_plain_soap_body_over_the_cap_is_too_large_not_truncated(tmp_path: Path) -> None:
    body = ENVELOPE + b" " * 2000
    with pytest.raises(BodyTooLargeError, match="SOAP body larger than 1000 bytes"):
        read_message("application/soap+xml", io.BytesIO(body), tmp_path, MimeLimits(max_envelope_bytes=1000))
    exact = read_message(
        "application/soap+xml", io.BytesIO(body[:1000]), tmp_path, MimeLimits(max_envelope_bytes=1000)
    )
    assert exact.envelope == body[:1000]
