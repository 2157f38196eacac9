"""The OpenPeppol CA certificates shipped as package data are OpenPeppol's (issue 14 item 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from peppol.pki import (
    CertificateValidator,
    Purpose,
    Stage,
    WrongStage,
    load_certificates,
    network_bundle,
    network_truststore,
    select_truststore,
)
from tests.conftest import CORPUS_DIR

PEPPOL_PKI = CORPUS_DIR / "pki" / "peppol"
CORPUS_BUNDLES = {Stage.TEST: "ap-test-truststore.pem", Stage.PRODUCTION: "ap-prod-truststore.pem"}


def _peppol_cas(path: Path) -> set[x509.Certificate]:
    return {c for c in load_certificates(path) if "PEPPOL" in c.subject.rfc4514_string().upper()}


@pytest.mark.corpus
@pytest.mark.parametrize("network", list(Stage))
def test_shipped_bundle_is_exactly_the_openpeppol_g3_cas(network: Stage) -> None:
    corpus = PEPPOL_PKI / CORPUS_BUNDLES[network]
    if not corpus.exists():
        pytest.skip("corpus not available")
    shipped = load_certificates(network_bundle(network))
    assert set(shipped) == _peppol_cas(corpus)
    assert len(shipped) == 3 and all("G3" in c.subject.rfc4514_string() for c in shipped)
    # the SMP bundles of the corpus carry the same Peppol CAs (plus public TLS roots)
    smp = PEPPOL_PKI / CORPUS_BUNDLES[network].replace("ap-", "smp-")
    assert _peppol_cas(smp) == set(shipped)


def test_network_truststore_declares_its_stage_and_an_explicit_file_wins(test_pki: Any) -> None:
    for network in Stage:
        store = network_truststore(network)
        assert store.stage is network
        assert len(store.anchors) == 1 and len(store.intermediates) == 2
    assert select_truststore(None, None) is None
    generated = select_truststore("test", test_pki.ap_truststore)
    assert generated is not None
    result = CertificateValidator(generated, purpose=Purpose.AP, allow_fetching=False).validate(
        test_pki.aps[0].certificate()
    )
    assert result.seat_id == test_pki.aps[0].seat_id


def test_a_test_certificate_against_the_production_network_is_wrong_stage(test_pki: Any) -> None:
    validator = CertificateValidator(network_truststore("production"), purpose=Purpose.AP)
    with pytest.raises(WrongStage):
        validator.validate(test_pki.aps[0].certificate())
