"""``ap dev discovery DIR``: the loopback Peppol network of ``ap dev pair`` — a real DNS server (UDP and
TCP) answering the SML NAPTR queries, and an SMP over TLS serving the signed ServiceMetadata documents
written in ``DIR/discovery``."""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from access_point.dev.pair import NETWORK_FILE


def _key(path: str) -> str:
    return unquote(path).lower()


class _Zone:
    """The dnslib resolver: NAPTR records for the pair's participants, NXDOMAIN otherwise."""

    def __init__(self, naptr: dict[str, str]) -> None:
        self.naptr = {name.rstrip(".").lower(): url for name, url in naptr.items()}

    def resolve(self, request: Any, handler: Any) -> Any:
        from dnslib import NAPTR, QTYPE, RCODE, RR, DNSLabel

        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        url = self.naptr.get(name)
        if url is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif QTYPE[request.q.qtype] in ("NAPTR", "ANY"):
            record = NAPTR(100, 10, b"U", b"Meta:SMP", f"!.*!{url}!".encode(), DNSLabel("."))
            reply.add_answer(RR(request.q.qname, QTYPE.NAPTR, rdata=record, ttl=60))
        return reply


@dataclass
class RunningNetwork:
    """The DNS server and SMP of a pair, running in background threads."""

    nameserver: str
    smp_url: str
    _stoppers: list[Any]

    def stop(self) -> None:
        for stop in self._stoppers:
            stop()


def start_network(pair_dir: Path) -> RunningNetwork:
    """Start the DNS server and the SMP of the pair written in ``pair_dir`` (ports from its files)."""
    from dnslib.server import DNSLogger, DNSServer

    directory = Path(pair_dir) / "discovery"
    network = json.loads((directory / NETWORK_FILE).read_text())
    logger = DNSLogger(
        log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False, logf=lambda _s: None
    )
    zone = _Zone(network["naptr"])
    udp = DNSServer(zone, address="127.0.0.1", port=network["dns_port"], logger=logger)
    tcp = DNSServer(zone, address="127.0.0.1", port=network["dns_port"], tcp=True, logger=logger)
    documents = {_key(path): (directory / name).read_bytes() for path, name in network["documents"].items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = documents.get(_key(self.path))
            status = 200 if body is not None else 404
            body = body if body is not None else b"not found\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=UTF-8" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", network["smp_port"]), Handler)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(directory / network["tls_cert"]), str(directory / network["tls_key"]))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True, name="dev-smp")
    udp.start_thread()
    tcp.start_thread()
    thread.start()

    def stop_smp() -> None:
        httpd.shutdown()
        httpd.server_close()

    def stop_dns() -> None:
        for server in (udp, tcp):
            server.stop()
            server.server.server_close()

    return RunningNetwork(
        nameserver=f"127.0.0.1:{network['dns_port']}",
        smp_url=f"https://127.0.0.1:{network['smp_port']}/smp",
        _stoppers=[stop_smp, stop_dns],
    )
