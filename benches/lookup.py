"""Discovery latency: uncached (loopback DNS + TLS SMP + XMLDSig) and cached lookups.

Runs the same loopback world as the tests (real dnslib DNS server, ``http.server`` + ``ssl`` SMP,
responses signed with a generated test PKI) and reports, besides the lookup figures, the cost of the
primitives one uncached lookup is made of (NAPTR query, HTTPS GET, signature verification, parse,
endpoint certificate validation), each measured in the same run, and the ratios between them.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benches._common import rounds
from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId, sml_naptr_name
from peppol.testpki import generate_test_pki
from peppol.xml import parse_bytes
from smp_client.documents import parse_service_metadata
from smp_client.http import SmpHttp
from smp_client.signature import verify_smp_signature
from tests.smp_client.dns_server import FakeSml, running_dns
from tests.smp_client.smp_server import SmpServer, running_smp
from tests.smp_client.world import DOCTYPE, PROCESS, ZONE, P, build_world, smp_path

UNCACHED_ROUNDS = 150
CACHED_ROUNDS = 20000
PRIMITIVE_ROUNDS = 150


def _time(fn: Callable[[], object], n: int) -> list[float]:
    fn()  # warm-up (connections, caches of the layer below)
    samples = []
    for _ in range(rounds(n)):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _fmt(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"mean {statistics.fmean(samples) * 1e3:8.3f} ms  p50 {statistics.median(samples) * 1e3:8.3f} ms  "
        f"p95 {p95 * 1e3:8.3f} ms  ({1 / statistics.fmean(samples):,.0f}/s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pki = generate_test_pki(Path(tmp) / "pki")
        dns, smp = FakeSml(), SmpServer()
        with running_dns(dns), running_smp(smp, pki.tls_server_chain, pki.tls_server.key):
            world = build_world(pki, dns, smp)
            ids = (ParticipantId.parse(P["good"]), DocumentTypeId.parse(DOCTYPE), ProcessId.parse(PROCESS))
            disco_nocache = world.discovery(cache_ttl=0)
            disco = world.discovery()

            # primitives
            name = sml_naptr_name(ids[0], ZONE)
            dns_t = _time(lambda: disco_nocache.sml.resolve_naptr(name), PRIMITIVE_ROUNDS)
            url = smp.base + smp_path(P["good"], DOCTYPE)
            http = SmpHttp(world.config().http)
            http_t = _time(lambda: http.get(url), PRIMITIVE_ROUNDS)
            body = world.bodies["good"]
            smp_validator = pki.smp_validator()

            def check(cert: object, when: object) -> str:
                smp_validator.validate(cert, moment=None)  # type: ignore[arg-type]
                return "ok"

            verify_t = _time(lambda: verify_smp_signature(body, signer_check=check), PRIMITIVE_ROUNDS)
            parse_t = _time(lambda: parse_service_metadata(parse_bytes(body).getroot()), PRIMITIVE_ROUNDS)
            ap_validator = pki.ap_validator()
            ap_cert = pki.aps[0].certificate()
            certv_t = _time(lambda: ap_validator.validate(ap_cert), PRIMITIVE_ROUNDS)
            d: dict[tuple[str, str, str], int] = {("a", "b", "c"): 1}
            dict_t = _time(lambda: d.get(("a", "b", "c")), CACHED_ROUNDS)

            # lookups
            uncached = _time(lambda: disco_nocache.lookup(*ids), UNCACHED_ROUNDS)
            cached = _time(lambda: disco.lookup(*ids), CACHED_ROUNDS)
            assert disco.lookup(*ids).cached
            http.close()

    # Ratios on medians: the machine is shared, means carry other processes' noise.
    med = statistics.median
    primitives = med(dns_t) + med(http_t) + med(verify_t) + med(parse_t)
    print(f"NAPTR query (loopback UDP)          {_fmt(dns_t)}")
    print(f"HTTPS GET SSM (loopback, keep-alive) {_fmt(http_t)}")
    print(f"XMLDSig verify + signer check       {_fmt(verify_t)}")
    print(f"parse ServiceMetadata (hardened)    {_fmt(parse_t)}")
    print(f"AP cert validation (cached)         {_fmt(certv_t)}")
    print(f"dict lookup                         {_fmt(dict_t)}")
    print(f"uncached lookup (DNS+TLS SMP+sig)   {_fmt(uncached)}")
    print(f"cached lookup                       {_fmt(cached)}")
    print(
        "ratios (p50): uncached / (NAPTR + GET + verify + parse) = "
        f"{med(uncached) / primitives:.2f}; "
        f"uncached / cached = {med(uncached) / med(cached):,.0f}x; "
        f"cached / dict lookup = {med(cached) / med(dict_t):,.0f}x; "
        f"cached / AP cert validation (cached) = {med(cached) / med(certv_t):.2f}"
    )


if __name__ == "__main__":
    main()
