"""``ap lookup``: find a participant's endpoint via SML + SMP (or a static directory) and show every step.

A thin layer over :class:`smp_client.Discovery` / :class:`smp_client.StaticDirectory`. Exit codes
(one per failure class, see ``docs/discovery.md``):

    0 ok, 2 usage error / unreadable input / bad static directory, 3 participant not registered,
    4 DNS technical failure (retry), 5 no Meta:SMP NAPTR record, 6 bad SML record (regexp, URI),
    7 SMP unavailable (retry; TLS failures too), 8 not served at the SMP (HTTP 404),
    9 bad SMP response (XML, signature, signer, identifiers, redirect, HTTP status),
    10 no matching endpoint (process, transport profile, dates), 11 untrusted endpoint certificate.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from access_point.cli._console import warn
from peppol.identifiers import (
    DEFAULT_SML_ZONE,
    DOCTYPE_WILDCARD_SCHEME,
    DocumentTypeId,
    IdentifierError,
    ParticipantId,
    ProcessId,
    processes_for,
    resolve_zone,
)

if TYPE_CHECKING:
    from smp_client import DiscoveryError, LookupResult, ServiceGroupResult, Step

# The option defaults shown in ``--help``, written out because importing ``smp_client`` loads dnspython,
# signxml and requests (and ``peppol.endpoint`` cryptography), which every ``ap`` command would then pay
# for at start-up. They equal ``peppol.endpoint.TRANSPORT_PROFILE_AS4_V2``,
# ``smp_client.http.DEFAULT_CONNECT_TIMEOUT`` / ``DEFAULT_READ_TIMEOUT`` and
# ``smp_client.sml.DEFAULT_DNS_TIMEOUT``, ``smp_client.DEFAULT_LOOKUP_DEADLINE``
# (tests/access_point/test_cli_startup.py checks it).
TRANSPORT_PROFILE_AS4_V2: Final = "peppol-transport-as4-v2_0"
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 10.0
DEFAULT_DNS_TIMEOUT: Final = 3.0
DEFAULT_LOOKUP_DEADLINE: Final = 30.0

EXIT_OK = 0
EXIT_USAGE = 2

_EPILOG = (
    "Exit codes: 0 ok; 2 usage error or unreadable input; 3 participant not registered in the SML; "
    "4 DNS technical failure (retry); 5 no Meta:SMP NAPTR record; 6 bad SML record; "
    "7 SMP unavailable (retry) or TLS failure; 8 not served at the SMP (HTTP 404); 9 bad SMP response "
    "(XML, signature, signer, identifiers, redirect, HTTP status); 10 no matching endpoint; "
    "11 untrusted endpoint certificate; 12 the lookup exceeded its --deadline (retry)."
)


class Dialect(StrEnum):
    peppol = "peppol"
    bdxr1 = "bdxr1"
    bdxr2 = "bdxr2"


class Revocation(StrEnum):
    hard_fail = "hard-fail"
    soft_fail = "soft-fail"
    off = "off"


class NetworkChoice(StrEnum):
    """``--network``: the shipped OpenPeppol CA bundle (``peppol.pki.network``)."""

    test = "test"
    production = "production"


class UsageError(Exception):
    """Bad command-line input; exit 2 with a one-line reason."""


def _process_for(doctype: DocumentTypeId, process: str | None) -> ProcessId:
    if process:
        return ProcessId.parse(process)
    candidates = processes_for(doctype)
    if len(candidates) == 1:
        return candidates[0]
    hint = ", ".join(p.uri for p in candidates) if candidates else "document type not in the code list"
    raise UsageError(f"--process is required ({hint})")


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--at: not an ISO date/time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _print_steps(console: Console, steps: tuple[Step, ...] | tuple[Any, ...]) -> None:
    from smp_client import Step

    for step in steps:
        if not isinstance(step, Step):
            continue
        mark = "[green]✓[/green]" if step.ok else "[red]✗[/red]"
        console.print(
            f"{mark} [bold]{step.name:<13}[/bold] {escape(step.summary)}", highlight=False, soft_wrap=True
        )


def _print_result(console: Console, result: LookupResult) -> None:
    _print_steps(console, result.steps)
    table = Table(title=f"Endpoint for {result.participant.uri}", show_header=False)
    table.add_column("field", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    ep = result.endpoint
    rows = [
        ("url", ep.url),
        ("transport profile", ep.transport_profile),
        ("certificate", result.certificate.subject),
        ("certificate issuer", result.certificate.issuer),
        ("certificate check", result.certificate.detail),
        ("activation", ep.activation.isoformat() if ep.activation else "-"),
        ("expiration", ep.expiration.isoformat() if ep.expiration else "-"),
        ("description", ep.service_description or "-"),
        ("technical contact", ep.technical_contact or "-"),
    ]
    if result.signature is not None:
        rows.insert(
            0,
            (
                "signature",
                f"valid ({result.signature.algorithm.rsplit('#', 1)[-1]}), {result.signature.trust}",
            ),
        )
        rows.insert(0, ("signer", result.signature.signer_subject))
    for name, value in rows:
        table.add_row(name, escape(value))
    console.print(table)


def _print_group(console: Console, group: ServiceGroupResult) -> None:
    _print_steps(console, group.steps)
    table = Table(title=f"Document types of {group.participant.uri}")
    table.add_column("#", justify="right")
    table.add_column("document type", overflow="fold")
    table.add_column("known processes", overflow="fold")
    for i, doctype in enumerate(group.document_types, 1):
        table.add_row(
            str(i), escape(doctype.uri), escape(", ".join(p.value for p in processes_for(doctype)) or "-")
        )
    console.print(table)


def _error_json(participant: str, exc: DiscoveryError) -> dict[str, Any]:
    from smp_client import Step

    return {
        "participant": participant,
        "error": {
            "code": exc.code,
            "message": str(exc),
            "retryable": exc.retryable,
            "exit_code": exc.exit_code,
        },
        "steps": [s.as_dict() for s in exc.steps if isinstance(s, Step)],
    }


def lookup(
    participant: Annotated[
        str, typer.Argument(help="Participant, e.g. iso6523-actorid-upis::0088:5798000000001.")
    ],
    doctype: Annotated[
        str | None,
        typer.Option("--doctype", help="Document type (scheme::value). Without it: list the ServiceGroup."),
    ] = None,
    process: Annotated[
        str | None,
        typer.Option("--process", help="Process (scheme::value); default: the code list's only one."),
    ] = None,
    transport_profile: Annotated[
        str, typer.Option("--transport-profile", help="Transport profile, compared exactly.")
    ] = TRANSPORT_PROFILE_AS4_V2,
    zone: Annotated[
        str, typer.Option("--zone", help="SML zone: prod, test or a DNS domain.")
    ] = DEFAULT_SML_ZONE,
    nameserver: Annotated[
        list[str] | None,
        typer.Option("--nameserver", help="DNS server HOST[:PORT] (repeatable); default: system."),
    ] = None,
    smp_trust: Annotated[
        Path | None, typer.Option("--smp-trust", help="PEM bundle with the SMP CA (SMP signatures).")
    ] = None,
    ap_trust: Annotated[
        Path | None, typer.Option("--ap-trust", help="PEM bundle with the AP CA (endpoint certificates).")
    ] = None,
    network: Annotated[
        NetworkChoice | None,
        typer.Option(
            "--network",
            help="Trust the shipped OpenPeppol CAs of this network (where --smp-trust/--ap-trust are unset).",
        ),
    ] = None,
    tls_ca: Annotated[
        Path | None,
        typer.Option("--tls-ca", help="PEM bundle trusted for SMP TLS instead of the system roots."),
    ] = None,
    static: Annotated[
        Path | None, typer.Option("--static", help="Static directory file (YAML/JSON) instead of SML + SMP.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of the steps.")
    ] = False,
    smp_url: Annotated[
        str | None, typer.Option("--smp-url", help="Ask this SMP directly (skip the SML).")
    ] = None,
    dialect: Annotated[Dialect, typer.Option("--dialect", help="SMP REST API flavour.")] = Dialect.peppol,
    proxy: Annotated[str | None, typer.Option("--proxy", help="HTTPS proxy URL for SMP requests.")] = None,
    connect_timeout: Annotated[float, typer.Option("--connect-timeout", min=0.1)] = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: Annotated[float, typer.Option("--read-timeout", min=0.1)] = DEFAULT_READ_TIMEOUT,
    dns_timeout: Annotated[float, typer.Option("--dns-timeout", min=0.1)] = DEFAULT_DNS_TIMEOUT,
    deadline: Annotated[
        float,
        typer.Option(
            "--deadline",
            min=0.1,
            help="Total seconds for the whole lookup (DNS + HTTP); the timeouts above bound each read.",
        ),
    ] = DEFAULT_LOOKUP_DEADLINE,
    crl: Annotated[
        list[Path] | None, typer.Option("--crl", help="CRL file (DER/PEM) for revocation checks.")
    ] = None,
    revocation: Annotated[
        Revocation, typer.Option("--revocation", help="When revocation status is unknown.")
    ] = Revocation.soft_fail,
    no_fetch: Annotated[
        bool, typer.Option("--no-fetch", help="Never fetch CRLs/OCSP over the network.")
    ] = False,
    at: Annotated[str | None, typer.Option("--at", help="Validation time (ISO 8601) instead of now.")] = None,
    legacy_sha1: Annotated[
        bool, typer.Option("--legacy-sha1", help="LEGACY: accept RSA-SHA1/SHA-1 SMP signatures.")
    ] = False,
    legacy_cname: Annotated[
        bool,
        typer.Option("--legacy-cname", help="LEGACY: use the removed B-<md5> CNAME scheme (plain http)."),
    ] = False,
    insecure_skip_smp_signer_trust: Annotated[
        bool,
        typer.Option(
            "--insecure-skip-smp-signer-trust",
            help="INSECURE: verify the SMP signature but not that the signer belongs to the SMP CA.",
        ),
    ] = False,
) -> None:
    """Look up PARTICIPANT: SML (U-NAPTR) → SMP → signature → endpoint → certificate checks."""
    from peppol.pki import RevocationPolicy
    from smp_client import Discovery, DiscoveryError, Nameserver, SmpDialect, StaticDirectory
    from smp_client.errors import SmlRecordError
    from smp_client.naptr import check_smp_uri
    from smp_client.setup import DiscoverySettings, build_discovery, build_static

    err = Console(stderr=True)
    out = Console()
    try:
        try:
            pid = ParticipantId.parse(participant)
            doc = DocumentTypeId.parse(doctype) if doctype else None
            proc = _process_for(doc, process) if doc else None
            resolve_zone(zone)
            for ns in nameserver or ():
                Nameserver.parse(ns)
        except (IdentifierError, ValueError) as exc:
            raise UsageError(str(exc)) from exc
        moment = _moment(at)
        if smp_url is not None:
            try:
                check_smp_uri(smp_url, allow_http=legacy_cname)
            except SmlRecordError as exc:
                raise UsageError(f"--smp-url: {exc}") from exc
        revocation_policy = RevocationPolicy(revocation.value)
        if network is not None:
            from peppol.pki import network_bundle

            bundle = network_bundle(network.value)
            ap_trust = ap_trust or bundle
            smp_trust = smp_trust or (None if insecure_skip_smp_signer_trust else bundle)
        if static is None and ap_trust is None:
            raise UsageError(
                "an AP trust store is required (endpoint certificates are validated before use): "
                "give --ap-trust FILE or --network test|production"
            )
        if static is None and smp_trust is None and not insecure_skip_smp_signer_trust:
            raise UsageError(
                "an SMP trust store is required (SMP signatures are verified against the SMP CA): "
                "give --smp-trust FILE or --network test|production"
            )
        directory: StaticDirectory | Discovery
        try:
            if static is not None:
                directory = build_static(
                    static,
                    ap_trust=ap_trust,
                    crls=crl or [],
                    revocation=revocation_policy,
                    allow_fetching=not no_fetch,
                )
            else:
                settings = DiscoverySettings(
                    smp_trust=smp_trust,
                    ap_trust=ap_trust,
                    zone=zone,
                    nameservers=tuple(nameserver or ()),
                    tls_ca=tls_ca,
                    proxy=proxy,
                    dialect=SmpDialect(dialect.value),
                    crls=tuple(crl or ()),
                    revocation=revocation_policy,
                    allow_fetching=not no_fetch,
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    dns_timeout=dns_timeout,
                    deadline=deadline,
                    legacy_sha1=legacy_sha1,
                    legacy_cname=legacy_cname,
                    skip_smp_signer_trust=insecure_skip_smp_signer_trust,
                )
                directory = build_discovery(settings)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        if insecure_skip_smp_signer_trust and static is None:
            warn("SMP signer trust is NOT checked (--insecure-skip-smp-signer-trust)")
        if doc is None or proc is None:
            if isinstance(directory, Discovery):
                group = directory.service_group_result(pid, smp_url=smp_url)
            else:
                group = directory.service_group_result(pid)
            if as_json:
                typer.echo(json.dumps(group.as_dict(), indent=2))
            else:
                _print_group(out, group)
            return
        if doc.scheme == DOCTYPE_WILDCARD_SCHEME and smp_url is None:
            result = directory.lookup_wildcard(pid, doc, proc, transport_profile, moment=moment)
        elif isinstance(directory, Discovery):
            result = directory.lookup(pid, doc, proc, transport_profile, moment=moment, smp_url=smp_url)
        else:
            result = directory.lookup(pid, doc, proc, transport_profile, moment=moment)
        if as_json:
            typer.echo(json.dumps(result.as_dict(), indent=2))
        else:
            _print_result(out, result)
    except UsageError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from exc
    except DiscoveryError as exc:
        if as_json:
            typer.echo(json.dumps(_error_json(participant, exc), indent=2))
        else:
            _print_steps(out, exc.steps)
        err.print(f"[red]error:[/red] {exc.code}: {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from exc


def register(app: typer.Typer) -> None:
    """Add ``ap lookup`` to ``app``."""
    app.command("lookup", epilog=_EPILOG)(lookup)
