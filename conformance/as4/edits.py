"""Message surgery: edits of the envelope tree (before or after signing), of the raw SOAP bytes and
of the MIME parts. Each returns a hook for :class:`conformance.as4.build.Recipe`."""

from __future__ import annotations

import base64
import copy
import gzip
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from peppol.pki import Identity
from transport.as4.constants import NS_DS, NS_EB, NS_S12, NS_WSSE, NS_WSU

from .build import Part, TreeEdit, aes_gcm_reencrypt

EB, S12, WSSE, DS = (f"{{{ns}}}" for ns in (NS_EB, NS_S12, NS_WSSE, NS_DS))
WSU_ID = f"{{{NS_WSU}}}Id"
COMMENT = b"<!--conformance-->"


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path)
    if found is None:
        raise ValueError(f"{path} not found in the envelope")
    return found


def messaging(root: etree._Element) -> etree._Element:
    return one(root, f"{S12}Header/{EB}Messaging")


def set_text(path: str, text: str) -> TreeEdit:
    def edit(root: etree._Element) -> None:
        one(root, path).text = text

    return edit


def remove(path: str) -> TreeEdit:
    def edit(root: etree._Element) -> None:
        el = one(root, path)
        parent = el.getparent()
        assert parent is not None
        parent.remove(el)

    return edit


def split_point(value: str) -> int:
    """Where :func:`comment_inside` cuts ``value``."""
    return max(1, len(value) // 2)


def comment_inside(value: str) -> Callable[[bytes], bytes]:
    """Insert an XML comment in the middle of the element text ``value`` (exclusive c14n drops comments,
    so the signature still verifies; a reader taking only the first text node sees half the value)."""
    cut = split_point(value)
    needle = f">{value}<".encode()

    def edit(soap: bytes) -> bytes:
        if needle not in soap:
            raise ValueError(f"value {value!r} not found in the SOAP part")
        return soap.replace(needle, b">" + value[:cut].encode() + COMMENT + value[cut:].encode() + b"<", 1)

    return edit


def duplicate_messaging(root: etree._Element) -> None:
    original = messaging(root)
    forged = copy.deepcopy(original)
    forged.find(f".//{EB}ConversationId").text = "forged-conversation"  # type: ignore[union-attr]
    original.addnext(forged)


def move_messaging(root: etree._Element) -> None:
    """The signed Messaging hidden in a wrapper header, a forged copy (new id) in its place."""
    original = messaging(root)
    header = original.getparent()
    assert header is not None
    forged = copy.deepcopy(original)
    forged.set(WSU_ID, "forged-messaging-id")
    forged.find(f".//{EB}ConversationId").text = "forged"  # type: ignore[union-attr]
    wrapper = etree.Element("{urn:attacker}Wrapper")
    header.replace(original, forged)
    wrapper.append(original)
    header.append(wrapper)


def duplicate_id(root: etree._Element) -> None:
    decoy = etree.SubElement(one(root, f"{S12}Header"), "{urn:attacker}Decoy")
    decoy.set(WSU_ID, messaging(root).get(WSU_ID, ""))


def second_security(root: etree._Element) -> None:
    one(root, f"{S12}Header/{WSSE}Security").addnext(etree.Element(f"{WSSE}Security"))


def body_content(root: etree._Element) -> None:
    etree.SubElement(one(root, f"{S12}Body"), "{urn:attacker}Payload").text = "in the body"


def swap_signing_token(other: x509.Certificate) -> TreeEdit:
    """The BST the signature points to now holds another certificate."""
    der = base64.b64encode(other.public_bytes(serialization.Encoding.DER)).decode()

    def edit(root: etree._Element) -> None:
        sig_ref = one(root, f".//{DS}Signature/{DS}KeyInfo/{WSSE}SecurityTokenReference/{WSSE}Reference")
        token_id = sig_ref.get("URI", "").lstrip("#")
        for bst in root.iter(f"{WSSE}BinarySecurityToken"):
            if bst.get(WSU_ID) == token_id:
                bst.text = der

    return edit


def flip_attachment_byte(parts: list[Part], key: bytes) -> None:
    data = parts[0].data
    mid = len(data) // 2
    parts[0].data = data[:mid] + bytes([data[mid] ^ 0x01]) + data[mid + 1 :]


def replace_payload(forged_plain: bytes) -> Callable[[list[Part], bytes], None]:
    """Re-encrypt a different (gzipped) payload with the message's own key after signing."""

    def edit(parts: list[Part], key: bytes) -> None:
        parts[0].data = aes_gcm_reencrypt(key, gzip.compress(forged_plain, mtime=0))

    return edit


def extra_part(parts: list[Part], key: bytes) -> None:
    parts.append(Part("extra-part@attacker.example", "application/xml", b"<evil/>"))


def rename_part(parts: list[Part], key: bytes) -> None:
    parts[0].content_id = "renamed-part@attacker.example"


def soap_prefix(text: bytes) -> Callable[[bytes], bytes]:
    """Insert ``text`` after the XML declaration of the SOAP part (DOCTYPE, entities)."""

    def edit(soap: bytes) -> bytes:
        return soap.replace(b"?>", b"?>" + text, 1)

    return edit


def deep_nesting(depth: int) -> TreeEdit:
    def edit(root: etree._Element) -> None:
        el = etree.SubElement(one(root, f"{S12}Header"), "{urn:attacker}Nest")
        for _ in range(depth):
            el = etree.SubElement(el, "{urn:attacker}Nest")

    return edit


XXE_DOCTYPE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS_DOCTYPE = (
    b'<!DOCTYPE x [<!ENTITY a "lollollollollollollollollollol">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>'
)


def hostile_sbd(sbd: bytes, doctype: bytes, entity: bytes) -> bytes:
    """``sbd`` with a DOCTYPE after its declaration and ``entity`` referenced in its first text."""
    out = sbd.replace(b"?>", b"?>" + doctype, 1) if sbd.startswith(b"<?xml") else doctype + sbd
    return out.replace(b"</Note>", entity + b"</Note>", 1) if b"</Note>" in out else out


def unknown_ca_identity(seat: str) -> Identity:
    """A self-signed certificate with the target's expected seat shape: chains to no Peppol CA."""
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
