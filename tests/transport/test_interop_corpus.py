"""Acceptance against real AS4 traffic (corpus ``as4-interop/phase4``): phase4, Holodeck B2B and
Governikus receipts verify; the hand-edited Dataport receipt fails on the Messaging digest; the XML
references and SignatureValue of phase4's real UserMessage verify.

The receipt signers hold 2021–2023 G2 test certificates (expired, G2 untrusted since 2026-04-01), so
those tests verify the signatures with chain validation explicitly OFF (``validate_signer=None``). The
UserMessage signer is a G3 test certificate: its chain is validated at the message's date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from peppol.pki import CertificateValidator, Purpose, RevocationPolicy, Stage, TrustStore
from tests.transport.as4_split import split_http_dump
from transport.as4 import parse_signal, verify_signal
from transport.as4.constants import NS_DS
from transport.as4.dsig import resolve_token_certificate, verify_signature
from transport.as4.header import parse_user_message
from transport.as4.inbound import _check_key_transport, certificate_cn, locate_headers
from transport.as4.signals import soap_part
from transport.errors import InvalidReceipt

PHASE4 = Path("as4-interop/phase4")
#: Chain validation of the historic receipt signers is deliberately skipped (see module docstring).
SKIP_CHAIN_VALIDATION = None


def load(corpus: Path, name: str) -> tuple[dict[str, str], bytes]:
    return split_http_dump((corpus / PHASE4 / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "seat"),
    [
        ("helger.as4in", "POP000306"),  # phase4
        ("dataport1-mustunderstand.as4in", "PDE000357"),  # Holodeck B2B 4.1, mustUnderstand: prefix
        ("governikus.as4in", "POP000260"),  # Governikus (Holodeck-style)
    ],
)
def test_interop_real_receipts_verify(corpus: Path, name: str, seat: str) -> None:
    headers, body = load(corpus, name)
    signal, signer = verify_signal(body, headers.get("Content-Type"), validate_signer=SKIP_CHAIN_VALIDATION)
    assert signal.kind == "receipt" and signal.signed
    assert certificate_cn(signer) == seat
    assert len(signal.references) == 3
    assert signal.references[2].uri.startswith("cid:")
    assert signal.ref_to_message_id and signal.ref_to_message_id.endswith("@phase4")


def test_interop_dataport_reprefixed_receipt_fails_on_messaging_digest(corpus: Path) -> None:
    headers, body = load(corpus, "dataport1.as4in")
    # parsing alone is fine: it is a well-formed receipt …
    assert parse_signal(body).kind == "receipt"
    # … but re-prefixing mustUnderstand changed the signed Messaging block
    with pytest.raises(InvalidReceipt, match=r"digest mismatch for reference '#id-4b28412d2948bca"):
        verify_signal(body, headers.get("Content-Type"))


def _user_message_envelope(corpus: Path) -> bytes:
    headers, body = load(corpus, "dump-raw.as4out")
    return soap_part(body, headers["Content-Type"])


def test_interop_phase4_user_message_xml_references_and_signature_verify(corpus: Path) -> None:
    soap = locate_headers(_user_message_envelope(corpus))
    assert soap.security is not None
    signature = soap.security.find(f"{{{NS_DS}}}Signature")
    assert signature is not None
    signer = resolve_token_certificate(signature, soap.ids, "ds:Signature")
    unchecked: list[str] = []

    def no_attachment(cid: str) -> None:  # encrypted for a key we do not have: leave unchecked
        unchecked.append(cid)
        return None

    refs = verify_signature(signature, soap.ids, signer, no_attachment)
    assert [r.uri.split(":")[0][:1] for r in refs] == ["#", "#", "c"]
    assert unchecked == ["phase4-att-ff0f8ad5-f982-48ba-b8e2-26997600f496@cid"]
    assert certificate_cn(signer) == "POP000306"


def test_interop_phase4_user_message_tampered_header_fails(corpus: Path) -> None:
    envelope = _user_message_envelope(corpus).replace(b"9915:helger", b"9915:helgex")
    soap = locate_headers(envelope)
    assert soap.security is not None
    signature = soap.security.find(f"{{{NS_DS}}}Signature")
    assert signature is not None
    signer = resolve_token_certificate(signature, soap.ids, "ds:Signature")
    from transport.errors import FailedAuthentication

    with pytest.raises(FailedAuthentication, match="digest mismatch for reference '#phase4-msg"):
        verify_signature(signature, soap.ids, signer, lambda cid: None)


def test_interop_phase4_user_message_header_and_algorithms_accepted(corpus: Path) -> None:
    soap = locate_headers(_user_message_envelope(corpus))
    header = parse_user_message(soap.messaging)
    assert header.from_party == "POP000306" and header.service_type == "cenbii-procid-ubl"
    assert (
        header.original_sender == "9915:phase4-test-sender"
        and header.final_recipient_type == "iso6523-actorid-upis"
    )
    assert header.payload_properties == {"MimeType": "application/xml", "CompressionType": "application/gzip"}
    assert header.timestamp == datetime(2026, 1, 29, 15, 39, 3, 805000, tzinfo=UTC)
    assert soap.security is not None
    ek = soap.security.find("{http://www.w3.org/2001/04/xmlenc#}EncryptedKey")
    assert ek is not None
    _check_key_transport(ek)  # phase4's RSA-OAEP + SHA-256 + MGF1-SHA256 passes our allow-list


def test_interop_phase4_signer_chains_to_g3_test_ca(corpus: Path) -> None:
    soap = locate_headers(_user_message_envelope(corpus))
    assert soap.security is not None
    signature = soap.security.find(f"{{{NS_DS}}}Signature")
    assert signature is not None
    signer = resolve_token_certificate(signature, soap.ids, "ds:Signature")
    trust = TrustStore.from_pem(corpus / "pki/peppol/ap-test-truststore.pem")
    validator = CertificateValidator(
        trust, purpose=Purpose.AP, stage=Stage.TEST, revocation=RevocationPolicy.OFF, allow_fetching=False
    )
    validated = validator.validate(signer, moment=datetime(2026, 1, 29, 16, 0, tzinfo=UTC))
    assert any("PEPPOL ACCESS POINT TEST CA - G3" in c.subject.rfc4514_string() for c in validated.chain)
