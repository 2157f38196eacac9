"""Security test list (conformance.md §12) through the real ``/as4`` server on loopback.

Each hostile message is built by post-processing our own builder's output (or by building with the
wrong key/certificate), posted with plain ``requests``, and must be rejected with its ebMS code while
the ledger never accepts it.
"""

from __future__ import annotations

import base64
import copy
import gzip
import io
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from lxml import etree

from peppol.pki import Identity
from peppol.xml import exc_c14n
from tests.transport.test_receiver_support import (
    Recorder,
    body_of,
    build_message,
    make_sbd,
    running_server,
    ubl_invoice,
)
from transport.as4 import OutboundMessage, parse_signal
from transport.as4.constants import (
    ALG_AES128_CBC,
    ALG_AES128_GCM,
    ALG_RSA_1_5,
    ALG_RSA_OAEP_11,
    ALG_RSA_SHA1,
    ALG_RSA_SHA256,
    ALG_SHA1,
    ALG_SHA256,
    NS_DS,
    NS_EB,
    NS_S12,
    NS_WSSE,
    NS_WSU,
    NS_XENC,
)
from transport.mime import MimeLimits, read_message
from transport.server import RunningServer

EB, S12, WSSE, DS, XENC = (f"{{{ns}}}" for ns in (NS_EB, NS_S12, NS_WSSE, NS_DS, NS_XENC))
WSU_ID = f"{{{NS_WSU}}}Id"


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> Iterator[RunningServer]:
    yield from running_server(test_pki, tmp_path_factory.mktemp("suite"), recorder)


