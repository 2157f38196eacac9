"""``ap --log-format json as4 serve`` (a server logs at INFO unless a level is chosen) writes one JSON
line per AS4 message with its MessageId, sender, receiver, document type, verdict, ebMS code, duration
and request id (the caller's ``X-Request-ID`` when given, echoed in the response)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from typer.testing import CliRunner

from access_point.cli import app
from tests.access_point.test_cli_as4 import base_args
from tests.transport.test_receiver_support import DOCTYPE, RECEIVER, SENDER, build_message, make_sbd

STARTUP_SECONDS = 30.0
OTHER = "iso6523-actorid-upis::0088:5798000000099"


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_as4_serve_logs_one_json_line_per_message_with_its_fields(test_pki: Any, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    command = [
        # no --log-level: a server logs its per-message lines (INFO) unless the user chose a level
        sys.executable, "-m", "access_point.cli", "--log-format", "json",
        "as4", "serve", "--port", "0", "--host", "127.0.0.1",
        "--key", str(test_pki.aps[1].key), "--cert", str(test_pki.aps[1].cert),
        "--trust", str(test_pki.ap_truststore), "--inbox", str(tmp_path / "in"), "--participant", RECEIVER,
    ]  # fmt: skip
    with log.open("wb") as fh:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=fh)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (m := re.search(r"listening on (http://127\.0\.0\.1:\d+/as4)", log.read_text())):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        url = m.group(1)
        runner = CliRunner()
        for receiver in (RECEIVER, OTHER):  # accepted, then refused as not serviced
            sbd = tmp_path / "doc.xml"
            sbd.write_bytes(make_sbd(receiver=receiver))
            runner.invoke(app, [*base_args(test_pki, url), str(sbd), "--insecure-http"])
        message = build_message(test_pki)
        answer = requests.post(
            url,
            data=message.body,
            headers={"Content-Type": message.content_type, "X-Request-ID": "caller-req-1"},
            timeout=30,
        )
        assert answer.headers["x-request-id"] == "caller-req-1"
        deadline = time.monotonic() + 10
        while len([x for x in _json_lines(log.read_text()) if x["message"] == "as4 inbound"]) < 3:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
    lines = [x for x in _json_lines(log.read_text()) if x["message"] == "as4 inbound"]
    assert len(lines) == 3, lines
    accepted, refused, direct = lines
    for line in lines:
        assert line["level"] == "info" and line["logger"] == "access_point.messages"
        assert line["direction"] == "inbound" and line["http_status"] == 200
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
        assert re.fullmatch(r"[0-9a-z-]{8,}", line["request_id"])
        assert line["message_id"]
    assert accepted["verdict"] == "accepted" and accepted["ebms_code"] is None
    assert accepted["sender"] == SENDER and accepted["receiver"] == RECEIVER
    assert accepted["document_type"] == DOCTYPE
    assert refused["verdict"] == "rejected" and refused["ebms_code"] == "EBMS:0004"
    assert refused["peppol_code"] == "PEPPOL:NOT_SERVICED"
    assert refused["request_id"] != accepted["request_id"]
    assert direct["request_id"] == "caller-req-1" and direct["message_id"] == message.message_id
