"""The loopback Peppol network used by discovery tests: one real DNS server playing the SML and one
TLS SMP server, with a participant per scenario, all signed with the ``ap pki init`` test PKI.

Import the ``smp_world`` fixture into a test module (or conftest) to use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from signxml.algorithms import CanonicalizationMethod

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId, sml_naptr_name
from peppol.testpki import TestPki
from smp_client import Discovery, DiscoveryConfig, HttpSettings, SignaturePolicy, SmlConfig, SmpDialect
from smp_client.sml import Nameserver
from tests.smp_client.dns_server import FakeSml, running_dns
from tests.smp_client.smp_docs import (
    Ep,
    bdxr2_metadata,
    bdxr2_redirect,
    bdxr2_service_group,
    sign,
    v1_metadata,
    v1_redirect,
    v1_service_group,
)
from tests.smp_client.smp_server import Answer, SmpServer, running_smp

ZONE = "sml.loopback.test"
DOCTYPE = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
ORDER = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Order-2::Order"
    "##urn:fdc:peppol.eu:poacc:trns:order:3::2.1"
)
PROCESS = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
PINT_WILDCARD = (
    "peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:peppol:pint:billing-1*::2.1"
)
AP_URL = "https://ap.example.test/as4"
AS2 = "busdox-transport-as2-ver2p0"

SCENARIOS = [
    "good", "bdxr1", "bdxr2", "pem", "exc", "sha1", "tampered", "apsigned", "expiredsmp",
    "redirectok", "redirect2", "redirectbad", "wrongdoctype", "expiredep", "future", "as2only",
    "revoked", "expiredcert", "found302", "notserved", "slow", "unknown", "servfail", "badregexp",
    "nosmp", "tlssigned", "wrongparticipant", "bdxr2redirect",
    "error500", "garbage", "pint", "nocert", "redirecthttp", "emptybody",
]  # fmt: skip
#: scenario → participant identifier
P = {name: f"iso6523-actorid-upis::9915:{name}" for name in SCENARIOS}


def smp_path(participant: str, doctype: str | None = None, *, bdxr2: bool = False) -> str:
    path = "/smp/" + ("bdxr-smp-2/" if bdxr2 else "") + quote(participant, safe="")
    return path + ("/services/" + quote(doctype, safe="") if doctype else "")


@dataclass
class World:
    pki: TestPki
    dns: FakeSml
    smp: SmpServer
    bodies: dict[str, bytes] = field(default_factory=dict)

    @property
    def smp_url(self) -> str:
        return self.smp.base + "/smp"

    def config(
        self,
        *,
        dialect: SmpDialect = SmpDialect.PEPPOL,
        read_timeout: float = 5.0,
        allow_sha1: bool = False,
        **kw: Any,
    ) -> DiscoveryConfig:
        return DiscoveryConfig(
            sml=SmlConfig(zone=ZONE, nameservers=(Nameserver.parse(self.dns.nameserver),), timeout=2.0),
            http=HttpSettings(ca_bundle=str(self.pki.tls_truststore), read_timeout=read_timeout),
            dialect=dialect,
            signature=SignaturePolicy(allow_sha1=allow_sha1),
            **kw,
        )

    def discovery(self, **kw: Any) -> Discovery:
        return Discovery(
            self.config(**kw), smp_validator=self.pki.smp_validator(), ap_validator=self.pki.ap_validator()
        )

    def lookup(
        self,
        scenario: str,
        *,
        doctype: str = DOCTYPE,
        profile: str = "peppol-transport-as4-v2_0",
        moment: datetime | None = None,
        **kw: Any,
    ) -> Any:
        ids = ParticipantId.parse(P[scenario]), DocumentTypeId.parse(doctype), ProcessId.parse(PROCESS)
        return self.discovery(**kw).lookup(*ids, profile, moment=moment)


def build_world(pki: TestPki, dns: FakeSml, smp: SmpServer) -> World:
    world = World(pki, dns, smp)
    base = world.smp_url
    ap = pki.aps[0].certificate()
    smp_key, smp_cert = pki.smp.identity().private_key, pki.smp.certificate()
    good_ep = [Ep(AP_URL, ap)]

    def naptr(scenario: str) -> str:
        return sml_naptr_name(ParticipantId.parse(P[scenario]), ZONE)

    def signed_v1(scenario: str, endpoints: list[Ep], *, doctype: str = DOCTYPE, **sign_kw: Any) -> bytes:
        return sign(v1_metadata(P[scenario], doctype, PROCESS, endpoints), smp_key, smp_cert, **sign_kw)

    def serve(scenario: str, body: bytes, *, doctype: str = DOCTYPE) -> None:
        world.bodies[scenario] = body
        smp.xml(smp_path(P[scenario], doctype), body)

    for scenario in P:
        if scenario not in ("unknown", "servfail", "badregexp", "nosmp"):
            dns.smp(naptr(scenario), base)
    dns.mode(naptr("servfail"), "servfail")
    dns.naptr(naptr("badregexp"), (100, 10, "U", "Meta:SMP", "!(!https://x!"))
    dns.naptr(naptr("nosmp"), (100, 10, "U", "E2U+sip", "!.*!sip:info@example.test!"))

    serve("good", signed_v1("good", good_ep))
    smp.xml(smp_path(P["good"]), v1_service_group(P["good"], base + "/", [DOCTYPE, ORDER]))
    bdxr1 = v1_metadata(P["bdxr1"], DOCTYPE, PROCESS, good_ep, bdxr1=True)
    serve("bdxr1", sign(bdxr1, smp_key, smp_cert))
    bdxr2 = bdxr2_metadata(P["bdxr2"], DOCTYPE, PROCESS, good_ep)
    body = sign(bdxr2, smp_key, smp_cert, c14n=CanonicalizationMethod.CANONICAL_XML_1_1.value)
    world.bodies["bdxr2"] = body
    smp.xml(smp_path(P["bdxr2"], DOCTYPE, bdxr2=True), body)
    smp.xml(smp_path(P["bdxr2"], bdxr2=True), bdxr2_service_group(P["bdxr2"], [DOCTYPE, ORDER]))

    from cryptography.hazmat.primitives import serialization

    pem = ap.public_bytes(serialization.Encoding.PEM).decode()
    serve("pem", signed_v1("pem", [Ep(AP_URL, None, cert_text="\n  " + pem.replace("\n", "\r\n  "))]))
    serve(
        "exc",
        signed_v1("exc", good_ep, c14n=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value,
                  single_transform=False),
    )  # fmt: skip
    serve("sha1", signed_v1("sha1", good_ep, sha1=True))
    serve("tampered", signed_v1("tampered", good_ep).replace(b"ap.example.test", b"ev.example.test"))
    apid = pki.aps[0].identity()
    serve("apsigned", sign(v1_metadata(P["apsigned"], DOCTYPE, PROCESS, good_ep), apid.private_key, ap))
    exp = pki.expired_smp.identity()
    serve(
        "expiredsmp",
        sign(v1_metadata(P["expiredsmp"], DOCTYPE, PROCESS, good_ep), exp.private_key, exp.certificate),
    )

    # Redirects: the target documents live under /other/ (a "second SMP").
    subject_reordered = ", ".join(reversed(smp_cert.subject.rfc4514_string().split(",")))
    serve("redirectok", sign(v1_redirect(smp.base + "/other/ok", subject_reordered), smp_key, smp_cert))
    smp.xml("/other/ok", signed_v1("redirectok", good_ep))
    serve(
        "redirectbad",
        sign(v1_redirect(smp.base + "/other/bad", "CN=PFR000777,O=Someone Else,C=FR"), smp_key, smp_cert),
    )
    smp.xml("/other/bad", signed_v1("redirectbad", good_ep))
    serve("redirect2", sign(v1_redirect(smp.base + "/other/hop1", subject_reordered), smp_key, smp_cert))
    plain = smp.base.replace("https://", "http://", 1) + "/other/ok"  # a validly signed downgrade
    serve("redirecthttp", sign(v1_redirect(plain, subject_reordered), smp_key, smp_cert))
    smp.xml("/other/hop1", sign(v1_redirect(smp.base + "/other/hop2", subject_reordered), smp_key, smp_cert))
    smp.xml("/other/hop2", signed_v1("redirect2", good_ep))

    tls = pki.tls_server.identity()
    serve(
        "tlssigned",
        sign(v1_metadata(P["tlssigned"], DOCTYPE, PROCESS, good_ep), tls.private_key, tls.certificate),
    )
    serve("wrongparticipant", signed_v1("good", good_ep))  # answers for 9915:good
    # BDXR 2 per-process redirect: certificates announced instead of a CertificateUID.
    target = bdxr2_metadata(P["bdxr2redirect"], DOCTYPE, PROCESS, good_ep)
    smp.xml(
        "/other/bdxr2", sign(target, smp_key, smp_cert, c14n=CanonicalizationMethod.CANONICAL_XML_1_1.value)
    )
    redirecting = bdxr2_redirect(P["bdxr2redirect"], DOCTYPE, PROCESS, smp.base + "/other/bdxr2", smp_cert)
    smp.xml(
        smp_path(P["bdxr2redirect"], DOCTYPE, bdxr2=True),
        sign(redirecting, smp_key, smp_cert, c14n=CanonicalizationMethod.CANONICAL_XML_1_1.value),
    )

    other_doctype = DOCTYPE.replace("::Invoice##", "::invoice##")
    serve("wrongdoctype", signed_v1("wrongdoctype", good_ep, doctype=other_doctype))
    serve("expiredep", signed_v1("expiredep", [Ep(AP_URL, ap, expiration="2020-01-01T00:00:00Z")]))
    serve("future", signed_v1("future", [Ep(AP_URL, ap, activation="2999-01-01T00:00:00Z")]))
    serve("as2only", signed_v1("as2only", [Ep(AP_URL, ap, profile=AS2)]))
    serve("nocert", signed_v1("nocert", [Ep(AP_URL, None)]))  # an empty <Certificate/>
    serve("revoked", signed_v1("revoked", [Ep(AP_URL, pki.revoked_ap.certificate())]))
    serve("expiredcert", signed_v1("expiredcert", [Ep(AP_URL, pki.expired_ap.certificate())]))
    smp.route(
        smp_path(P["found302"], DOCTYPE),
        Answer(status=302, body=b"", headers=(("Location", smp.base + "/elsewhere"),)),
    )
    smp.xml("/elsewhere", signed_v1("found302", good_ep))
    serve("pint", signed_v1("pint", good_ep, doctype=PINT_WILDCARD), doctype=PINT_WILDCARD)
    smp.xml(smp_path(P["pint"]), v1_service_group(P["pint"], base + "/", [DOCTYPE, PINT_WILDCARD]))
    smp.route(smp_path(P["error500"], DOCTYPE), Answer(status=500, body=b"internal error"))
    smp.route(smp_path(P["garbage"], DOCTYPE), Answer(body=b"<html><body>Please log in</body></html>"))
    smp.route(smp_path(P["emptybody"], DOCTYPE), Answer(body=b""))
    smp.route(smp_path(P["slow"], DOCTYPE), Answer(body=signed_v1("slow", good_ep), delay=2.0))
    return world


@pytest.fixture(scope="session")
def smp_world(test_pki: TestPki) -> Iterator[World]:
    """DNS + TLS SMP on loopback with every discovery scenario."""
    dns = FakeSml()
    smp = SmpServer()
    with running_dns(dns), running_smp(smp, test_pki.tls_server_chain, test_pki.tls_server.key):
        yield build_world(test_pki, dns, smp)


__all__ = ["DOCTYPE", "ORDER", "PINT_WILDCARD", "PROCESS", "P", "World", "smp_path", "smp_world"]
