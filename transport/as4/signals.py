"""Signal messages: signed NRR receipts (as4.md §6.1), signed error signals (§6.2), and the sender-side
parsing and verification of whatever the receiver answered.

A receipt copies the ``ds:Reference`` elements of the received ``SignedInfo`` verbatim; the sender
compares them *semantically* with what it signed (URI, transforms as a set, digest method, decoded
digest value), because real access points re-prefix them or drop ``InclusiveNamespaces``.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from cryptography import x509
from lxml import etree

from peppol.xml import XmlError, XmlMixedContentError, parse_bytes, simple_text
from transport.as4.builder import KeyHolder, OutboundMessage
from transport.as4.constants import NS_DS, NS_EB, NS_S12, NS_WSSE
from transport.as4.dsig import (
    Reference,
    element_ids,
    parse_reference,
    resolve_token_certificate,
    same_certificate,
    verify_signature,
)
from transport.as4.header import new_message_id
from transport.as4.inbound import (
    MAX_ENVELOPE_BYTES,
    InboundUserMessage,
    SoapHeaders,
    certificate_cn,
    locate_headers,
)
from transport.as4.signal_text import (
    c14n_attr,
    c14n_text,
    copied_reference,
    message_info,
    non_repudiation_information,
    signal_envelope,
)
from transport.errors import EbmsError, FailedAuthentication, InvalidReceipt

S12 = f"{{{NS_S12}}}"
EB = f"{{{NS_EB}}}"
DS = f"{{{NS_DS}}}"
WSSE = f"{{{NS_WSSE}}}"

#: ``origin`` attribute of the errors we raise (ebMS core §6.2; phase4 omits it, Holodeck sends it).
ERROR_ORIGIN: Final = "ebMS"
#: Longest Description / ErrorDetail text we send (exception texts can be long).
MAX_ERROR_TEXT: Final = 2000
_NOT_XML_CHAR = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Largest response body parsed as a signal.
MAX_SIGNAL_BYTES: Final = MAX_ENVELOPE_BYTES


@dataclass(frozen=True)
class SignalError:
    """One ``eb:Error`` of a received error signal (or of a SOAP Fault carrying one)."""

    code: str
    severity: str
    short_description: str
    description: str
    detail: str
    category: str | None = None
    ref_to_message_in_error: str | None = None


@dataclass(frozen=True)
class ReceivedSignal:
    """A parsed receipt or error signal. ``signed`` says a ``ds:Signature`` is present; only
    :func:`verify_receipt` / :func:`verify_signal` say it is valid."""

    kind: Literal["receipt", "error"]
    message_id: str
    ref_to_message_id: str | None
    errors: tuple[SignalError, ...]
    references: tuple[Reference, ...]
    signed: bool


# --- building ---------------------------------------------------------------------------------------


def received_reference_elements(envelope: bytes, soap: SoapHeaders | None = None) -> list[etree._Element]:
    """The ``ds:Reference`` elements of the Security header's signature, as received (``soap``: the
    envelope as already parsed by :func:`~transport.as4.inbound.process_inbound`, if at hand)."""
    if soap is None:
        soap = locate_headers(envelope)
    if soap.security is None:
        raise FailedAuthentication("the user message carries no wsse:Security header")
    return list(soap.security.iterfind(f"{DS}Signature/{DS}SignedInfo/{DS}Reference"))


def build_receipt(inbound: InboundUserMessage, *, signer: KeyHolder, message_id: str | None = None) -> bytes:
    """The signed NRR receipt (SOAP envelope bytes) for a processed UserMessage: every received
    ``ds:Reference`` copied verbatim into ``ebbp:NonRepudiationInformation``.

    Call only after the message is durably stored. ``MessagePartIdentifier`` is never used. Written
    as canonical text (:mod:`transport.as4.signal_text`).
    """
    copies = [copied_reference(ref) for ref in received_reference_elements(inbound.envelope, inbound.soap)]
    content = (
        message_info(message_id or new_message_id(), inbound.header.message_id),
        non_repudiation_information(text for text, _ in copies),
    )
    return signal_envelope(content, signer, canonical=all(clean for _, clean in copies))


def xml_safe(text: str) -> str:
    """``text`` without characters XML 1.0 cannot carry, capped at :data:`MAX_ERROR_TEXT`."""
    clean = _NOT_XML_CHAR.sub("\ufffd", text)
    return clean if len(clean) <= MAX_ERROR_TEXT else clean[: MAX_ERROR_TEXT - 1] + "…"


def build_error_signal(
    error: EbmsError,
    *,
    ref_to_message_id: str | None,
    signer: KeyHolder | None,
    message_id: str | None = None,
) -> bytes:
    """A (signed, when ``signer`` is given) ``eb:Error`` signal for ``error``."""
    ref_to = xml_safe(ref_to_message_id) if ref_to_message_id else None
    attrs = {
        "category": error.category,
        "errorCode": error.code,
        "origin": ERROR_ORIGIN,
        "severity": error.severity,
        "shortDescription": error.short_description,
    }
    if ref_to:
        attrs["refToMessageInError"] = ref_to
    # canonical order: unqualified attributes sorted by name
    rendered = "".join(f' {name}="{c14n_attr(xml_safe(attrs[name]))}"' for name in sorted(attrs))
    detail = f"<eb:ErrorDetail>{c14n_text(xml_safe(error.detail))}</eb:ErrorDetail>" if error.detail else ""
    content = (
        message_info(message_id or new_message_id(), ref_to),
        f'<eb:Error{rendered}><eb:Description xml:lang="en">{c14n_text(xml_safe(error.description))}'
        f"</eb:Description>{detail}</eb:Error>",
    )
    return signal_envelope(content, signer)


# --- parsing ----------------------------------------------------------------------------------------


def soap_part(body: bytes, content_type: str | None) -> bytes:
    """The SOAP envelope of a response: the body itself, or the root part of a multipart/related body."""
    if not content_type or not content_type.strip().lower().startswith("multipart/"):
        return body
    try:
        header = content_type.encode("latin-1")
    except UnicodeEncodeError as exc:  # HTTP header values are ISO-8859-1; anything else is garbage
        raise InvalidReceipt(f"response Content-Type is not ISO-8859-1 text: {content_type[:100]!r}") from exc
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    msg = parser.parsebytes(b"Content-Type: " + header + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise InvalidReceipt("multipart response without parts")
    start = msg.get_param("start")
    parts = list(msg.iter_parts())
    if not parts:
        raise InvalidReceipt("multipart response without parts")
    root = parts[0]
    if isinstance(start, str):
        for part in parts:
            if (part.get("Content-ID") or "").strip() == start.strip():
                root = part
                break
    payload = root.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raise InvalidReceipt("multipart response root part is empty")
    return payload


def _display_text(el: etree._Element | None) -> str:
    """All the text of a human-readable element (only shown, never acted on: markup is tolerated)."""
    return "" if el is None else "".join(str(t) for t in el.itertext()).strip()


def _signal_value(signal: etree._Element, path: str) -> str:
    """A value of the (signed) ``eb:SignalMessage``: text only, else InvalidReceipt (see
    :func:`peppol.xml.simple_text`: a comment would make ``el.text`` a truncation of the signed id)."""
    el = signal.find(path)
    if el is None:
        return ""
    try:
        return simple_text(el).strip()
    except XmlMixedContentError as exc:
        raise InvalidReceipt(f"eb:{path.rpartition('}')[2]}: {exc}") from exc


def _parse_error(el: etree._Element) -> SignalError:
    code = (el.get("errorCode") or "").strip()
    if not code:  # required by the ebMS 3 schema; without it the answer cannot be classified
        raise InvalidReceipt("eb:Error without an errorCode")
    return SignalError(
        code=code,
        severity=el.get("severity") or "failure",
        short_description=el.get("shortDescription") or "",
        description=_display_text(el.find(f"{EB}Description")),
        detail=_display_text(el.find(f"{EB}ErrorDetail")),
        category=el.get("category"),
        ref_to_message_in_error=el.get("refToMessageInError"),
    )


def _parse_root(envelope: bytes) -> etree._Element:
    try:
        root = parse_bytes(envelope, max_bytes=MAX_SIGNAL_BYTES).getroot()
    except XmlError as exc:
        raise InvalidReceipt(f"response is not acceptable XML: {exc}") from exc
    if root.tag != f"{S12}Envelope":
        raise InvalidReceipt(f"response is not a SOAP 1.2 envelope ({root.tag})")
    return root


def _signal_from_root(root: etree._Element) -> ReceivedSignal:
    header = root.find(f"{S12}Header")
    signed = header is not None and header.find(f"{WSSE}Security/{DS}Signature") is not None
    signal = None if header is None else header.find(f"{EB}Messaging/{EB}SignalMessage")
    if signal is None:
        # SOAP Fault (CXF/Oxalis style, HTTP 500) with eb:Error somewhere inside the envelope
        errors = tuple(_parse_error(e) for e in root.iter(f"{EB}Error"))
        if root.find(f"{S12}Body/{S12}Fault") is not None and errors:
            ref = errors[0].ref_to_message_in_error
            return ReceivedSignal("error", "", ref, errors, (), signed)
        raise InvalidReceipt("response holds neither an eb:SignalMessage nor a SOAP Fault with eb:Error")
    message_id = _signal_value(signal, f"{EB}MessageInfo/{EB}MessageId")
    ref_to = _signal_value(signal, f"{EB}MessageInfo/{EB}RefToMessageId") or None
    errors = tuple(_parse_error(e) for e in signal.iterfind(f"{EB}Error"))
    if errors:
        return ReceivedSignal(
            "error", message_id, ref_to or errors[0].ref_to_message_in_error, errors, (), signed
        )
    receipt = signal.find(f"{EB}Receipt")
    if receipt is None:
        raise InvalidReceipt("eb:SignalMessage holds neither eb:Receipt nor eb:Error")
    try:
        refs = tuple(parse_reference(r) for r in receipt.iter(f"{DS}Reference"))
    except FailedAuthentication as exc:
        raise InvalidReceipt(exc.description) from exc
    return ReceivedSignal("receipt", message_id, ref_to, (), refs, signed)


def parse_signal(body: bytes, content_type: str | None = None) -> ReceivedSignal:
    """Parse a response (plain SOAP or MIME-wrapped) into a receipt or error; no signature check.

    Raises :class:`~transport.errors.InvalidReceipt` when the body is not a signal at all.
    """
    return _signal_from_root(_parse_root(soap_part(body, content_type)))


# --- verification -----------------------------------------------------------------------------------


class ReceiptSignerPolicy(StrEnum):
    """Which certificate may sign the receipt of a message we sent (``docs/as4-operations.md``).

    ``SAME_CERTIFICATE`` (default, strict): exactly the receiver certificate we encrypted for (the
    one its SMP publishes). ``SAME_SEAT``: during a receiver's certificate renewal its SMP may still
    publish the old certificate while it already signs with the new one — accept any signer with the
    same seat id (CN) that ``validate_signer`` accepts (chain to the Peppol AP CA, validity,
    revocation); without a ``validate_signer`` this policy is refused.
    """

    SAME_CERTIFICATE = "same-certificate"
    SAME_SEAT = "same-seat"


def _check_signer_is_receiver(
    signer: x509.Certificate,
    certificate: x509.Certificate,
    policy: ReceiptSignerPolicy,
    validate_signer: Callable[[x509.Certificate], None] | None,
) -> None:
    if same_certificate(signer, certificate):
        return
    if policy is ReceiptSignerPolicy.SAME_SEAT:
        if validate_signer is None:
            raise InvalidReceipt("receipt signer policy 'same-seat' needs a signer validator (AP trust)")
        if certificate_cn(signer) is not None and certificate_cn(signer) == certificate_cn(certificate):
            return
        raise InvalidReceipt(
            f"the signal is signed by seat {certificate_cn(signer)!r}, the receiver is "
            f"{certificate_cn(certificate)!r}"
        )
    raise InvalidReceipt("the signal is signed with another certificate than the receiver's")


def verify_signal(
    body: bytes,
    content_type: str | None = None,
    *,
    certificate: x509.Certificate | None = None,
    validate_signer: Callable[[x509.Certificate], None] | None = None,
    signer_policy: ReceiptSignerPolicy = ReceiptSignerPolicy.SAME_CERTIFICATE,
) -> tuple[ReceivedSignal, x509.Certificate]:
    """Parse a signal and verify its signature; return it with the signer certificate.

    The signature must sit in the one ``wsse:Security`` header, reference its key through a direct BST
    reference, and cover *the* ``eb:Messaging`` of the header and the Body. ``certificate``, when
    given, must be the BST certificate; ``validate_signer`` checks chain/validity/revocation. Without
    either, only the cryptographic signature is checked (tests on historic dumps). Any failure raises
    :class:`~transport.errors.InvalidReceipt`.
    """
    envelope = soap_part(body, content_type)
    try:
        soap = locate_headers(envelope, max_bytes=MAX_SIGNAL_BYTES)
        signal = _signal_from_root(soap.root)
        if soap.security is None or soap.security.find(f"{DS}Signature") is None:
            raise InvalidReceipt("the signal is not signed")
        signatures = soap.security.findall(f"{DS}Signature")
        if len(signatures) != 1:
            raise InvalidReceipt("the signal must carry exactly one ds:Signature")
        signer = resolve_token_certificate(signatures[0], soap.ids, "ds:Signature")
        if certificate is not None:
            _check_signer_is_receiver(signer, certificate, signer_policy, validate_signer)
        refs = verify_signature(signatures[0], soap.ids, signer, None)
        uris = {r.uri for r in refs}
        for name, el in (("eb:Messaging", soap.messaging), ("S12:Body", soap.body)):
            if not any(f"#{el_id}" in uris for el_id in element_ids(el)):
                raise InvalidReceipt(f"the signature does not cover the {name}")
        if validate_signer is not None:
            try:
                validate_signer(signer)
            except EbmsError:
                raise
            except Exception as exc:
                raise InvalidReceipt(f"signer certificate rejected: {exc}") from exc
    except InvalidReceipt:
        raise
    except EbmsError as exc:
        raise InvalidReceipt(f"{exc.code}: {exc.description}") from exc
    return signal, signer


def verify_receipt(
    body: bytes,
    *,
    sent: OutboundMessage,
    receiver_certificate: x509.Certificate | None,
    validate_signer: Callable[[x509.Certificate], None] | None = None,
    content_type: str | None = None,
    signer_policy: ReceiptSignerPolicy = ReceiptSignerPolicy.SAME_CERTIFICATE,
) -> ReceivedSignal:
    """Check that ``body`` is a valid signed receipt for ``sent``; raises InvalidReceipt (EBMS:0302).

    Checks: it is a receipt; ``RefToMessageId`` is our MessageId; the signature verifies with the
    receiver's certificate — or, with ``signer_policy=SAME_SEAT``, a certificate of the same seat —
    (and ``validate_signer``); its NRR references equal what we signed.
    """
    signal, _ = verify_signal(
        body,
        content_type,
        certificate=receiver_certificate,
        validate_signer=validate_signer,
        signer_policy=signer_policy,
    )
    if signal.kind != "receipt":
        codes = ", ".join(e.code for e in signal.errors)
        raise InvalidReceipt(f"the response is an error signal ({codes}), not a receipt")
    if signal.ref_to_message_id != sent.message_id:
        raise InvalidReceipt(f"receipt refers to {signal.ref_to_message_id!r}, we sent {sent.message_id!r}")
    check_nrr(signal.references, sent.signed_references)
    return signal


def check_nrr(received: tuple[Reference, ...], signed: tuple[Reference, ...]) -> None:
    """Every signed reference must appear exactly once in the receipt's NRR, and nothing else."""
    if len(received) != len(signed):
        raise InvalidReceipt(f"receipt echoes {len(received)} references, we signed {len(signed)}")
    for ours in signed:
        hits = [r for r in received if r.matches(ours)]
        if len(hits) != 1:
            raise InvalidReceipt(f"receipt does not echo our reference {ours.uri!r} unchanged")
