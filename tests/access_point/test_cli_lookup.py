"""``ap lookup`` against the loopback SML + TLS SMP world: steps, JSON, exit code per failure class."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from tests.smp_client.world import AP_URL, DOCTYPE, ORDER, PROCESS, P, World, smp_path, smp_world

__all__ = ["smp_world"]

runner = CliRunner()


def _args(world: World, scenario: str, *extra: str, doctype: str | None = DOCTYPE) -> list[str]:
    pki = world.pki
    args = [
        "lookup", P[scenario],
        "--zone", "sml.loopback.test",
        "--nameserver", world.dns.nameserver,
        "--smp-trust", str(pki.smp_truststore),
        "--ap-trust", str(pki.ap_truststore),
        "--tls-ca", str(pki.tls_truststore),
        "--crl", str(pki.ap_crl),
        "--no-fetch",
        "--revocation", "hard-fail",
    ]  # fmt: skip
    if doctype:
        args += ["--doctype", doctype, "--process", PROCESS]
    return args + list(extra)


def test_cli_lookup_prints_every_step(smp_world: World) -> None:
    result = runner.invoke(app, _args(smp_world, "good"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    needles = ["dns-name", "naptr", "Meta:SMP", "smp-url", "GET https://127.0.0.1", "→ 200", "signature"]
    needles += ["PFR000501", "endpoint", AP_URL, "PFR000001", "revocation checked"]
    for needle in needles:
        assert needle in out, needle


def test_cli_lookup_json(smp_world: World) -> None:
    result = runner.invoke(app, [*_args(smp_world, "good"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["participant"] == P["good"]
    assert data["smp_url"] == smp_world.smp_url
    assert data["signature_valid"] is True
    [endpoint] = data["endpoints"]
    assert endpoint["url"] == AP_URL
    assert endpoint["transport_profile"] == "peppol-transport-as4-v2_0"
    assert "CN=PFR000001" in endpoint["certificate_subject"]
    assert endpoint["certificate_valid"] is True


def test_cli_lookup_without_doctype_lists_service_group(smp_world: World) -> None:
    result = runner.invoke(app, [*_args(smp_world, "good", doctype=None), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["document_types"] == [DOCTYPE, ORDER]
    table = runner.invoke(app, _args(smp_world, "good", doctype=None))
    assert table.exit_code == 0 and "2 document type(s)" in table.stdout


@pytest.mark.parametrize(
    ("scenario", "extra", "code", "error"),
    [
        ("unknown", (), 3, "PARTICIPANT_NOT_REGISTERED"),
        ("servfail", (), 4, "DNS_TECHNICAL_FAILURE"),
        ("nosmp", (), 5, "NO_MATCHING_SMP_SERVICE"),
        ("badregexp", (), 6, "RESOLVED_URI_SYNTAX_ERROR"),
        ("slow", ("--read-timeout", "0.3"), 7, "SMP_UNAVAILABLE"),
        ("notserved", (), 8, "SMP_NOT_FOUND"),
        ("tampered", (), 9, "SMP_BAD_SIGNATURE"),
        ("apsigned", (), 9, "SMP_SIGNER_UNTRUSTED"),
        ("found302", (), 9, "SMP_HTTP_ERROR"),
        ("as2only", (), 10, "NO_MATCHING_ENDPOINT"),
        ("revoked", (), 11, "UNTRUSTED_ENDPOINT_CERTIFICATE"),
    ],
)
def test_cli_lookup_exit_code_per_failure_class(
    smp_world: World, scenario: str, extra: tuple[str, ...], code: int, error: str
) -> None:
    result = runner.invoke(app, _args(smp_world, scenario, *extra))
    assert result.exit_code == code, result.output
    assert error in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1


def test_cli_lookup_failure_as_json(smp_world: World) -> None:
    result = runner.invoke(app, [*_args(smp_world, "unknown"), "--json"])
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["error"]["code"] == "PARTICIPANT_NOT_REGISTERED" and data["error"]["retryable"] is False
    assert data["steps"][0]["step"] == "dns-name"


SMP_TRUST, AP_TRUST = "{smp_trust}", "{ap_trust}"  # replaced by the test PKI's trust stores


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["lookup", "not-a-participant"], "'not-a-participant' is not of the form 'scheme::value'"),
        (["lookup", "iso6523-actorid-upis::9915:good", "--zone", "nodots"], "unknown SML zone 'nodots'"),
        (
            ["lookup", "iso6523-actorid-upis::9915:good", "--doctype", "busdox-docid-qns::x::y##z::1"],
            "--process is required",
        ),
        (
            ["lookup", "iso6523-actorid-upis::9915:good", "--nameserver", "127.0.0.1:0"],
            "invalid name server '127.0.0.1:0'",
        ),
        (
            [
                "lookup",
                "iso6523-actorid-upis::9915:good",
                "--smp-trust",
                SMP_TRUST,
                "--ap-trust",
                "/nonexistent.pem",
            ],
            "cannot load trust store /nonexistent.pem",
        ),
        (["lookup", "iso6523-actorid-upis::9915:good"], "an AP trust store is required"),
        (
            ["lookup", "iso6523-actorid-upis::9915:good", "--ap-trust", AP_TRUST],
            "an SMP trust store is required",
        ),
    ],
    ids=["participant", "zone", "doctype", "nameserver", "ap-trust", "no-ap-trust", "no-smp-trust"],
)
def test_cli_lookup_usage_errors_exit_2(args: list[str], reason: str, test_pki: Any) -> None:
    """Each case fails for its own reason (before: the 'ap-trust' case was refused for the missing SMP
    trust store, not for the unreadable AP trust store it names)."""
    stores = {SMP_TRUST: str(test_pki.smp_truststore), AP_TRUST: str(test_pki.ap_truststore)}
    args = [stores.get(a, a) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and reason in result.stderr, result.stderr


def test_cli_lookup_static_directory(tmp_path: Path, smp_world: World) -> None:
    pki = smp_world.pki
    (tmp_path / "ap.pem").write_bytes(pki.aps[0].cert.read_bytes())
    path = tmp_path / "dir.yaml"
    path.write_text(
        "participants:\n"
        f"  - id: {P['good']}\n"
        "    services:\n"
        f'      - document_type: "{DOCTYPE}"\n'
        f"        process: {PROCESS}\n"
        "        endpoints:\n"
        "          - url: https://static.example.test/as4\n"
        "            certificate: ap.pem\n"
    )
    args = ["lookup", P["good"], "--doctype", DOCTYPE, "--process", PROCESS, "--static", str(path), "--json",
            "--ap-trust", str(pki.ap_truststore), "--crl", str(pki.ap_crl), "--no-fetch"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "static" and data["signature_valid"] is None
    assert data["endpoints"][0]["url"] == "https://static.example.test/as4"
    assert data["endpoints"][0]["certificate_valid"] is True
    bad = tmp_path / "bad.yaml"
    bad.write_text("participants: nope")
    refused = runner.invoke(app, ["lookup", P["good"], "--static", str(bad)])
    assert refused.exit_code == 2
    assert "expected a mapping with a 'participants' list" in refused.stderr


def test_cli_lookup_ambiguous_process_is_a_usage_error(smp_world: World) -> None:
    args = _args(smp_world, "good")
    args = args[: args.index("--process")] + args[args.index("--process") + 2 :]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--process is required" in result.stderr


@pytest.mark.parametrize("option", ["--tls-ca", "--ap-trust", "--smp-trust"])
def test_cli_lookup_missing_or_garbage_files_exit_2(smp_world: World, tmp_path: Path, option: str) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    for path in (tmp_path / "missing.pem", garbage):
        args = _args(smp_world, "good")
        args[args.index(option) + 1] = str(path)
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "error:" in result.stderr and "Traceback" not in result.output


def test_cli_lookup_garbage_crl_is_not_a_crash(smp_world: World, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.crl"
    garbage.write_bytes(b"\x30\x03\x02\x01\x00not a crl")
    args = _args(smp_world, "good")
    args[args.index("--crl") + 1] = str(garbage)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "CRL" in result.stderr


@pytest.mark.parametrize("smp_url", ["ftp://smp.example/", "https://", "not a url"])
def test_cli_lookup_bad_smp_url(smp_world: World, smp_url: str) -> None:
    result = runner.invoke(app, [*_args(smp_world, "good"), "--smp-url", smp_url])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "--smp-url" in result.stderr


def test_cli_lookup_historic_corpus_response_with_explicit_legacy_options(
    smp_world: World, corpus: Path
) -> None:
    """The real 2018 SMP answer served by the loopback SMP: its signature verifies only with
    --legacy-sha1, --insecure-skip-smp-signer-trust and --at 2018-09-15; its G2 AP certificate is then
    (rightly) rejected by the G3 AP trust store."""
    body = (corpus / "smp" / "peppol-commons" / "signed-service-metadata3-c14n-inclusive.xml").read_bytes()
    participant = "iso6523-actorid-upis::0106:55872255"
    doctype = (
        "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:www.cenbii.eu:"
        "transaction:biitrns010:ver2.0:extended:urn:www.peppol.eu:bis:peppol4a:ver2.0:extended:"
        "urn:www.simplerinvoicing.org:si:si-ubl:ver1.1.x::2.1"
    )
    smp_world.smp.xml(smp_path(participant, doctype), body)
    pki = corpus / "pki" / "peppol"
    args = [
        "lookup", participant, "--doctype", doctype,
        "--process", "cenbii-procid-ubl::urn:www.cenbii.eu:profile:bii04:ver1.0",
        "--smp-url", smp_world.smp_url, "--tls-ca", str(smp_world.pki.tls_truststore),
        "--ap-trust", str(pki / "ap-prod-truststore.pem"), "--no-fetch", "--revocation", "off",
        "--at", "2018-09-15T00:00:00+00:00", "--json",
    ]  # fmt: skip
    strict = runner.invoke(app, [*args, "--smp-trust", str(pki / "smp-prod-truststore.pem")])
    assert strict.exit_code == 9, strict.output  # SHA-1 refused by default
    assert "legacy" in strict.stderr
    legacy = runner.invoke(app, [*args, "--legacy-sha1", "--insecure-skip-smp-signer-trust"])
    assert legacy.exit_code == 11, legacy.output
    data = json.loads(legacy.stdout)
    signature = next(s for s in data["steps"] if s["step"] == "signature")
    assert "CN=PNL000052" in signature["signer"] and "NOT checked" in signature["summary"]
    assert "insecure" in legacy.stderr.lower()


def test_cli_lookup_pint_wildcard(smp_world: World) -> None:
    from tests.smp_client.world import PINT_WILDCARD

    specific = PINT_WILDCARD.replace("billing-1*", "billing-1@jp-1")
    args = [*_args(smp_world, "pint", doctype=None), "--doctype", specific, "--process", PROCESS, "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["document_type"] == PINT_WILDCARD
    assert any(step["step"] == "wildcard" for step in data["steps"])
