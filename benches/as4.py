"""AS4 benchmark: per-message build and receive cost, loopback round trips, large-message memory.

Figures (each with its ratio to primitives measured in the same run):

* build = SBDH + gzip + sign + encrypt + MIME of a 10 KB UBL invoice (``transport.sbdh.wrap_document``,
  ``transport.as4.build_user_message``), against RSA-2048 sign + RSA-OAEP encrypt + AES-128-GCM over
  the payload + exc-c14n of the envelope + gzip of the SBD (the Peppol AS4 profile compresses every
  payload with gzip before signing: as4.md §5.4, so the build cannot avoid it); the identifiers are
  parsed once, as a sender holds them typed (``exchange.OutboundRequest``);
* receive = MIME + decrypt + verify + gunzip + SBDH + receipt (``transport.receiver.receive`` with
  in-memory hooks), against RSA-OAEP decrypt + RSA verify + RSA sign (receipt) + AES-GCM + c14n; also
  with ``memory_bytes=0`` (every part and payload through files, as large messages go) and split
  into its stages (MIME, process_inbound, SBDH, receipt);
* round trips per second over loopback HTTP (our sender → our ASGI server), 10 KB, with the CPU time
  each side spends per round trip, against the same work in process: the receive for the receiver,
  the build plus the receipt check for the sender (its messages are built before the clock starts);
* a large payload (``AS4_BENCH_LARGE_MB``, default 100) sent and received with peak RSS growth
  measured on each side: the receiver runs in a child process, the sender in this one.

Per-message figures and primitives are CPU time of this process (medians): on the shared machine
wall-clock samples also count other processes' turns. Round trips per second are wall clock.

Every message carries its own SBD (fresh ``InstanceIdentifier``): the receiver refuses a document
it has already delivered.

Run: ``.venv/bin/python -m benches as4`` (or ``make bench``). ``AS4_BENCH_LARGE_MB=0`` skips the large run;
``AP_BENCH_QUICK=1`` runs every path with a couple of messages (1 MB large run).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from benches._common import quick, rounds
from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from peppol.testpki import generate_test_pki
from peppol.xml import exc_c14n, parse_bytes

SMALL_BYTES = 10 * 1024
#: Messages received per in-process receive measurement (each a fresh MessageId).
RECEIVES = 100
#: Sequential round trips timed per loopback run (after one warm-up).
ROUND_TRIPS = 100
SENDER = "iso6523-actorid-upis::0088:5790000435951"
RECEIVER = "iso6523-actorid-upis::0088:5798000000001"
DOCTYPE = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def per_call(fn: Callable[[], object], *, min_seconds: float = 1.0, min_runs: int = 5) -> float:
    """Median CPU seconds of this process per call, over calls lasting about ``min_seconds`` of CPU.

    CPU time, not wall time: on the shared machine (load often 5-15 on 2 cores) a wall-clock sample
    also counts the time other processes held the CPU, which inflates long calls far more than short
    primitives and makes the ratios meaningless. CPU time per call is what the ratios are about."""
    fn()
    if quick():
        min_seconds, min_runs = 0.0, 1
    samples: list[float] = []
    start = time.process_time()
    while len(samples) < min_runs or time.process_time() - start < min_seconds:
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return statistics.median(samples)


def ubl_document(size: int) -> bytes:
    """A minimal UBL Invoice padded with notes to about ``size`` bytes."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        b"<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
        b"</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
        b"<cbc:ID>bench</cbc:ID>"
    )
    tail = b"</Invoice>\n"
    note = b"<cbc:Note>lorem ipsum dolor sit amet 0123456789 abcdefghij</cbc:Note>"
    count = max(0, (size - len(head) - len(tail)) // len(note))
    return head + note * count + tail


@functools.cache
def parties() -> dict[str, Any]:
    """The SBDH fields of every bench message, identifiers parsed once (a sender holds them typed)."""
    return {
        "sender": ParticipantId.parse(SENDER),
        "receiver": ParticipantId.parse(RECEIVER),
        "process": ProcessId.parse(PROCESS),
        "country_c1": "FR",
        "document_type": DocumentTypeId.parse(DOCTYPE),
    }


def sbdh_for(document: bytes) -> Any:
    from transport.sbdh import header_for_document

    return header_for_document(document, **parties())


def fresh_sbd(document: bytes) -> tuple[bytes, Any]:
    """A new SBD around ``document`` (its own InstanceIdentifier) and its header."""
    from transport.sbdh import wrap_document

    sbdh, sbd = wrap_document(document, **parties())
    return sbd, sbdh


_IDENTITIES: list[tuple[Any, tuple[Any, Any]]] = []


def _identities(pki: Any) -> tuple[Any, Any]:
    """Sender and receiver identities, loaded once (an access point holds its key objects)."""
    for known, pair in _IDENTITIES:
        if known is pki:
            return pair
    pair = (pki.aps[0].identity(), pki.aps[1].identity())
    _IDENTITIES[:] = [(pki, pair)]
    return pair


def build_message(pki: Any, sbd: bytes | Path, sbdh: Any, spool_dir: Path | None = None) -> Any:
    from transport.as4 import build_user_message, new_user_message_header

    sender_id, receiver_id = _identities(pki)
    header = new_user_message_header(
        from_party=sender_id.seat_id,
        to_party=receiver_id.seat_id,
        sender=sbdh.sender,
        receiver=sbdh.receiver,
        document_type=sbdh.document_type,
        process=sbdh.process,
    )
    return build_user_message(
        header, sbd, signer=sender_id, recipient_certificate=receiver_id.certificate, spool_dir=spool_dir
    )


def primitives(pki: Any, envelope: bytes, sbd: bytes) -> dict[str, float]:
    from transport.as4.streams import GZIP_LEVEL

    identity = pki.aps[0].identity()
    key, pub = identity.private_key, identity.certificate.public_key()
    data = os.urandom(SMALL_BYTES)
    aes_key, iv = AESGCM.generate_key(128), os.urandom(12)
    gcm = AESGCM(aes_key)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = pub.encrypt(aes_key, oaep)
    signature = key.sign(b"x" * 1500, padding.PKCS1v15(), hashes.SHA256())
    root = parse_bytes(envelope).getroot()
    return {
        "rsa_sign": per_call(lambda: key.sign(b"x" * 1500, padding.PKCS1v15(), hashes.SHA256())),
        "rsa_verify": per_call(
            lambda: pub.verify(signature, b"x" * 1500, padding.PKCS1v15(), hashes.SHA256())
        ),
        "rsa_oaep_encrypt": per_call(lambda: pub.encrypt(aes_key, oaep)),
        "rsa_oaep_decrypt": per_call(lambda: key.decrypt(wrapped, oaep)),
        "aes_gcm_10k": per_call(lambda: gcm.encrypt(iv, data, None)),
        "c14n_envelope": per_call(lambda: exc_c14n(root)),
        "gzip_sbd": per_call(lambda: zlib.compress(sbd, GZIP_LEVEL, wbits=31)),
    }


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stage_medians(wires: list[tuple[str, bytes]], config: Any, work: Path) -> dict[str, float]:
    """Median CPU seconds of each receive stage, run one after the other on the same messages (MIME in
    memory, ``process_inbound``, SBDH read + check, signed receipt)."""
    from transport.as4 import InboundAttachment, build_receipt, process_inbound
    from transport.mime import read_message
    from transport.sbdh import read_sbd

    samples: dict[str, list[float]] = {"mime": [], "process_inbound": [], "sbdh": [], "receipt": []}
    for content_type, wire in wires:
        t0 = time.process_time()
        mime = read_message(content_type, io.BytesIO(wire), work, memory_bytes=config.memory_bytes)
        t1 = time.process_time()
        parts = [InboundAttachment(p.content_id or "", p.headers, p.path, p.data) for p in mime.attachments]
        inbound = process_inbound(
            mime.envelope,
            parts,
            identity=config.identity,
            validate_signer=config.validate_signer,
            work_dir=work,
            payload_memory_bytes=config.memory_bytes,
        )
        t2 = time.process_time()
        read_sbd(inbound.payload.source)
        t3 = time.process_time()
        build_receipt(inbound, signer=config.identity)
        t4 = time.process_time()
        for name, value in zip(samples, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            samples[name].append(value)
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_rss_kib(pid: int | str = "self") -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB from /proc."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def reset_peak_rss() -> None:
    """Reset this process's VmHWM to its current RSS (Linux ``clear_refs`` value 5)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def child_receiver(
    pki: Any, work: Path, name: str, *, noop: bool = False
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A receiver (``benches._as4_receiver``: real ASGI app, SQLite ledger inbox) in a child process, so
    sender and receiver do not share a GIL or an RSS figure. Yields (url, process)."""
    inbox, url_file = work / f"{name}-inbox", work / f"{name}-url"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benches._as4_receiver",
            *(str(p) for p in (pki.aps[1].cert, pki.aps[1].key, pki.ap_truststore, pki.ap_crl)),
            *(str(p) for p in (inbox, url_file, work)),
            *(["noop"] if noop else []),
        ],
    )
    try:
        deadline = time.monotonic() + 60
        while not url_file.exists() or not url_file.read_text().strip():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("benchmark receiver did not start")
            time.sleep(0.05)
        yield url_file.read_text().strip(), child
    finally:
        child.terminate()
        child.wait(timeout=30)


