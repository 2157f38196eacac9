"""Building discovery from plain settings: configuration problems are ValueErrors at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from peppol.testpki import TestPki
from smp_client import DiscoverySettings, SmpDialect, build_discovery, build_static
from tests.smp_client.world import World


def test_build_discovery_from_settings_looks_up(smp_world: World) -> None:
    pki = smp_world.pki
    settings = DiscoverySettings(
        smp_trust=pki.smp_truststore,
        ap_trust=pki.ap_truststore,
        zone="sml.loopback.test",
        nameservers=(smp_world.dns.nameserver,),
        tls_ca=pki.tls_truststore,
        crls=(pki.ap_crl,),
        allow_fetching=False,
    )
    disco = build_discovery(settings)
    assert disco.config.sml.zone == "sml.loopback.test" and disco.config.dialect is SmpDialect.PEPPOL
    from tests.smp_client.test_discovery import _ids

    assert disco.lookup(*_ids("good")).certificate.valid is True


def test_build_discovery_zone_names(test_pki: TestPki) -> None:
    settings = DiscoverySettings(
        smp_trust=test_pki.smp_truststore, ap_trust=test_pki.ap_truststore, zone="test"
    )
    disco = build_discovery(settings)
    assert disco.config.sml.zone == "participant.sml.test.tech.peppol.org"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ap_trust": None}, "AP trust store is required"),
        ({"smp_trust": None}, "SMP trust store is required"),
        ({"zone": "nodots"}, "zone"),
        ({"nameservers": ("127.0.0.1:99999",)}, "name server"),
        ({"tls_ca": Path("/nonexistent.pem")}, "TLS CA bundle"),
        ({"ap_trust": Path("/nonexistent.pem")}, "trust store"),
        ({"crls": (Path("/nonexistent.crl"),)}, "CRL"),
    ],
)
def test_build_discovery_configuration_errors(
    test_pki: TestPki, change: dict[str, object], message: str
) -> None:
    base: dict[str, object] = {"smp_trust": test_pki.smp_truststore, "ap_trust": test_pki.ap_truststore}
    base.update(change)
    with pytest.raises(ValueError, match=message):
        build_discovery(DiscoverySettings(**base))  # type: ignore[arg-type]


def test_skip_smp_signer_trust_must_be_explicit(test_pki: TestPki) -> None:
    disco = build_discovery(DiscoverySettings(ap_trust=test_pki.ap_truststore, skip_smp_signer_trust=True))
    assert disco.smp_validator is None and disco.config.skip_smp_signer_trust


def test_build_static_with_and_without_trust(tmp_path: Path, test_pki: TestPki) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("participants: []\n")
    assert build_static(path).ap_validator is None
    assert build_static(path, ap_trust=test_pki.ap_truststore).ap_validator is not None
    with pytest.raises(ValueError):
        build_static(path, ap_trust=tmp_path / "missing.pem")


def test_discovery_without_smp_validator_needs_the_explicit_skip(test_pki: TestPki) -> None:
    """Signer trust of SMP answers is on unless skipped by name: no validator is a start-up error."""
    from smp_client import Discovery, DiscoveryConfig

    with pytest.raises(ValueError, match="an SMP certificate validator is required"):
        Discovery(DiscoveryConfig(), smp_validator=None, ap_validator=test_pki.ap_validator())
    skipped = Discovery(
        DiscoveryConfig(skip_smp_signer_trust=True), smp_validator=None, ap_validator=test_pki.ap_validator()
    )
    assert skipped.smp_validator is None
