"""Independent oracles: libxmlsec1 (python-xmlsec) and signxml check what we build, and our verifier
accepts what they build.

- xmlsec unwraps our ``xenc:EncryptedKey`` (xmlenc11 RSA-OAEP, SHA-256, MGF1-SHA256) and decrypts our
  attachment (AES-128-GCM, IV||ct||tag). xmlsec cannot follow a ``cid:`` CipherReference, so the
  attachment bytes are handed to it as a CipherValue of an equivalent EncryptedData.
- signxml verifies our UserMessage signature with all three references. signxml has no SwA transform:
  it resolves ``cid:`` through our ``uri_resolver`` (given the gzip bytes xmlsec decrypted) and *skips*
  the unknown Attachment-Content-Signature-Transform, i.e. digests the raw octets — which is exactly
  what the transform means for ``application/gzip``.
- Reverse direction: an attachment + EncryptedKey produced by xmlsec is decrypted by ``process_inbound``;
  a receipt signed by xmlsec verifies with ``verify_receipt``; our receipt verifies with xmlsec. Signing a
  UserMessage with xmlsec is not feasible (it cannot digest ``cid:`` parts).
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest
import xmlsec
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidDigest

from tests.transport.as4_split import split_outbound
from tests.transport.test_as4_roundtrip import SBD, build
from transport.as4 import build_receipt, process_inbound, verify_receipt
from transport.as4.constants import NS_DS, NS_EB, NS_S12, NS_WSSE, NS_WSU, NS_XENC

XENC = f"{{{NS_XENC}}}"
DS = f"{{{NS_DS}}}"
WSSE = f"{{{NS_WSSE}}}"


@pytest.fixture(scope="module")
def sent(test_pki, tmp_path_factory):  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    work = tmp_path_factory.mktemp("oracle")
    envelope, parts = split_outbound(msg, work)
    return msg, envelope, parts


def xmlsec_unwrap(envelope: bytes, identity) -> bytes:  # type: ignore[no-untyped-def]
    ek = etree.fromstring(envelope).find(f".//{XENC}EncryptedKey")
    assert ek is not None
    ctx = xmlsec.EncryptionContext()
    ctx.key = xmlsec.Key.from_memory(identity.private_key_pem(), xmlsec.constants.KeyDataFormatPem)
    key = ctx.decrypt(etree.fromstring(etree.tostring(ek)))
    assert isinstance(key, bytes)
    return key


def xmlsec_decrypt_attachment(key: bytes, ciphertext: bytes) -> bytes:
    ed = etree.fromstring(
        f'<xenc:EncryptedData xmlns:xenc="{NS_XENC}"><xenc:EncryptionMethod '
        'Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/><xenc:CipherData><xenc:CipherValue>'
        f"{base64.b64encode(ciphertext).decode()}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>"
    )
    ctx = xmlsec.EncryptionContext()
    ctx.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, key)
    out = ctx.decrypt(ed)
    assert isinstance(out, bytes)
    return out


def test_oracle_xmlsec_unwraps_key_and_decrypts_attachment(sent, test_pki) -> None:  # type: ignore[no-untyped-def]
    _, envelope, parts = sent
    key = xmlsec_unwrap(envelope, test_pki.aps[1].identity())
    assert len(key) == 16
    assert gzip.decompress(xmlsec_decrypt_attachment(key, parts[0].path.read_bytes())) == SBD


def test_oracle_xmlsec_honours_mgf1_sha256(sent, test_pki) -> None:  # type: ignore[no-untyped-def]
    """Relabelling our MGF as MGF1-SHA1 makes xmlsec fail: it really used the MGF we declare."""
    _, envelope, _ = sent
    relabelled = envelope.replace(b"xmlenc11#mgf1sha256", b"xmlenc11#mgf1sha1")
    with pytest.raises(xmlsec.Error):
        xmlsec_unwrap(relabelled, test_pki.aps[1].identity())


def test_oracle_xmlsec_cannot_unwrap_with_other_key(sent, test_pki) -> None:  # type: ignore[no-untyped-def]
    _, envelope, _ = sent
    with pytest.raises(xmlsec.Error):
        xmlsec_unwrap(envelope, test_pki.aps[0].identity())


def _signxml_verify(envelope: bytes, cert, gz: bytes, cid: str):  # type: ignore[no-untyped-def]
    return XMLVerifier().verify(
        envelope,
        x509_cert=cert,
        uri_resolver=lambda uri: gz if uri == f"cid:{cid}" else None,
        expect_config=SignatureConfiguration(expect_references=3),
    )


def test_oracle_signxml_verifies_user_message_signature_incl_cid(sent, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, envelope, parts = sent
    gz = xmlsec_decrypt_attachment(
        xmlsec_unwrap(envelope, test_pki.aps[1].identity()), parts[0].path.read_bytes()
    )
    results = _signxml_verify(envelope, test_pki.aps[0].identity().certificate, gz, msg.payload_content_id)
    assert len(results) == 3
    assert results[0].signed_xml is not None and results[0].signed_xml.tag == f"{{{NS_EB}}}Messaging"
    assert results[1].signed_xml is not None and results[1].signed_xml.tag == f"{{{NS_S12}}}Body"
    assert results[2].signed_data == gz


def test_oracle_signxml_detects_wrong_attachment(sent, test_pki) -> None:  # type: ignore[no-untyped-def]
    msg, envelope, _ = sent
    with pytest.raises(InvalidDigest):
        _signxml_verify(
            envelope, test_pki.aps[0].identity().certificate, gzip.compress(b"<x/>"), msg.payload_content_id
        )


def test_oracle_xmlsec_encrypted_attachment_accepted_by_process_inbound(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """xmlsec produces the EncryptedKey and the AES-GCM attachment; we decrypt and verify them."""
    msg = build(test_pki)
    envelope, parts = split_outbound(msg, tmp_path)
    receiver = test_pki.aps[1].identity()
    gz = xmlsec_decrypt_attachment(xmlsec_unwrap(envelope, receiver), parts[0].path.read_bytes())

    template = etree.fromstring(
        f'<xenc:EncryptedData xmlns:xenc="{NS_XENC}" xmlns:ds="{NS_DS}" MimeType="application/gzip">'
        '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>'
        "<ds:KeyInfo><xenc:EncryptedKey>"
        '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep">'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        '<xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" '
        'Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/></xenc:EncryptionMethod>'
        "<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>"
        "<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"
    )
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(receiver.certificate_pem(), xmlsec.constants.KeyDataFormatCertPem))
    ctx = xmlsec.EncryptionContext(manager)
    ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, 128, xmlsec.constants.KeyDataTypeSession)
    encrypted = ctx.encrypt_binary(template, gz)
    values = [v.text or "" for v in encrypted.iter(f"{XENC}CipherValue")]
    wrapped_key, attachment = values[0], values[1]

    root = etree.fromstring(envelope)
    ek_value = root.find(f".//{XENC}EncryptedKey/{XENC}CipherData/{XENC}CipherValue")
    assert ek_value is not None
    ek_value.text = "".join(wrapped_key.split())
    parts[0].path.write_bytes(base64.b64decode("".join(attachment.split())))
    out = tmp_path / "out"
    out.mkdir()
    inbound = process_inbound(
        etree.tostring(root), parts, identity=receiver, validate_signer=lambda c: None, work_dir=out
    )
    assert inbound.payload_path.read_bytes() == SBD


def _xmlsec_resign_receipt(receipt: bytes, identity) -> bytes:  # type: ignore[no-untyped-def]
    root = etree.fromstring(receipt)
    security = root.find(f".//{WSSE}Security")
    messaging = root.find(f".//{{{NS_EB}}}Messaging")
    body = root.find(f"{{{NS_S12}}}Body")
    assert security is not None and messaging is not None and body is not None
    old = security.find(f"{DS}Signature")
    assert old is not None
    token_ref = old.find(f".//{WSSE}Reference")
    assert token_ref is not None
    token_uri = token_ref.get("URI")
    security.remove(old)
    sig = xmlsec.template.create(
        security, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256, ns="ds"
    )
    security.append(sig)
    for el in (messaging, body):
        ref = xmlsec.template.add_reference(
            sig, xmlsec.constants.TransformSha256, uri=f"#{el.get(f'{{{NS_WSU}}}Id')}"
        )
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    key_info = xmlsec.template.ensure_key_info(sig)
    str_el = etree.SubElement(key_info, f"{WSSE}SecurityTokenReference")
    etree.SubElement(
        str_el,
        f"{WSSE}Reference",
        URI=token_uri or "",
        ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3",
    )
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(identity.private_key_pem(), xmlsec.constants.KeyDataFormatPem)
    ctx.register_id(messaging, "Id", NS_WSU)
    ctx.register_id(body, "Id", NS_WSU)
    ctx.sign(sig)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_oracle_xmlsec_signed_receipt_accepted_by_verify_receipt(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    envelope, parts = split_outbound(msg, tmp_path)
    receiver = test_pki.aps[1].identity()
    inbound = process_inbound(
        envelope, parts, identity=receiver, validate_signer=lambda c: None, work_dir=tmp_path
    )
    ours = build_receipt(inbound, signer=receiver)
    theirs = _xmlsec_resign_receipt(ours, receiver)
    assert theirs != ours
    signal = verify_receipt(theirs, sent=msg, receiver_certificate=receiver.certificate)
    assert signal.kind == "receipt" and signal.ref_to_message_id == msg.message_id


def test_oracle_xmlsec_verifies_our_receipt(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    envelope, parts = split_outbound(msg, tmp_path)
    receiver = test_pki.aps[1].identity()
    inbound = process_inbound(
        envelope, parts, identity=receiver, validate_signer=lambda c: None, work_dir=tmp_path
    )
    receipt = build_receipt(inbound, signer=receiver)

    def xmlsec_verify(data: bytes) -> None:
        root = etree.fromstring(data)
        ctx = xmlsec.SignatureContext()
        ctx.key = xmlsec.Key.from_memory(receiver.certificate_pem(), xmlsec.constants.KeyDataFormatCertPem)
        ctx.register_id(root.find(f".//{{{NS_EB}}}Messaging"), "Id", NS_WSU)
        ctx.register_id(root.find(f"{{{NS_S12}}}Body"), "Id", NS_WSU)
        ctx.verify(root.find(f".//{DS}Signature"))  # raises xmlsec.Error on failure

    xmlsec_verify(receipt)
    with pytest.raises(xmlsec.Error):
        xmlsec_verify(receipt.replace(msg.message_id.encode(), b"forged@x"))


def test_oracle_signxml_verifies_our_receipt(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msg = build(test_pki)
    envelope, parts = split_outbound(msg, tmp_path)
    receiver = test_pki.aps[1].identity()
    inbound = process_inbound(
        envelope, parts, identity=receiver, validate_signer=lambda c: None, work_dir=tmp_path
    )
    receipt = build_receipt(inbound, signer=receiver)
    results = XMLVerifier().verify(
        receipt, x509_cert=receiver.certificate, expect_config=SignatureConfiguration(expect_references=2)
    )
    assert [r.signed_xml.tag for r in results] == [f"{{{NS_EB}}}Messaging", f"{{{NS_S12}}}Body"]  # type: ignore[union-attr]
