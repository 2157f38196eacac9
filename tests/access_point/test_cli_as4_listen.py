"""``ap as4 serve`` announces the port it really listens on and fails cleanly when it cannot listen;
``ap as4 send --crl`` without ``--trust`` is a usage error instead of a silently skipped check."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from typer.testing import CliRunner

from access_point.cli import app

STARTUP_SECONDS = 30.0


def serve_args(pki: Any, port: int, inbox: Path) -> list[str]:
    return [
        sys.executable, "-m", "access_point.cli", "as4", "serve", "--port", str(port), "--host", "127.0.0.1",
        "--key", str(pki.aps[1].key), "--cert", str(pki.aps[1].cert),
        "--trust", str(pki.ap_truststore), "--inbox", str(inbox),
        "--participant", "iso6523-actorid-upis::0088:5798000000001",
    ]  # fmt: skip


def test_serve_on_port_0_announces_the_bound_port(test_pki: Any, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as fh:
        process = subprocess.Popen(
            serve_args(test_pki, 0, tmp_path / "in"), stdout=fh, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (m := re.search(r"listening on (http://127\.0\.0\.1:(\d+)/as4)", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert int(m.group(2)) != 0
        health = requests.get(m.group(1).replace("/as4", "/health"), timeout=5)
        assert health.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_on_a_busy_port_exits_3_with_one_line_and_no_announcement(
    test_pki: Any, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(serve_args(test_pki, port, tmp_path / "in"), capture_output=True, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 3, err
    assert "listening on" not in err
    lines = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0], err


def test_send_crl_without_trust_is_a_usage_error(test_pki: Any, tmp_path: Path) -> None:
    doc = tmp_path / "doc.xml"
    doc.write_bytes(b"<Invoice/>")
    result = CliRunner().invoke(
        app,
        [
            "as4",
            "send",
            str(doc),
            "--url",
            "https://127.0.0.1:9/as4",
            "--key",
            str(test_pki.aps[0].key),
            "--cert",
            str(test_pki.aps[0].cert),
            "--receiver-cert",
            str(test_pki.aps[1].cert),
            "--crl",
            str(test_pki.ap_crl),
        ],
    )
    assert result.exit_code == 2
    assert "--crl needs --trust" in result.output
