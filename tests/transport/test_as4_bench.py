"""The benchmark helpers run and return plausible figures (no timing thresholds)."""

from __future__ import annotations

from pathlib import Path

from tests.transport.test_as4_roundtrip import SBD, build, make_header, receive
from transport.as4 import build_receipt
from transport.as4.bench import (
    messaging_xml_of,
    time_build,
    time_primitives,
    time_receive,
    time_verify_receipt,
)


def test_bench_helpers_measure_pipeline_and_primitives(test_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sender, receiver = test_pki.aps[0].identity(), test_pki.aps[1].identity()
    build_s = time_build(
        make_header(test_pki),
        SBD,
        signer=sender,
        recipient_certificate=receiver.certificate,
        number=1,
        repeat=1,
    )
    msg = build(test_pki)
    recv_s = time_receive(msg, identity=receiver, number=1, repeat=1)
    receipt = build_receipt(receive(test_pki, msg, tmp_path), signer=receiver)
    verify_s = time_verify_receipt(
        msg, receipt, receiver_certificate=receiver.certificate, number=1, repeat=1
    )
    prim = time_primitives(sender, messaging_xml_of(msg), repeat=1)
    assert all(
        t > 0
        for t in (
            build_s,
            recv_s,
            verify_s,
            prim.rsa_sign,
            prim.rsa_verify,
            prim.rsa_oaep_wrap,
            prim.rsa_oaep_unwrap,
            prim.aes_gcm_per_mb,
            prim.c14n_messaging,
        )
    )
    assert not list(tmp_path.glob("as4-bench-*"))
