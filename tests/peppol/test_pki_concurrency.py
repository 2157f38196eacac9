"""A validator shared by the receiver's worker threads must give the same verdict under concurrency:
a fresh validator used by many threads at once accepts every valid signer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from peppol.pki import load_certificate, seat_id


def test_fresh_validator_is_thread_safe_on_first_use(test_pki: Any) -> None:
    certs = [load_certificate(k.cert) for k in test_pki.aps]
    for _round in range(6):
        validator = test_pki.ap_validator()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(validator.validate, [certs[i % len(certs)] for i in range(16)]))
        assert [r.seat_id for r in results] == [seat_id(certs[i % len(certs)]) for i in range(16)]
