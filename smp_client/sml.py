"""SML lookup over DNS with dnspython: U-NAPTR (default) and the legacy CNAME scheme (opt-in).

Queries go straight to the configured name servers (``host:port``) over UDP, falling back to TCP
when the answer is truncated or UDP times out. Answers are classified into the failure taxonomy:
NXDOMAIN/NODATA mean "not registered" (final), SERVFAIL/REFUSED/timeouts mean "DNS technical
failure" (retryable, after every configured server was tried). There is no internal DNS cache:
negative answers right after a registration must not stick (peppol-commons #54).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Final

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
from dns.rdtypes.IN.NAPTR import NAPTR

from peppol.deadline import current as current_deadline
from smp_client.errors import (
    DnsTechnicalFailure,
    DomainNameSyntaxError,
    ParticipantNotRegistered,
)
from smp_client.naptr import NaptrRecord, select_smp_uri

#: Per-query timeout (seconds) for one UDP or TCP exchange with one name server.
DEFAULT_DNS_TIMEOUT: Final = 3.0
#: Standard DNS port.
DNS_PORT: Final = 53


@dataclass(frozen=True, slots=True)
class Nameserver:
    """A DNS server address; ``host`` is an IP address or a host name resolved by the OS."""

    host: str
    port: int = DNS_PORT

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """Parse ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address."""
        text = text.strip()
        if not text:
            raise ValueError("empty name server")
        if text.startswith("["):
            host, sep, rest = text[1:].partition("]")
            if not sep:
                raise ValueError(f"unterminated IPv6 literal in {text!r}")
            port = int(rest[1:]) if rest.startswith(":") else DNS_PORT
        elif text.count(":") == 1:
            host, _, port_text = text.partition(":")
            port = int(port_text)
        else:
            host, port = text, DNS_PORT
        if not host or not 0 < port < 65536:
            raise ValueError(f"invalid name server {text!r}")
        return cls(host, port)

    def address(self) -> str:
        """The IP address to send to (resolving a host name once through the OS)."""
        try:
            ipaddress.ip_address(self.host)
            return self.host
        except ValueError:
            return socket.gethostbyname(self.host)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SmlConfig:
    """How to talk to the SML. ``zone`` is a DNS domain (see ``peppol.identifiers.resolve_zone``)."""

    zone: str
    nameservers: tuple[Nameserver, ...] = ()
    timeout: float = DEFAULT_DNS_TIMEOUT
    tcp_fallback: bool = True
    #: Accept ``http://`` SMP URIs from NAPTR (pre-2026 test rigs only; insecure).
    allow_http: bool = False
    #: Use the deprecated CNAME (``B-<md5>``) scheme instead of U-NAPTR (old test rigs only).
    legacy_cname: bool = False


@dataclass(frozen=True, slots=True)
class SmlAnswer:
    """What the SML said, kept for ``ap lookup``'s step-by-step output."""

    dns_name: str
    smp_url: str
    method: str  # "naptr" or "cname"
    nameserver: str
    transport: str  # "udp" or "tcp"
    records: tuple[NaptrRecord, ...] = ()
    selected: NaptrRecord | None = None
    cname_target: str | None = None
    notes: tuple[str, ...] = field(default=())


def _to_name(dns_name: str) -> dns.name.Name:
    try:
        return dns.name.from_text(dns_name)
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise DomainNameSyntaxError(f"invalid DNS name {dns_name!r}: {exc}") from exc


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


