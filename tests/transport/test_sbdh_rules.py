"""Envelope rules beyond the corpus vectors: trimming, warnings, wrappers, hardening, the writer's
own checks, encodings, the scanner at chunk boundaries, xs:dateTime, and the AS4 consistency check."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from transport.errors import OtherError
from transport.sbdh import (
    ASIC_E_MIME_TYPE,
    SbdhError,
    SbdhHeader,
    build_sbd,
    check_as4_consistency,
    extract_payload,
    header_for_document,
    parse_sbd,
    read_sbd,
    write_binary_sbd,
    write_sbd,
)
from transport.sbdh.reader import MAX_HEADER_BYTES
from transport.sbdh.scanner import ScanError, Scanner
from transport.sbdh.xsdatetime import format_xs_datetime, parse_xs_datetime

INV_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
ENV = "http://peppol.eu/xsd/ticc/envelope/1.0"
DOCTYPE = (
    f"{INV_NS}::Invoice##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
    b' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
    b"<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    b"</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
    b"<cbc:ID>1</cbc:ID></Invoice>"
)


def header(**changes: object) -> SbdhHeader:
    values: dict[str, object] = {
        "sender": ParticipantId.of("0088:5798000000001"),
        "receiver": ParticipantId.of("0088:5798000000002"),
        "document_type": DocumentTypeId.of(DOCTYPE),
        "process": ProcessId.of(PROCESS),
        "country_c1": "DK",
        "instance_id": "7c7a4b4e-2c1c-4c1e-9f8e-1d2b3c4d5e6f",
        "creation": datetime(2026, 1, 29, 15, 39, 3, tzinfo=UTC),
        "standard": INV_NS,
        "type_version": "2.1",
        "type": "Invoice",
    }
    values.update(changes)
    return SbdhHeader(**values)  # type: ignore[arg-type]


def sbd_text(
    *,
    header_version: str = "1.0",
    creation: str = "2026-01-29T15:39:03Z",
    extra_scopes: str = "",
    payload: str = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>',
    standard: str = INV_NS,
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">
 <StandardBusinessDocumentHeader>
  <HeaderVersion>
     {header_version}
  </HeaderVersion>
  <Sender><Identifier Authority=" iso6523-actorid-upis "> 0088:5798000000001
  </Identifier></Sender>
  <Receiver><Identifier Authority="iso6523-actorid-upis">0088:5798000000002</Identifier></Receiver>
  <DocumentIdentification>
   <Standard> {standard} </Standard>
   <TypeVersion>2.1 </TypeVersion>
   <InstanceIdentifier>
      abc
   </InstanceIdentifier>
   <Type> Invoice</Type>
   <CreationDateAndTime> {creation} </CreationDateAndTime>
  </DocumentIdentification>
  <BusinessScope>
   <Scope><Type>DOCUMENTID</Type><InstanceIdentifier>
     {DOCTYPE}
   </InstanceIdentifier><Identifier> busdox-docid-qns </Identifier></Scope>
   <Scope><Type> PROCESSID </Type><InstanceIdentifier>{PROCESS}</InstanceIdentifier></Scope>
   <Scope><Type>COUNTRY_C1</Type><InstanceIdentifier> DK </InstanceIdentifier></Scope>
   {extra_scopes}
  </BusinessScope>
 </StandardBusinessDocumentHeader>
 {payload}
</StandardBusinessDocument>
""".encode()


# ---------------------------------------------------------------------------------------- inbound


def test_sbdh_rule_text_values_are_trimmed_before_checks() -> None:
    parsed = read_sbd(sbd_text())
    h = parsed.header
    assert h.sender.value == "0088:5798000000001"
    assert h.instance_id == "abc"
    assert h.document_type.value == DOCTYPE and h.document_type.scheme == "busdox-docid-qns"
    assert h.process == ProcessId.of(PROCESS)  # scheme defaults to cenbii-procid-ubl
    assert (h.country_c1, h.type, h.type_version) == ("DK", "Invoice", "2.1")
    assert parsed.warnings == ()


