"""Real SMP responses from the corpus (peppol-commons test resources, 2018/2019, exc-c14n + RSA-SHA1).

Their signers chain to the retired Peppol G2 SMP CA, which is not in the corpus, so these tests use
the explicit ``skip_smp_signer_trust`` path: the signature itself is verified on the raw bytes, the
chain is not. SHA-1 is accepted only through the explicit legacy policy. See docs/discovery.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from smp_client.documents import parse_service_metadata
from smp_client.errors import SmpSignatureError
from smp_client.signature import SignaturePolicy, verify_smp_signature

LEGACY = SignaturePolicy(allow_sha1=True)
APRIL_2019 = datetime(2019, 4, 15, tzinfo=UTC)
SEPT_2018 = datetime(2018, 9, 15, tzinfo=UTC)


def _skip_trust(_cert: object, _moment: object) -> str:
    return "signer trust NOT checked (test of historic data)"


def _read(corpus: Path, name: str) -> bytes:
    return (corpus / "smp" / "peppol-commons" / name).read_bytes()


def test_corpus_signed_service_metadata2_verifies(corpus: Path) -> None:
    verified = verify_smp_signature(
        _read(corpus, "signed-service-metadata2.xml"),
        signer_check=_skip_trust,
        policy=LEGACY,
        moment=APRIL_2019,
    )
    assert "CN=PNO000070" in verified.signer_subject
    doc = parse_service_metadata(verified.root)
    assert doc.participant is not None and doc.participant.value == "0088:5060482240009"
    assert doc.processes[0].endpoints[0].url == "https://peppol.netedi.com/receive.aspx"


def test_corpus_signed_service_metadata3_verifies(corpus: Path) -> None:
    verified = verify_smp_signature(
        _read(corpus, "signed-service-metadata3-c14n-inclusive.xml"),
        signer_check=_skip_trust,
        policy=LEGACY,
        moment=SEPT_2018,
    )
    assert verified.c14n == "http://www.w3.org/2001/10/xml-exc-c14n#"  # despite the file name
    doc = parse_service_metadata(verified.root)
    profiles = [ep.transport_profile for ep in doc.processes[0].endpoints]
    assert profiles == ["busdox-transport-as2-ver1p0", "peppol-transport-as4-v2_0"]


def test_corpus_signed_service_metadata1_fails(corpus: Path) -> None:
    with pytest.raises(SmpSignatureError, match="does not verify"):
        verify_smp_signature(
            _read(corpus, "signed-service-metadata1.xml"),
            signer_check=_skip_trust,
            policy=LEGACY,
            moment=APRIL_2019,
        )


def test_corpus_sha1_needs_the_legacy_option(corpus: Path) -> None:
    with pytest.raises(SmpSignatureError, match="legacy"):
        verify_smp_signature(
            _read(corpus, "signed-service-metadata2.xml"), signer_check=_skip_trust, moment=APRIL_2019
        )


def test_corpus_signer_certificate_expired_today(corpus: Path) -> None:
    # Without a historic validation time the signer certificate (valid to 2020/2021) is expired.
    with pytest.raises(SmpSignatureError, match="expired"):
        verify_smp_signature(
            _read(corpus, "signed-service-metadata2.xml"), signer_check=_skip_trust, policy=LEGACY
        )


def test_corpus_signer_rejected_by_the_g3_smp_truststore(corpus: Path) -> None:
    from peppol.pki import CertificateValidator, Purpose, RevocationPolicy, TrustStore
    from smp_client.discovery import Discovery, DiscoveryConfig
    from smp_client.errors import SmpSignerUntrusted

    trust = TrustStore.from_pem(corpus / "pki" / "peppol" / "smp-prod-truststore.pem")
    validator = CertificateValidator(
        trust, purpose=Purpose.SMP, revocation=RevocationPolicy.OFF, allow_fetching=False
    )
    disco = Discovery(DiscoveryConfig(signature=LEGACY), smp_validator=validator, ap_validator=validator)
    with pytest.raises(SmpSignerUntrusted, match=r"no issuer matching .*SERVICE METADATA PUBLISHER CA - G2"):
        disco._verify(_read(corpus, "signed-service-metadata2.xml"), APRIL_2019)
