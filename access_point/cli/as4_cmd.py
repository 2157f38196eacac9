"""``ap as4 serve`` and ``ap as4 send``: thin layers over :mod:`transport.server`, :mod:`transport.receiver`
and :mod:`transport.sender`.

Exit codes: 0 = delivered with a verified receipt (send) / clean shutdown (serve); 1 = the send failed
(error signal, invalid receipt, transport failure); 2 = bad input (unreadable files, bad identifiers,
insecure URL without the flag, --crl without --trust); 3 = serve cannot listen (port in use, address
not available).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from access_point.cli._keys import KeyPasswordFileOpt, load_cli_identity

_err = Console(stderr=True)

#: ``ap as4 serve``: the address cannot be bound (port in use, no such address).
EXIT_CANNOT_LISTEN = 3

KeyOpt = Annotated[
    Path, typer.Option("--key", help="Our AP private key: PEM (optionally encrypted) or PKCS#12 (.p12).")
]
CertOpt = Annotated[
    Path | None,
    typer.Option("--cert", help="Our AP certificate (PEM, chain after the leaf); optional with a .p12 key."),
]


def _bad_input(reason: str) -> typer.Exit:
    _err.print(f"[red]error:[/red] {reason}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _validator(trust: Path, crl: Path | None) -> Any:
    from peppol.pki import CertificateValidator, Purpose, RevocationPolicy, TrustStore

    crls = (crl.read_bytes(),) if crl else ()
    return CertificateValidator(
        TrustStore.from_pem(trust),
        purpose=Purpose.AP,
        crls=crls,
        revocation=RevocationPolicy.HARD_FAIL if crl else RevocationPolicy.SOFT_FAIL,
        allow_fetching=crl is None,
    )


def _check_tls_files(cert: Path, key: Path) -> None:
    """Load the TLS pair once so a bad file is a one-line error, not a server start-up traceback."""
    import ssl

    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))


def serve(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port to listen on.")],
    key: KeyOpt,
    trust: Annotated[Path, typer.Option("--trust", help="AP CA bundle (PEM) that signers must chain to.")],
    inbox: Annotated[
        Path, typer.Option("--inbox", help="Directory for accepted messages (.sbd.xml + .json).")
    ],
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="TLS server certificate chain (PEM).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="TLS server private key (PEM).")] = None,
    crl: Annotated[
        Path | None, typer.Option("--crl", help="CRL of the AP CA (offline revocation checks).")
    ] = None,
    cert: CertOpt = None,
    key_password_file: KeyPasswordFileOpt = None,
) -> None:
    """Run the AS4 receiver at /as4; accepted messages are written to the inbox directory."""
    from transport.receiver import DirectoryInbox, ReceiverConfig
    from transport.server import create_app, run_server

    if (tls_cert is None) != (tls_key is None):
        raise _bad_input("--tls-cert and --tls-key go together")
    identity = load_cli_identity(key, cert, key_password_file)
    try:
        validator = _validator(trust, crl)
        hooks = DirectoryInbox(inbox)
        if tls_cert is not None and tls_key is not None:
            _check_tls_files(tls_cert, tls_key)
    except Exception as exc:
        raise _bad_input(f"cannot load the receiver configuration: {exc}") from exc
    try:
        # Self-check, and warms the validator before concurrent requests use it.
        validator.validate(identity.certificate)
    except Exception as exc:
        _err.print(
            f"[yellow]warning: our own AP certificate does not validate against --trust: {exc}[/yellow]"
        )
    # The inbox doubles as a durable duplicate store: resends after a restart get the same receipt.
    config = ReceiverConfig(identity=identity, validate_signer=validator.validate, duplicates=hooks)
    if tls_cert is None:
        _err.print(
            "[bold red]WARNING: serving AS4 over PLAIN HTTP (no --tls-cert/--tls-key). "
            "Peppol requires TLS; use this only for local tests.[/bold red]"
        )

    def announce(url: str) -> None:
        _err.print(
            f"AS4 receiver {identity.seat_id} listening on {url}, inbox {inbox}",
            highlight=False,
            soft_wrap=True,
        )

    try:
        run_server(
            create_app(config, hooks),
            host=host,
            port=port,
            tls_cert=tls_cert,
            tls_key=tls_key,
            on_listening=announce,
        )
    except OSError as exc:
        _err.print(
            f"[red]error:[/red] cannot listen on {host}:{port}: {exc.strerror or exc}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_CANNOT_LISTEN) from exc


def send(
    file: Annotated[Path, typer.Argument(help="An SBD, or a bare UBL document (an SBDH is built for it).")],
    url: Annotated[str, typer.Option("--url", help="The receiver's AS4 endpoint URL.")],
    key: KeyOpt,
    receiver_cert: Annotated[
        Path, typer.Option("--receiver-cert", help="The receiver AP certificate (PEM).")
    ],
    trust: Annotated[
        Path | None,
        typer.Option("--trust", help="AP CA bundle: validate the receiver cert and receipt signer."),
    ] = None,
    tls_ca: Annotated[
        Path | None, typer.Option("--tls-ca", help="CA bundle for the TLS server certificate.")
    ] = None,
    crl: Annotated[Path | None, typer.Option("--crl", help="AP CA CRL (offline revocation checks).")] = None,
    sender: Annotated[
        str | None, typer.Option("--sender", help="C1 participant id (bare documents).")
    ] = None,
    receiver: Annotated[
        str | None, typer.Option("--receiver", help="C4 participant id (bare documents).")
    ] = None,
    doctype: Annotated[
        str | None, typer.Option("--doctype", help="Document type id (default: detected).")
    ] = None,
    process: Annotated[str | None, typer.Option("--process", help="Process id (default: detected).")] = None,
    country_c1: Annotated[
        str | None, typer.Option("--country-c1", help="COUNTRY_C1 (bare documents).")
    ] = None,
    attempts: Annotated[int, typer.Option("--attempts", min=1, help="Attempts on retryable failures.")] = 1,
    retry_interval: Annotated[
        float, typer.Option("--retry-interval", min=0, help="Seconds between attempts.")
    ] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    insecure_http: Annotated[
        bool, typer.Option("--insecure-http", help="INSECURE: allow a plain http:// URL (tests only).")
    ] = False,
    cert: CertOpt = None,
    key_password_file: KeyPasswordFileOpt = None,
) -> None:
    """Send FILE to an AS4 endpoint and verify the receipt. Exit 0 only on a verified receipt."""
    from transport.sender import As4Sender, InsecureUrlError, prepare_message

    if crl is not None and trust is None:
        raise _bad_input(
            "--crl needs --trust: revocation is checked while validating against the AP CA bundle"
        )
    identity = load_cli_identity(key, cert, key_password_file)
    with tempfile.TemporaryDirectory(prefix="ap-send-") as tmp:
        try:
            validator = _validator(trust, crl) if trust else None
            prepared = prepare_message(
                file,
                key=key,
                cert=cert,
                identity=identity,
                receiver_cert=receiver_cert,
                validate_receiver=validator.validate if validator else None,
                sender=sender,
                receiver=receiver,
                doctype=doctype,
                process=process,
                country_c1=country_c1,
                spool_dir=Path(tmp),
            )
        except (OSError, ValueError) as exc:
            raise _bad_input(str(exc)) from exc
        with As4Sender(
            ca_bundle=tls_ca,
            allow_http=insecure_http,
            validate_signer=validator.validate if validator else None,
        ) as client:
            try:
                outcome = client.send(
                    prepared.message,
                    url,
                    prepared.receiver_certificate,
                    attempts=attempts,
                    retry_interval=retry_interval,
                )
            except InsecureUrlError as exc:
                raise _bad_input(str(exc)) from exc
    report = {
        "delivered": outcome.delivered,
        "message_id": prepared.message.message_id,
        "receipt_id": getattr(outcome.receipt, "message_id", None),
        "code": outcome.code,
        "detail": outcome.detail,
        "retryable": outcome.retryable,
        "http_status": outcome.http_status,
        "attempts": outcome.attempts,
    }
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    elif outcome.delivered:
        typer.echo(f"delivered {prepared.message.message_id}: receipt {report['receipt_id']} verified")
    else:
        typer.echo(f"NOT delivered {prepared.message.message_id}: {outcome.summary}")
    raise typer.Exit(0 if outcome.delivered else 1)


def register(app: typer.Typer) -> None:
    """Add the ``as4`` command group to ``app``."""
    group = typer.Typer(help="AS4 exchange: run a receiver, send a document.", no_args_is_help=True)
    group.command("serve")(serve)
    group.command("send")(send)
    app.add_typer(group, name="as4")
