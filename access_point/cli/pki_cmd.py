"""``ap pki``: generate a test PKI, check certificates (thin layer over ``peppol.testpki`` / ``pki``)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from peppol.pki import (
    CertificateError,
    CertificateValidator,
    KeyLoadError,
    Purpose,
    RevocationPolicy,
    Stage,
    TrustStore,
    load_certificate,
    load_certificates,
    name_purpose,
    name_stage,
    seat_id,
)

#: Exit codes (``docs/cli.md``): 0 ok, 1 negative verdict, 2 usage error / unreadable input.
EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

pki_app = typer.Typer(help="Peppol PKI: generate a test PKI, check certificates.", no_args_is_help=True)


def _fail(console: Console, message: str, code: int = EXIT_USAGE) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


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
    table = Table(title=f"Test PKI in {pki.directory} (FOR TEST ONLY)")
    table.add_column("File", style="cyan", no_wrap=True)
    table.add_column("Role")
    for name, role in pki.roles():
        table.add_row(name, role)
    out = Console()
    out.print(table)
    out.print(f"generated in {elapsed:.2f} s; PKCS#12 password: {pki.p12_password.decode()}", highlight=False)


@pki_app.command("check")
def check(
    certificate: Annotated[Path, typer.Argument(help="Certificate to check (PEM or DER).")],
    truststore: Annotated[
        Path, typer.Option("--truststore", "-t", help="PEM bundle of roots and issuing CAs.")
    ],
    purpose: Annotated[Purpose, typer.Option("--purpose", help="What the certificate is for.")] = Purpose.AP,
    stage: Annotated[
        Stage | None, typer.Option("--stage", help="Required stage (default: the store's).")
    ] = None,
    crl: Annotated[
        list[Path] | None,
        typer.Option("--crl", metavar="FILE", help="Offline CRL file (DER or PEM), repeatable."),
    ] = None,
    revocation: Annotated[
        RevocationPolicy, typer.Option("--revocation", help="Revocation policy.")
    ] = RevocationPolicy.SOFT_FAIL,
    offline: Annotated[bool, typer.Option("--offline", help="Never fetch CRLs or OCSP responses.")] = False,
    at: Annotated[
        datetime | None, typer.Option("--at", help="Validate at this moment (ISO 8601, UTC if no zone).")
    ] = None,
) -> None:
    """Validate a certificate chain for a purpose and stage; exit 1 with the reason when it is rejected."""
    console = Console(stderr=True)
    try:
        certs = load_certificates(certificate)
        trust = TrustStore.from_pem(truststore)
        crls = [p.read_bytes() for p in crl or []]
    except (KeyLoadError, OSError) as exc:
        raise _fail(console, str(exc)) from exc
    try:
        validator = CertificateValidator(
            trust, purpose=purpose, stage=stage, revocation=revocation, crls=crls, allow_fetching=not offline
        )
    except KeyLoadError as exc:
        raise _fail(console, str(exc)) from exc
    try:
        result = validator.validate(certs[0], moment=at, intermediates=certs[1:])
    except CertificateError as exc:
        raise _fail(console, f"REJECTED [{exc.code}] {exc.reason}", EXIT_REJECTED) from exc
    out = Console()
    out.print(f"OK {result.subject}", highlight=False)
    if result.seat_id:
        out.print(f"seat id: {result.seat_id}", highlight=False)
    out.print(f"stage: {result.stage.value if result.stage else 'unknown'}; purpose: {purpose.value}")
    out.print("chain: " + " <- ".join(c.subject.rfc4514_string() for c in result.chain), highlight=False)
    out.print(f"revocation checked: {'yes' if result.revocation_checked else 'no'}")


@pki_app.command("show")
def show(certificate: Annotated[Path, typer.Argument(help="Certificate (PEM or DER).")]) -> None:
    """Print subject, issuer, validity and the Peppol reading (seat id, stage/purpose of the issuer)."""
    console = Console(stderr=True)
    try:
        cert = load_certificate(certificate)
    except KeyLoadError as exc:
        raise _fail(console, str(exc)) from exc
    table = Table(show_header=False)
    table.add_row("subject", cert.subject.rfc4514_string())
    table.add_row("issuer", cert.issuer.rfc4514_string())
    table.add_row("serial", f"{cert.serial_number:x}")
    table.add_row(
        "valid", f"{cert.not_valid_before_utc.isoformat()} .. {cert.not_valid_after_utc.isoformat()}"
    )
    try:
        table.add_row("seat id (CN)", seat_id(cert))
    except ValueError:
        table.add_row("seat id (CN)", "-")
    issuer_purpose = name_purpose(cert.issuer)
    table.add_row("issuer stage", name_stage(cert.issuer).value)
    table.add_row("issuer purpose", issuer_purpose.value if issuer_purpose else "-")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``pki`` command group to ``app``."""
    app.add_typer(pki_app, name="pki")
