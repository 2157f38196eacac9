"""``ap pki``: generate a test PKI, check certificates (thin layer over ``peppol.testpki`` / ``pki``)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from access_point.cli._console import describe, emit_json
from peppol.pki import (
    CertificateError,
    CertificateValidator,
    KeyLoadError,
    Purpose,
    RevocationPolicy,
    Stage,
    ValidatedCertificate,
    load_certificate,
    load_certificates,
    name_purpose,
    name_stage,
    seat_id,
    select_truststore,
)

#: Exit codes (``docs/cli.md``): 0 ok, 1 negative verdict, 2 usage error / unreadable input.
EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

pki_app = typer.Typer(help="Peppol PKI: generate a test PKI, check certificates.", no_args_is_help=True)


def _fail(console: Console, message: str, code: int = EXIT_USAGE, *, as_json: bool = False) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    if as_json:
        kind = "rejected" if code == EXIT_REJECTED else "usage"
        emit_json({"valid": False, "error": {"code": kind, "message": message}})
    return typer.Exit(code)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (shape in docs/cli.md).")]


@pki_app.command("init")
def init(
    directory: Annotated[
        Path, typer.Argument(help="Directory to write the test PKI into (created if missing).")
    ],
    aps: Annotated[int, typer.Option("--aps", min=1, max=999, help="Number of valid AP certificates.")] = 2,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a test PKI already in DIRECTORY.")
    ] = False,
) -> None:
    """Write a Peppol-G3-shaped TEST PKI (CAs, AP/SMP/TLS certificates, CRL, trust stores, PKCS#12)."""
    from peppol.testpki import generate_test_pki

    console = Console(stderr=True)
    if directory.exists() and not directory.is_dir():
        raise _fail(console, f"{directory} exists and is not a directory")
    started = time.perf_counter()
    try:
        pki = generate_test_pki(directory, ap_count=aps, overwrite=force)
    except FileExistsError as exc:
        raise _fail(console, str(exc)) from exc
    except OSError as exc:
        raise _fail(console, f"cannot write {directory}: {exc.strerror or exc}") from exc
    elapsed = time.perf_counter() - started
    # the directory on its own line: a table title would be wrapped to the table's width
    table = Table()
    table.add_column("File", style="cyan", no_wrap=True)
    table.add_column("Role")
    for name, role in pki.roles():
        table.add_row(name, role)
    out = Console()
    out.print(f"Test PKI in {escape(str(pki.directory))} (FOR TEST ONLY)", highlight=False, soft_wrap=True)
    out.print(table)
    out.print(f"generated in {elapsed:.2f} s; PKCS#12 password: {pki.p12_password.decode()}", highlight=False)


@pki_app.command("check")
def check(
    certificate: Annotated[Path, typer.Argument(help="Certificate to check (PEM or DER).")],
    truststore: Annotated[
        Path | None,
        typer.Option(
            "--truststore", "-t", help="PEM bundle of roots and issuing CAs (default: the --network's CAs)."
        ),
    ] = None,
    network: Annotated[
        Stage | None,
        typer.Option("--network", help="Trust the shipped OpenPeppol CAs of this network (and require it)."),
    ] = None,
    purpose: Annotated[Purpose, typer.Option("--purpose", help="What the certificate is for.")] = Purpose.AP,
    stage: Annotated[
        Stage | None, typer.Option("--stage", help="Required stage (default: the network's or the store's).")
    ] = None,
    crl: Annotated[
        list[Path] | None,
        typer.Option("--crl", metavar="FILE", help="Offline CRL file (DER or PEM), repeatable."),
    ] = None,
    revocation: Annotated[
        RevocationPolicy,
        typer.Option("--revocation", help="When the revocation status cannot be established."),
    ] = RevocationPolicy.SOFT_FAIL,
    offline: Annotated[bool, typer.Option("--offline", help="Never fetch CRLs or OCSP responses.")] = False,
    at: Annotated[
        datetime | None, typer.Option("--at", help="Validate at this moment (ISO 8601, UTC if no zone).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a certificate chain for a purpose and stage; exit 1 with the reason when it is rejected.

    A revocation status that could not be established (CRL/OCSP unreachable) is a warning under
    --revocation soft-fail and a rejection under hard-fail.
    """
    console = Console(stderr=True)
    if truststore is None and network is None:
        raise _fail(
            console, "give the trust: -t/--truststore FILE or --network test|production", as_json=as_json
        )
    try:
        certs = load_certificates(certificate)
        trust = select_truststore(network, truststore)
        crls = [p.read_bytes() for p in crl or []]
    except KeyLoadError as exc:
        raise _fail(console, str(exc), as_json=as_json) from exc
    except OSError as exc:
        raise _fail(console, describe(exc), as_json=as_json) from exc
    assert trust is not None
    try:
        validator = CertificateValidator(
            trust,
            purpose=purpose,
            stage=stage or network,
            revocation=revocation,
            crls=crls,
            allow_fetching=not offline,
        )
    except KeyLoadError as exc:
        raise _fail(console, f"--crl: {exc}", as_json=as_json) from exc
    try:
        result = validator.validate(certs[0], moment=at, intermediates=certs[1:])
    except CertificateError as exc:
        message = f"REJECTED [{exc.code}] {exc.reason}"
        console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        if as_json:
            emit_json({"valid": False, "error": {"code": exc.code, "message": exc.reason}})
        raise typer.Exit(EXIT_REJECTED) from exc
    # the soft-fail itself is logged once on stderr by peppol.pki (a WARNING record); stdout says it too
    warnings = _revocation_warnings(result, revocation)
    if as_json:
        emit_json(_check_json(result, purpose, revocation, warnings))
        return
    out = Console(highlight=False, soft_wrap=True)
    head = "OK" if not warnings else "OK with warnings:"
    out.print(f"{head} {escape(result.subject)}")
    if result.seat_id:
        out.print(f"seat id: {result.seat_id}")
    out.print(f"stage: {result.stage.value if result.stage else 'unknown'}; purpose: {purpose.value}")
    out.print("chain: " + " <- ".join(escape(c.subject.rfc4514_string()) for c in result.chain))
    out.print(f"revocation: {_REVOCATION_TEXT[result.revocation_status]}")
    for text in warnings:
        out.print(f"warning: {escape(text)}")


_REVOCATION_TEXT = {
    "checked": "checked, not revoked",
    "unknown": "UNKNOWN, could not be checked (accepted under --revocation soft-fail)",
    "not-checked": "not checked (no CRL/OCSP URL in the certificate, or --revocation off)",
}


def _revocation_warnings(result: ValidatedCertificate, policy: RevocationPolicy) -> list[str]:
    if result.revocation_status != "unknown":
        return []
    return [
        f"the revocation status of {result.subject} could not be checked ({result.revocation_warning}); "
        f"accepted under --revocation {policy.value}: give the CA's CRL with --crl FILE, or refuse such "
        "certificates with --revocation hard-fail"
    ]


def _check_json(
    result: ValidatedCertificate, purpose: Purpose, policy: RevocationPolicy, warnings: list[str]
) -> dict[str, object]:
    return {
        "valid": True,
        "subject": result.subject,
        "seat_id": result.seat_id,
        "stage": result.stage.value if result.stage else None,
        "purpose": purpose.value,
        "chain": [c.subject.rfc4514_string() for c in result.chain],
        "revocation": {
            "status": result.revocation_status,
            "policy": policy.value,
            "reason": result.revocation_warning,
        },
        "warnings": warnings,
    }


@pki_app.command("show")
def show(
    certificate: Annotated[Path, typer.Argument(help="Certificate (PEM or DER).")], as_json: JsonOpt = False
) -> None:
    """Print subject, issuer, validity and the Peppol reading (seat id, stage/purpose of the issuer)."""
    console = Console(stderr=True)
    try:
        cert = load_certificate(certificate)
    except KeyLoadError as exc:
        raise _fail(console, str(exc)) from exc
    facts = describe_certificate(cert)
    if as_json:
        emit_json(facts)
        return
    table = Table(show_header=False)
    for label, key in (
        ("subject", "subject"),
        ("issuer", "issuer"),
        ("serial", "serial"),
        ("valid from", "not_before"),
        ("valid until", "not_after"),
        ("seat id (CN)", "seat_id"),
        ("issuer stage", "issuer_stage"),
        ("issuer purpose", "issuer_purpose"),
        ("SHA-256", "sha256"),
    ):
        value = facts[key]
        table.add_row(label, "-" if value is None else escape(str(value)))
    Console().print(table)


def describe_certificate(cert: x509.Certificate) -> dict[str, str | None]:
    """What ``ap pki show`` prints (and its ``--json`` shape)."""
    try:
        seat: str | None = seat_id(cert)
    except ValueError:
        seat = None
    issuer_purpose = name_purpose(cert.issuer)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": f"{cert.serial_number:x}",
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "seat_id": seat,
        "issuer_stage": name_stage(cert.issuer).value,
        "issuer_purpose": issuer_purpose.value if issuer_purpose else None,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def register(app: typer.Typer) -> None:
    """Add the ``pki`` command group to ``app``."""
    app.add_typer(pki_app, name="pki")
