"""``ap dev pair DIR``: a ready two-AP setup on loopback.

Writes a test PKI (``DIR/pki``), the discovery data — a DNS zone and signed SMP documents served by
``ap dev discovery DIR`` (``DIR/discovery``), or with ``static=True`` a static directory file
(``DIR/directory.yaml``) — and one service configuration per side, ``DIR/marketplace/ap.toml`` and
``DIR/partner/ap.toml``, each with one tenant owning one participant and an API key. Ports are picked
free on 127.0.0.1 when the files are written.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from access_point.service.keys import new_key
from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId, sml_naptr_name
from peppol.testpki import KeyPairFiles, TestPki, generate_test_pki
from smp_client.urls import service_metadata_url

#: The SML zone of the loopback network.
ZONE: Final = "sml.pair.localhost"
MARKETPLACE: Final = "iso6523-actorid-upis::0009:78430177200025"
PARTNER: Final = "iso6523-actorid-upis::9930:de298946909"
_PREAWARD: Final = "urn:oasis:names:specification:ubl:schema:xsd:"
#: Document types (and processes) both sides register: Peppol pre-award T004, T005, T006, T018.
DOCUMENT_TYPES: Final = (
    (f"busdox-docid-qns::{_PREAWARD}CallForTenders-2::CallForTenders##urn:fdc:peppol.eu:prac:trns:t004:1.2::2.2",
     "cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p002:1.2"),
    (f"busdox-docid-qns::{_PREAWARD}Tender-2::Tender##urn:fdc:peppol.eu:prac:trns:t005:1.2::2.2",
     "cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p003:1.2"),
    (f"busdox-docid-qns::{_PREAWARD}TenderReceipt-2::TenderReceipt##urn:fdc:peppol.eu:prac:trns:t006:1.2::2.2",
     "cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p003:1.2"),
    (f"busdox-docid-qns::{_PREAWARD}ApplicationResponse-2::ApplicationResponse"
     "##urn:fdc:peppol.eu:prac:trns:t018:1.1::2.2",
     "cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p010:1.1"),
)  # fmt: skip
NETWORK_FILE: Final = "network.json"


@dataclass(frozen=True)
class Side:
    """One access point of the pair."""

    name: str
    participant: str
    country: str
    format: str
    keys: KeyPairFiles
    port: int
    tender_receipt: bool

    @property
    def as4_url(self) -> str:
        return f"https://localhost:{self.port}/as4"

    @property
    def api_url(self) -> str:
        return f"https://localhost:{self.port}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_udp_tcp_port() -> int:
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free UDP+TCP port on 127.0.0.1")


def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _config_text(side: Side, pki: TestPki, home: Path, discovery: str, api_key: Any) -> str:
    def rel(path: Path) -> str:
        return _toml_string(_rel(path, home))

    return f"""# Written by `ap dev pair`: the {side.name} AP on loopback (test PKI; NOT for production).
data_dir = "data"
public_url = {_toml_string(side.as4_url)}

[server]
host = "127.0.0.1"
port = {side.port}
tls_cert = {rel(pki.tls_server_chain)}
tls_key = {rel(pki.tls_server.key)}

[identity]
cert = {rel(side.keys.cert)}
key = {rel(side.keys.key)}

[trust]
ap = {rel(pki.ap_truststore)}
smp = {rel(pki.smp_truststore)}
tls = {rel(pki.tls_truststore)}
crls = [{rel(pki.ap_crl)}]
revocation = "hard-fail"
allow_fetching = false

[discovery]
{discovery}

[client]
api_url = {_toml_string(side.api_url)}
api_key = {_toml_string(api_key.key)}
tls_ca = {rel(pki.tls_truststore)}

[[tenants]]
id = {_toml_string(side.name)}
participants = [{_toml_string(side.participant)}]
format = {_toml_string(side.format)}
country = {_toml_string(side.country)}
tender_receipt = {"true" if side.tender_receipt else "false"}

