"""PKI figures: test-PKI generation (the `ap pki init` acceptance point: under 3 s), private-key
loading (why keys are loaded once), certificate validation uncached and cached; each with its ratio
to the primitive it rests on (RSA-2048 key generation, PEM parse, one RSA signature check)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from benches._common import rounds
from peppol.pki import clear_key_cache, load_certificate, load_private_key
from peppol.testpki import generate_test_pki


def _median(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(rounds(n)):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (figures are medians)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        keygen = _median(lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), 5)
        counter = iter(range(1000))
        gen = _median(lambda: generate_test_pki(root / f"pki{next(counter)}", ap_count=2), 3)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "access_point.cli", "pki", "init", str(root / "cli")],
            check=True,
            capture_output=True,
        )
        cli = time.perf_counter() - start
        print(f"RSA-2048 key generation (primitive)      {keygen * 1000:8.1f} ms")
        print(
            f"generate_test_pki (in process)           {gen * 1000:8.1f} ms  = {gen / keygen:4.1f} x keygen"
        )
        print(f"`ap pki init` (new process, all imports) {cli * 1000:8.1f} ms  (acceptance: < 3000 ms)")

        pki = generate_test_pki(root / "bench", ap_count=2)
        key_path = pki.aps[0].key
        pem = key_path.read_bytes()
        parse = _median(lambda: serialization.load_pem_private_key(pem, None), 20)

        def uncached() -> None:
            clear_key_cache()
            load_private_key(key_path)

        key_uncached = _median(uncached, 20)
        load_private_key(key_path)
        key_cached = _median(lambda: load_private_key(key_path), 200)
        print(f"PEM private-key parse (primitive)        {parse * 1000:8.2f} ms")
        ratio = key_uncached / parse
        print(
            f"load_private_key, uncached               {key_uncached * 1000:8.2f} ms  = {ratio:.2f} x parse"
        )
        ratio = parse / key_cached
        print(f"load_private_key, cached       {key_cached * 1e6:8.1f} us  = 1/{ratio:,.0f} of a parse")

        cert = load_certificate(pki.aps[0].cert)
        ca_key = load_private_key(pki.ap_ca.key)
        signature = ca_key.sign(b"x" * 32, padding.PKCS1v15(), hashes.SHA256())
        public = ca_key.public_key()
        verify = _median(
            lambda: public.verify(signature, b"x" * 32, padding.PKCS1v15(), hashes.SHA256()), 200
        )

        def fresh() -> None:
            pki.ap_validator().validate(cert)

        uncached_validation = _median(fresh, 20)
        validator = pki.ap_validator()
        validator.validate(cert)
        cached_validation = _median(lambda: validator.validate(cert), 200)
        print(f"RSA-2048 signature check (primitive)     {verify * 1e6:8.1f} us")
        print(
            f"validate AP cert, uncached (path+CRL)    {uncached_validation * 1000:8.2f} ms"
            f"  = {uncached_validation / verify:,.0f} x a signature check"
        )
        print(f"validate AP cert, cached                 {cached_validation * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
