"""Signals written as canonical text (``transport.as4.signal_text``): what is signed is what a verifier
canonicalises, whatever the copied references and the texts carry."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from peppol.xml import exc_c14n
from tests.transport.test_as4_roundtrip import build, receive
from transport.as4 import build_error_signal, build_receipt, verify_receipt, verify_signal
from transport.as4.constants import NS_DS, NS_EB, NS_S12, NS_WSU
from transport.as4.inbound import locate_headers
from transport.as4.signal_text import copied_reference
from transport.as4.signals import xml_safe
from transport.errors import InvalidHeader

_SIGNED = (f"{{{NS_EB}}}Messaging", f"{{{NS_S12}}}Body", f"{{{NS_DS}}}SignedInfo")


def _canonical_in_place(envelope: bytes) -> None:
    """Each signed element's exc-c14n form appears verbatim in the document."""
    root = etree.fromstring(envelope)
    for tag in _SIGNED:
        (el,) = root.iter(tag)
        assert exc_c14n(el) in envelope, tag


@pytest.fixture(scope="module")
def exchange(test_pki, tmp_path_factory):  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    return msg, receive(test_pki, msg, tmp_path_factory.mktemp("recv"))


def test_receipt_signed_parts_are_canonical_in_place(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, inbound = exchange
    receipt = build_receipt(inbound, signer=test_pki.aps[1].identity())
    _canonical_in_place(receipt)
    verify_receipt(receipt, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)


def test_reference_using_our_prefix_binding_is_canonicalised_by_lxml(exchange, test_pki) -> None:  # type: ignore[no-untyped-def]
    """A received Reference that uses ``wsu`` (bound as in our Messaging): exc-c14n does not repeat the
    declaration inside our Messaging, so its own canonical text is not canonical there; the receipt
    still verifies and still echoes what the sender signed."""
    msg, inbound = exchange
    root = etree.fromstring(inbound.envelope)
    first = next(root.iter(f"{{{NS_DS}}}Reference"))
    first.set(f"{{{NS_WSU}}}Id", "ref-1")
    assert not copied_reference(first)[1]
    assert copied_reference(next(etree.fromstring(inbound.envelope).iter(f"{{{NS_DS}}}Reference")))[1]
    envelope = etree.tostring(root)
    odd = dataclasses.replace(inbound, envelope=envelope, soap=locate_headers(envelope))
    receipt = build_receipt(odd, signer=test_pki.aps[1].identity())
    _canonical_in_place(receipt)
    signal = verify_receipt(receipt, sent=msg, receiver_certificate=test_pki.aps[1].identity().certificate)
    assert len(signal.references) == 3


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref_to=_TEXT, description=_TEXT, detail=_TEXT)
@example(ref_to=' a&b<c>"d\t\n\re\x01 ', description="x > y & z < w\r\n", detail="]]> \x1b\t")
def test_error_signal_texts_are_escaped_canonically(
    test_pki, ref_to: str, description: str, detail: str
) -> None:  # type: ignore[no-untyped-def]
    """Markup characters, quotes, CR/LF/TAB and characters XML cannot carry in the echoed id and the
    texts: the signal is well-formed, canonical in place, verifies, and reads back (XML-safe) values."""
    body = build_error_signal(
        InvalidHeader(description, detail=detail), ref_to_message_id=ref_to, signer=test_pki.aps[1].identity()
    )
    _canonical_in_place(body)
    signal, _ = verify_signal(body, certificate=test_pki.aps[1].identity().certificate)
    (err,) = signal.errors
    assert signal.kind == "error" and err.code == "EBMS:0009"
    assert err.ref_to_message_in_error == xml_safe(ref_to)
    assert signal.ref_to_message_id == (xml_safe(ref_to).strip() or xml_safe(ref_to))
    assert (err.description, err.detail) == (xml_safe(description).strip(), xml_safe(detail).strip())