@pytest.fixture(scope="module")
def small_server(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> Iterator[RunningServer]:
    limits = MimeLimits(max_total_bytes=64 * 1024)
    yield from running_server(test_pki, tmp_path_factory.mktemp("small"), recorder, mime_limits=limits)


# --- message surgery ---


class Parts:
    """A built message split into its envelope and its (single) raw attachment."""

    def __init__(self, message: OutboundMessage, work: Path) -> None:
        parsed = read_message(message.content_type, io.BytesIO(body_of(message)), work)
        self.message_id = message.message_id
        self.envelope = parsed.envelope
        self.attachments: list[tuple[str, str, bytes]] = [
            (
                a.content_id or "",
                a.headers.get("content-type", "application/octet-stream"),
                a.path.read_bytes(),
            )
            for a in parsed.attachments
        ]

    def tree(self) -> etree._Element:
        return etree.fromstring(self.envelope)

    def set_tree(self, root: etree._Element) -> None:
        self.envelope = etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def assemble(self) -> tuple[str, bytes]:
        boundary = "----=_suite_boundary_7f3a"
        out = io.BytesIO()
        out.write(f"--{boundary}\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n\r\n".encode())
        out.write(self.envelope)
        for cid, ctype, data in self.attachments:
            out.write(
                f"\r\n--{boundary}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{cid}>\r\n\r\n".encode()
            )
            out.write(data)
        out.write(f"\r\n--{boundary}--\r\n".encode())
        return f'multipart/related; type="application/soap+xml"; boundary="{boundary}"', out.getvalue()


def aes_key_of(parts: Parts, recipient: Identity) -> bytes:
    """Unwrap the message's AES key with the recipient's private key (RSA-OAEP SHA-256/MGF1-SHA256)."""
    cipher = parts.tree().find(f".//{XENC}EncryptedKey/{XENC}CipherData/{XENC}CipherValue")
    assert cipher is not None and cipher.text
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return recipient.private_key.decrypt(base64.b64decode(cipher.text), oaep)


def decrypt_part(data: bytes, key: bytes) -> bytes:
    return AESGCM(key).decrypt(data[:12], data[12:], None)


def post(server: RunningServer, content_type: str, body: bytes) -> requests.Response:
    return requests.post(server.url, data=body, headers={"Content-Type": content_type}, timeout=60)


def assert_rejected(
    response: requests.Response, code: str, reason: str, recorder: Recorder, message_id: str
) -> None:
    """A signed ebMS error with ``code`` whose description matches the regex ``reason`` (so a message
    refused for an unrelated defect does not pass), and nothing persisted."""
    assert response.status_code == 200, response.text
    signal = parse_signal(response.content, response.headers["Content-Type"])
    assert signal.kind == "error", signal
    assert signal.signed
    error = signal.errors[0]
    assert error.code == code, f"{error.code}: {error.description}"
    assert re.search(reason, error.description or ""), f"{error.code}: {error.description}"
    assert message_id not in {m.message_id for m in recorder.persisted}


def resign_signed_info(root: etree._Element, signer: Identity) -> None:
    """Recompute the SignatureValue over the (edited) SignedInfo with ``signer``'s key."""
    signature = root.find(f".//{WSSE}Security/{DS}Signature")
    assert signature is not None
    signed_info = signature.find(f"{DS}SignedInfo")
    value = signature.find(f"{DS}SignatureValue")
    assert signed_info is not None and value is not None
    raw = signer.private_key.sign(exc_c14n(signed_info), padding.PKCS1v15(), hashes.SHA256())
    value.text = base64.b64encode(raw).decode()


def tampered(
    test_pki: Any, tmp_path: Path, edit: Callable[[Parts], None], **build_kw: Any
) -> tuple[str, bytes, str]:
    parts = Parts(build_message(test_pki, **build_kw), tmp_path)
    edit(parts)
    content_type, body = parts.assemble()
    return content_type, body, parts.message_id


def run_case(
    server: RunningServer,
    recorder: Recorder,
    test_pki: Any,
    tmp_path: Path,
    edit: Callable[[Parts], None],
    code: str,
    reason: str,
    **build_kw: Any,
) -> None:
    content_type, body, message_id = tampered(test_pki, tmp_path, edit, **build_kw)
    assert_rejected(post(server, content_type, body), code, reason, recorder, message_id)


# --- the control case ---


def test_untampered_reassembled_message_is_accepted(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    """The surgery helpers themselves do not break a valid message (so rejections below are real)."""
    content_type, body, message_id = tampered(test_pki, tmp_path, lambda p: p.set_tree(p.tree()))
    response = post(server, content_type, body)
    assert parse_signal(response.content).kind == "receipt"
    assert message_id in {m.message_id for m in recorder.persisted}


# --- 1. unsigned / unencrypted ---


def test_unsigned_message_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def strip_signature(p: Parts) -> None:
        root = p.tree()
        sig = root.find(f".//{WSSE}Security/{DS}Signature")
        assert sig is not None
        sig.getparent().remove(sig)  # type: ignore[union-attr]
        p.set_tree(root)

    run_case(server, recorder, test_pki, tmp_path, strip_signature, "EBMS:0103", "not signed")


def test_signed_but_not_encrypted_message_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def decrypt_everything(p: Parts) -> None:
        key = aes_key_of(p, test_pki.aps[1].identity())
        cid, _, data = p.attachments[0]
        p.attachments[0] = (cid, "application/gzip", decrypt_part(data, key))
        root = p.tree()
        security = root.find(f".//{WSSE}Security")
        assert security is not None
        for el in security.findall(f"{XENC}EncryptedKey") + security.findall(f"{XENC}EncryptedData"):
            security.remove(el)
        p.set_tree(root)

    run_case(server, recorder, test_pki, tmp_path, decrypt_everything, "EBMS:0103", "not encrypted")


# --- 3. tampering ---


def test_tampered_attachment_ciphertext_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def flip(p: Parts) -> None:
        cid, ctype, data = p.attachments[0]
        mid = len(data) // 2
        p.attachments[0] = (cid, ctype, data[:mid] + bytes([data[mid] ^ 0x01]) + data[mid + 1 :])

    run_case(server, recorder, test_pki, tmp_path, flip, "EBMS:0102", "authentication tag")


def test_payload_replaced_after_signing_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    """Re-encrypting a different payload with the message's own key: decryption works, the signed
    attachment digest does not match (phase4 UserMessageFailureForgeryTest)."""

    def swap_payload(p: Parts) -> None:
        key = aes_key_of(p, test_pki.aps[1].identity())
        cid, ctype, _ = p.attachments[0]
        forged = gzip.compress(make_sbd(ubl_invoice("forged: pay to another account")))
        iv = os.urandom(12)
        p.attachments[0] = (cid, ctype, iv + AESGCM(key).encrypt(iv, forged, None))

    run_case(
        server, recorder, test_pki, tmp_path, swap_payload, "EBMS:0101", "digest mismatch for reference 'cid:"
    )


def test_tampered_ebms_header_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def edit_conversation(p: Parts) -> None:
        root = p.tree()
        conv = root.find(f".//{EB}ConversationId")
        assert conv is not None
        conv.text = "forged-conversation"
        p.set_tree(root)

    run_case(
        server,
        recorder,
        test_pki,
        tmp_path,
        edit_conversation,
        "EBMS:0101",
        "digest mismatch for reference '#msg-",
    )


# --- 2. signature wrapping ---


def _messaging(root: etree._Element) -> etree._Element:
    found = root.find(f"{S12}Header/{EB}Messaging")
    assert found is not None
    return found


def test_xsw_duplicated_messaging_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def duplicate(p: Parts) -> None:
        root = p.tree()
        original = _messaging(root)
        forged = copy.deepcopy(original)
        fr = forged.find(f".//{EB}Property[@name='finalRecipient']")
        assert fr is not None
        fr.text = "0088:7300010000001"
        original.addnext(forged)
        p.set_tree(root)

    run_case(server, recorder, test_pki, tmp_path, duplicate, "EBMS:0009", "exactly one eb:Messaging")


def test_xsw_moved_messaging_with_forged_replacement_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    """The signed Messaging is hidden in a wrapper header; a forged one (new id) takes its place."""

    def move(p: Parts) -> None:
        root = p.tree()
        original = _messaging(root)
        header = original.getparent()
        assert header is not None
        forged = copy.deepcopy(original)
        forged.set(WSU_ID, "forged-messaging-id")
        conv = forged.find(f".//{EB}ConversationId")
        assert conv is not None
        conv.text = "forged"
        wrapper = etree.Element("{urn:attacker}Wrapper")
        header.replace(original, forged)
        wrapper.append(original)
        header.append(wrapper)
        p.set_tree(root)

    run_case(server, recorder, test_pki, tmp_path, move, "EBMS:0101", "does not cover the eb:Messaging")


def test_xsw_duplicate_ids_are_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def clash(p: Parts) -> None:
        root = p.tree()
        messaging_id = _messaging(root).get(WSU_ID)
        assert messaging_id
        decoy = etree.SubElement(root.find(f"{S12}Header"), "{urn:attacker}Decoy")  # type: ignore[arg-type]
        decoy.set(WSU_ID, messaging_id)
        p.set_tree(root)

    run_case(server, recorder, test_pki, tmp_path, clash, "EBMS:0101", "duplicate id")


def test_xsw_second_security_header_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def second(p: Parts) -> None:
        root = p.tree()
        security = root.find(f"{S12}Header/{WSSE}Security")
        assert security is not None
        security.addnext(etree.Element(f"{WSSE}Security"))
        p.set_tree(root)

    run_case(server, recorder, test_pki, tmp_path, second, "EBMS:0101", "more than one wsse:Security")


def test_extra_unsigned_attachment_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def extra(p: Parts) -> None:
        p.attachments.append(("extra-part@attacker", "application/xml", b"<evil/>"))

    run_case(server, recorder, test_pki, tmp_path, extra, "EBMS:0101", "not announced in eb:PayloadInfo")


# --- 4. algorithm downgrades ---


def _replace_algorithm(old: str, new: str) -> Callable[[Parts], None]:
    def edit(p: Parts) -> None:
        assert old.encode() in p.envelope
        p.envelope = p.envelope.replace(f'Algorithm="{old}"'.encode(), f'Algorithm="{new}"'.encode())

    return edit


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        pytest.param(
            ALG_RSA_SHA256, ALG_RSA_SHA1, "signature method .* not allowed", id="rsa-sha1-signature"
        ),
        pytest.param(ALG_SHA256, ALG_SHA1, "digest method .* not allowed", id="sha1-digest"),
        pytest.param(
            ALG_RSA_OAEP_11, ALG_RSA_1_5, "key transport .* not allowed", id="rsa-1_5-key-transport"
        ),
        pytest.param(
            ALG_AES128_GCM, ALG_AES128_CBC, "data encryption .* not allowed", id="aes-cbc-data-encryption"
        ),
    ],
)
def test_algorithm_downgrade_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path, old: str, new: str, reason: str
) -> None:
    run_case(server, recorder, test_pki, tmp_path, _replace_algorithm(old, new), "EBMS:0103", reason)


