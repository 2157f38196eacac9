"""AS4 ↔ SBDH consistency (discovery digest §6.3 item 8, as4.md §3.2): what the receiver checks after
the SBDH itself passed. Any mismatch raises :class:`SbdhError`, answered with ``EBMS:0004``."""

from __future__ import annotations

from transport.sbdh import errors as E
from transport.sbdh.errors import SbdhError
from transport.sbdh.model import SbdhHeader


def _same_party(
    what: str,
    sbdh_name: str,
    code: str,
    value: str,
    type_: str | None,
    expected_scheme: str,
    expected_value: str,
) -> None:
    if type_ is None or not type_.strip():
        raise SbdhError(code, f"AS4 {what} has no type attribute (expected {expected_scheme!r})")
    # Participant values are case-insensitive (PFUOI POLICY 2); schemes are exact.
    if type_.strip() != expected_scheme or value.strip().lower() != expected_value.lower():
        raise SbdhError(
            code,
            f"AS4 {what} {type_.strip()}::{value.strip()} differs from SBDH {sbdh_name} "
            f"{expected_scheme}::{expected_value}",
        )


def check_as4_consistency(
    header: SbdhHeader,
    *,
    original_sender: str,
    original_sender_type: str | None,
    final_recipient: str,
    final_recipient_type: str | None,
    service: str | None = None,
    action: str | None = None,
    service_type: str | None = None,
) -> None:
    """Check the AS4 UserMessage against the SBDH it carries.

    ``originalSender``/``finalRecipient`` (value and ``@type``, which is mandatory) must equal SBDH
    ``Sender``/``Receiver``. When given, ``Service`` must be the PROCESSID value (and ``service_type``
    its scheme), and ``Action`` the DOCUMENTID as ``<scheme>::<value>`` (a bare value is tolerated).
    """
    _same_party(
        "originalSender", "Sender", E.AS4_ORIGINAL_SENDER_MISMATCH,
        original_sender, original_sender_type, header.sender.scheme, header.sender.value,
    )  # fmt: skip
    _same_party(
        "finalRecipient", "Receiver", E.AS4_FINAL_RECIPIENT_MISMATCH,
        final_recipient, final_recipient_type, header.receiver.scheme, header.receiver.value,
    )  # fmt: skip
    if service is not None and service.strip() != header.process.value:
        raise SbdhError(
            E.AS4_SERVICE_MISMATCH,
            f"AS4 Service {service.strip()!r} differs from SBDH process {header.process.value!r}",
        )
    if service_type is not None and service_type.strip() and service_type.strip() != header.process.scheme:
        raise SbdhError(
            E.AS4_SERVICE_MISMATCH,
            f"AS4 Service type {service_type.strip()!r} differs from SBDH process scheme "
            f"{header.process.scheme!r}",
        )
    if action is not None and action.strip() not in (header.document_type.uri, header.document_type.value):
        raise SbdhError(
            E.AS4_ACTION_MISMATCH,
            f"AS4 Action {action.strip()!r} differs from SBDH document type {header.document_type.uri!r}",
        )