def test_sbdh_rule_header_version_must_be_1_0() -> None:
    with pytest.raises(SbdhError) as err:
        read_sbd(sbd_text(header_version="2.0"))
    assert err.value.code == "invalid-header-version"


def test_sbdh_rule_creation_without_zone_is_a_warning_read_as_utc() -> None:
    parsed = read_sbd(sbd_text(creation="2026-01-29T15:39:03"))
    assert parsed.header.creation == datetime(2026, 1, 29, 15, 39, 3, tzinfo=UTC)
    assert [w.split(":")[0] for w in parsed.warnings] == ["creation-date-time-without-zone"]


def test_sbdh_rule_unparseable_creation_is_an_error() -> None:
    with pytest.raises(SbdhError) as err:
        read_sbd(sbd_text(creation="2026-13-29T15:39:03Z"))
    assert err.value.code == "invalid-creation-date-time"


def test_sbdh_rule_future_reserved_scope_is_a_warning_and_ignored() -> None:
    scope = "<Scope><Type>COUNTRY_C4</Type><InstanceIdentifier>SE</InstanceIdentifier></Scope>"
    parsed = read_sbd(sbd_text(extra_scopes=scope))
    assert parsed.header.additional == {}
    assert parsed.warnings[0].startswith("reserved-scope-type:")


def test_sbdh_rule_invalid_country_c1() -> None:
    bad = sbd_text().replace(
        b"<InstanceIdentifier> DK </InstanceIdentifier>", b"<InstanceIdentifier>dk</InstanceIdentifier>"
    )
    with pytest.raises(SbdhError) as err:
        read_sbd(bad)
    assert err.value.code == "invalid-country-c1"


def test_sbdh_all_violations_are_listed_first_one_gives_the_code() -> None:
    with pytest.raises(SbdhError) as err:
        read_sbd(sbd_text(header_version="9", creation="yesterday"))
    assert err.value.code == "invalid-header-version"
    assert [code for code, _ in err.value.errors] == ["invalid-header-version", "invalid-creation-date-time"]
    ebms = err.value.to_ebms()
    assert isinstance(ebms, OtherError) and ebms.code == "EBMS:0004"
    assert ebms.detail.startswith("invalid-header-version:")


def test_sbdh_rule_wrapped_payload_skips_standard_and_type_checks() -> None:
    wrapper = f'<BinaryContent xmlns="{ENV}" mimeType="application/pdf">JVBERi0=</BinaryContent>'
    parsed = read_sbd(sbd_text(payload=wrapper, standard="urn:peppol:doctype:pdf+xml"))
    assert parsed.payload.kind == "binary" and parsed.payload.mime_type == "application/pdf"
    out = io.BytesIO()
    extract_payload(sbd_text(payload=wrapper, standard="x"), out)
    assert out.getvalue() == b"%PDF-"


def test_sbdh_rule_binary_content_needs_mime_type() -> None:
    wrapper = '<BinaryContent xmlns="http://peppol.eu/xsd/ticc/envelope/1.0">AAAA</BinaryContent>'
    with pytest.raises(SbdhError) as err:
        read_sbd(sbd_text(payload=wrapper))
    assert err.value.code == "invalid-business-message"


def test_sbdh_rule_text_content_is_extracted_as_utf8() -> None:
    wrapper = f'<TextContent xmlns="{ENV}" mimeType="text/csv">a;b&amp;c\nü;<![CDATA[<x>]]></TextContent>'
    out = io.BytesIO()
    info = extract_payload(sbd_text(payload=wrapper), out)
    assert info.kind == "text" and info.mime_type == "text/csv"
    assert out.getvalue() == "a;b&c\nü;<x>".encode()