class SmlClient:
    """Resolves DNS names of participants to SMP base URIs."""

    def __init__(self, config: SmlConfig) -> None:
        self.config = config

    def _servers(self) -> list[Nameserver]:
        if self.config.nameservers:
            return list(self.config.nameservers)
        try:
            system = dns.resolver.Resolver(configure=True)
        except dns.exception.DNSException as exc:
            raise DnsTechnicalFailure(f"no system DNS configuration: {exc}") from exc
        servers = [Nameserver(str(ns), DNS_PORT) for ns in system.nameservers]
        if not servers:
            raise DnsTechnicalFailure("no DNS name servers configured")
        return servers

    def _exchange(self, query: dns.message.Message, server: Nameserver) -> tuple[dns.message.Message, str]:
        """One query against one server: UDP first, TCP on truncation or UDP timeout."""
        where = server.address()
        scope = current_deadline()
        timeout = self.config.timeout if scope is None else scope.cap(self.config.timeout)
        try:
            response = dns.query.udp(query, where, timeout=timeout, port=server.port, ignore_unexpected=True)
            if not response.flags & dns.flags.TC:
                return response, "udp"
            if not self.config.tcp_fallback:
                raise DnsTechnicalFailure(f"truncated UDP answer from {server} and TCP fallback disabled")
        except dns.exception.Timeout:
            if not self.config.tcp_fallback:
                raise
        if scope is not None:
            timeout = scope.cap(self.config.timeout)
        return dns.query.tcp(query, where, timeout=timeout, port=server.port), "tcp"

    def query(
        self, dns_name: str, rdtype: dns.rdatatype.RdataType
    ) -> tuple[dns.message.Message, Nameserver, str]:
        """Send one query, trying each server until one gives an authoritative-enough answer.

        Returns the response (rcode NOERROR) with the server and transport used. NXDOMAIN raises
        :class:`ParticipantNotRegistered` at once; other failures move on to the next server and end in
        :class:`DnsTechnicalFailure`.
        """
        qname = _to_name(dns_name)
        query = dns.message.make_query(qname, rdtype)
        failures: list[str] = []
        scope = current_deadline()
        for server in self._servers():
            if scope is not None:
                scope.check()
            try:
                response, transport = self._exchange(query, server)
            except dns.exception.Timeout:
                failures.append(f"{server}: timeout after {self.config.timeout:g}s")
                continue
            except (OSError, dns.exception.DNSException) as exc:
                failures.append(f"{server}: {exc or type(exc).__name__}")
                continue
            rcode = response.rcode()
            if rcode == dns.rcode.NXDOMAIN:
                raise ParticipantNotRegistered(f"{dns_name} does not exist (NXDOMAIN from {server})")
            if rcode != dns.rcode.NOERROR:
                failures.append(f"{server}: {dns.rcode.to_text(rcode)}")
                continue
            return response, server, transport
        raise DnsTechnicalFailure(f"DNS lookup of {dns_name} failed: " + "; ".join(failures))

    def naptr_records(self, dns_name: str) -> tuple[list[NaptrRecord], Nameserver, str]:
        """All NAPTR records answering ``dns_name`` (following any CNAME/DNAME in the answer)."""
        response, server, transport = self.query(dns_name, dns.rdatatype.NAPTR)
        records: list[NaptrRecord] = []
        for rrset in response.answer:
            if rrset.rdtype != dns.rdatatype.NAPTR:
                continue
            for rdata in rrset:
                assert isinstance(rdata, NAPTR)
                records.append(
                    NaptrRecord(
                        order=int(rdata.order),
                        preference=int(rdata.preference),
                        flags=_text(rdata.flags),
                        service=_text(rdata.service),
                        regexp=_text(rdata.regexp),
                        replacement=rdata.replacement.to_text(),
                    )
                )
        if not records:
            raise ParticipantNotRegistered(f"{dns_name} has no NAPTR records (NODATA from {server})")
        return records, server, transport

    def resolve_naptr(self, dns_name: str) -> SmlAnswer:
        """U-NAPTR resolution of an already built name (``<hash>.<scheme>.<zone>``)."""
        records, server, transport = self.naptr_records(dns_name)
        selected, uri = select_smp_uri(records, dns_name, allow_http=self.config.allow_http)
        return SmlAnswer(
            dns_name=dns_name.rstrip("."),
            smp_url=uri,
            method="naptr",
            nameserver=str(server),
            transport=transport,
            records=tuple(records),
            selected=selected,
        )

    def resolve_cname(self, dns_name: str) -> SmlAnswer:
        """Legacy scheme: the ``B-<md5>`` name must exist; the SMP is ``http://<that name>/``.

        Only for old test rigs (the SML removed these records after 2026-02-01); plain http, no TLS.
        """
        response, server, transport = self.query(dns_name, dns.rdatatype.A)
        target: str | None = None
        has_address = False
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.CNAME:
                target = rrset[0].to_text().rstrip(".")
            elif rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                has_address = True
        if target is None and not has_address:
            raise ParticipantNotRegistered(f"{dns_name} has no address records (NODATA from {server})")
        return SmlAnswer(
            dns_name=dns_name.rstrip("."),
            smp_url=f"http://{dns_name.rstrip('.')}/",
            method="cname",
            nameserver=str(server),
            transport=transport,
            cname_target=target,
            notes=("legacy CNAME lookup: plain http SMP, deprecated",),
        )