def main() -> dict[str, Any]:
    from transport.receiver import CallbackHooks, ReceiverConfig, receive
    from transport.sender import As4Sender

    logging.getLogger("transport.sender").setLevel(logging.ERROR)  # no plain-HTTP warning per message
    receives, round_trips = rounds(RECEIVES), rounds(ROUND_TRIPS)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-as4-") as tmp:
        work = Path(tmp)
        pki = generate_test_pki(work / "pki")
        document = ubl_document(SMALL_BYTES)
        sbd, sbdh = fresh_sbd(document)
        message = build_message(pki, sbd, sbdh)
        prims = primitives(pki, message.envelope, sbd)
        results["primitives_ms"] = {k: round(v * 1000, 4) for k, v in prims.items()}
        load = os.getloadavg()
        results["load_average"] = [round(x, 2) for x in load]
        print(
            f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
            "(a load above the CPU count inflates every wall-clock figure below)"
        )
        print("primitives (median CPU time per call; every figure below is CPU time unless it says /s):")
        for name, value in prims.items():
            print(f"  {name:<18} {_fmt_ms(value)}")

        build_s = per_call(lambda: build_message(pki, *fresh_sbd(document)))
        build_floor = (
            prims["rsa_sign"]
            + prims["rsa_oaep_encrypt"]
            + prims["aes_gcm_10k"]
            + prims["c14n_envelope"]
            + prims["gzip_sbd"]
        )
        results["build_ms"] = round(build_s * 1000, 3)
        results["build_ratio"] = round(build_s / build_floor, 2)
        print(
            f"SBDH + build+sign+encrypt 10 KB: {_fmt_ms(build_s)}  = {build_s / build_floor:.2f}x "
            "(RSA sign + OAEP encrypt + AES-GCM 10 KB + c14n + gzip)"
        )

        receiver_identity = pki.aps[1].identity()
        validator = pki.ap_validator()
        config = ReceiverConfig(identity=receiver_identity, validate_signer=validator.validate, work_dir=work)
        hooks = CallbackHooks()  # the default in-memory ledger

        def fresh_wires() -> list[tuple[str, bytes]]:
            built = [build_message(pki, *fresh_sbd(document)) for _ in range(receives)]
            return [(m.content_type, m.open_body().read()) for m in built]

        def receive_all(cfg: ReceiverConfig, wires: list[tuple[str, bytes]]) -> tuple[float, float]:
            """(median, mean) CPU seconds per received message."""
            timings: list[float] = []
            cpu0 = time.process_time()
            for content_type, wire in wires:
                t0 = time.process_time()
                answer = receive({"Content-Type": content_type}, io.BytesIO(wire), cfg, hooks)
                timings.append(time.process_time() - t0)
                assert answer.decision.verdict == "accepted", answer.decision
            return statistics.median(timings), (time.process_time() - cpu0) / len(wires)

        def fs_ops() -> None:
            with tempfile.TemporaryDirectory(dir=work) as d:
                for i in range(4):
                    (Path(d) / f"f{i}").write_bytes(b"x" * 1024)

        prims["fs_4_files"] = per_call(fs_ops)
        receive_s, receive_cpu = receive_all(config, fresh_wires())
        receive_floor = (
            prims["rsa_oaep_decrypt"]
            + prims["rsa_verify"]
            + prims["rsa_sign"]
            + prims["aes_gcm_10k"]
            + 2 * prims["c14n_envelope"]
        )
        results["receive_ms"] = round(receive_s * 1000, 3)
        results["receive_cpu_ms"] = round(receive_cpu * 1000, 3)
        results["receive_ratio"] = round(receive_s / receive_floor, 2)
        results["receive_ratio_incl_fs"] = round(receive_s / (receive_floor + prims["fs_4_files"]), 2)
        print(
            f"receive (verify+decrypt+SBDH+receipt) 10 KB: {_fmt_ms(receive_s)} "
            f"= {receive_s / receive_floor:.2f}x "
            f"(OAEP decrypt + RSA verify + RSA sign + AES-GCM + 2 c14n); CPU {_fmt_ms(receive_cpu)}"
        )
        stages = stage_medians(fresh_wires(), config, work)
        results["receive_stages_ms"] = {k: round(v * 1000, 3) for k, v in stages.items()}
        print("  stages (median): " + ", ".join(f"{k} {_fmt_ms(v)}" for k, v in stages.items()))
        files_s, _ = receive_all(dataclasses.replace(config, memory_bytes=0), fresh_wires())
        results["receive_files_ms"] = round(files_s * 1000, 3)
        results["receive_files_ratio"] = round(files_s / receive_floor, 2)
        print(
            f"receive through files (memory_bytes=0, the large-message path) 10 KB: {_fmt_ms(files_s)} "
            f"= {files_s / receive_floor:.1f}x; "
            f"{files_s / (receive_floor + prims['fs_4_files']):.1f}x with 4 temp-file create/delete "
            f"({_fmt_ms(prims['fs_4_files'])})"
        )

        # The sender's own work on an answer, in process: classify + verify the signed receipt.
        with As4Sender(allow_http=True) as client:
            sent = build_message(pki, *fresh_sbd(document))
            answer = receive(
                {"Content-Type": sent.content_type}, io.BytesIO(sent.open_body().read()), config, hooks
            )
            sender_s = per_call(
                lambda: client.classify(
                    200, answer.content_type, answer.body, sent, receiver_identity.certificate
                )
            )
        results["sender_in_process_ms"] = round(sender_s * 1000, 3)
        print(f"sender in process (classify + verify the signed receipt): {_fmt_ms(sender_s)}")

        for label, noop in (("no-op persist", True), ("SQLite ledger inbox, fsync", False)):
            with (
                child_receiver(pki, work, f"rt{noop}", noop=noop) as (url, child),
                As4Sender(allow_http=True) as client,
            ):
                msgs = [build_message(pki, *fresh_sbd(document)) for _ in range(round_trips + 1)]
                client.post(msgs[0], url, receiver_identity.certificate)
                server_cpu0, client_cpu0 = cpu_seconds(child.pid), time.process_time()
                t0 = time.perf_counter()
                for m in msgs[1:]:
                    outcome = client.post(m, url, receiver_identity.certificate)
                    assert outcome.delivered, outcome
                elapsed = time.perf_counter() - t0
                client_cpu = (time.process_time() - client_cpu0) / round_trips
                server_cpu = (cpu_seconds(child.pid) - server_cpu0) / round_trips
            rps = round_trips / elapsed
            per_rt = elapsed / round_trips
            key = "noop" if noop else "inbox"
            results[f"round_trips_per_s_{key}"] = round(rps, 1)
            results[f"round_trip_cpu_ms_{key}"] = {
                "receiver": round(server_cpu * 1000, 2),
                "sender": round(client_cpu * 1000, 2),
            }
            # messages are built before the clock starts: a round trip = post + receive + receipt check
            rt_floor = receive_floor + prims["rsa_verify"] + prims["c14n_envelope"]
            results[f"round_trip_ratio_to_receive_{key}"] = round(per_rt / receive_s, 2)
            results[f"round_trip_ratio_to_primitives_{key}"] = round(per_rt / rt_floor, 1)
            print(
                f"loopback HTTP round trips (10 KB, sequential, plain HTTP, receiver process, {label}): "
                f"{rps:.1f}/s = {per_rt / receive_s:.2f}x the in-process receive cost, "
                f"{per_rt / rt_floor:.0f}x (receive primitives + receipt RSA verify + c14n); CPU per round "
                f"trip: receiver process {_fmt_ms(server_cpu)}, sender {_fmt_ms(client_cpu)}"
            )
            if noop:
                # The HTTP layer's share: CPU over HTTP against the same work in process, each side's
                # whole per-message work. The receiver's is the receive (decrypt, verify, SBDH, signed
                # receipt); the sender's is the build (SBDH, gzip, sign, encrypt, MIME) plus checking
                # the receipt. The messages of the loop are built before the clock starts, so the
                # build measured above is added to both sides of the sender's ratio. (Until issue 11
                # the sender's ratio left the build out of both: HTTP client + receipt check over the
                # receipt check alone, i.e. the HTTP client's CPU against a quarter of the sender's
                # crypto work, which no HTTP client could meet.)
                http_client = client_cpu - sender_s
                sending = build_s + sender_s
                results["http_receiver_cpu_ratio"] = round(server_cpu / receive_cpu, 2)
                results["http_sender_cpu_ratio"] = round((sending + http_client) / sending, 2)
                results["http_sender_client_cpu_ms"] = round(http_client * 1000, 3)
                print(
                    f"  HTTP layer: receiver CPU {server_cpu / receive_cpu:.2f}x in-process receive CPU; "
                    f"sender CPU {(sending + http_client) / sending:.2f}x in-process build + receipt "
                    f"check ({_fmt_ms(sending)}): the HTTP client adds {_fmt_ms(http_client)} per post "
                    f"({client_cpu / sender_s:.2f}x the receipt check alone)"
                )

        large_mb = int(os.environ.get("AS4_BENCH_LARGE_MB", "1" if quick() else "100"))
        if large_mb > 0:
            results["large"] = large_run(pki, work, large_mb)
    print(json.dumps(results, indent=2))
    return results