def test_sbdh_rule_bad_base64_is_rejected_on_extract() -> None:
    wrapper = (
        '<BinaryContent xmlns="http://peppol.eu/xsd/ticc/envelope/1.0" mimeType="a/b">AA*A</BinaryContent>'
    )
    with pytest.raises(SbdhError) as err:
        extract_payload(sbd_text(payload=wrapper), io.BytesIO())
    assert err.value.code == "invalid-business-message"


def test_sbdh_rule_exactly_one_payload_element() -> None:
    two = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/><Other/>'
    data = sbd_text(payload=two)
    assert read_sbd(data).payload.local_name == "Invoice"  # the streaming read stops at the first
    with pytest.raises(SbdhError) as err:
        extract_payload(data, io.BytesIO())
    assert err.value.code == "invalid-business-message"
    with pytest.raises(SbdhError) as err:
        parse_sbd(data)
    assert err.value.code == "invalid-business-message"


def test_sbdh_root_must_be_a_standard_business_document() -> None:
    with pytest.raises(SbdhError) as err:
        read_sbd(INVOICE)
    assert err.value.code == "invalid-sbd-xml"


def test_sbdh_header_size_is_capped() -> None:
    filler = "<Scope><Type>X</Type><InstanceIdentifier>" + "y" * 1000 + "</InstanceIdentifier></Scope>"
    # The cap is checked per chunk read, so go well beyond it.
    data = sbd_text(extra_scopes=filler * (2 * MAX_HEADER_BYTES // 1000))
    with pytest.raises(SbdhError) as err:
        read_sbd(data)
    assert err.value.code == "invalid-sbd-xml" and "larger than" in str(err.value)


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE StandardBusinessDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>',
    ],
)
def test_sbdh_doctype_is_refused_everywhere(prolog: bytes) -> None:
    data = sbd_text().replace(b"?>\n", b"?>\n" + prolog + b"\n", 1)
    for action in (read_sbd, parse_sbd, lambda d: extract_payload(d, io.BytesIO())):
        with pytest.raises(SbdhError) as err:
            action(data)
        assert err.value.code == "invalid-sbd-xml"
    payload = INVOICE.replace(b"?>\n", b"?>\n" + prolog + b"\n", 1)
    with pytest.raises(SbdhError) as err:
        build_sbd(header(), payload)
    assert err.value.code == "invalid-business-message"


# ---------------------------------------------------------------------------------------- writing


def test_build_rejects_payload_root_that_contradicts_the_header() -> None:
    with pytest.raises(SbdhError) as err:
        build_sbd(
            header(standard="urn:other", document_type=DocumentTypeId.of("urn:other::Invoice##c::2.1")),
            INVOICE,
        )
    assert err.value.code == "invalid-standard"
    with pytest.raises(SbdhError) as err:
        build_sbd(header(type="CreditNote"), INVOICE)
    assert err.value.code == "invalid-type"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'<a xmlns="urn:x"/><b/>', "two roots"),
        (b'<a xmlns="urn:x"/>text', "text after the root"),
        (b"", "empty"),
        (b"<!-- only a comment -->", "no root element"),
        (b'<a xmlns="urn:x"><b></a>', "not well-formed"),
        (b'<a xmlns="urn:x">&undefined;</a>', "undefined entity"),
        (
            b'<sh:StandardBusinessDocument xmlns:sh="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"/>',
            "nested SBD",
        ),
    ],
)
def test_build_rejects_payload_that_is_not_one_element(payload: bytes, reason: str) -> None:
    h = header(standard="urn:x", type="a", document_type=DocumentTypeId.of("urn:x::a##c::2.1"))
    assert (
        read_sbd(build_sbd(h, b'<a xmlns="urn:x"/>')).header == h
    )  # the same header works with a good payload
    with pytest.raises(SbdhError) as err:
        build_sbd(h, payload)
    assert err.value.code == "invalid-business-message", reason


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"country_c1": "Denmark"}, "invalid-country-c1"),
        ({"mls_type": "always"}, "invalid-mls-type"),
        ({"creation": datetime(2026, 1, 1)}, "invalid-creation-date-time"),
        ({"instance_id": " "}, "invalid-instance-identifier"),
        ({"additional": {"MLS_TO": "x"}}, "invalid-input"),
        ({"type_version": "2.2"}, "invalid-type-version"),
    ],
)
def test_build_refuses_headers_our_reader_would_reject(changes: dict[str, object], code: str) -> None:
    with pytest.raises(SbdhError) as err:
        build_sbd(header(**changes), INVOICE)
    assert err.value.code == code


