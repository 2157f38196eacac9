"""The ebMS 3 UserMessage header: model, builder of ``eb:Messaging`` and strict parser.

Parsing separates two failure classes on purpose: a structurally broken header is ``EBMS:0009``
(:class:`~transport.errors.InvalidHeader`); a well-formed header whose values do not match the one Peppol
P-Mode (agreement, roles, party id type) is ``EBMS:0010`` (:class:`~transport.errors.ProcessingModeMismatch`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final, Protocol

from lxml import etree

from peppol.xml import XmlMixedContentError, simple_text
from transport.as4.constants import (
    AGREEMENT_REF,
    NS_EB,
    NS_S12,
    NS_WSU,
    PARTY_ID_TYPE,
    PROP_FINAL_RECIPIENT,
    PROP_ORIGINAL_SENDER,
    ROLE_INITIATOR,
    ROLE_RESPONDER,
)
from transport.errors import InvalidHeader, ProcessingModeMismatch

#: Right-hand side of generated MessageIds (RFC 2822 msg-id without brackets, UUID on the left).
MESSAGE_ID_DOMAIN: Final = "procurement-ap"

#: Longest ``eb:MessageId`` accepted: an RFC 2822 msg-id fits on one message line (RFC 5322 §2.1.1: 998
#: characters). Real ids are ~40-80 characters; the id is kept per message (duplicate key, receipt).
MAX_MESSAGE_ID_CHARS: Final = 998

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})


class PeppolIdentifier(Protocol):
    """What we need from ``peppol.identifiers`` ParticipantId / DocumentTypeId / ProcessId."""

    @property
    def scheme(self) -> str: ...

    @property
    def value(self) -> str: ...


@dataclass(frozen=True)
class UserMessageHeader:
    """Everything in ``eb:UserMessage`` that a Peppol access point sets or reads.

    ``from_party``/``to_party`` are seat ids (the CN of the AP certificates). ``payload_content_id`` is the
    Content-ID of the single payload part without angle brackets; ``payload_properties`` its PartProperties.
    """

    message_id: str
    conversation_id: str
    timestamp: datetime
    from_party: str
    to_party: str
    service: str
    service_type: str | None
    action: str
    agreement_ref: str
    original_sender: str
    original_sender_type: str
    final_recipient: str
    final_recipient_type: str
    ref_to_message_id: str | None = None
    payload_content_id: str = ""
    payload_properties: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


def random_uuids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs in their usual string form, from one ``os.urandom`` call: the
    same values as ``str(uuid.uuid4())`` at a fraction of the cost (a message needs a dozen ids)."""
    raw = bytearray(os.urandom(16 * count))
    out: list[str] = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = raw[start + 6] & 0x0F | 0x40  # version 4
        raw[start + 8] = raw[start + 8] & 0x3F | 0x80  # RFC 4122 variant
        h = raw[start : start + 16].hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def new_message_id() -> str:
    """A fresh globally unique MessageId (``uuid@domain``)."""
    return f"{random_uuids(1)[0]}@{MESSAGE_ID_DOMAIN}"


def new_user_message_header(
    *,
    from_party: str,
    to_party: str,
    sender: PeppolIdentifier,
    receiver: PeppolIdentifier,
    document_type: PeppolIdentifier,
    process: PeppolIdentifier,
    message_id: str | None = None,
    conversation_id: str | None = None,
) -> UserMessageHeader:
    """A header with the exact Peppol values for one document from ``sender`` (C1) to ``receiver`` (C4)."""
    fresh_message_id, fresh_conversation_id = random_uuids(2)
    return UserMessageHeader(
        message_id=message_id or f"{fresh_message_id}@{MESSAGE_ID_DOMAIN}",
        conversation_id=conversation_id or fresh_conversation_id,
        timestamp=datetime.now(UTC),
        from_party=from_party,
        to_party=to_party,
        service=process.value,
        service_type=process.scheme,
        action=f"{document_type.scheme}::{document_type.value}",
        agreement_ref=AGREEMENT_REF,
        original_sender=sender.value,
        original_sender_type=sender.scheme,
        final_recipient=receiver.value,
        final_recipient_type=receiver.scheme,
    )


