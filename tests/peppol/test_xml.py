"""Hardened XML parser: every DTD-based attack is refused with a typed error, never expanded."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peppol.xml import (
    DoctypeForbiddenError,
    XmlSyntaxError,
    XmlTooDeepError,
    XmlTooLargeError,
    exc_c14n,
    parse_bytes,
    parse_file,
)


def test_plain_document_parses() -> None:
    tree = parse_bytes(b"<a xmlns='urn:x'><b>1</b></a>")
    assert tree.getroot().tag == "{urn:x}a"


def test_xxe_file_entity_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'.encode()
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_xxe_http_entity_refused() -> None:
    doc = b'<!DOCTYPE a [<!ENTITY x SYSTEM "http://127.0.0.1:9/evil">]><a>&x;</a>'
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_external_dtd_refused() -> None:
    doc = b'<!DOCTYPE a SYSTEM "http://127.0.0.1:9/evil.dtd"><a/>'
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_billion_laughs_refused() -> None:
    ents = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    doc = ("<!DOCTYPE a [" + "".join(ents) + "]><a>&l9;</a>").encode()
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_quadratic_blowup_refused() -> None:
    big = "x" * 50_000
    doc = f'<!DOCTYPE a [<!ENTITY b "{big}">]><a>{"&b;" * 5000}</a>'.encode()
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_plain_doctype_refused() -> None:
    with pytest.raises(DoctypeForbiddenError, match="DOCTYPE"):
        parse_bytes(b"<!DOCTYPE a><a/>")


def test_deep_nesting_refused() -> None:
    doc = ("<a>" * 150 + "</a>" * 150).encode()
    with pytest.raises(XmlTooDeepError):
        parse_bytes(doc)


def test_very_deep_nesting_refused_by_libxml2_cap() -> None:
    doc = ("<a>" * 5000 + "</a>" * 5000).encode()
    with pytest.raises(XmlTooDeepError):
        parse_bytes(doc)


def test_depth_cap_configurable() -> None:
    doc = ("<a>" * 10 + "</a>" * 10).encode()
    assert parse_bytes(doc, max_depth=10).getroot().tag == "a"
    with pytest.raises(XmlTooDeepError):
        parse_bytes(doc, max_depth=9)


def test_size_cap() -> None:
    with pytest.raises(XmlTooLargeError):
        parse_bytes(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)


def test_size_cap_file(tmp_path: Path) -> None:
    f = tmp_path / "big.xml"
    f.write_bytes(b"<a>" + b"x" * 100 + b"</a>")
    with pytest.raises(XmlTooLargeError):
        parse_file(f, max_bytes=50)
    assert parse_file(f).getroot().text == "x" * 100


def test_malformed_is_typed_error() -> None:
    with pytest.raises(XmlSyntaxError):
        parse_bytes(b"<a><b></a>")
    with pytest.raises(XmlSyntaxError):
        parse_bytes(b"")


def test_doctype_in_file_refused(tmp_path: Path) -> None:
    f = tmp_path / "x.xml"
    f.write_bytes(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    with pytest.raises(DoctypeForbiddenError):
        parse_file(f)


def test_exc_c14n_of_subtree_drops_unused_namespaces() -> None:
    tree = parse_bytes(b'<r xmlns:u="urn:unused" xmlns:p="urn:p"><p:c  b="2" a="1"/></r>')
    child = tree.getroot()[0]
    assert exc_c14n(child) == b'<p:c xmlns:p="urn:p" a="1" b="2"></p:c>'


def test_doctype_after_comment_with_tag_like_text_refused() -> None:
    doc = b'<!-- <x --><!DOCTYPE a [<!ENTITY e "v">]><a>&e;</a>'
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_doctype_after_processing_instruction_refused() -> None:
    doc = b'<?xml version="1.0"?><?style <b?><!DOCTYPE a><a/>'
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_doctype_in_utf16_refused() -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a><a/>'.encode("utf-16")
    with pytest.raises(DoctypeForbiddenError):
        parse_bytes(doc)


def test_doctype_text_inside_root_is_only_text() -> None:
    assert parse_bytes(b"<a>&lt;!DOCTYPE x&gt;<!-- <!DOCTYPE y> --></a>").getroot().tag == "a"


# -- the prolog scan stops at the root element and refuses at least what scanning the whole head did


def _refused_by_whole_head_scan(data: bytes) -> bool:
    """The earlier ``refuse_doctype``: remove every comment and PI of the 64 KiB head, cut at the root."""
    import re

    text = data[:65536].decode("latin-1")
    text = re.sub(r"<!--.*?-->|<\?.*?\?>", "", text, flags=re.DOTALL)
    root = re.search(r"<[A-Za-z_:\u00C0-\uFFFF]", text)
    return "<!DOCTYPE" in (text if root is None else text[: root.start()]).upper()


_BALANCED = ["<?xml version='1.0'?>", "<!-- c -->", "<!-- <x -->", "<?pi <b?>", " "]
_BALANCED += ["<!DOCTYPE a>", "<!doctype b>"]
_BODY = ["<a>", "<a/>", "x", "<!-- <!DOCTYPE y> -->", "<!DOCTYPE z>", "</a>"]
_ODD = ["<!--", "-->", "<", "?>", "<?"]


def _refused(data: bytes) -> bool:
    from peppol.xml import refuse_doctype

    try:
        refuse_doctype(data)
    except DoctypeForbiddenError:
        return True
    return False


@given(
    st.lists(st.sampled_from(_BALANCED), max_size=6),
    st.lists(st.sampled_from(_BODY), max_size=6),
    st.lists(st.sampled_from(_BALANCED + _BODY + _ODD), max_size=8),
)
def test_prolog_scan_agrees_with_a_whole_head_scan(
    prolog: list[str], body: list[str], noise: list[str]
) -> None:
    well_formed_shape = ("".join(prolog) + "<r>" + "".join(body)).encode()
    assert _refused(well_formed_shape) == _refused_by_whole_head_scan(well_formed_shape)
    anything = ("".join(noise)).encode()
    if _refused_by_whole_head_scan(anything):
        assert _refused(anything)