def test_build_transcodes_a_latin1_payload_to_the_envelope_utf8() -> None:
    doc = f'<?xml version="1.0" encoding="ISO-8859-1"?><Invoice xmlns="{INV_NS}">Café</Invoice>'
    sbd = build_sbd(header(), doc.encode("latin-1"))
    assert (
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">Café</Invoice>'.encode()
        in sbd
    )
    assert read_sbd(sbd).header == header()


def test_build_transcodes_a_utf16_payload() -> None:
    doc = f'<?xml version="1.0" encoding="UTF-16"?><Invoice xmlns="{INV_NS}">Ωμέγα</Invoice>'
    sbd = build_sbd(header(), doc.encode("utf-16"))
    out = io.BytesIO()
    extract_payload(sbd, out)
    assert out.getvalue().endswith(
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">Ωμέγα</Invoice>'.encode()
    )


def test_extract_adds_namespaces_inherited_from_the_envelope(corpus: Path) -> None:
    path = corpus / "sbdh" / "peppol-commons" / "good" / "good-bis3.xml"
    assert path.is_file(), "corpus vector missing"  # (the corpus fixture skips when there is no corpus)
    out = io.BytesIO()
    extract_payload(path, out)
    start = out.getvalue().split(b">", 2)[1]
    assert b'xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"' in start
    assert b"xmlns:cbc=" in start


def test_write_binary_sbd_carries_an_asic_e_container() -> None:
    content = bytes(range(256)) * 300
    out = io.BytesIO()
    write_binary_sbd(header(), io.BytesIO(content), ASIC_E_MIME_TYPE, out)
    assert b'mimeType="application/vnd.etsi.asic-e+zip"' in out.getvalue()
    decoded = io.BytesIO()
    info = extract_payload(out.getvalue(), decoded)
    assert info.kind == "binary" and decoded.getvalue() == content
    with pytest.raises(SbdhError, match="'not a mime type' is not a MIME type") as err:
        write_binary_sbd(header(), content, "not a mime type", io.BytesIO())
    assert err.value.code == "invalid-input"


def test_build_then_write_to_file_and_read_back(tmp_path: Path) -> None:
    target = tmp_path / "out.sbd"
    with target.open("wb") as fh:
        write_sbd(
            header(mls_to=ParticipantId.of("0242:000123"), mls_type="ALWAYS_SEND", additional={"K": "v&<"}),
            INVOICE,
            fh,
        )
    parsed = read_sbd(target)
    assert parsed.header.mls_to == ParticipantId.of("0242:000123")
    assert parsed.header.additional == {"K": "v&<"}


# ---------------------------------------------------------------------------------------- header from UBL


def test_header_for_bare_bis3_invoice_defaults_ubl_version_2_1() -> None:
    h = header_for_document(
        INVOICE,
        sender="0088:5798000000001",
        receiver="iso6523-actorid-upis::0088:5798000000002",
        country_c1="DK",
        instance_id="i-1",
    )
    assert h.document_type == DocumentTypeId.of(DOCTYPE)
    assert h.process == ProcessId.of(PROCESS)
    assert (h.standard, h.type, h.type_version) == (INV_NS, "Invoice", "2.1")
    assert read_sbd(build_sbd(h, INVOICE)).header == h


