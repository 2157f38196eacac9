"""``ap as4 serve``, ``ap as4 send`` and ``ap as4 inbox``: thin layers over :mod:`exchange.outbound`
(send), :mod:`transport.server` + :mod:`transport.receiver` with the durable
:class:`access_point.store.SqlInboundLedger` (serve) and the ledger's records (inbox).

Exit codes: 0 = delivered with a verified receipt (send) / clean shutdown (serve); 1 = the send failed
(error signal, invalid receipt, transport failure); 2 = bad input (unreadable files, bad identifiers,
insecure URL without the flag, --crl without --trust, serve without a list of served participants);
3 = serve cannot listen (port in use, address not available).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from access_point.cli._console import server_logging
from access_point.cli._keys import KeyPasswordFileOpt, load_cli_identity
from access_point.cli.lookup_cmd import NetworkChoice, Revocation

if TYPE_CHECKING:
    from peppol.identifiers import ParticipantId

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


class ReceiptSigner(StrEnum):
    """``--receipt-signer``: ``transport.as4.ReceiptSignerPolicy`` (``[trust] receipt_signer`` of the
    service), written out so that ``ap --help`` does not load the AS4 stack."""

    same_certificate = "same-certificate"
    same_seat = "same-seat"


NetworkOpt = Annotated[
    NetworkChoice | None,
    typer.Option(
        "--network", help="Trust the shipped OpenPeppol CAs of this network (where --trust is not given)."
    ),
]
RevocationOpt = Annotated[
    Revocation | None,
    typer.Option(
        "--revocation",
        help="When the revocation status is unknown (default: hard-fail with --crl, else soft-fail).",
    ),
]


def _bad_input(reason: str) -> typer.Exit:
    _err.print(f"[red]error:[/red] {reason}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _validator(
    trust: Path | None,
    crl: Path | None,
    *,
    network: str | None = None,
    revocation: str | None = None,
) -> Any:
    """The AP certificate validator, built as the service builds it (``[trust] network``/``ap``,
    ``crls``, ``revocation``): ``None`` without ``--trust`` or ``--network``. Without ``--revocation``,
    hard-fail with a ``--crl`` (offline), else soft-fail (CRL/OCSP fetched)."""
    from peppol.pki import Purpose, RevocationPolicy, trust_file
    from smp_client.setup import load_validator

    path = trust_file(network, trust)
    if path is None:
        return None
    policy = (
        RevocationPolicy(revocation)
        if revocation
        else (RevocationPolicy.HARD_FAIL if crl else RevocationPolicy.SOFT_FAIL)
    )
    return load_validator(
        path, Purpose.AP, crls=(crl,) if crl else (), revocation=policy, allow_fetching=crl is None
    )


def _check_tls_files(cert: Path, key: Path) -> None:
    """Load the TLS pair once so a bad file is a one-line error, not a server start-up traceback."""
    import ssl

    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))


def served_participants(ids: list[str], file: Path | None) -> frozenset[ParticipantId]:
    """The participants of ``--participant`` and ``--participants-file`` (one id per line, ``#``
    comments); raises ``ValueError`` naming the bad line."""
    from peppol.identifiers import IdentifierError, ParticipantId

    texts = [(f"--participant {text!r}", text) for text in ids]
    if file is not None:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            text = line.split("#", 1)[0].strip()
            if text:
                texts.append((f"{file}:{number}", text))
    found: set[ParticipantId] = set()
    for where, text in texts:
        try:
            found.add(ParticipantId.parse(text) if "::" in text else ParticipantId.of(text))
        except IdentifierError as exc:
            raise ValueError(f"{where}: not a participant id: {exc}") from exc
    return frozenset(found)


def serve(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port to listen on.")],
    key: KeyOpt,
    inbox: Annotated[
        Path,
        typer.Option("--inbox", help="Data directory: ledger database (ap.sqlite3) and payloads/."),
    ],
    participant: Annotated[
        list[str] | None,
        typer.Option("--participant", help="A participant this AP serves (repeatable)."),
    ] = None,
    participants_file: Annotated[
        Path | None,
        typer.Option("--participants-file", help="File of served participant ids, one per line."),
    ] = None,
    serve_any: Annotated[
        bool,
        typer.Option("--serve-any", help="INSECURE: accept documents for ANY receiver (tests only)."),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Ledger database URL (default: SQLite in the inbox)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="TLS server certificate chain (PEM).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="TLS server private key (PEM).")] = None,
    crl: Annotated[
        Path | None, typer.Option("--crl", help="CRL of the AP CA (offline revocation checks).")
    ] = None,
    max_connections: Annotated[
        int | None,
        typer.Option("--max-connections", min=1, help="Connections served at once (503 beyond) [128]."),
    ] = None,
    body_timeout: Annotated[
        float | None,
        typer.Option("--body-timeout", min=0.1, help="Seconds to receive a whole request body [120]."),
    ] = None,
    cert: CertOpt = None,
    key_password_file: KeyPasswordFileOpt = None,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="AP CA bundle (PEM) that signers must chain to.")
    ] = None,
    network: NetworkOpt = None,
    revocation: RevocationOpt = None,
) -> None:
    """Run the AS4 receiver at /as4; accepted messages go to the durable ledger in the inbox directory.

    Documents for participants not listed with --participant/--participants-file are refused with
    EBMS:0004 PEPPOL:NOT_SERVICED; without a list the receiver does not start (unless --serve-any).
    """
    from access_point.message_log import RequestIds, log_inbound
    from access_point.store import open_store
    from access_point.store.blobs import process_work_dir
    from transport.receiver import CallbackHooks, ReceiverConfig, serve_everything
    from transport.server import ServerLimits, create_app, run_server

    if (tls_cert is None) != (tls_key is None):
        raise _bad_input("--tls-cert and --tls-key go together")
    if trust is None and network is None:
        raise _bad_input("give the AP trust: --trust FILE or --network test|production")
    server_logging()
    identity = load_cli_identity(key, cert, key_password_file)
    try:
        served = served_participants(participant or [], participants_file)
    except (OSError, ValueError) as exc:
        raise _bad_input(str(exc)) from exc
    if not served and not serve_any:
        raise _bad_input(
            "no served participants: give --participant ID (repeatable) or --participants-file FILE"
            " (documents for others get PEPPOL:NOT_SERVICED), or --serve-any for a test receiver"
        )
    if served and serve_any:
        raise _bad_input("--serve-any and a list of served participants exclude each other")
    try:
        validator = _validator(trust, crl, network=network, revocation=revocation)
        if tls_cert is not None and tls_key is not None:
            _check_tls_files(tls_cert, tls_key)
        store = open_store(inbox, database_url)
        work_dir = process_work_dir(inbox / "work")
    except Exception as exc:
        raise _bad_input(f"cannot load the receiver configuration: {_one_line(exc)}") from exc
    try:
        # Self-check, and warms the validator before concurrent requests use it.
        validator.validate(identity.certificate)
    except Exception as exc:
        _err.print(
            f"[yellow]warning: our own AP certificate does not validate against the AP trust: {exc}[/yellow]"
        )
    config = ReceiverConfig(
        identity=identity, validate_signer=validator.validate, ledger=store.ledger, work_dir=work_dir
    )
    if serve_any:
        _err.print(
            "[bold red]WARNING: --serve-any: documents for ANY receiver are accepted "
            "(no PEPPOL:NOT_SERVICED); use this only for local tests.[/bold red]"
        )
        hooks = CallbackHooks(is_served_fn=serve_everything)
    else:
        hooks = CallbackHooks(is_served_fn=lambda receiver, _doctype, _process: receiver in served)
    if tls_cert is None:
        _err.print(
            "[bold red]WARNING: serving AS4 over PLAIN HTTP (no --tls-cert/--tls-key). "
            "Peppol requires TLS; use this only for local tests.[/bold red]"
        )
    who = "any participant" if serve_any else f"{len(served)} participant(s)"

    def announce(url: str) -> None:
        _err.print(
            f"AS4 receiver {identity.seat_id} listening on {url}, serving {who}, inbox {inbox}",
            highlight=False,
            soft_wrap=True,
        )

    defaults = ServerLimits()
    limits = ServerLimits(
        max_connections=max_connections or defaults.max_connections,
        body_timeout=body_timeout or defaults.body_timeout,
    )
    try:
        run_server(
            RequestIds(create_app(config, hooks, limits=limits, observer=log_inbound)),
            host=host,
            port=port,
            tls_cert=tls_cert,
            tls_key=tls_key,
            on_listening=announce,
            limits=limits,
        )
    except OSError as exc:
        _err.print(
            f"[red]error:[/red] cannot listen on {host}:{port}: {exc.strerror or exc}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_CANNOT_LISTEN) from exc
    finally:
        store.close()


def _document(
    file: Path,
    *,
    sender: str | None,
    receiver: str | None,
    doctype: str | None,
    process: str | None,
    country_c1: str | None,
) -> Any:
    """The :class:`exchange.outbound.PreparedDocument` of FILE (an SBD, or a bare document wrapped in a
    new SBDH); raises ``ValueError`` with a one-line reason naming the options."""
    from exchange import ExchangeError, OutboundRequest, document_from_sbd, prepare_document
    from peppol.identifiers import DocumentTypeId, IdentifierError, ParticipantId, ProcessId
    from transport.sender import is_sbd

    try:
        if is_sbd(file):
            return document_from_sbd(file)
        missing = [
            name
            for name, v in (("--sender", sender), ("--receiver", receiver), ("--country-c1", country_c1))
            if not v
        ]
        if missing:
            raise ValueError(f"a bare document needs {', '.join(missing)} to build its SBDH")
        assert sender is not None and receiver is not None and country_c1 is not None
        request = OutboundRequest(
            payload=file.read_bytes(),
            sender=ParticipantId.parse(sender) if "::" in sender else ParticipantId.of(sender),
            receiver=ParticipantId.parse(receiver) if "::" in receiver else ParticipantId.of(receiver),
            c1_country=country_c1,
            document_type=DocumentTypeId.parse(doctype) if doctype else None,
            process=ProcessId.parse(process) if process else None,
        )
        return prepare_document(request, validator=None)
    except (ExchangeError, IdentifierError) as exc:
        raise ValueError(str(exc)) from exc


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
    network: NetworkOpt = None,
    revocation: RevocationOpt = None,
    receipt_signer: Annotated[
        ReceiptSigner,
        typer.Option(
            "--receipt-signer",
            help="Who may sign the receipt: exactly --receiver-cert, or any valid certificate of its seat "
            "(a receiver renewing its certificate; needs --trust or --network).",
        ),
    ] = ReceiptSigner.same_certificate,
) -> None:
    """Send FILE to an AS4 endpoint and verify the receipt. Exit 0 only on a verified receipt."""
    from exchange import ExchangeError, FixedEndpoint, attempt, build, discover
    from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2, Endpoint
    from peppol.pki import load_certificate
    from transport.as4 import ReceiptSignerPolicy
    from transport.sender import As4Sender, InsecureUrlError

    if crl is not None and trust is None and network is None:
        raise _bad_input(
            "--crl needs --trust or --network: revocation is checked while validating against the AP CAs"
        )
    if receipt_signer is ReceiptSigner.same_seat and trust is None and network is None:
        raise _bad_input("--receipt-signer same-seat needs --trust or --network (the signer is validated)")
    identity = load_cli_identity(key, cert, key_password_file)
    try:
        validator = _validator(trust, crl, network=network, revocation=revocation)
    except (OSError, ValueError) as exc:
        raise _bad_input(_one_line(exc)) from exc
    with (
        tempfile.TemporaryDirectory(prefix="ap-send-") as tmp,
        As4Sender(
            ca_bundle=tls_ca,
            allow_http=insecure_http,
            validate_signer=validator.validate if validator else None,
            receipt_signer=ReceiptSignerPolicy(receipt_signer),
        ) as client,
    ):
        try:  # the URL first: usage before any work (one sender, so the plain-HTTP warning comes once)
            client.check_url(url)
        except InsecureUrlError as exc:
            raise _bad_input(str(exc)) from exc
        try:
            resolver = FixedEndpoint(
                Endpoint(url, TRANSPORT_PROFILE_AS4_V2, load_certificate(receiver_cert)),
                validate_certificate=validator.validate if validator else None,
            )
            document = _document(
                file,
                sender=sender,
                receiver=receiver,
                doctype=doctype,
                process=process,
                country_c1=country_c1,
            )
            endpoint = discover(document, resolver=resolver)
            prepared = build(document, endpoint, identity=identity, spool_dir=Path(tmp))
        except (OSError, ValueError, ExchangeError) as exc:
            raise _bad_input(_one_line(exc)) from exc
        for number in range(1, attempts + 1):
            outcome = attempt(prepared, endpoint, sender=client)
            if outcome.delivered or outcome.permanent or number == attempts:
                break
            _err.print(f"attempt {number}/{attempts} failed: {outcome.summary}", highlight=False)
            time.sleep(retry_interval)
    report = {
        "delivered": outcome.delivered,
        "message_id": prepared.message_id,
        "receipt_id": outcome.receipt_id,
        "code": outcome.code,
        "detail": outcome.detail,
        "retryable": not outcome.delivered and not outcome.permanent,
        "http_status": outcome.http_status,
        "attempts": number,
    }
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    elif outcome.delivered:
        typer.echo(f"delivered {prepared.message_id}: receipt {report['receipt_id']} verified")
    else:
        typer.echo(f"NOT delivered {prepared.message_id}: {outcome.summary}")
    raise typer.Exit(0 if outcome.delivered else 1)


def inbox_list(
    inbox: Annotated[Path, typer.Argument(help="The data directory of `ap as4 serve --inbox`.")],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Ledger database URL (default: SQLite in INBOX).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as JSON.")] = False,
) -> None:
    """List the messages the receiver accepted (one line each; the SBD file path last)."""
    from access_point.store import open_store

    if database_url is None and not (inbox / "ap.sqlite3").is_file():
        raise _bad_input(f"{inbox} holds no ledger (ap.sqlite3): not an `ap as4 serve` inbox")
    try:
        store = open_store(inbox, database_url)
    except Exception as exc:
        raise _bad_input(f"cannot open the inbox: {_one_line(exc)}") from exc
    try:
        records = store.ledger.records()
        rows = [
            {
                "id": r.id,
                "message_id": r.message_id,
                "received_at": r.received_at.isoformat(),
                "status": r.status,
                "sender": r.sender,
                "receiver": r.receiver,
                "document_type": r.document_type,
                "process": r.process,
                "instance_id": r.instance_id,
                "country_c1": r.country_c1,
                "receipt_id": r.receipt_id,
                "payload_size": r.payload_size,
                "payload": str(store.blobs.path(r.payload_sha256)),
            }
            for r in records
        ]
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for row in rows:
        typer.echo(
            f"{row['received_at']}  {row['message_id']}  {row['sender']} -> {row['receiver']}"
            f"  {row['payload']}"
        )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def register(app: typer.Typer) -> None:
    """Add the ``as4`` command group to ``app``."""
    group = typer.Typer(help="AS4 exchange: run a receiver, send a document.", no_args_is_help=True)
    group.command("serve")(serve)
    group.command("send")(send)
    group.command("inbox")(inbox_list)
    app.add_typer(group, name="as4")
