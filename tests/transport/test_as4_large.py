"""Large payloads stream: a 100 MB SBD goes through build → process_inbound → receipt with less than
64 MB peak RSS growth. Measured in a fresh interpreter so other tests' peaks cannot hide a regression."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAYLOAD_MB = 100
RSS_BUDGET_MB = 64

SCRIPT = textwrap.dedent(
    """
    import hashlib, json, os, resource, sys
    from pathlib import Path
    from peppol.testpki import generate_test_pki
    from tests.transport.test_as4_roundtrip import make_header
    from transport.as4 import build_receipt, build_user_message, process_inbound
    from tests.transport.as4_split import split_outbound

    work = Path(sys.argv[1]); size = int(sys.argv[2]) * 1024 * 1024
    pki = generate_test_pki(work / "pki")
    sender, receiver = pki.aps[0].identity(), pki.aps[1].identity()
    header = make_header(pki)
    block = b"".join(b"<Line n='%d'>%s</Line>\\n" % (i, os.urandom(24).hex().encode()) for i in range(16000))
    src = work / "big.xml"
    digest = hashlib.sha256()
    with src.open("wb") as fh:
        for chunk in (b"<StandardBusinessDocument>", *([block] * (size // len(block) + 1)),
                      b"</StandardBusinessDocument>"):
            fh.write(chunk); digest.update(chunk)
    del block
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = peak()
    msg = build_user_message(header, src, signer=sender, recipient_certificate=receiver.certificate,
                             spool_dir=work)
    envelope, parts = split_outbound(msg, work)
    inbound = process_inbound(envelope, parts, identity=receiver, validate_signer=lambda c: None,
                              work_dir=work)
    receipt = build_receipt(inbound, signer=receiver)
    got = hashlib.sha256()
    with inbound.payload_path.open("rb") as fh:
        while b := fh.read(1 << 20):
            got.update(b)
    print(json.dumps({"growth_mb": peak() - base, "same": got.digest() == digest.digest(),
                      "spooled": msg.body_path is not None, "size": src.stat().st_size,
                      "receipt": len(receipt)}))
    """
)


@pytest.mark.slow
def test_large_payload_100mb_streams_under_64mb_rss(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(PAYLOAD_MB)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["same"] and result["spooled"]
    assert result["size"] >= PAYLOAD_MB * 1024 * 1024
    assert result["growth_mb"] < RSS_BUDGET_MB, result
