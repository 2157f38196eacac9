"""F1: the value acted on is exactly the signed value. Exclusive c14n drops comments, so a comment
inserted into a signed value element keeps the signature valid while ``el.text`` stops at it: the
message used to be delivered, de-duplicated and receipted under a truncated MessageId. Every value
element read out of signed XML must hold text only; anything else is refused with the protocol's code
(docs/as4.md, "What is read from signed XML, and why it equals what was signed")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from peppol.xml import XmlMixedContentError, exc_c14n, parse_bytes, simple_text
from tests.transport.test_as4_roundtrip import build, receive
from tests.transport.test_receiver_support import Recorder, make_sbd, running_server
from tests.transport.test_security_suite import Parts, assert_rejected, post, tampered
from transport.as4 import build_receipt, verify_signal
from transport.as4.constants import NS_EB
from transport.errors import InvalidReceipt
from transport.sbdh import SbdhError, parse_sbd, read_sbd
from transport.server import RunningServer

EB = f"{{{NS_EB}}}"


def split_with_comment(el: etree._Element, at: int | None = None) -> str:
    """Put ``<!--x-->`` inside ``el``'s text (in the middle by default); return the text before it."""
    text = el.text or ""
    cut = len(text) // 2 if at is None else at
    comment = etree.Comment("x")
    comment.tail = text[cut:]
    el.text = text[:cut]
    el.append(comment)
    return text[:cut]


@pytest.fixture(scope="module")
def receiver(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, Recorder]]:
    """The real /as4 server on loopback and what it delivered."""
    recorder = Recorder()
    for server in running_server(test_pki, tmp_path_factory.mktemp("signed-text"), recorder):
        yield server, recorder


def test_simple_text_refuses_markup_inside_a_value() -> None:
    root = parse_bytes(b"<r><a>ab<!--x-->cd</a><b>ab<?p q?>cd</b><c>ab<d/>cd</c><e>a<![CDATA[b]]>c</e></r>")
    for el in root.getroot()[:3]:
        with pytest.raises(XmlMixedContentError):
            simple_text(el)
    assert simple_text(root.getroot()[3]) == "abc"


# --- the AS4 UserMessage header, through the real /as4 server ------------------------------------

_HEADER_VALUES = {
    "MessageId": f"{EB}UserMessage/{EB}MessageInfo/{EB}MessageId",
    "Timestamp": f"{EB}UserMessage/{EB}MessageInfo/{EB}Timestamp",
    "ConversationId": f"{EB}UserMessage/{EB}CollaborationInfo/{EB}ConversationId",
    "Action": f"{EB}UserMessage/{EB}CollaborationInfo/{EB}Action",
    "From-PartyId": f"{EB}UserMessage/{EB}PartyInfo/{EB}From/{EB}PartyId",
    "originalSender": f"{EB}UserMessage/{EB}MessageProperties/{EB}Property[@name='originalSender']",
}


@pytest.mark.parametrize("field", list(_HEADER_VALUES), ids=list(_HEADER_VALUES))
def test_comment_inside_a_signed_header_value_is_refused_with_0009(
    field: str, receiver: tuple[RunningServer, Recorder], test_pki: Any, tmp_path: Path
) -> None:
    server, recorder = receiver

    def insert_comment(p: Parts) -> None:
        root = p.tree()
        messaging = root.find(f".//{EB}Messaging")
        assert messaging is not None
        before = exc_c14n(messaging)
        el = messaging.find(_HEADER_VALUES[field])
        assert el is not None
        # Timestamp: cut after the minutes, so the prefix is still a valid xs:dateTime
        split_with_comment(el, 16 if field == "Timestamp" else None)
        assert exc_c14n(messaging) == before  # the signature over eb:Messaging still holds
        p.set_tree(root)

    delivered = len(recorder.persisted)
    content_type, body, message_id = tampered(test_pki, tmp_path, insert_comment)
    response = post(server, content_type, body)
    assert_rejected(response, "EBMS:0009", "MessageId|text only", recorder, message_id)
    assert len(recorder.persisted) == delivered  # not delivered under a truncated id either


def test_comment_between_header_elements_is_still_accepted(
    receiver: tuple[RunningServer, Recorder], test_pki: Any, tmp_path: Path
) -> None:
    """Only markup *inside* a value is refused; a comment between elements changes no value."""
    server, recorder = receiver

    def insert_comment(p: Parts) -> None:
        root = p.tree()
        info = root.find(f".//{EB}MessageInfo")
        assert info is not None
        info.insert(1, etree.Comment("between"))
        p.set_tree(root)

    content_type, body, message_id = tampered(test_pki, tmp_path, insert_comment)
    response = post(server, content_type, body)
    assert b"Receipt" in response.content, response.text
    assert message_id in {m.message_id for m in recorder.persisted}


# --- receipts and signals --------------------------------------------------------------------------


def test_comment_inside_a_signed_receipt_ref_to_message_id_is_refused(test_pki: Any, tmp_path: Path) -> None:
    msg = build(test_pki)
    receipt = build_receipt(receive(test_pki, msg, tmp_path), signer=test_pki.aps[1].identity())
    root = etree.fromstring(receipt)
    ref = root.find(f".//{EB}SignalMessage/{EB}MessageInfo/{EB}RefToMessageId")
    assert ref is not None
    split_with_comment(ref)
    forged = etree.tostring(root)
    with pytest.raises(InvalidReceipt, match="text only"):
        verify_signal(forged, certificate=test_pki.aps[1].identity().certificate)


# --- the SBDH (the payload the AS4 signature covers byte for byte, delivered to C4 as is) -------------


@pytest.mark.parametrize(
    "path",
    [
        "Receiver/Identifier",
        "DocumentIdentification/InstanceIdentifier",
        "BusinessScope/Scope/InstanceIdentifier",
    ],
)
def test_comment_inside_an_sbdh_value_is_refused(path: str) -> None:
    ns = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
    root = etree.fromstring(make_sbd())
    header = root.find(f"{{{ns}}}StandardBusinessDocumentHeader")
    assert header is not None
    el = header.find("/".join(f"{{{ns}}}{step}" for step in path.split("/")))
    assert el is not None
    split_with_comment(el)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    for read in (parse_sbd, read_sbd):  # in memory and streaming agree
        with pytest.raises(SbdhError) as caught:
            read(data)
        assert caught.value.code == "invalid-sbd-xml" and "text only" in caught.value.message