# --- 5./6. certificates ---


def test_encrypted_for_another_certificate_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    run_case(
        server,
        recorder,
        test_pki,
        tmp_path,
        lambda p: None,
        "EBMS:0102",
        "encrypted for another certificate",
        recipient=test_pki.aps[0].certificate(),
    )


def _unknown_ca_identity(seat: str) -> Identity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"), x509.NameAttribute(NameOID.COMMON_NAME, seat)]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, False, True, True, False, False, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return Identity.of(key, cert)


@pytest.mark.parametrize(
    ("signer", "reason"),
    [
        ("expired_ap", "signer certificate rejected: .*expired"),
        ("revoked_ap", "signer certificate rejected: .*revoked"),
        ("smp", "signer certificate rejected: .*the AP CA is required"),
        ("unknown_ca", "signer certificate rejected: .*no path to a trusted root"),
    ],
)
def test_untrusted_signer_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path, signer: str, reason: str
) -> None:
    if signer == "unknown_ca":
        identity = _unknown_ca_identity(test_pki.aps[0].seat_id)
    else:
        identity = getattr(test_pki, signer).identity()
    run_case(server, recorder, test_pki, tmp_path, lambda p: None, "EBMS:0101", reason, signer=identity)


# --- 7. replay ---


def test_replay_of_same_message_id_gets_stored_receipt_and_no_second_delivery(
    server: RunningServer, recorder: Recorder, test_pki: Any
) -> None:
    message = build_message(test_pki)
    body = body_of(message)
    first = post(server, message.content_type, body)
    second = post(server, message.content_type, body)
    assert parse_signal(first.content).kind == "receipt"
    assert second.content == first.content
    assert [m.message_id for m in recorder.persisted].count(message.message_id) == 1


