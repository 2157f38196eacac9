"""Micro-benchmark helpers for ``benches/as4.py``: time the AS4 message pipeline and the primitives it
is made of, in the same process and run, so the bench can print ratios.

All functions return seconds per operation (best of ``repeat`` rounds of ``number`` operations: the
minimum is the least noisy estimate on a shared machine). Nothing here touches the network.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from peppol.xml import exc_c14n
from tests.transport.as4_split import split_outbound
from transport.as4.builder import KeyHolder, OutboundMessage, build_user_message
from transport.as4.header import UserMessageHeader
from transport.as4.inbound import process_inbound
from transport.as4.signals import build_receipt, verify_receipt
from transport.as4.streams import unwrap_key, wrap_key

DEFAULT_NUMBER: Final = 5
DEFAULT_REPEAT: Final = 3


def best_time(
    fn: Callable[[], object], *, number: int = DEFAULT_NUMBER, repeat: int = DEFAULT_REPEAT
) -> float:
    """Minimum over ``repeat`` rounds of the mean time of ``number`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def time_build(
    header: UserMessageHeader,
    payload: bytes | Path,
    *,
    signer: KeyHolder,
    recipient_certificate: x509.Certificate,
    number: int = DEFAULT_NUMBER,
    repeat: int = DEFAULT_REPEAT,
) -> float:
    """Seconds per ``build_user_message`` (gzip + sign + encrypt + MIME)."""

    def run() -> None:
        msg = build_user_message(header, payload, signer=signer, recipient_certificate=recipient_certificate)
        if msg.body_path is not None:
            msg.body_path.unlink()

    return best_time(run, number=number, repeat=repeat)


def time_receive(
    message: OutboundMessage,
    *,
    identity: KeyHolder,
    validate_signer: Callable[[x509.Certificate], None] = lambda cert: None,
    number: int = DEFAULT_NUMBER,
    repeat: int = DEFAULT_REPEAT,
) -> float:
    """Seconds per inbound ``process_inbound`` (decrypt + verify + gunzip) + ``build_receipt``.

    The MIME split of our own output is done once, outside the timing (the receiver's MIME parser is
    measured separately by its owner).
    """
    with tempfile.TemporaryDirectory(prefix="as4-bench-") as tmp:
        work = Path(tmp)
        envelope, parts = split_outbound(message, work)

        def run() -> None:
            inbound = process_inbound(
                envelope, parts, identity=identity, validate_signer=validate_signer, work_dir=work
            )
            build_receipt(inbound, signer=identity)
            inbound.payload_path.unlink()

        return best_time(run, number=number, repeat=repeat)


def time_verify_receipt(
    message: OutboundMessage,
    receipt: bytes,
    *,
    receiver_certificate: x509.Certificate,
    number: int = DEFAULT_NUMBER,
    repeat: int = DEFAULT_REPEAT,
) -> float:
    """Seconds per sender-side ``verify_receipt``."""
    return best_time(
        lambda: verify_receipt(receipt, sent=message, receiver_certificate=receiver_certificate),
        number=number,
        repeat=repeat,
    )


@dataclass(frozen=True)
class PrimitiveCosts:
    """Seconds per primitive operation, measured with the caller's keys."""

    rsa_sign: float  # RSA PKCS#1 v1.5 SHA-256 signature
    rsa_verify: float
    rsa_oaep_wrap: float  # RSA-OAEP SHA-256/MGF1-SHA256 of a 16-byte key
    rsa_oaep_unwrap: float
    aes_gcm_per_mb: float  # AES-128-GCM encryption of 1 MiB
    c14n_messaging: float  # exclusive c14n of an eb:Messaging block


def time_primitives(
    identity: KeyHolder, messaging_xml: bytes, *, repeat: int = DEFAULT_REPEAT
) -> PrimitiveCosts:
    """Cost of the primitives an AS4 exchange is built from (ratios in the bench are against these)."""
    from lxml import etree

    key = identity.private_key
    public = identity.certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("benchmark identity must hold an RSA key")
    data = os.urandom(64)
    sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    aes_key = os.urandom(16)
    wrapped = wrap_key(aes_key, public)
    megabyte = os.urandom(1024 * 1024)
    gcm = AESGCM(aes_key)
    iv = os.urandom(12)
    element = etree.fromstring(messaging_xml)
    n = 20
    return PrimitiveCosts(
        rsa_sign=best_time(
            lambda: key.sign(data, padding.PKCS1v15(), hashes.SHA256()), number=n, repeat=repeat
        ),
        rsa_verify=best_time(
            lambda: public.verify(sig, data, padding.PKCS1v15(), hashes.SHA256()),
            number=n,
            repeat=repeat,
        ),
        rsa_oaep_wrap=best_time(lambda: wrap_key(aes_key, public), number=n, repeat=repeat),
        rsa_oaep_unwrap=best_time(lambda: unwrap_key(wrapped, key), number=n, repeat=repeat),
        aes_gcm_per_mb=best_time(lambda: gcm.encrypt(iv, megabyte, None), number=5, repeat=repeat),
        c14n_messaging=best_time(lambda: exc_c14n(element), number=n * 5, repeat=repeat),
    )


def messaging_xml_of(message: OutboundMessage) -> bytes:
    """The ``eb:Messaging`` block of a built message (input for :func:`time_primitives`)."""
    from lxml import etree

    from transport.as4.constants import NS_EB

    root = etree.fromstring(message.envelope)
    messaging = root.find(f".//{{{NS_EB}}}Messaging")
    assert messaging is not None
    return etree.tostring(messaging)
