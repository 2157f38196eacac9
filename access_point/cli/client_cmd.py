"""``ap send``, ``ap outbound get|retry``, ``ap inbound list|get|ack``: clients of the service's REST API
(the URL, key and TLS CA come from the ``[client]`` section of the configuration)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

_err = Console(stderr=True)
ConfigOpt = Annotated[Path, typer.Option("--config", help="The service configuration (TOML).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")]
#: Exit codes: 1 = the service refused or failed, 2 = bad input or configuration.
EXIT_REFUSED, EXIT_USAGE = 1, 2
TIMEOUT_SECONDS = 120.0

outbound_app = typer.Typer(help="Outbound messages: get, retry.", no_args_is_help=True)
inbound_app = typer.Typer(help="Inbound documents: list, get, ack.", no_args_is_help=True)


def _fail(text: str, code: int) -> typer.Exit:
    _err.print(f"[red]error:[/red] {text}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _call(config: Path, method: str, path: str, **kwargs: Any) -> Any:
    """One API request; the problem document of a refusal becomes a one-line error."""
    import requests

    from access_point.service.config import ConfigError, load_config

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        raise _fail("; ".join(exc.problems), EXIT_USAGE) from exc
    if not loaded.api_url or not loaded.api_key:
        raise _fail(f"{config}: [client] api_url and api_key (or AP_CLIENT_API_KEY) are needed", EXIT_USAGE)
    verify: str | bool = str(loaded.client_tls_ca) if loaded.client_tls_ca else True
    try:
        response = requests.request(
            method,
            loaded.api_url.rstrip("/") + path,
            headers={"Authorization": f"Bearer {loaded.api_key}"},
            timeout=TIMEOUT_SECONDS,
            verify=verify,
            **kwargs,
        )
    except requests.RequestException as exc:
        raise _fail(f"cannot reach the service at {loaded.api_url}: {exc}", EXIT_REFUSED) from exc
    if response.status_code >= 400:
        try:
            body = response.json()
            text = f"{body.get('title')}: {body.get('detail')}"
        except ValueError:
            text = response.text[:300]
        if response.status_code == 422 and isinstance(body, dict) and body.get("validation"):
            failures = [
                f"{i['rule_id']}: {i['text']}"
                for layer in body["validation"]["layers"]
                for i in layer["items"]
                if i["severity"] in ("error", "fatal")
            ]
            text += "".join(f"\n  {f}" for f in failures[:20])
        raise _fail(f"HTTP {response.status_code} {text}", EXIT_REFUSED)
    return response


def _format_of(file: Path, data: bytes) -> str:
    if file.suffix.lower() == ".xml" or data.lstrip().startswith(b"<"):
        return "ubl"
    try:
        parsed = json.loads(data)
    except ValueError:
        return "ocds"
    return "decp" if isinstance(parsed, dict) and ("marches" in parsed or "decp" in parsed) else "ocds"


def send(
    file: Annotated[Path, typer.Argument(help="UBL (XML), OCDS or DECP (JSON) document.")],
    to: Annotated[str, typer.Option("--to", help="The receiving participant (C4).")],
    config: ConfigOpt,
    fmt: Annotated[
        str | None, typer.Option("--format", help="ubl, ocds or decp (default: from the file).")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Mapping target for OCDS/DECP (default: peppol-t004).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send FILE to PARTICIPANT through the service API."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}", EXIT_USAGE) from exc
    input_format = fmt or _format_of(file, data)
    try:
        document: Any = data.decode("utf-8") if input_format == "ubl" else json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"{file} is not {input_format.upper()}: {exc}", EXIT_USAGE) from exc
    body = {"receiver": to, "format": input_format, "document": document, "target": target}
    answer = _call(config, "POST", "/v1/outbound", json=body).json()
    if as_json:
        sys.stdout.write(json.dumps(answer) + "\n")
    else:
        typer.echo(answer["id"])


@outbound_app.command("get")
def outbound_get(outbound_id: str, config: ConfigOpt, as_json: JsonOpt = False) -> None:
    """Status timeline, attempts, receipt and errors of one outbound message."""
    answer = _call(config, "GET", f"/v1/outbound/{outbound_id}").json()
    if as_json:
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    typer.echo(f"{answer['id']}: {answer['status']} → {answer['receiver']} (message {answer['message_id']})")
    for event in answer["timeline"]:
        typer.echo(f"  {event['at']}  {event['status']:<9} {event['detail'] or ''}")


@outbound_app.command("retry")
def outbound_retry(outbound_id: str, config: ConfigOpt, as_json: JsonOpt = False) -> None:
    """Queue a failed or dead-lettered message again."""
    answer = _call(config, "POST", f"/v1/outbound/{outbound_id}/retry").json()
    sys.stdout.write(json.dumps(answer) + "\n" if as_json else f"{answer['id']}: {answer['status']}\n")


@inbound_app.command("list")
def inbound_list(
    config: ConfigOpt,
    include_acked: Annotated[bool, typer.Option("--all", help="Include acknowledged documents.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Documents received for the tenant (not yet acknowledged)."""
    answer = _call(config, "GET", "/v1/inbound", params={"all": str(include_acked).lower()}).json()
    if as_json:
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    for item in answer:
        typer.echo(f"{item['id']}  {item['document']:<16} from {item['sender']}  {item['status']}")


@inbound_app.command("get")
def inbound_get(
    inbound_id: str,
    config: ConfigOpt,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Print the document as ubl, ocds or decp.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Metadata of one inbound document, or with --format the document itself."""
    response = _call(config, "GET", f"/v1/inbound/{inbound_id}", params={"format": fmt} if fmt else None)
    if fmt or as_json:
        sys.stdout.buffer.write(response.content + (b"" if response.content.endswith(b"\n") else b"\n"))
        return
    item = response.json()
    typer.echo(
        f"{item['id']}: {item['document']} from {item['sender']} ({item['status']}, valid: {item['valid']})"
    )


@inbound_app.command("ack")
def inbound_ack(inbound_id: str, config: ConfigOpt, as_json: JsonOpt = False) -> None:
    """Mark an inbound document as taken."""
    answer = _call(config, "POST", f"/v1/inbound/{inbound_id}/ack").json()
    sys.stdout.write(json.dumps(answer) + "\n" if as_json else f"{answer['id']}: {answer['status']}\n")


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.add_typer(outbound_app, name="outbound")
    app.add_typer(inbound_app, name="inbound")