def test_header_for_preaward_call_for_tenders(corpus: Path) -> None:
    path = (
        corpus
        / "peppol-preaward"
        / "guides"
        / "transactions"
        / "T004"
        / "files"
        / "call-for-tenders-instance.xml"
    )
    assert path.is_file(), "pre-award example missing"
    h = header_for_document(path, sender="0088:5798000000001", receiver="0088:5798000000002", country_c1="DE")
    assert h.document_type.value == (
        "urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2::CallForTenders"
        "##urn:fdc:peppol.eu:prac:trns:t004:1.2::2.2"
    )
    assert h.process.value == "urn:fdc:peppol.eu:prac:bis:p002:1.2"
    assert h.type_version == "2.2"
    out = io.BytesIO()
    write_sbd(h, path, out)
    assert read_sbd(out.getvalue()).header == h


def test_header_for_document_needs_doctype_for_non_ubl() -> None:
    with pytest.raises(SbdhError) as err:
        header_for_document(b"<x:Doc xmlns:x='urn:x'/>", sender="0088:1", receiver="0088:2", country_c1="DK")
    assert err.value.code == "missing-document-type-identifier"
    with pytest.raises(SbdhError) as err:
        header_for_document(
            INVOICE,
            sender="0088:1",
            receiver="0088:2",
            country_c1="DK",
            document_type=DocumentTypeId.of("urn:x::Doc##c::1"),
        )
    assert err.value.code == "invalid-standard"


# ---------------------------------------------------------------------------------------- AS4 consistency


def test_as4_consistency_accepts_matching_message() -> None:
    check_as4_consistency(
        header(),
        original_sender="0088:5798000000001",
        original_sender_type="iso6523-actorid-upis",
        final_recipient="0088:5798000000002",
        final_recipient_type="iso6523-actorid-upis",
        service=PROCESS,
        service_type="cenbii-procid-ubl",
        action="busdox-docid-qns::" + DOCTYPE,
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"original_sender": "0088:5798000000009"}, "as4-original-sender-mismatch"),
        ({"original_sender_type": None}, "as4-original-sender-mismatch"),
        ({"original_sender_type": "ISO6523-ACTORID-UPIS"}, "as4-original-sender-mismatch"),
        ({"final_recipient": "9915:helger"}, "as4-final-recipient-mismatch"),
        ({"final_recipient_type": ""}, "as4-final-recipient-mismatch"),
        ({"service": "urn:fdc:peppol.eu:poacc:bis:ordering:3"}, "as4-service-mismatch"),
        ({"service_type": "urn:attacker:scheme"}, "as4-service-mismatch"),
        ({"action": "busdox-docid-qns::" + DOCTYPE.replace("2.1", "2.2")}, "as4-action-mismatch"),
    ],
)
def test_as4_consistency_rejects_mismatch(changes: dict[str, str | None], code: str) -> None:
    args: dict[str, str | None] = {
        "original_sender": "0088:5798000000001",
        "original_sender_type": "iso6523-actorid-upis",
        "final_recipient": "0088:5798000000002",
        "final_recipient_type": "iso6523-actorid-upis",
        "service": PROCESS,
        "action": DOCTYPE,
    }
    args.update(changes)
    with pytest.raises(SbdhError) as err:
        check_as4_consistency(header(), **args)  # type: ignore[arg-type]
    assert err.value.code == code
    changed = next(iter(changes)).split("_")[0]  # the message names the AS4 field that differs
    assert {"original": "originalSender", "final": "finalRecipient"}.get(changed, changed.title()) in str(
        err.value
    ), str(err.value)


def test_as4_consistency_participant_values_are_case_insensitive() -> None:
    h = header(sender=ParticipantId.of("9915:Phase4-Test"))
    check_as4_consistency(
        h,
        original_sender="9915:PHASE4-TEST",
        original_sender_type="iso6523-actorid-upis",
        final_recipient="0088:5798000000002",
        final_recipient_type="iso6523-actorid-upis",
    )


