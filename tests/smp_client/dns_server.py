"""A real DNS server on loopback (dnslib, UDP + TCP on one ephemeral port) playing the SML.

Behaviour per name: NAPTR records, SERVFAIL, a dropped query (client times out), or answers that
are truncated over UDP (the client must retry over TCP). Unknown names get NXDOMAIN; known names
asked for another type get NODATA. Every query is logged as ``(protocol, qtype, name)``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dnslib import CNAME, NAPTR, QTYPE, RCODE, RR, A, DNSLabel, DNSRecord
from dnslib.server import DNSError, DNSLogger, DNSServer


@dataclass
class _Entry:
    naptr: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    address: str | None = None
    cname: str | None = None
    mode: str = "answer"  # answer | servfail | drop | truncate | refused


class FakeSml:
    """The resolver dnslib calls, plus the table the tests fill in."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.log: list[tuple[str, str, str]] = []
        self.port = 0

    @staticmethod
    def _key(name: str) -> str:
        return name.rstrip(".").lower()

    def _entry(self, name: str) -> _Entry:
        with self._lock:
            return self._entries.setdefault(self._key(name), _Entry())

    # -- configuration used by tests -------------------------------------------------------------
    def naptr(self, name: str, *records: tuple[int, int, str, str, str]) -> None:
        """Serve NAPTR records ``(order, preference, flags, service, regexp)`` for ``name``."""
        self._entry(name).naptr.extend(records)

    def smp(self, name: str, url: str, order: int = 100, preference: int = 10) -> None:
        """The usual single ``U``/``Meta:SMP`` record pointing ``name`` at ``url``."""
        self.naptr(name, (order, preference, "U", "Meta:SMP", f"!.*!{url}!"))

    def address(self, name: str, ip: str = "127.0.0.1", cname: str | None = None) -> None:
        entry = self._entry(name)
        entry.address = ip
        entry.cname = cname

    def mode(self, name: str, mode: str) -> None:
        self._entry(name).mode = mode

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- dnslib resolver interface ---------------------------------------------------------------
    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        qname = str(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        protocol = getattr(handler, "protocol", "udp")
        with self._lock:
            self.log.append((protocol, qtype, self._key(qname)))
            entry = self._entries.get(self._key(qname))
        reply = request.reply()
        if entry is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if entry.mode == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if entry.mode == "refused":
            reply.header.rcode = RCODE.REFUSED
            return reply
        if entry.mode == "drop":
            raise DNSError("dropped on purpose")
        if qtype == "NAPTR":
            for order, pref, flags, service, regexp in entry.naptr:
                rdata = NAPTR(order, pref, flags.encode(), service.encode(), regexp.encode(), DNSLabel("."))
                reply.add_answer(RR(qname, QTYPE.NAPTR, rdata=rdata, ttl=60))
        elif qtype == "A" and entry.address:
            owner = qname
            if entry.cname:
                reply.add_answer(RR(qname, QTYPE.CNAME, rdata=CNAME(entry.cname), ttl=60))
                owner = entry.cname
            reply.add_answer(RR(owner, QTYPE.A, rdata=A(entry.address), ttl=60))
        if entry.mode == "truncate" and protocol == "udp":
            truncated = request.reply()
            truncated.header.tc = 1
            return truncated
        return reply


def _silent_logger() -> DNSLogger:
    return DNSLogger(
        log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False, logf=lambda _s: None
    )


@contextlib.contextmanager
def running_dns(fake: FakeSml) -> Iterator[FakeSml]:
    """Run ``fake`` on 127.0.0.1 over UDP and TCP on the same ephemeral port."""
    logger = _silent_logger()
    udp = tcp = None
    for _attempt in range(20):
        udp = DNSServer(fake, address="127.0.0.1", port=0, logger=logger)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(fake, address="127.0.0.1", port=port, tcp=True, logger=logger)
        except OSError:
            udp.server.server_close()
            continue
        fake.port = port
        break
    assert udp is not None and tcp is not None, "could not bind a UDP+TCP port pair"
    udp.start_thread()
    tcp.start_thread()
    try:
        yield fake
    finally:
        udp.stop()
        tcp.stop()
        udp.server.server_close()
        tcp.server.server_close()


@contextlib.contextmanager
def silent_udp_port() -> Iterator[str]:
    """A bound UDP socket that never answers: the address of a name server that times out."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