def large_run(pki: Any, work: Path, size_mb: int) -> dict[str, Any]:
    """Send ``size_mb`` MB to a receiver in a child process; report peak RSS growth on both sides."""
    from transport.sbdh import write_sbd
    from transport.sender import As4Sender

    doc = work / "large.xml"
    small = ubl_document(2000)
    head, tail = small[: -len(b"</Invoice>\n")], b"</Invoice>\n"
    with doc.open("wb") as fh:
        fh.write(head)
        written = len(head)
        while written < size_mb * 1024 * 1024:
            # fresh random text per note: compresses ~2:1 like real data, no gzip shortcut
            chunk = b"<cbc:Note>" + os.urandom(32 * 1024).hex().encode() + b"</cbc:Note>"
            fh.write(chunk)
            written += len(chunk)
        fh.write(tail)
    sbdh = sbdh_for(small)
    sbd_path = work / "large.sbd.xml"
    with sbd_path.open("wb") as out:
        write_sbd(sbdh, doc, out)
    doc.unlink()
    with child_receiver(pki, work, "large") as (url, child):
        child_base = peak_rss_kib(child.pid)[0]
        reset_peak_rss()
        base_rss = peak_rss_kib()[0]
        t0 = time.perf_counter()
        message = build_message(pki, sbd_path, sbdh, spool_dir=work)
        t_build = time.perf_counter() - t0
        with As4Sender(allow_http=True) as client:
            t1 = time.perf_counter()
            outcome = client.post(message, url, pki.aps[1].certificate())
            t_send = time.perf_counter() - t1
        sender_growth = (peak_rss_kib()[1] - base_rss) / 1024
        receiver_growth = (peak_rss_kib(child.pid)[1] - child_base) / 1024
    delivered = outcome.delivered
    # payloads are stored under their SHA-256 (access_point.store.blobs): the name is the check
    digest = _sha256(sbd_path)
    received = list((work / "large-inbox" / "payloads").glob("*/*"))
    identical = [p.name for p in received] == [digest] and _sha256(received[0]) == digest
    result = {
        "payload_mb": size_mb,
        "delivered": delivered,
        "payload_byte_identical": identical,
        "sender_peak_rss_growth_mb": round(sender_growth, 1),
        "receiver_peak_rss_growth_mb": round(receiver_growth, 1),
        "build_s": round(t_build, 2),
        "send_and_receive_s": round(t_send, 2),
    }
    print(
        f"large message {size_mb} MB: delivered={delivered}, byte-identical={identical}; "
        f"peak RSS growth sender {sender_growth:.1f} MB, "
        f"receiver {receiver_growth:.1f} MB; build {t_build:.1f} s, post+receive {t_send:.1f} s"
    )
    return result


if __name__ == "__main__":
    main()