def format_timestamp(moment: datetime) -> str:
    """xs:dateTime in UTC with millisecond precision and ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Lenient xs:dateTime parser (``Z`` optional, offsets accepted); naive values are taken as UTC."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidHeader(f"eb:Timestamp is not an xs:dateTime: {value!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@functools.cache
def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, _q(NS_EB, tag), attrs)
    if text is not None:
        el.text = text
    return el


def build_messaging(header: UserMessageHeader, messaging_id: str, parent: etree._Element) -> etree._Element:
    """Append ``eb:Messaging`` (``S12:mustUnderstand="true"``, ``wsu:Id``) for a UserMessage to ``parent``."""
    messaging = etree.SubElement(
        parent,
        _q(NS_EB, "Messaging"),
        {_q(NS_S12, "mustUnderstand"): "true", _q(NS_WSU, "Id"): messaging_id},
        nsmap={"eb": NS_EB, "wsu": NS_WSU},
    )
    um = _sub(messaging, "UserMessage")
    info = _sub(um, "MessageInfo")
    _sub(info, "Timestamp", format_timestamp(header.timestamp))
    _sub(info, "MessageId", header.message_id)
    if header.ref_to_message_id:
        _sub(info, "RefToMessageId", header.ref_to_message_id)
    party = _sub(um, "PartyInfo")
    for side, seat, role in (
        ("From", header.from_party, ROLE_INITIATOR),
        ("To", header.to_party, ROLE_RESPONDER),
    ):
        el = _sub(party, side)
        _sub(el, "PartyId", seat, type=PARTY_ID_TYPE)
        _sub(el, "Role", role)
    collab = _sub(um, "CollaborationInfo")
    _sub(collab, "AgreementRef", header.agreement_ref)
    if header.service_type:
        _sub(collab, "Service", header.service, type=header.service_type)
    else:
        _sub(collab, "Service", header.service)
    _sub(collab, "Action", header.action)
    _sub(collab, "ConversationId", header.conversation_id)
    props = _sub(um, "MessageProperties")
    _sub(
        props, "Property", header.original_sender, name=PROP_ORIGINAL_SENDER, type=header.original_sender_type
    )
    _sub(
        props, "Property", header.final_recipient, name=PROP_FINAL_RECIPIENT, type=header.final_recipient_type
    )
    payload = _sub(um, "PayloadInfo")
    part = _sub(payload, "PartInfo", href=f"cid:{header.payload_content_id}")
    part_props = _sub(part, "PartProperties")
    for name, value in header.payload_properties.items():
        _sub(part_props, "Property", value, name=name)
    return messaging


def escape_text(value: str) -> str:
    """Escape character data as lxml serialises it (``&``, ``<``, ``>``; a CR as ``&#13;``)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attr(value: str) -> str:
    """Escape a double-quoted attribute value as lxml serialises it (whitespace kept as references)."""
    return escape_text(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


def c14n_text(value: str) -> str:
    """Escape character data as canonical XML writes it (C14N 1.0 §2.3: ``&``, ``<``, ``>``, CR)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def c14n_attr(value: str) -> str:
    """Escape an attribute value as canonical XML writes it (``&``, ``<``, ``"``, TAB, LF, CR)."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\t", "&#x9;")
        .replace("\n", "&#xA;")
        .replace("\r", "&#xD;")
    )


#: Characters XML 1.0 cannot carry at all (not even as a character reference).
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_PARTY_ID: Final = f'<eb:PartyId type="{PARTY_ID_TYPE}">'
#: The start tag of eb:Messaging as written (declarations where build_messaging puts them) and in its
#: exclusive canonical form (the S12 declaration it uses pulled in, declarations and attributes sorted).
_MESSAGING_OPEN: Final = (
    f'<eb:Messaging xmlns:eb="{NS_EB}" xmlns:wsu="{NS_WSU}" S12:mustUnderstand="true" wsu:Id="{{}}">'
)
_MESSAGING_OPEN_C14N: Final = (
    f'<eb:Messaging xmlns:S12="{NS_S12}" xmlns:eb="{NS_EB}" xmlns:wsu="{NS_WSU}" wsu:Id="{{}}"'
    ' S12:mustUnderstand="true">'
)


def render_messaging(header: UserMessageHeader, messaging_id: str, *, canonical: bool = False) -> str:
    """``eb:Messaging`` for ``header`` as text, under an ``S12:Header`` with ``S12`` bound to SOAP 1.2:
    the markup :func:`build_messaging` produces (values escaped as lxml escapes them), or with
    ``canonical`` its exclusive canonical form (what the ``#msg`` Reference digests), ~10x cheaper than
    building the elements and canonicalising them. Both are tested against lxml: the text parses to
    the elements of :func:`build_messaging`, whose exc-c14n is the canonical text. A value XML cannot
    carry (a control character) is a ValueError."""
    t, a = (c14n_text, c14n_attr) if canonical else (escape_text, escape_attr)
    service_type = "" if not header.service_type else f' type="{a(header.service_type)}"'
    ref_to = (
        f"<eb:RefToMessageId>{t(header.ref_to_message_id)}</eb:RefToMessageId>"
        if header.ref_to_message_id
        else ""
    )
    part_props = "".join(
        f'<eb:Property name="{a(name)}">{t(value)}</eb:Property>'
        for name, value in header.payload_properties.items()
    )
    if not part_props and not canonical:
        part_props = "<eb:PartProperties/>"
    else:
        part_props = f"<eb:PartProperties>{part_props}</eb:PartProperties>"
    text = (
        (_MESSAGING_OPEN_C14N if canonical else _MESSAGING_OPEN).format(a(messaging_id))
        + "<eb:UserMessage><eb:MessageInfo>"
        f"<eb:Timestamp>{format_timestamp(header.timestamp)}</eb:Timestamp>"
        f"<eb:MessageId>{t(header.message_id)}</eb:MessageId>{ref_to}</eb:MessageInfo>"
        f"<eb:PartyInfo><eb:From>{_PARTY_ID}{t(header.from_party)}</eb:PartyId>"
        f"<eb:Role>{ROLE_INITIATOR}</eb:Role></eb:From>"
        f"<eb:To>{_PARTY_ID}{t(header.to_party)}</eb:PartyId>"
        f"<eb:Role>{ROLE_RESPONDER}</eb:Role></eb:To></eb:PartyInfo>"
        f"<eb:CollaborationInfo><eb:AgreementRef>{t(header.agreement_ref)}</eb:AgreementRef>"
        f"<eb:Service{service_type}>{t(header.service)}</eb:Service>"
        f"<eb:Action>{t(header.action)}</eb:Action>"
        f"<eb:ConversationId>{t(header.conversation_id)}</eb:ConversationId></eb:CollaborationInfo>"
        "<eb:MessageProperties>"
        f'<eb:Property name="{PROP_ORIGINAL_SENDER}" type="{a(header.original_sender_type)}">'
        f"{t(header.original_sender)}</eb:Property>"
        f'<eb:Property name="{PROP_FINAL_RECIPIENT}" type="{a(header.final_recipient_type)}">'
        f"{t(header.final_recipient)}</eb:Property></eb:MessageProperties>"
        f'<eb:PayloadInfo><eb:PartInfo href="{a("cid:" + header.payload_content_id)}">{part_props}'
        "</eb:PartInfo></eb:PayloadInfo></eb:UserMessage></eb:Messaging>"
    )
    if _NOT_XML.search(text):
        raise ValueError("the message header holds a value XML cannot carry (a control character)")
    return text


# --- parsing ----------------------------------------------------------------------------------------


def _children(parent: etree._Element) -> dict[object, list[etree._Element]]:
    """The children of ``parent`` grouped by tag, in one pass (comments and PIs land under their
    non-string tags, which no lookup asks for)."""
    groups: dict[object, list[etree._Element]] = {}
    for child in parent:
        groups.setdefault(child.tag, []).append(child)
    return groups


def _one_of(groups: dict[object, list[etree._Element]], tag: str, where: str) -> etree._Element:
    found = groups.get(_q(NS_EB, tag), ())
    if len(found) != 1:
        raise InvalidHeader(f"{where} must contain exactly one eb:{tag} (found {len(found)})")
    return found[0]


def _opt_of(groups: dict[object, list[etree._Element]], tag: str, where: str) -> etree._Element | None:
    found = groups.get(_q(NS_EB, tag), ())
    if len(found) > 1:
        raise InvalidHeader(f"{where} must contain at most one eb:{tag} (found {len(found)})")
    return found[0] if found else None


def _opt(parent: etree._Element, tag: str, where: str) -> etree._Element | None:
    return _opt_of(_children(parent), tag, where)


def value_of(el: etree._Element, what: str) -> str:
    """The trimmed text of a value element of the signed header; a comment, processing instruction or
    child element inside it is EBMS:0009 (exclusive c14n drops comments, so ``el.text`` could be a
    truncation of what was signed: see docs/as4.md, "What is read from signed XML")."""
    try:
        return simple_text(el).strip()
    except XmlMixedContentError as exc:
        raise InvalidHeader(f"{what}: {exc}") from exc


def _text(el: etree._Element, what: str) -> str:
    value = value_of(el, what)
    if not value:
        raise InvalidHeader(f"{what} is empty")
    return value


@dataclass(frozen=True)
class PartInfo:
    """One ``eb:PartInfo``: ``content_id`` is the ``cid:`` href without the scheme."""

    content_id: str
    properties: Mapping[str, str]


def parse_part_infos(um: etree._Element) -> tuple[PartInfo, ...]:
    """All ``eb:PartInfo`` of a UserMessage; hrefs must be ``cid:`` (external payloads are not Peppol)."""
    return _part_infos(_opt(um, "PayloadInfo", "eb:UserMessage"))


def _part_infos(payload_info: etree._Element | None) -> tuple[PartInfo, ...]:
    if payload_info is None:
        return ()
    parts: list[PartInfo] = []
    for part in payload_info.iterchildren(_q(NS_EB, "PartInfo")):
        href = (part.get("href") or "").strip()
        if not href.startswith("cid:"):
            raise InvalidHeader(f"eb:PartInfo/@href must be a cid: reference, got {href!r}")
        props: dict[str, str] = {}
        pp = _opt(part, "PartProperties", "eb:PartInfo")
        if pp is not None:
            for prop in pp.iterchildren(_q(NS_EB, "Property")):
                name = prop.get("name")
                if not name:
                    raise InvalidHeader("eb:PartProperties/eb:Property without @name")
                props[name] = value_of(prop, f"eb:PartProperties/eb:Property[@name={name!r}]")
        parts.append(PartInfo(href[4:], MappingProxyType(props)))
    return tuple(parts)


def find_user_message(messaging: etree._Element) -> etree._Element:
    """The single ``eb:UserMessage`` of ``messaging`` (EBMS:0009 otherwise)."""
    if messaging.tag != _q(NS_EB, "Messaging"):
        raise InvalidHeader(f"expected eb:Messaging, got {messaging.tag}")
    ums = messaging.findall(_q(NS_EB, "UserMessage"))
    if len(ums) != 1:
        raise InvalidHeader(f"eb:Messaging must contain exactly one eb:UserMessage (found {len(ums)})")
    # ebMS bundling is not part of Peppol One-Way/Push; a bundled signal would also give the envelope a
    # second MessageId that a receiver could mistake for the UserMessage's (duplicate detection key).
    if messaging.find(_q(NS_EB, "SignalMessage")) is not None:
        raise InvalidHeader("eb:Messaging must not bundle an eb:SignalMessage with the eb:UserMessage")
    return ums[0]


def parse_user_message(messaging: etree._Element) -> UserMessageHeader:
    """Parse a UserMessage ``eb:Messaging``; raises InvalidHeader (0009) or ProcessingModeMismatch (0010).

    Exactly one ``eb:PartInfo`` is required: Peppol carries the SBD as the one payload part.
    """
    um = find_user_message(messaging)
    sections = _children(um)
    info = _children(_one_of(sections, "MessageInfo", "eb:UserMessage"))
    timestamp = parse_timestamp(_text(_one_of(info, "Timestamp", "eb:MessageInfo"), "eb:Timestamp"))
    message_id = _text(_one_of(info, "MessageId", "eb:MessageInfo"), "eb:MessageId")
    if len(message_id) > MAX_MESSAGE_ID_CHARS:
        raise InvalidHeader(f"eb:MessageId has {len(message_id)} characters (at most {MAX_MESSAGE_ID_CHARS})")
    ref_el = _opt_of(info, "RefToMessageId", "eb:MessageInfo")
    ref_to = value_of(ref_el, "eb:RefToMessageId") or None if ref_el is not None else None

    party = _children(_one_of(sections, "PartyInfo", "eb:UserMessage"))
    seats: dict[str, str] = {}
    for side, role_expected in (("From", ROLE_INITIATOR), ("To", ROLE_RESPONDER)):
        el = _children(_one_of(party, side, "eb:PartyInfo"))
        pid = _one_of(el, "PartyId", f"eb:{side}")
        seats[side] = _text(pid, f"eb:{side}/eb:PartyId")
        if pid.get("type") != PARTY_ID_TYPE:
            raise ProcessingModeMismatch(
                f"eb:{side}/eb:PartyId/@type must be {PARTY_ID_TYPE!r}, got {pid.get('type')!r}"
            )
        role = _text(_one_of(el, "Role", f"eb:{side}"), f"eb:{side}/eb:Role")
        if role != role_expected:
            raise ProcessingModeMismatch(f"eb:{side}/eb:Role must be {role_expected!r}, got {role!r}")

    collab = _children(_one_of(sections, "CollaborationInfo", "eb:UserMessage"))
    agreement = _text(_one_of(collab, "AgreementRef", "eb:CollaborationInfo"), "eb:AgreementRef")
    if agreement != AGREEMENT_REF:
        raise ProcessingModeMismatch(f"eb:AgreementRef must be {AGREEMENT_REF!r}, got {agreement!r}")
    service_el = _one_of(collab, "Service", "eb:CollaborationInfo")
    service = _text(service_el, "eb:Service")
    action = _text(_one_of(collab, "Action", "eb:CollaborationInfo"), "eb:Action")
    conversation = _text(_one_of(collab, "ConversationId", "eb:CollaborationInfo"), "eb:ConversationId")

    props_el = _one_of(sections, "MessageProperties", "eb:UserMessage")
    props: dict[str, tuple[str, str]] = {}
    for prop in props_el.iterchildren(_q(NS_EB, "Property")):
        name = prop.get("name") or ""
        if name in props:
            raise InvalidHeader(f"eb:MessageProperties has property {name!r} twice")
        props[name] = (value_of(prop, f"eb:Property[@name={name!r}]"), (prop.get("type") or "").strip())
    for required in (PROP_ORIGINAL_SENDER, PROP_FINAL_RECIPIENT):
        value, type_ = props.get(required, ("", ""))
        if not value or not type_:
            raise InvalidHeader(f"eb:MessageProperties needs property {required!r} with a value and @type")

    parts = _part_infos(_opt_of(sections, "PayloadInfo", "eb:UserMessage"))
    if len(parts) != 1:
        raise InvalidHeader(f"a Peppol UserMessage carries exactly one eb:PartInfo (found {len(parts)})")
    return UserMessageHeader(
        message_id=message_id,
        conversation_id=conversation,
        timestamp=timestamp,
        from_party=seats["From"],
        to_party=seats["To"],
        service=service,
        service_type=service_el.get("type"),
        action=action,
        agreement_ref=agreement,
        original_sender=props[PROP_ORIGINAL_SENDER][0],
        original_sender_type=props[PROP_ORIGINAL_SENDER][1],
        final_recipient=props[PROP_FINAL_RECIPIENT][0],
        final_recipient_type=props[PROP_FINAL_RECIPIENT][1],
        ref_to_message_id=ref_to,
        payload_content_id=parts[0].content_id,
        payload_properties=parts[0].properties,
    )