# ---------------------------------------------------------------------------------------- scanner, dates


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def start_tag(self, scanner: Scanner, depth: int, raw: bytes, start: int, end: int, empty: bool) -> None:
        self.events.append(("start", depth, raw, start, end, empty))

    def end_tag(self, scanner: Scanner, depth: int, end: int) -> None:
        self.events.append(("end", depth, end))

    def text(self, scanner: Scanner, depth: int) -> None:
        self.events.append(("text", depth))


TRICKY = (
    b'<?xml version="1.0"?><!-- </r> --><r a=">" b=\'x"/>\'><a><!-- </a></r> -->'
    b"<![CDATA[</a></r>]]><?pi </r>?><b c='1'/><c><d/></c></a><e/></r><!-- end -->"
)


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, len(TRICKY)])
def test_scanner_boundaries_survive_any_chunking(step: int) -> None:
    rec = _Recorder()
    scanner = Scanner(rec)
    for i in range(0, len(TRICKY), step):
        scanner.feed(TRICKY[i : i + step])
    scanner.close()
    root_start = TRICKY.index(b"<r ")
    a_start = TRICKY.index(b"<a>")
    e_start = TRICKY.index(b"<e/>")
    assert rec.events == [
        ("start", 0, b'<r a=">" b=\'x"/>\'>', root_start, a_start, False),
        ("start", 1, b"<a>", a_start, a_start + 3, False),
        ("end", 1, e_start),
        ("start", 1, b"<e/>", e_start, e_start + 4, True),
        ("end", 0, TRICKY.index(b"<!-- end")),
    ]


@pytest.mark.parametrize("bad", [b"<r>", b"<r/><!-- x", b"<!DOCTYPE r><r/>", b"</r>"])
def test_scanner_refuses_truncated_or_declared_input(bad: bytes) -> None:
    scanner = Scanner(_Recorder())
    with pytest.raises(ScanError):
        scanner.feed(bad)
        scanner.close()


@pytest.mark.parametrize(
    ("text", "expected", "zoned"),
    [
        (
            "2019-10-18T01:53:29.385+02:00",
            datetime(2019, 10, 18, 1, 53, 29, 385000, timezone(timedelta(hours=2))),
            True,
        ),
        ("2013-02-19T05:10:10Z", datetime(2013, 2, 19, 5, 10, 10, tzinfo=UTC), True),
        (
            "2013-02-19T05:10:10.1234567-05:30",
            datetime(2013, 2, 19, 5, 10, 10, 123456, timezone(-timedelta(hours=5, minutes=30))),
            True,
        ),
        ("2013-02-19T24:00:00Z", datetime(2013, 2, 20, tzinfo=UTC), True),
        ("2013-02-19T05:10:10", datetime(2013, 2, 19, 5, 10, 10, tzinfo=UTC), False),
    ],
)
def test_xs_datetime_lexical_forms(text: str, expected: datetime, zoned: bool) -> None:
    assert parse_xs_datetime(text) == (expected, zoned)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is not an xs:dateTime"),
        ("2013-02-19", "is not an xs:dateTime"),
        ("2013-02-30T00:00:00Z", "day is out of range for month"),
        ("2013-02-19T05:10:10+15:00", "time zone offset out of range"),
        ("2013-02-19 05:10:10Z", "is not an xs:dateTime"),
    ],
)
def test_xs_datetime_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_xs_datetime(text)


