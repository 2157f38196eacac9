"""What every ``ap`` command does the same way (issue 14 item 7): no wrapping when piped, readable
metavars and listed choices, one-line errors, a JSON report even for unreadable inputs,
``python -m access_point``, structured log lines."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from access_point.logs import configure_logging, request_context

runner = CliRunner()


def _ap(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m access_point ARGS`` in a fresh process, stdout and stderr piped (not terminals)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "AP_KEY_PASSWORD")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "access_point", *args], capture_output=True, text=True, cwd=cwd, env=full_env
    )


def test_python_dash_m_access_point_runs_the_cli() -> None:
    proc = _ap("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("ap (procurement-access-point) ")


def test_piped_output_is_not_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-directory-name-" * 4) / "pki"
    proc = _ap("pki", "init", str(deep), "--aps", "1")
    assert proc.returncode == 0, proc.stderr
    assert any(str(deep) in line for line in proc.stdout.splitlines())  # the path on one line
    listing = _ap("validate", "--list-types")
    rows = [line for line in listing.stdout.splitlines() if "peppol-t004" in line]
    assert rows and "UBL-CallForTenders-2.2.xsd" in rows[0]  # a whole row on one line, columns not squeezed


def test_help_shows_readable_metavars_and_choices() -> None:
    text = _ap("validate", "--help").stdout + _ap("pki", "check", "--help").stdout
    for python_type in ("<bool>", "<list[Path]>", "<path>", "<str>", "<int"):
        assert python_type not in text
    assert "text|json|svrl|junit|html" in text
    assert "hard-fail|soft-fail|off" in text and "FILE" in text


def test_usage_errors_are_one_line_naming_the_flag() -> None:
    proc = _ap("pki", "check", "cert.pem", "--purpose", "nope")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "--purpose" in proc.stderr and "'ap pki check --help'" in proc.stderr and "╭" not in proc.stderr


def test_validate_missing_file_with_json_format_still_prints_a_json_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.xml"), "-f", "json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["result"] == "ERROR"
    assert report["documents"][0]["error"]["code"] == "not-found"
    assert "missing.xml" in result.stderr


def test_validate_list_types_json() -> None:
    result = runner.invoke(app, ["validate", "--list-types", "--json"])
    assert result.exit_code == 0
    types = json.loads(result.stdout)
    keys = {t["key"] for t in types}
    assert "peppol-t004" in keys
    assert set(types[0]) == {"key", "name", "root", "xsd", "schematron", "phase"}


def test_a_directory_given_as_a_file_is_named_without_errno(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pki", "show", str(tmp_path)])
    assert result.exit_code == 2
    assert "Is a directory" in result.stderr and "[Errno" not in result.stderr


def test_json_log_lines_carry_the_message_fields_and_request_id() -> None:
    import io

    stream = io.StringIO()
    handler = configure_logging("info", "json", stream=stream)
    try:
        log = logging.getLogger("transport.receiver")
        with request_context("req-1"):
            log.info(
                "message received",
                extra={
                    "message_id": "m-1@ap",
                    "sender": "0088:1",
                    "receiver": "0088:2",
                    "document_type": "invoice",
                    "verdict": "accepted",
                    "ebms_code": None,
                    "duration_ms": 12.5,
                },
            )
        log.warning("no request")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert list(first)[:5] == ["timestamp", "level", "logger", "message", "request_id"]
    assert first["timestamp"].endswith("Z") and first["level"] == "info"
    assert first["logger"] == "transport.receiver" and first["request_id"] == "req-1"
    assert {
        k: first[k] for k in ("message_id", "sender", "receiver", "document_type", "verdict", "ebms_code")
    } == {
        "message_id": "m-1@ap",
        "sender": "0088:1",
        "receiver": "0088:2",
        "document_type": "invoice",
        "verdict": "accepted",
        "ebms_code": None,
    }
    assert first["duration_ms"] == 12.5
    assert "request_id" not in second and second["level"] == "warning"


def test_log_format_json_option_makes_library_warnings_json(test_pki: object, tmp_path: Path) -> None:
    pki = test_pki
    proc = _ap(
        "--log-format",
        "json",
        "pki",
        "check",
        str(pki.revoked_ap.cert),  # type: ignore[attr-defined]
        "-t",
        str(pki.ap_truststore),  # type: ignore[attr-defined]
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert len(lines) == 1
    assert lines[0]["level"] == "warning" and lines[0]["logger"] == "peppol.pki"
    assert "could not be checked" in lines[0]["message"]


@pytest.mark.parametrize("bad", ["--log-level=loud", "--log-format=xml"])
def test_bad_log_options_are_usage_errors(bad: str) -> None:
    proc = _ap(bad, "id", "doctypes")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: Invalid value for '--log-") and proc.stderr.count("\n") == 1


def test_lookup_errors_name_the_trust_flags() -> None:
    result = runner.invoke(app, ["lookup", "iso6523-actorid-upis::9915:good"])
    assert result.exit_code == 2
    assert "--ap-trust FILE or --network" in result.stderr
    result = runner.invoke(app, ["lookup", "iso6523-actorid-upis::9915:good", "--ap-trust", "x.pem"])
    assert result.exit_code == 2
    assert "--smp-trust FILE or --network" in result.stderr


def test_usage_is_checked_before_any_work(tmp_path: Path) -> None:
    source = tmp_path / "release.json"
    source.write_text('{"ocid": "ocds-x-1", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"]}')
    result = runner.invoke(app, ["convert", str(source), "--from", "ocds", "--to", "decp", "--validate"])
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing converted or printed before the usage error
    assert "--decp-schema" in result.stderr


def test_describe_and_warn_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from access_point.cli import _console

    try:
        tmp_path.read_bytes()
    except OSError as exc:
        assert _console.describe(exc) == f"{tmp_path}: Is a directory"
    _console.reset_warnings()
    _console.warn("SMP signer trust is NOT checked")
    _console.warn("SMP signer trust is NOT checked")
    assert capsys.readouterr().err.count("warning: SMP signer trust is NOT checked") == 1
