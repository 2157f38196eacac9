"""Detection of the document type from the start of the document."""

from __future__ import annotations

from pathlib import Path

import pytest

from peppol.xml import DoctypeForbiddenError, XmlSyntaxError
from ubl.detect import UnknownDocumentType, detect, read_header

PREAWARD = "peppol-preaward/guides/transactions"
NOTICES = "eforms-sdk-1.14.2/examples/notices"
# The two eForms drafts inside T012 (pre-SDK, no notice subtype) are not registered types.
NOT_REGISTERED = {"53EB9F20-EE12-474F-9424-78FC604E8FAE.eform.xml", "eForms-PriorInformationNotice.xml"}


def test_detect_every_preaward_example(corpus: Path) -> None:
    seen = 0
    for f in sorted((corpus / PREAWARD).rglob("*.xml")):
        if f.name in NOT_REGISTERED:
            continue
        transaction = f.relative_to(corpus / PREAWARD).parts[0]
        assert detect(f).key == f"peppol-{transaction.lower()}", f
        seen += 1
    assert seen == 33


@pytest.mark.parametrize(
    ("notice", "key"),
    [
        ("cn_24_minimal.xml", "eforms-cn-16"),
        ("can_24_minimal.xml", "eforms-can-29"),
        ("can-modif_24_value.xml", "eforms-can-38"),
        ("E3_minimal.xml", "eforms-cn-e3"),
        ("E4_minimal.xml", "eforms-can-e4"),
        ("pin-only_81_FRA.xml", "eforms-pin-6"),
        ("X01_EEIG.xml", "eforms-brin-x01"),
        ("CEI.xml", "eforms-pin-cei"),
    ],
)
def test_detect_eforms_subtype(corpus: Path, notice: str, key: str) -> None:
    assert detect(corpus / NOTICES / notice).key == key


def test_detect_all_92_eforms_notices(corpus: Path) -> None:
    notices = sorted((corpus / NOTICES).glob("*.xml"))
    assert len(notices) == 92
    for f in notices:
        t = detect(f.read_bytes())
        assert t.family == "eforms"
        assert t.phase == f"eforms-{t.subtype}"


def _cft(customization: str = "urn:fdc:peppol.eu:prac:trns:t004:1.2", tail: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0"?>\n<CallForTenders xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
        b'CallForTenders-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        b"<cbc:UBLVersionID>2.2</cbc:UBLVersionID><cbc:CustomizationID>"
        + customization.encode()
        + b"</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:prac:bis:p002:1.2</cbc:ProfileID>"
        b"<cbc:ID>1</cbc:ID>" + tail
    )


def test_detect_stops_after_the_header() -> None:
    """A large body (here: 8 MB, and broken at the end) is never parsed."""
    body = b"<cbc:Note>" + b"x" * (8 * 1024 * 1024) + b"</cbc:Note><broken"
    header = read_header(_cft(tail=body))
    assert header.root == "CallForTenders"
    assert header.ubl_version == "2.2"
    assert header.profile_id == "urn:fdc:peppol.eu:prac:bis:p002:1.2"
    assert detect(_cft(tail=body)).key == "peppol-t004"


def test_detect_accepts_other_active_version() -> None:
    assert detect(_cft("urn:fdc:peppol.eu:prac:trns:t004:1.1")).key == "peppol-t004"


def test_detect_unknown_customization() -> None:
    with pytest.raises(UnknownDocumentType, match="CustomizationID"):
        detect(_cft("urn:example:not-peppol"))


def test_detect_unknown_root() -> None:
    with pytest.raises(UnknownDocumentType, match="root element"):
        detect(b"<Foo xmlns='urn:x'/>")


def test_detect_refuses_doctype() -> None:
    with pytest.raises(DoctypeForbiddenError):
        detect(b'<?xml version="1.0"?><!-- c --><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_detect_not_xml() -> None:
    with pytest.raises(XmlSyntaxError):
        detect(b"this is not xml")
    with pytest.raises(XmlSyntaxError):
        detect(b"")


def test_detect_from_parsed_tree_matches_streaming(corpus: Path) -> None:
    """The orchestrator detects from the tree it already parsed; both paths must agree."""
    from peppol.xml import parse_file

    files = sorted((corpus / PREAWARD).rglob("*.xml")) + sorted((corpus / NOTICES).glob("*.xml"))
    for f in files:
        if f.name in NOT_REGISTERED:
            continue
        assert detect(parse_file(f)).key == detect(f).key, f


def test_detect_refuses_deep_nesting_before_the_parser_cap() -> None:
    """Deeper than our cap (100) but within libxml2's (256): refused by the header reader itself."""
    from peppol.xml import XmlTooDeepError

    ext = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
    deep = "<x>" * 150 + "</x>" * 150  # inside the header part the reader walks (UBLExtensions)
    document = (
        "<ContractNotice xmlns='urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2' "
        f"xmlns:ext='{ext}'><ext:UBLExtensions>{deep}</ext:UBLExtensions></ContractNotice>"
    ).encode()
    with pytest.raises(XmlTooDeepError, match="element nesting deeper than 100"):
        detect(document)
    with pytest.raises(XmlTooDeepError, match="element nesting deeper than 20"):
        read_header(document, max_depth=20)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            b"<ContractNotice xmlns='urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2'/>",
            "eForms ContractNotice without efac:NoticeSubType/cbc:SubTypeCode",
        ),
        (
            b"<CallForTenders xmlns='urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2'/>",
            "CallForTenders without cbc:CustomizationID",
        ),
    ],
    ids=["eforms-without-subtype", "ubl-without-customization"],
)
def test_detect_names_what_is_missing(document: bytes, reason: str) -> None:
    with pytest.raises(UnknownDocumentType, match=reason) as info:
        detect(document)
    assert info.value.code == "unknown-document-type"


def test_comment_inside_customization_id_does_not_change_the_detected_type() -> None:
    """The value read is the XPath string-value (what the Schematron rules test), not ``el.text``,
    which stops at a comment: ``urn:fdc:peppol.eu:prac:trns:t0<!---->04:1.2`` is still T004."""
    plain = read_header(_cft())
    split = read_header(_cft("urn:fdc:peppol.eu:prac:trns:t0<!--x-->04:1.2"))
    assert split.customization_id == plain.customization_id == "urn:fdc:peppol.eu:prac:trns:t004:1.2"