[[tenants.api_keys]]
id = {_toml_string(api_key.id)}
hash = {_toml_string(api_key.hash)}
scopes = ["send", "read"]
"""


def _write_static(path: Path, sides: list[Side]) -> None:
    participants = [
        {
            "id": side.participant,
            "services": [
                {
                    "document_type": doctype,
                    "process": process,
                    "endpoints": [
                        {
                            "url": side.as4_url,
                            "certificate": _rel(side.keys.cert, path.parent),
                            "description": f"{side.name} access point",
                        }
                    ],
                }
                for doctype, process in DOCUMENT_TYPES
            ],
        }
        for side in sides
    ]
    path.write_text(yaml.safe_dump({"participants": participants}, sort_keys=False))


def _write_network(directory: Path, sides: list[Side], pki: TestPki) -> tuple[int, int]:
    """The DNS zone and the signed SMP documents ``ap dev discovery`` serves."""
    from cryptography.hazmat.primitives import serialization

    from access_point.dev.smp import signed_metadata

    directory.mkdir(parents=True, exist_ok=True)
    dns_port, smp_port = _free_udp_tcp_port(), free_port()
    smp_base = f"https://127.0.0.1:{smp_port}/smp"
    smp_identity = pki.smp.identity()
    naptr: dict[str, str] = {}
    documents: dict[str, str] = {}
    for side in sides:
        participant = ParticipantId.parse(side.participant)
        naptr[sml_naptr_name(participant, ZONE)] = smp_base
        der = side.keys.certificate().public_bytes(serialization.Encoding.DER)
        for index, (doctype, process) in enumerate(DOCUMENT_TYPES):
            document_type = DocumentTypeId.parse(doctype)
            ProcessId.parse(process)
            url = service_metadata_url(
                smp_base,
                (participant.scheme, participant.value),
                (document_type.scheme, document_type.value),
                _peppol_dialect(),
            )
            name = f"{side.name}-{index}.xml"
            body = signed_metadata(side.participant, doctype, process, side.as4_url, der, smp_identity)
            (directory / name).write_bytes(body)
            documents[url.removeprefix(f"https://127.0.0.1:{smp_port}")] = name
    network = {
        "zone": ZONE,
        "dns_port": dns_port,
        "smp_port": smp_port,
        "tls_cert": _rel(pki.tls_server_chain, directory),
        "tls_key": _rel(pki.tls_server.key, directory),
        "naptr": naptr,
        "documents": documents,
    }
    (directory / NETWORK_FILE).write_text(json.dumps(network, indent=2) + "\n")
    return dns_port, smp_port


def _peppol_dialect() -> Any:
    from smp_client.model import SmpDialect

    return SmpDialect.PEPPOL


def write_pair(directory: Path, *, static: bool = False) -> dict[str, Any]:
    """Write the setup into ``directory``; returns what ``--json`` prints (see the module docstring)."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    pki = generate_test_pki(directory / "pki", ap_count=2)
    sides = [
        Side("marketplace", MARKETPLACE, "FR", "ocds", pki.aps[0], free_port(), tender_receipt=True),
        Side("partner", PARTNER, "DE", "ubl", pki.aps[1], free_port(), tender_receipt=False),
    ]
    if static:
        static_file = directory / "directory.yaml"
        _write_static(static_file, sides)
    else:
        dns_port, _ = _write_network(directory / "discovery", sides, pki)
    result: dict[str, Any] = {}
    for side in sides:
        home = directory / side.name
        home.mkdir(exist_ok=True)
        discovery = (
            f"static = {_toml_string(_rel(static_file, home))}"
            if static
            else f'sml_zone = "{ZONE}"\nnameservers = ["127.0.0.1:{dns_port}"]'
        )
        key = new_key()
        config = home / "ap.toml"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds an API key
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_config_text(side, pki, home, discovery, key))
        result[side.name] = {
            "config": str(config),
            "participant": side.participant,
            "api_url": side.api_url,
            "api_key": key.key,
        }
    if not static:
        result["discovery"] = {"directory": str(directory / "discovery"), "zone": ZONE}
    return result


def instructions(directory: Path, info: dict[str, Any]) -> list[str]:
    """How to start each side (what ``ap dev pair`` prints without ``--json``)."""
    lines = [f"Two access points written to {directory}:"]
    if "discovery" in info:
        lines.append(f"  discovery (DNS + SMP):  ap dev discovery {directory}")
    for name in ("marketplace", "partner"):
        side = info[name]
        lines.append(f"  {name}:  ap serve --config {side['config']}    (API {side['api_url']})")
    market = info["marketplace"]
    lines.append(f"Then: ap send call.json --to {info['partner']['participant']} --config {market['config']}")
    return lines