def test_xs_datetime_format() -> None:
    assert format_xs_datetime(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert format_xs_datetime(datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == "2026-01-02T03:04:05.120Z"
    plus2 = timezone(timedelta(hours=2))
    assert (
        format_xs_datetime(datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=plus2))
        == "2026-01-02T03:04:05.000007+02:00"
    )
    with pytest.raises(ValueError, match="needs a time zone"):
        format_xs_datetime(datetime(2026, 1, 2))


def test_sbdh_doctype_after_a_long_prolog_is_refused() -> None:
    prolog = b"<!--" + b"x" * 40_000 + b'--><!DOCTYPE StandardBusinessDocument [<!ENTITY e "x">]>'
    data = sbd_text().replace(b"?>\n", b"?>\n" + prolog, 1)
    with pytest.raises(SbdhError) as err:
        read_sbd(data)
    assert err.value.code == "invalid-sbd-xml" and "DOCTYPE" in str(err.value)


def test_sources_may_be_str_paths(tmp_path: Path) -> None:
    path = tmp_path / "doc.sbd"
    path.write_bytes(sbd_text())
    assert read_sbd(str(path)).header.instance_id == "abc"
    out = io.BytesIO()
    assert extract_payload(str(path), out).local_name == "Invoice"


def test_build_refuses_identifiers_with_characters_xml_cannot_carry() -> None:
    with pytest.raises(SbdhError) as err:
        build_sbd(header(process=ProcessId("cenbii-procid-ubl", "urn:\x01")), INVOICE)
    assert err.value.code == "invalid-input"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "iso-8859-1"])
def test_inbound_sbd_in_other_encodings_is_read_and_extracted(encoding: str) -> None:
    name = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "iso-8859-1": "ISO-8859-1"}[encoding]
    text = sbd_text(payload=f'<Invoice xmlns="{INV_NS}"><Note>Café</Note></Invoice>').decode()
    data = text.replace('encoding="UTF-8"', f'encoding="{name}"').encode(encoding)
    assert read_sbd(data).header.instance_id == "abc"
    out = io.BytesIO()
    extract_payload(data, out)
    expected = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="{INV_NS}"><Note>Café</Note></Invoice>'
    )
    assert out.getvalue() == expected.encode("utf-8")


_SBD_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"


@pytest.mark.parametrize(
    ("data", "code", "reason"),
    [
        (
            f'<StandardBusinessDocument xmlns="{_SBD_NS}"/>'.encode(),
            "missing-sbdh",
            "StandardBusinessDocumentHeader",
        ),
        (b"<Invoice/>", "invalid-sbd-xml", "root element is 'Invoice', not a StandardBusinessDocument"),
    ],
    ids=["sbd-without-header", "not-an-sbd"],
)
def test_streaming_and_in_memory_readers_refuse_the_same_shapes(data: bytes, code: str, reason: str) -> None:
    for read in (read_sbd, parse_sbd):
        with pytest.raises(SbdhError, match=reason) as err:
            read(data)
        assert err.value.code == code, read


def test_in_memory_parser_refuses_a_second_payload() -> None:
    """One business document per SBD: a second element after the payload (a smuggled document that
    the streaming reader, which stops at the first, never looks at) is refused by parse_sbd."""
    invoice = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    data = sbd_text(payload=invoice + invoice)
    with pytest.raises(SbdhError, match="the SBD has 2 elements after the header, not 1") as err:
        parse_sbd(data)
    assert err.value.code == "invalid-business-message"
    assert parse_sbd(sbd_text()).payload_info.kind == "xml"  # control: one payload is fine


@pytest.mark.parametrize("side", ["sender", "receiver"])
def test_writer_refuses_a_party_outside_the_iso6523_scheme(side: str) -> None:
    """Our reader refuses another Authority, so the writer must not produce one."""
    other = ParticipantId.parse("other-actorid-upis::abc", strict=False)
    with pytest.raises(
        SbdhError, match=f"{side} scheme 'other-actorid-upis' is not 'iso6523-actorid-upis'"
    ) as err:
        build_sbd(header(**{side: other}), INVOICE)
    assert err.value.code == f"invalid-{side}-authority"


