"""Keys as operators hold them (PKCS#12, encrypted PEM, a password from the environment or a file)
and several AP certificates at once during a renewal (issue 14 item 1)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from peppol.pki import (
    Identity,
    IdentitySet,
    KeyLoadError,
    is_pkcs12,
    key_password,
    load_identity,
    load_private_key,
)
from tests.transport.test_receiver_support import Recorder, body_of, build_message
from transport.as4 import ReceiptSignerPolicy, parse_signal, verify_receipt
from transport.errors import InvalidReceipt
from transport.receiver import ReceiverConfig, Verdict, receive


def test_the_pkcs12_files_ap_pki_init_writes_load_with_their_password(test_pki: Any) -> None:
    ap = test_pki.aps[0]
    assert ap.p12 is not None and is_pkcs12(ap.p12.read_bytes())
    identity = load_identity(ap.p12, password=test_pki.p12_password)
    assert identity.certificate == ap.certificate()
    assert identity.seat_id == ap.seat_id
    assert [c.subject for c in identity.chain] == [
        test_pki.ap_ca.certificate().subject,
        test_pki.root.certificate().subject,
    ]
    # with the certificate file next to it, and through Identity.load (--key FILE.p12 --cert FILE.pem)
    assert load_identity(ap.p12, ap.cert, password=test_pki.p12_password).certificate == ap.certificate()
    assert Identity.load(ap.cert, ap.p12, test_pki.p12_password).certificate == ap.certificate()


@pytest.mark.parametrize(
    ("password", "expected"), [(None, "wrong or missing password"), (b"no", "wrong password")]
)
def test_pkcs12_without_the_right_password_is_one_clear_line(
    test_pki: Any, password: bytes | None, expected: str
) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_identity(test_pki.aps[0].p12, password=password)
    message = str(caught.value)
    assert expected in message and str(test_pki.aps[0].p12) in message
    assert "ParseError" not in message and "\n" not in message


def test_a_pkcs12_given_where_a_pem_key_is_expected_is_named_not_parsed(test_pki: Any) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_private_key(test_pki.aps[0].p12)
    assert "PKCS#12" in str(caught.value) and "ParseError" not in str(caught.value)


def test_pkcs12_with_another_certificate_file_is_refused(test_pki: Any) -> None:
    with pytest.raises(KeyLoadError, match="is not the one in PKCS#12"):
        load_identity(test_pki.aps[0].p12, test_pki.aps[1].cert, password=test_pki.p12_password)


def _encrypted_key(test_pki: Any, tmp_path: Path, password: bytes) -> Path:
    key = test_pki.aps[0].identity().private_key
    path = tmp_path / "ap.enc.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
    )
    return path


def test_encrypted_pem_key_loads_with_its_password(test_pki: Any, tmp_path: Path) -> None:
    path = _encrypted_key(test_pki, tmp_path, b"s3cret")
    identity = load_identity(path, test_pki.aps[0].cert, password=b"s3cret")
    assert identity.certificate == test_pki.aps[0].certificate()
    with pytest.raises(KeyLoadError, match="encrypted: a password is needed"):
        load_identity(path, test_pki.aps[0].cert)
    with pytest.raises(KeyLoadError, match="wrong password"):
        load_identity(path, test_pki.aps[0].cert, password=b"nope")


def test_a_pem_key_alone_asks_for_its_certificate(test_pki: Any) -> None:
    with pytest.raises(KeyLoadError, match="certificate file is needed"):
        load_identity(test_pki.aps[0].key)


def test_key_password_comes_from_a_file_first_then_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_bytes(b"from-file\n")
    env = {"AP_KEY_PASSWORD": "from-env"}
    assert key_password(secret, env) == b"from-file"
    assert key_password(None, env) == b"from-env"
    assert key_password(None, {}) is None
    with pytest.raises(KeyLoadError, match="cannot read password file"):
        key_password(tmp_path / "missing", env)


# --- renewal: an identity set ----------------------------------------------------------------------


def _receive(config: ReceiverConfig, message: Any) -> Any:
    return receive(
        {"Content-Type": message.content_type}, io.BytesIO(body_of(message)), config, Recorder().hooks()
    )


def test_receiver_with_an_identity_set_decrypts_for_either_certificate_and_signs_with_the_current(
    test_pki: Any, tmp_path: Path
) -> None:
    old = test_pki.aps[1].identity()
    new = test_pki.renewed_ap(1)
    config = ReceiverConfig(
        identity=IdentitySet.of_identities(new, [old]),
        validate_signer=test_pki.ap_validator().validate,
        work_dir=tmp_path,
    )
    for recipient in (old.certificate, new.certificate):
        message = build_message(test_pki, recipient=recipient)
        response = _receive(config, message)
        assert response.decision.verdict is Verdict.ACCEPTED, response.body[:300]
        # receipts are signed with the current certificate only
        verify_receipt(response.body, sent=message, receiver_certificate=new.certificate)
        with pytest.raises(InvalidReceipt):
            verify_receipt(response.body, sent=message, receiver_certificate=old.certificate)
    # a plain identity (the old key only) cannot decrypt a message encrypted for the new certificate
    plain = ReceiverConfig(identity=old, validate_signer=test_pki.ap_validator().validate, work_dir=tmp_path)
    refused = _receive(plain, build_message(test_pki, recipient=new.certificate))
    assert refused.decision.verdict is Verdict.REJECTED
    assert parse_signal(refused.body, refused.content_type).errors[0].code == "EBMS:0102"


def test_identity_set_refuses_a_certificate_of_another_seat(test_pki: Any) -> None:
    with pytest.raises(KeyLoadError, match="same seat id"):
        IdentitySet.of_identities(test_pki.aps[0].identity(), [test_pki.aps[1].identity()])


def test_sender_receipt_signer_policy_strict_by_default_same_seat_when_configured(
    test_pki: Any, tmp_path: Path
) -> None:
    old = test_pki.aps[1].identity()
    new = test_pki.renewed_ap(1)
    config = ReceiverConfig(
        identity=IdentitySet.of_identities(new, [old]),
        validate_signer=test_pki.ap_validator().validate,
        work_dir=tmp_path,
    )
    # the sender found the OLD certificate in the SMP; the receiver signs with the NEW one
    message = build_message(test_pki, recipient=old.certificate)
    receipt = _receive(config, message).body
    with pytest.raises(InvalidReceipt, match="another certificate"):
        verify_receipt(receipt, sent=message, receiver_certificate=old.certificate)
    validator = test_pki.ap_validator()
    signal = verify_receipt(
        receipt,
        sent=message,
        receiver_certificate=old.certificate,
        validate_signer=validator.validate,
        signer_policy=ReceiptSignerPolicy.SAME_SEAT,
    )
    assert signal.ref_to_message_id == message.message_id
    with pytest.raises(InvalidReceipt, match="needs a signer validator"):
        verify_receipt(
            receipt,
            sent=message,
            receiver_certificate=old.certificate,
            signer_policy=ReceiptSignerPolicy.SAME_SEAT,
        )
    # another seat's certificate is not the receiver, whatever the policy
    with pytest.raises(InvalidReceipt, match="signed by seat"):
        verify_receipt(
            receipt,
            sent=message,
            receiver_certificate=test_pki.aps[0].certificate(),
            validate_signer=validator.validate,
            signer_policy=ReceiptSignerPolicy.SAME_SEAT,
        )