# --- 9./10. hostile XML, bombs, size ---


def test_doctype_in_envelope_is_refused_before_processing(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def doctype(p: Parts) -> None:
        p.envelope = p.envelope.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)

    content_type, body, message_id = tampered(test_pki, tmp_path, doctype)
    response = post(server, content_type, body)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert parse_signal(response.content).kind == "error"
    assert b"root:" not in response.content
    assert message_id not in {m.message_id for m in recorder.persisted}


def test_gzip_bomb_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    bomb = make_sbd(ubl_invoice(extra=b"<cbc:Note>" + b" " * (24 * 1024 * 1024) + b"</cbc:Note>"))
    run_case(
        server,
        recorder,
        test_pki,
        tmp_path,
        lambda p: None,
        "EBMS:0303",
        "compression ratio|exceeds the cap",
        sbd=bomb,
    )


def test_oversized_body_is_refused_with_413(
    small_server: RunningServer, recorder: Recorder, test_pki: Any
) -> None:
    message = build_message(test_pki, make_sbd(ubl_invoice(os.urandom(60 * 1024).hex())))
    response = post(small_server, message.content_type, body_of(message))
    assert response.status_code == 413
    assert message.message_id not in {m.message_id for m in recorder.persisted}


def test_too_many_mime_parts_is_refused(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def many(p: Parts) -> None:
        p.attachments.extend((f"p{i}@x", "application/xml", b"<x/>") for i in range(40))

    content_type, body, message_id = tampered(test_pki, tmp_path, many)
    response = post(server, content_type, body)
    assert response.status_code == 400
    assert "EBMS:0007" in response.text
    assert message_id not in {m.message_id for m in recorder.persisted}


# --- 2./3./5. more surgery: content ids, references, token swap ---


def test_wrong_attachment_content_id_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    def rename(p: Parts) -> None:
        _, ctype, data = p.attachments[0]
        p.attachments[0] = ("renamed-part@attacker", ctype, data)

    run_case(server, recorder, test_pki, tmp_path, rename, "EBMS:0007", "has no MIME part")


def test_attachment_reference_removed_from_signed_info_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    """Body and Messaging still referenced, the attachment not, and SignedInfo validly re-signed with the
    sender's own key: the SignatureValue verifies, the coverage check must refuse it."""

    def drop_cid_reference(p: Parts) -> None:
        root = p.tree()
        refs = [
            r
            for r in root.iterfind(f".//{DS}SignedInfo/{DS}Reference")
            if r.get("URI", "").startswith("cid:")
        ]
        assert refs
        for ref in refs:
            ref.getparent().remove(ref)  # type: ignore[union-attr]
        resign_signed_info(root, test_pki.aps[0].identity())
        p.set_tree(root)

    run_case(
        server, recorder, test_pki, tmp_path, drop_cid_reference, "EBMS:0101", "does not cover attachment"
    )


def test_signing_token_swapped_for_another_certificate_is_rejected(
    server: RunningServer, recorder: Recorder, test_pki: Any, tmp_path: Path
) -> None:
    """The BST the signature points to now holds a different (valid, trusted) AP certificate."""
    from cryptography.hazmat.primitives import serialization

    other = base64.b64encode(test_pki.aps[1].certificate().public_bytes(serialization.Encoding.DER)).decode()
    signer_der = base64.b64encode(
        test_pki.aps[0].certificate().public_bytes(serialization.Encoding.DER)
    ).decode()

    def swap(p: Parts) -> None:
        root = p.tree()
        tokens = [
            t for t in root.iterfind(f".//{WSSE}BinarySecurityToken") if (t.text or "").strip() == signer_der
        ]
        assert len(tokens) == 1
        tokens[0].text = other
        p.set_tree(root)

    run_case(server, recorder, test_pki, tmp_path, swap, "EBMS:0101", "SignatureValue does not verify")