def test_writer_refuses_an_additional_attribute_xml_cannot_carry() -> None:
    with pytest.raises(
        SbdhError, match="additional attribute 'K' contains characters XML does not allow"
    ) as err:
        build_sbd(header(additional={"K": "bell\x07"}), INVOICE)
    assert err.value.code == "invalid-input"


@pytest.mark.parametrize(
    ("changes", "code", "reason"),
    [
        ({"standard": " urn:x "}, "invalid-input", "Standard ' urn:x ' has surrounding whitespace"),
        (
            {"standard": "urn:other"},
            "invalid-standard",
            "Standard 'urn:other' does not start the document type",
        ),
        ({"type": ""}, "invalid-type", "Type is empty"),
    ],
    ids=["standard-whitespace", "standard-not-the-doctype-namespace", "empty-type"],
)
def test_writer_refuses_header_fields_the_reader_would_reject(
    changes: dict[str, str], code: str, reason: str
) -> None:
    with pytest.raises(SbdhError, match=reason) as err:
        build_sbd(header(**changes), INVOICE)
    assert err.value.code == code


def test_writer_refuses_a_payload_root_with_an_undeclared_prefix() -> None:
    with pytest.raises(SbdhError, match="prefix 'inv' of the payload root is not declared") as err:
        build_sbd(header(), b"<inv:Invoice/>")
    assert err.value.code == "invalid-business-message"


_BARE = (
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
    b"<cbc:CustomizationID>urn:c</cbc:CustomizationID><cbc:ProfileID>urn:p</cbc:ProfileID></Invoice>"
)


@pytest.mark.parametrize(
    ("document", "changes", "code", "reason"),
    [
        (_BARE, {"country_c1": "fr"}, "invalid-country-c1", "COUNTRY_C1 'fr' does not match"),
        (b'<Foo xmlns="urn:x"/>', {}, "missing-document-type-identifier", "is not a UBL document"),
        (
            _BARE.replace(b"<cbc:CustomizationID>urn:c</cbc:CustomizationID>", b""),
            {},
            "missing-document-type-identifier",
            "has no cbc:CustomizationID",
        ),
        (
            _BARE,
            {"document_type": DocumentTypeId.of(INV_NS + "::CreditNote##urn:c::2.1")},
            "invalid-type",
            "is not for root 'Invoice'",
        ),
        (
            _BARE.replace(b"<cbc:ProfileID>urn:p</cbc:ProfileID>", b""),
            {},
            "missing-process-identifier",
            "has no cbc:ProfileID",
        ),
    ],
    ids=["country", "not-ubl", "no-customization", "doctype-of-another-root", "no-profile"],
)
def test_header_for_document_refusals(
    document: bytes, changes: dict[str, object], code: str, reason: str
) -> None:
    """What ``ap as4 send`` does with a bare document it cannot build an SBDH for."""
    kwargs: dict[str, object] = {"sender": "0088:1", "receiver": "0088:2", "country_c1": "FR", **changes}
    with pytest.raises(SbdhError, match=reason) as err:
        header_for_document(document, **kwargs)  # type: ignore[arg-type]
    assert err.value.code == code


def test_truncated_base64_binary_payload_is_refused_by_both_readers() -> None:
    import re

    out = io.BytesIO()
    write_binary_sbd(header(), io.BytesIO(bytes(range(256)) * 3), "application/pdf", out)
    data = out.getvalue()
    found = re.search(rb">([A-Za-z0-9+/=\s]{100,})<", data)
    assert found is not None
    cut = data.replace(found.group(1), found.group(1).rstrip().rstrip(b"=")[:-1])
    with pytest.raises(SbdhError, match="base64 content is truncated") as streamed:
        extract_payload(cut, io.BytesIO())
    assert streamed.value.code == "invalid-business-message"
    with pytest.raises(SbdhError, match="BinaryContent is not valid base64") as whole:
        parse_sbd(cut).payload_bytes()
    assert whole.value.code == "invalid-business-message"
