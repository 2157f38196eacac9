"""Business documents and SBDs the cases send (made from the suite's document type and process)."""

from __future__ import annotations

import os
import uuid
from typing import Any

from peppol.identifiers import DocumentTypeId, ParticipantId
from peppol.pki.names import seat_id
from transport.as4 import UserMessageHeader, new_user_message_header

from .context import Context

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def document(
    ctx: Context, note: str = "conformance", *, doctype: DocumentTypeId | None = None, filler_bytes: int = 0
) -> bytes:
    """A minimal UBL document whose root, namespace and CustomizationID follow the document type id
    (``<namespace>::<root>##<customization>::<version>``) and whose ProfileID is the process."""
    value = (doctype or ctx.document_type).value
    syntax, _, customization = value.partition("##")
    namespace, _, root = syntax.rpartition("::")
    customization = customization.rsplit("::", 1)[0]
    filler = b""
    if filler_bytes:
        filler = b"<cbc:Note>" + os.urandom(filler_bytes // 2).hex().encode() + b"</cbc:Note>"
    return (
        (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{namespace}" xmlns:cbc="{CBC}">'
            f"<cbc:CustomizationID>{customization}</cbc:CustomizationID>"
            f"<cbc:ProfileID>{ctx.process.value}</cbc:ProfileID><cbc:ID>{uuid.uuid4()}</cbc:ID>"
            f"<cbc:Note>{note}</cbc:Note>"
        ).encode()
        + filler
        + f"</{root}>\n".encode()
    )


def sbd(
    ctx: Context,
    payload: bytes | None = None,
    *,
    sender: ParticipantId | None = None,
    receiver: ParticipantId | None = None,
    doctype: DocumentTypeId | None = None,
    instance_id: str | None = None,
) -> bytes:
    """The payload wrapped in an SBDH (the Peppol envelope) for the suite's participants."""
    from transport.sbdh import build_sbd, header_for_document

    body = payload if payload is not None else document(ctx, doctype=doctype)
    header = header_for_document(
        body,
        sender=sender or ctx.sender,
        receiver=receiver or ctx.receiver,
        process=ctx.process,
        country_c1=ctx.country_c1,
        document_type=doctype or ctx.document_type,
        instance_id=instance_id,
    )
    return build_sbd(header, body)


def header(ctx: Context, **overrides: Any) -> UserMessageHeader:
    """The ebMS UserMessage header from our AP to the target for the suite's document."""
    import dataclasses

    built = new_user_message_header(
        from_party=ctx.identity.seat_id,
        to_party=seat_id(ctx.target_certificate),
        sender=overrides.pop("sender", ctx.sender),
        receiver=overrides.pop("receiver", ctx.receiver),
        document_type=ctx.document_type,
        process=ctx.process,
    )
    return dataclasses.replace(built, **overrides) if overrides else built
