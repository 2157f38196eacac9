"""The receiving-side cases: each with a stable id, its public id where one exists, a requirement
level, a spec reference, the message to send (a :class:`Recipe`, or a custom run) and what the target
must answer. ``conformance.md`` §2 (CEF/e-SENS assertions), §7 and §12 (security test list)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from conformance.model import Level
from peppol.identifiers import DocumentTypeId
from transport.as4.constants import (
    ALG_AES128_CBC,
    ALG_RSA_1_5,
    ALG_RSA_SHA1,
    ALG_SHA1,
    NS_EB,
    PART_PROP_MIME_TYPE,
)

from . import edits, payloads
from .build import Recipe
from .context import Context

EB = f"{{{NS_EB}}}"
UM = f"{edits.S12}Header/{EB}Messaging/{EB}UserMessage"
PING_SERVICE: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/service"
PING_ACTION: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/test"
CREDIT_NOTE: Final = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
AS4 = "Peppol AS4 profile 2.0"
SEC = "conformance.md §12"

Expectation = Literal["receipt", "reject", "either"]
#: A case's message: a recipe, or the reason it cannot be built here (then the case is skipped).
Make = Callable[[Context], "Recipe | str"]


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    level: Level
    spec: str
    expect: Expectation
    make: Make | None = None
    public_id: str | None = None
    #: For ``reject``: the ebMS codes the profile names; ``code_required`` makes another code a failure.
    codes: tuple[str, ...] = ()
    code_required: bool = False
    #: What is wrong with the message, for reasons ("The target accepted <defect>").
    defect: str = ""
    #: Text an error must contain (e.g. PEPPOL:NOT_SERVICED).
    error_mentions: str | None = None
    #: Name of a custom procedure in :mod:`conformance.as4.runner` (several sends).
    procedure: str | None = None


def base(ctx: Context, **kw: Any) -> Recipe:
    """A valid message; with another ``signer``, its From PartyId is that signer's seat id (so the case
    tests the certificate, not a From/signer mismatch)."""
    signer = kw.get("signer")
    from_party = {"from_party": signer.seat_id} if signer is not None and "header" not in kw else {}
    recipe = Recipe(
        header=payloads.header(ctx, **from_party),
        payload=payloads.sbd(ctx),
        signer=ctx.identity,
        recipient=ctx.target_certificate,
    )
    return dataclasses.replace(recipe, **kw) if kw else recipe


def _with(**kw: Any) -> Make:
    return lambda ctx: base(ctx, **kw)


def _signer(name: str) -> Make:
    def make(ctx: Context) -> Recipe | str:
        signer = getattr(ctx.signers, name)
        if signer is None:
            return f"needs the {name} signer of a test PKI (--pki DIR made by 'ap pki init')"
        return base(ctx, signer=signer)

    return make


def _comment_in(what: str) -> Make:
    def make(ctx: Context) -> Recipe:
        recipe = base(ctx)
        values: dict[str, str] = {
            "message_id": recipe.header.message_id,
            "conversation_id": recipe.header.conversation_id,
            "final_recipient": recipe.header.final_recipient,
            "from_party": recipe.header.from_party,
        }
        value = values[what]
        recipe.soap_bytes.append(edits.comment_inside(value))
        recipe.split_value = value
        return recipe

    return make


def _payload_replaced(ctx: Context) -> Recipe:
    forged = payloads.sbd(ctx, payloads.document(ctx, "forged: pay to another account"))
    return base(ctx, parts=[edits.replace_payload(forged)])


def _untrusted_ca(ctx: Context) -> Recipe:
    return base(ctx, signer=edits.unknown_ca_identity(ctx.identity.seat_id))


def _token_swap(ctx: Context) -> Recipe:
    return base(ctx, after_signing=[edits.swap_signing_token(ctx.target_certificate)])


def _wrong_recipient(ctx: Context) -> Recipe:
    return base(ctx, recipient=ctx.identity.certificate)


def _missing_sbdh(ctx: Context) -> Recipe:
    return base(ctx, payload=payloads.document(ctx))


def _inconsistent_sbdh(ctx: Context) -> Recipe:
    return base(ctx, payload=payloads.sbd(ctx, doctype=DocumentTypeId.parse(CREDIT_NOTE)))


def _original_sender_mismatch(ctx: Context) -> Recipe:
    recipe = base(ctx)
    recipe.header = dataclasses.replace(recipe.header, original_sender="0088:5790000435999")
    return recipe


def _final_recipient_mismatch(ctx: Context) -> Recipe:
    recipe = base(ctx)
    recipe.header = dataclasses.replace(recipe.header, final_recipient="0088:5798000000777")
    return recipe


def _not_served(ctx: Context) -> Recipe:
    return base(
        ctx,
        header=payloads.header(ctx, receiver=ctx.unserved_receiver),
        payload=payloads.sbd(ctx, receiver=ctx.unserved_receiver),
    )


def _old(ctx: Context) -> Recipe:
    return base(ctx, header=payloads.header(ctx, timestamp=datetime.now(UTC) - timedelta(days=30)))


def _large(ctx: Context) -> Recipe | str:
    if ctx.large_bytes <= 0:
        return "large message disabled (--large-size 0)"
    return base(ctx, payload=payloads.sbd(ctx, payloads.document(ctx, filler_bytes=ctx.large_bytes)))


def _gzip_bomb(ctx: Context) -> Recipe:
    filler = b"<cbc:Note>" + b" " * (200 * 1024 * 1024) + b"</cbc:Note>"
    doc = payloads.document(ctx).replace(b"<cbc:Note>", filler + b"<cbc:Note>", 1)
    return base(ctx, payload=payloads.sbd(ctx, doc))


def _hostile_sbd(doctype: bytes, entity: bytes) -> Make:
    return lambda ctx: base(ctx, payload=edits.hostile_sbd(payloads.sbd(ctx), doctype, entity))


def _ping(ctx: Context) -> Recipe:
    return base(ctx, header=payloads.header(ctx, service=PING_SERVICE, service_type=None, action=PING_ACTION))


def _drop_mime_type(root: object) -> None:
    from lxml import etree

    assert isinstance(root, etree._Element)
    for prop in root.iter(f"{EB}Property"):
        if prop.get("name") == PART_PROP_MIME_TYPE:
            parent = prop.getparent()
            assert parent is not None
            parent.remove(prop)


def _hyperlink(root: object) -> None:
    from lxml import etree

    assert isinstance(root, etree._Element)
    edits.one(root, f"{UM}/{EB}PayloadInfo/{EB}PartInfo").set("href", "http://attacker.example/payload.xml")


def _two_party_ids(root: object) -> None:
    from lxml import etree

    assert isinstance(root, etree._Element)
    party = edits.one(root, f"{UM}/{EB}PartyInfo/{EB}From/{EB}PartyId")
    extra = etree.Element(party.tag, {str(k): str(v) for k, v in party.attrib.items()})
    extra.text = "POP000999"
    party.addnext(extra)


def _from_party_not_signer(ctx: Context) -> Recipe:
    return base(ctx, header=payloads.header(ctx, from_party="POP000999"))


R: Final = "receipt"
X: Final = "reject"
E: Final = "either"
MUST, SHOULD, MAY = Level.MUST, Level.SHOULD, Level.MAY
AUTH = ("EBMS:0101",)
DECRYPT = ("EBMS:0102",)
POLICY = ("EBMS:0103", "EBMS:0101")
XML = ("EBMS:0009", "EBMS:0004", "EBMS:0101", "EBMS:0103")
SBDH = ("EBMS:0004", "EBMS:0009")

CASES: Final[tuple[Case, ...]] = (
    # --- valid messages
    Case(
        "as4.valid.receipt",
        "A valid message gets a signed receipt with NRR digests of every signed part",
        MUST,
        f"{AS4} §5 receipts; ebMS3 §5.1.8",
        R,
        base,
        "TC2A.2B, AS4_TA04",
    ),
    Case(
        "as4.valid.compressed",
        "A gzip-compressed payload (CompressionType application/gzip) is accepted",
        MUST,
        f"{AS4} compression; AS4 §3.1",
        R,
        base,
        "AS4_TA06",
    ),
    Case(
        "as4.valid.uncompressed",
        "An uncompressed payload is accepted",
        MAY,
        "eDelivery AS4 1.15 §2.2.3.3 (compression optional)",
        R,
        _with(compress=False),
        "eSENS_TA04",
    ),
    Case(
        "as4.valid.large",
        "A large message (default 50 MB) is accepted",
        SHOULD,
        "conformance.md §7 large; Peppol Testbed large message reception",
        R,
        _large,
        "TC2A.5B",
    ),
    Case(
        "as4.valid.ping",
        "A ping (ebMS test service) gets a receipt and is not delivered",
        MAY,
        "ebMS3 §5.2.2",
        R,
        _ping,
        "eSENS_TA18",
    ),
    # --- compression
    Case(
        "as4.compression.damaged-gzip",
        "A damaged compressed payload is rejected with EBMS:0303",
        MUST,
        "AS4 §3.1; ebMS3 EBMS:0303",
        X,
        _with(damage_gzip=True),
        "AS4_TA13",
        ("EBMS:0303",),
        True,
        "a damaged gzip payload",
    ),
    Case(
        "as4.compression.gzip-bomb",
        "A gzip bomb (200 MB of spaces) is refused, not inflated",
        SHOULD,
        f"{SEC}.10",
        X,
        _gzip_bomb,
        None,
        ("EBMS:0303",),
        False,
        "a gzip bomb",
    ),
    # --- signing and encryption
    Case(
        "as4.security.unsigned",
        "An encrypted but unsigned message is rejected",
        MUST,
        f"{SEC}.1",
        X,
        _with(sign=False),
        None,
        POLICY,
        False,
        "an unsigned message",
    ),
    Case(
        "as4.security.unencrypted",
        "A signed but unencrypted message is rejected",
        MUST,
        f"{SEC}.1",
        X,
        _with(encrypt=False),
        None,
        POLICY,
        False,
        "an unencrypted message",
    ),
    Case(
        "as4.security.plain",
        "A message neither signed nor encrypted is rejected",
        MUST,
        f"{SEC}.1",
        X,
        _with(sign=False, encrypt=False),
        None,
        POLICY,
        False,
        "a message neither signed nor encrypted",
    ),
    Case(
        "as4.tamper.attachment",
        "Flipped ciphertext bytes of the payload are rejected",
        MUST,
        f"{SEC}.3",
        X,
        _with(parts=[edits.flip_attachment_byte]),
        None,
        DECRYPT + AUTH,
        False,
        "a tampered attachment",
    ),
    Case(
        "as4.tamper.payload-replaced",
        "A payload replaced after signing (re-encrypted) is rejected",
        MUST,
        f"{SEC}.3",
        X,
        _payload_replaced,
        None,
        AUTH,
        False,
        "a payload replaced after signing",
    ),
    Case(
        "as4.tamper.header",
        "A signed header value changed after signing is rejected",
        MUST,
        f"{SEC}.3",
        X,
        _with(after_signing=[edits.set_text(f"{UM}/{EB}CollaborationInfo/{EB}ConversationId", "forged")]),
        None,
        AUTH,
        False,
        "a header changed after signing",
    ),
    Case(
        "as4.tamper.body",
        "Content added to the signed SOAP Body after signing is rejected",
        MUST,
        f"{SEC}.3",
        X,
        _with(after_signing=[edits.body_content]),
        None,
        AUTH,
        False,
        "a Body changed after signing",
    ),
    Case(
        "as4.tamper.content-id",
        "A payload part under another Content-ID is rejected",
        MUST,
        f"{SEC}.3",
        X,
        _with(parts=[edits.rename_part]),
        None,
        ("EBMS:0007", "EBMS:0101"),
        False,
        "a payload part with the wrong Content-ID",
    ),
    Case(
        "as4.xsw.duplicated-messaging",
        "A second (forged) eb:Messaging header is rejected",
        MUST,
        f"{SEC}.2",
        X,
        _with(after_signing=[edits.duplicate_messaging]),
        None,
        XML,
        False,
        "a duplicated eb:Messaging",
    ),
    Case(
        "as4.xsw.moved-messaging",
        "The signed eb:Messaging moved into a wrapper, a forged one in place",
        MUST,
        f"{SEC}.2",
        X,
        _with(after_signing=[edits.move_messaging]),
        None,
        AUTH + XML,
        False,
        "a wrapped (moved) eb:Messaging",
    ),
    Case(
        "as4.xsw.duplicate-id",
        "Two elements with the signed wsu:Id are rejected",
        MUST,
        f"{SEC}.2",
        X,
        _with(after_signing=[edits.duplicate_id]),
        None,
        AUTH + XML,
        False,
        "duplicate wsu:Id values",
    ),
    Case(
        "as4.xsw.second-security",
        "A second wsse:Security header is rejected",
        MUST,
        f"{SEC}.2",
        X,
        _with(after_signing=[edits.second_security]),
        None,
        AUTH + XML,
        False,
        "a second wsse:Security header",
    ),
    Case(
        "as4.xsw.extra-attachment",
        "An extra unsigned attachment is rejected",
        MUST,
        f"{SEC}.2",
        X,
        _with(parts=[edits.extra_part]),
        None,
        (*AUTH, "EBMS:0007"),
        False,
        "an extra unsigned attachment",
    ),
    Case(
        "as4.xsw.unsigned-attachment",
        "A signature not covering the payload (cid: reference) is rejected",
        MUST,
        f"{SEC}.2",
        X,
        _with(drop_attachment_reference=True),
        None,
        AUTH + POLICY,
        False,
        "a signature that does not cover the payload",
    ),
    Case(
        "as4.xsw.missing-reference",
        "A Reference to a non-existent id is rejected",
        MUST,
        f"{SEC}.2",
        X,
        _with(extra_reference_uris=["#does-not-exist"]),
        None,
        AUTH,
        False,
        "a signature referencing a missing element",
    ),
    Case(
        "as4.xsw.token-swap",
        "The signing BST replaced by another certificate is rejected",
        MUST,
        f"{SEC}.5 (BST cert ≠ signing key)",
        X,
        _token_swap,
        None,
        AUTH,
        False,
        "a signature whose BST holds another certificate",
    ),
    # --- comments inside signed values (exc-c14n drops comments: the signature still verifies)
    Case(
        "as4.comment.message-id",
        "A comment inside the signed MessageId: the receiver must not act on the truncated id",
        MUST,
        f"{SEC}.2; XML-DSig comment truncation",
        E,
        _comment_in("message_id"),
        defect="a MessageId split by a comment",
    ),
    Case(
        "as4.comment.conversation-id",
        "A comment inside the signed ConversationId: never stored truncated",
        SHOULD,
        f"{SEC}.2",
        E,
        _comment_in("conversation_id"),
        defect="a ConversationId split by a comment",
    ),
    Case(
        "as4.comment.final-recipient",
        "A comment inside the signed finalRecipient: never routed on the truncated participant",
        MUST,
        f"{SEC}.2",
        E,
        _comment_in("final_recipient"),
        defect="a finalRecipient split by a comment",
    ),
    Case(
        "as4.comment.party-id",
        "A comment inside the signed From PartyId: never read truncated",
        SHOULD,
        f"{SEC}.2",
        E,
        _comment_in("from_party"),
        defect="a From PartyId split by a comment",
    ),
    # --- algorithms
    Case(
        "as4.algorithm.rsa-sha1",
        "A signature made with RSA-SHA1 is rejected",
        MUST,
        f"{SEC}.4",
        X,
        _with(signature_method=ALG_RSA_SHA1),
        "eSENS_TA13",
        POLICY,
        False,
        "an RSA-SHA1 signature",
    ),
    Case(
        "as4.algorithm.sha1-digest",
        "SHA-1 reference digests are rejected",
        MUST,
        f"{SEC}.4",
        X,
        _with(digest_method=ALG_SHA1),
        "eSENS_TA13",
        POLICY,
        False,
        "SHA-1 digests",
    ),
    Case(
        "as4.algorithm.rsa-1_5",
        "RSA 1.5 key transport is rejected",
        MUST,
        f"{SEC}.4",
        X,
        _with(key_transport=ALG_RSA_1_5),
        "eSENS_TA14",
        POLICY + DECRYPT,
        False,
        "RSA 1.5 key transport",
    ),
    Case(
        "as4.algorithm.aes-cbc",
        "AES-CBC data encryption is rejected",
        MUST,
        f"{SEC}.4",
        X,
        _with(data_encryption=ALG_AES128_CBC),
        "eSENS_TA14",
        POLICY + DECRYPT,
        False,
        "AES-CBC encryption",
    ),
    Case(
        "as4.security.wrong-recipient",
        "A message encrypted for another certificate is rejected",
        MUST,
        f"{SEC}.6",
        X,
        _wrong_recipient,
        "eSENS_TA14",
        DECRYPT,
        False,
        "a message encrypted for another certificate",
    ),
    # --- certificates
    Case(
        "as4.cert.expired",
        "A message signed with an expired AP certificate is rejected",
        MUST,
        f"{SEC}.5",
        X,
        _signer("expired"),
        None,
        AUTH,
        False,
        "an expired signer certificate",
    ),
    Case(
        "as4.cert.revoked",
        "A message signed with a revoked AP certificate is rejected",
        MUST,
        f"{SEC}.5",
        X,
        _signer("revoked"),
        None,
        AUTH,
        False,
        "a revoked signer certificate",
    ),
    Case(
        "as4.cert.untrusted-ca",
        "A message signed by a certificate of an unknown CA is rejected",
        MUST,
        f"{SEC}.5",
        X,
        _untrusted_ca,
        None,
        AUTH,
        False,
        "a signer from an untrusted CA",
    ),
    Case(
        "as4.cert.smp",
        "A message signed with a Peppol SMP certificate is rejected",
        MUST,
        f"{SEC}.5",
        X,
        _signer("smp"),
        None,
        AUTH,
        False,
        "an SMP certificate used as AP certificate",
    ),
    # --- Peppol envelope (SBDH) and routing
    Case(
        "as4.sbdh.missing",
        "A payload without SBDH is rejected",
        MUST,
        "Peppol Envelope (SBDH) 2.0",
        X,
        _missing_sbdh,
        None,
        SBDH,
        False,
        "a payload without SBDH",
    ),
    Case(
        "as4.sbdh.inconsistent",
        "An SBDH whose document type differs from the ebMS Action is rejected",
        MUST,
        "Peppol Envelope (SBDH) 2.0; AS4 profile §4",
        X,
        _inconsistent_sbdh,
        None,
        SBDH,
        False,
        "an SBDH inconsistent with the ebMS header",
    ),
    Case(
        "as4.sbdh.original-sender-mismatch",
        "originalSender differing from the SBDH sender is rejected",
        MUST,
        f"{AS4} message properties",
        X,
        _original_sender_mismatch,
        "eSENS_TA15",
        SBDH,
        False,
        "an originalSender that differs from the SBDH sender",
    ),
    Case(
        "as4.sbdh.final-recipient-mismatch",
        "finalRecipient differing from the SBDH receiver is rejected",
        MUST,
        f"{AS4} message properties",
        X,
        _final_recipient_mismatch,
        "eSENS_TA15",
        SBDH,
        False,
        "a finalRecipient that differs from the SBDH receiver",
    ),
    Case(
        "as4.routing.not-served",
        "A receiver the target does not serve gets EBMS:0004 PEPPOL:NOT_SERVICED",
        MUST,
        f"{AS4} §6 PEPPOL:NOT_SERVICED",
        X,
        _not_served,
        None,
        ("EBMS:0004",),
        True,
        "a message for a participant it does not serve",
        "PEPPOL:NOT_SERVICED",
    ),
    Case(
        "as4.ebms.missing-mime-type",
        "A payload without the MimeType part property is rejected",
        SHOULD,
        "AS4 §3.1",
        X,
        _with(before_signing=[_drop_mime_type]),
        "AS4_TA09",
        XML,
        False,
        "a payload without MimeType",
    ),
    Case(
        "as4.ebms.hyperlink-payload",
        "A PartInfo pointing to an external URL is rejected",
        SHOULD,
        "ebMS3 §5.2.2.13",
        X,
        _with(before_signing=[_hyperlink]),
        "eSENS_TA09",
        (*XML, "EBMS:0011"),
        False,
        "a payload referenced by hyperlink",
    ),
    Case(
        "as4.ebms.two-party-ids",
        "Two PartyIds in From are rejected",
        SHOULD,
        f"{AS4} party ids",
        X,
        _with(before_signing=[_two_party_ids]),
        "eSENS_TA03",
        XML,
        False,
        "two From PartyIds",
    ),
    Case(
        "as4.ebms.body-not-empty",
        "A payload in the SOAP Body (instead of a MIME part) is rejected",
        SHOULD,
        f"{AS4} §3 (empty Body)",
        X,
        _with(before_signing=[edits.body_content]),
        "eSENS_TA06",
        XML,
        False,
        "a non-empty SOAP Body",
    ),
    Case(
        "as4.ebms.from-party-not-signer",
        "A From PartyId that is not the signer's seat id is rejected",
        SHOULD,
        f"{AS4} §4 party ids",
        X,
        _from_party_not_signer,
        None,
        AUTH + XML,
        False,
        "a From PartyId that is not the signing AP",
    ),
    Case(
        "as4.http.wrong-content-type",
        "A request with Content-Type text/plain is refused",
        SHOULD,
        f"{SEC}.10",
        X,
        _with(content_type="text/plain"),
        None,
        (*XML, "EBMS:0007"),
        False,
        "a request with a wrong Content-Type",
    ),
    # --- duplicates and replay
    Case(
        "as4.reliability.duplicate",
        "The same message sent twice: one delivery, the same receipt",
        MUST,
        "conformance.md §9; ebMS3 §6 duplicate elimination",
        R,
        base,
        "eSENS_TA11",
        procedure="duplicate",
    ),
    Case(
        "as4.reliability.same-document-new-id",
        "The same document (SBDH InstanceIdentifier) under a new MessageId is not delivered twice",
        SHOULD,
        f"{SEC}.7",
        X,
        base,
        None,
        SBDH,
        False,
        "a document already delivered, under a new MessageId",
        procedure="same_document",
    ),
    Case(
        "as4.reliability.replayed-old",
        "A replayed message with a 30-day-old signed Timestamp is refused",
        SHOULD,
        f"{SEC}.7",
        X,
        _old,
        None,
        SBDH,
        False,
        "a replayed 30-day-old message",
    ),
    # --- hostile XML
    Case(
        "as4.xml.soap-xxe",
        "A DOCTYPE with an external entity in the SOAP part is refused",
        MUST,
        f"{SEC}.9",
        X,
        _with(soap_bytes=[edits.soap_prefix(edits.XXE_DOCTYPE)]),
        None,
        XML,
        False,
        "a SOAP part with a DOCTYPE (XXE)",
    ),
    Case(
        "as4.xml.soap-billion-laughs",
        "Nested entities (billion laughs) in the SOAP part are refused",
        MUST,
        f"{SEC}.9",
        X,
        _with(soap_bytes=[edits.soap_prefix(edits.LAUGHS_DOCTYPE)]),
        None,
        XML,
        False,
        "a SOAP part with an entity expansion bomb",
    ),
    Case(
        "as4.xml.soap-deep-nesting",
        "A 5000-level deep header element is refused",
        SHOULD,
        f"{SEC}.9",
        X,
        _with(after_signing=[edits.deep_nesting(5000)]),
        None,
        XML + AUTH,
        False,
        "a 5000-level deep SOAP part",
    ),
    Case(
        "as4.xml.sbdh-xxe",
        "A DOCTYPE with an external entity in the SBDH document is refused",
        MUST,
        f"{SEC}.9",
        X,
        _hostile_sbd(edits.XXE_DOCTYPE, b"&xxe;"),
        None,
        SBDH + XML,
        False,
        "an SBD with a DOCTYPE (XXE)",
    ),
    Case(
        "as4.xml.sbdh-billion-laughs",
        "Nested entities (billion laughs) in the SBDH document are refused",
        MUST,
        f"{SEC}.9",
        X,
        _hostile_sbd(edits.LAUGHS_DOCTYPE, b"&e;"),
        None,
        SBDH + XML,
        False,
        "an SBD with an entity expansion bomb",
    ),
)


def public_ids(case: Case) -> list[str]:
    """The public ids of a case (``public_id`` may list several, comma-separated)."""
    return [i.strip() for i in (case.public_id or "").split(",") if i.strip()]


def select(pattern: str | None) -> list[Case]:
    """Cases whose id, public id or title matches the shell-style ``pattern`` (comma-separated)."""
    from fnmatch import fnmatchcase

    if not pattern:
        return list(CASES)
    patterns = [p.strip() for p in pattern.split(",") if p.strip()]
    return [
        c
        for c in CASES
        if any(
            fnmatchcase(c.id, p) or any(fnmatchcase(i.strip(), p) for i in public_ids(c)) for p in patterns
        )
    ]
