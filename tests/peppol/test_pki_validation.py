"""Certificate validation against the Peppol G3 rules (``as4.md`` §7.2, ``conformance.md`` §11-12 item 5).

Each rejection must come out as its own typed error with its own code.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peppol.pki import (
    CertificateError,
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    CertificateValidator,
    Identity,
    KeyLoadError,
    Purpose,
    RevocationPolicy,
    RevocationUnknown,
    Stage,
    TrustStore,
    WrongPurpose,
    WrongStage,
    seat_id,
)
from peppol.testpki import TestPki, _name, issue_certificate, new_key

PEPPOL = Path("pki") / "peppol"


@pytest.fixture(scope="module")
def ap_validator(test_pki: TestPki) -> CertificateValidator:
    return test_pki.ap_validator()


def _issue(test_pki: TestPki, issuer: Identity, cn: str, profile: str, **kw: object) -> x509.Certificate:
    now = test_pki.aps[0].certificate().not_valid_before_utc
    return issue_certificate(
        _name(cn, ou=None),
        new_key().public_key(),
        issuer,
        profile=profile,
        not_before=kw.pop("not_before", now),  # type: ignore[arg-type]
        not_after=kw.pop("not_after", now + timedelta(days=365)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


# -- trust stores -------------------------------------------------------------------------------------


def test_corpus_g3_test_truststore_splits_root_and_issuing_cas(corpus: Path) -> None:
    store = TrustStore.from_pem(corpus / PEPPOL / "ap-test-truststore.pem")
    assert [seat_id(a) for a in store.anchors] == ["PEPPOL Root TEST CA - G3"]
    assert sorted(seat_id(c) for c in store.intermediates) == [
        "PEPPOL ACCESS POINT TEST CA - G3",
        "PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3",
    ]
    assert store.inferred_stage() is Stage.TEST


def test_corpus_g3_production_truststore_is_production(corpus: Path) -> None:
    store = TrustStore.from_pem(corpus / PEPPOL / "ap-prod-truststore.pem")
    assert [seat_id(a) for a in store.anchors] == ["PEPPOL Root CA - G3"]
    assert store.inferred_stage() is Stage.PRODUCTION


def test_corpus_smp_truststore_keeps_tls_roots_as_anchors(corpus: Path) -> None:
    store = TrustStore.from_pem(corpus / PEPPOL / "smp-test-truststore.pem")
    anchors = {seat_id(a) for a in store.anchors}
    assert {"PEPPOL Root TEST CA - G3", "ISRG Root X1", "GlobalSign"} == anchors
    assert "PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3" in {seat_id(c) for c in store.intermediates}
    assert store.inferred_stage() is Stage.TEST  # only Peppol anchors count


def test_truststore_without_root_is_refused(test_pki: TestPki) -> None:
    with pytest.raises(KeyLoadError, match="self-signed"):
        TrustStore.from_pem(test_pki.ap_ca.cert.read_bytes())


# -- acceptance ---------------------------------------------------------------------------------------


def test_ap_certificate_chains_to_its_own_root(test_pki: TestPki, ap_validator: CertificateValidator) -> None:
    result = ap_validator.validate(test_pki.aps[0].certificate())
    assert result.seat_id == "PFR000001"
    assert result.stage is Stage.TEST
    assert [seat_id(c) for c in result.chain] == [
        "PFR000001",
        "PEPPOL ACCESS POINT TEST CA - G3",
        "PEPPOL Root TEST CA - G3",
    ]
    assert result.revocation_checked  # the offline CRL was consulted


def test_smp_certificate_chains_to_the_smp_ca(test_pki: TestPki) -> None:
    result = test_pki.smp_validator().validate(test_pki.smp.certificate())
    assert seat_id(result.chain[1]) == "PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3"
    assert result.purpose is Purpose.SMP


def test_tls_server_certificate_validates_for_tls(test_pki: TestPki) -> None:
    validator = CertificateValidator(test_pki.tls_trust(), purpose=Purpose.TLS)
    result = validator.validate(test_pki.tls_server.certificate())
    assert result.seat_id is None
    assert result.subject.endswith("CN=localhost")


# -- rejections ---------------------------------------------------------------------------------------


def test_expired_ap_certificate_is_rejected(test_pki: TestPki, ap_validator: CertificateValidator) -> None:
    with pytest.raises(CertificateExpired) as err:
        ap_validator.validate(test_pki.expired_ap.certificate())
    assert err.value.code == "expired"


def test_expired_smp_certificate_is_rejected(test_pki: TestPki) -> None:
    with pytest.raises(CertificateExpired):
        test_pki.smp_validator().validate(test_pki.expired_smp.certificate())


def test_not_yet_valid_certificate_has_its_own_code(
    test_pki: TestPki, ap_validator: CertificateValidator
) -> None:
    ca = test_pki.ap_ca.identity()
    start = test_pki.aps[0].certificate().not_valid_before_utc + timedelta(days=30)
    future = _issue(test_pki, ca, "PFR000777", "ap", not_before=start, not_after=start + timedelta(days=30))
    with pytest.raises(CertificateExpired) as err:
        ap_validator.validate(future)
    assert err.value.code == "not-yet-valid"


def test_validity_is_checked_at_the_given_moment(
    test_pki: TestPki, ap_validator: CertificateValidator
) -> None:
    expired = test_pki.expired_ap.certificate()
    moment = expired.not_valid_after_utc - timedelta(days=1)
    validator = test_pki.ap_validator(revocation=RevocationPolicy.OFF)
    assert validator.validate(expired, moment=moment).seat_id == "PFR000999"
    with pytest.raises(CertificateExpired):
        validator.validate(
            test_pki.aps[0].certificate(), moment=expired.not_valid_before_utc - timedelta(days=1)
        )


def test_revoked_ap_certificate_is_rejected_by_offline_crl(
    test_pki: TestPki, ap_validator: CertificateValidator
) -> None:
    with pytest.raises(CertificateRevoked) as err:
        ap_validator.validate(test_pki.revoked_ap.certificate())
    assert err.value.code == "revoked"


def test_revoked_is_rejected_even_under_soft_fail(test_pki: TestPki) -> None:
    with pytest.raises(CertificateRevoked):
        test_pki.ap_validator(revocation=RevocationPolicy.SOFT_FAIL).validate(
            test_pki.revoked_ap.certificate()
        )


def test_smp_ca_issued_certificate_is_wrong_purpose_for_ap(
    test_pki: TestPki, ap_validator: CertificateValidator
) -> None:
    with pytest.raises(WrongPurpose) as err:
        ap_validator.validate(test_pki.smp.certificate())
    assert err.value.code == "wrong-purpose"
    assert "SMP CA" in err.value.reason


def test_explicit_issuers_replace_the_name_rule(test_pki: TestPki) -> None:
    smp_ca = test_pki.smp_ca.certificate()
    as_ap = test_pki.ap_validator(issuers=[smp_ca])  # a private PKI: "this CA issues our AP certs"
    assert as_ap.validate(test_pki.smp.certificate()).seat_id == "PFR000501"
    with pytest.raises(WrongPurpose, match="not by a CA configured"):
        as_ap.validate(test_pki.aps[0].certificate())


def test_ap_certificate_is_wrong_purpose_for_smp(test_pki: TestPki) -> None:
    with pytest.raises(WrongPurpose):
        test_pki.smp_validator().validate(test_pki.aps[0].certificate())


def test_ap_ca_certificate_with_server_auth_only_is_wrong_purpose(
    test_pki: TestPki, ap_validator: CertificateValidator
) -> None:
    tls_like = _issue(test_pki, test_pki.ap_ca.identity(), "PFR000778", "tls-server")
    with pytest.raises(WrongPurpose, match="clientAuth"):
        ap_validator.validate(tls_like)


def test_ca_certificate_is_not_accepted_as_a_leaf(
    test_pki: TestPki, ap_validator: CertificateValidator
) -> None:
    with pytest.raises(WrongPurpose, match="CA certificate"):
        ap_validator.validate(test_pki.ap_ca.certificate())


def test_test_certificate_with_production_stage_is_wrong_stage(test_pki: TestPki) -> None:
    with pytest.raises(WrongStage) as err:
        test_pki.ap_validator(stage=Stage.PRODUCTION).validate(test_pki.aps[0].certificate())
    assert err.value.code == "wrong-stage"


def test_test_certificate_against_corpus_production_store_is_wrong_stage(
    test_pki: TestPki, corpus: Path
) -> None:
    store = TrustStore.from_pem(corpus / PEPPOL / "ap-prod-truststore.pem")
    validator = CertificateValidator(store, purpose=Purpose.AP, allow_fetching=False)
    with pytest.raises(WrongStage):
        validator.validate(test_pki.aps[0].certificate())


def test_generated_certificate_is_untrusted_by_the_real_test_ca(test_pki: TestPki, corpus: Path) -> None:
    """Same CA *name* as the real G3 test CA, different key: no path."""
    store = TrustStore.from_pem(corpus / PEPPOL / "ap-test-truststore.pem")
    validator = CertificateValidator(store, purpose=Purpose.AP, allow_fetching=False)
    with pytest.raises(CertificateUntrusted) as err:
        validator.validate(test_pki.aps[0].certificate())
    assert err.value.code == "untrusted"


def test_certificate_from_an_unknown_ca_is_untrusted(
    test_pki: TestPki, ap_validator: CertificateValidator
) -> None:
    key = new_key()
    now = test_pki.aps[0].certificate().not_valid_before_utc
    rogue_root = issue_certificate(
        _name("Rogue Root"),
        key.public_key(),
        None,
        key,
        profile="root",
        not_before=now,
        not_after=now + timedelta(1),
    )
    rogue = _issue(test_pki, Identity(key, rogue_root), "PFR000779", "ap")
    with pytest.raises(CertificateUntrusted):
        ap_validator.validate(rogue, intermediates=[rogue_root])


def test_forged_issuer_name_is_untrusted(test_pki: TestPki, ap_validator: CertificateValidator) -> None:
    """A leaf naming the AP CA as issuer but signed by another key must not validate."""
    ca = test_pki.ap_ca.identity()
    impostor = Identity(new_key(), ca.certificate)
    forged = _issue(test_pki, impostor, "PFR000780", "ap")
    with pytest.raises(CertificateUntrusted):
        ap_validator.validate(forged)


# -- revocation policy --------------------------------------------------------------------------------


def test_hard_fail_without_revocation_data_is_revocation_unknown(test_pki: TestPki) -> None:
    validator = test_pki.ap_validator(crls=(), revocation=RevocationPolicy.HARD_FAIL)
    with pytest.raises(RevocationUnknown) as err:
        validator.validate(test_pki.aps[0].certificate())
    assert err.value.code == "revocation-unknown"


def test_soft_fail_without_revocation_data_accepts_but_says_unchecked(test_pki: TestPki) -> None:
    validator = test_pki.ap_validator(crls=(), revocation=RevocationPolicy.SOFT_FAIL)
    result = validator.validate(test_pki.aps[0].certificate())
    assert result.revocation_checked is False


def test_revocation_off_skips_the_crl(test_pki: TestPki) -> None:
    result = test_pki.ap_validator(revocation=RevocationPolicy.OFF).validate(
        test_pki.revoked_ap.certificate()
    )
    assert result.revocation_checked is False


def test_crl_may_be_given_as_pem_or_object(test_pki: TestPki) -> None:
    pem = (test_pki.directory / "ap-ca.crl.pem").read_bytes()
    for crl in (pem, x509.load_pem_x509_crl(pem)):
        with pytest.raises(CertificateRevoked):
            test_pki.ap_validator(crls=(crl,)).validate(test_pki.revoked_ap.certificate())


def test_garbage_crl_or_ocsp_response_is_refused_at_construction(test_pki: TestPki) -> None:
    for bad in (b"not a crl", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"):
        with pytest.raises(KeyLoadError, match="CRL"):
            test_pki.ap_validator(crls=(bad,))
    with pytest.raises(KeyLoadError, match="OCSP"):
        test_pki.ap_validator(ocsps=(b"not an ocsp response",))


def test_default_revocation_policy_is_soft_fail(test_pki: TestPki) -> None:
    validator = CertificateValidator(test_pki.ap_trust(), purpose=Purpose.AP)
    assert validator.revocation is RevocationPolicy.SOFT_FAIL


# -- caching ------------------------------------------------------------------------------------------


def test_results_are_cached_and_revoked_stays_revoked(test_pki: TestPki) -> None:
    validator = test_pki.ap_validator()
    first = validator.validate(test_pki.aps[0].certificate())
    assert validator.validate(test_pki.aps[0].certificate()) is first
    with pytest.raises(CertificateRevoked) as one:
        validator.validate(test_pki.revoked_ap.certificate())
    with pytest.raises(CertificateRevoked) as two:
        validator.validate(test_pki.revoked_ap.certificate())
    assert one.value.reason == two.value.reason
    validator.clear_cache()
    assert validator.validate(test_pki.aps[0].certificate()) is not first


def test_cache_is_bounded(test_pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> None:
    import peppol.pki.validation as validation

    monkeypatch.setattr(validation, "MAX_CACHE_ENTRIES", 1)
    validator = test_pki.ap_validator()
    first = validator.validate(test_pki.aps[0].certificate())
    validator.validate(test_pki.aps[1].certificate())  # evicts the first
    assert validator.validate(test_pki.aps[0].certificate()) is not first


def test_zero_ttl_disables_the_cache(test_pki: TestPki) -> None:
    validator = test_pki.ap_validator(cache_ttl=0)
    first = validator.validate(test_pki.aps[0].certificate())
    assert validator.validate(test_pki.aps[0].certificate()) is not first


async def _avalidate(validator: CertificateValidator, cert: x509.Certificate) -> str | None:
    # validate() is also callable from inside a running event loop (it then uses a worker thread)
    return validator.validate(cert).seat_id


def test_validate_works_inside_a_running_event_loop(test_pki: TestPki) -> None:
    import asyncio

    validator = test_pki.ap_validator(cache_ttl=0)
    assert asyncio.run(_avalidate(validator, test_pki.aps[1].certificate())) == "PFR000002"
    assert asyncio.run(validator.avalidate(test_pki.aps[1].certificate())).seat_id == "PFR000002"


# -- real Peppol certificates (corpus) ----------------------------------------------------------------

REAL_MOMENT = datetime(2026, 1, 15, tzinfo=UTC)


def _bst_certificates(corpus: Path) -> list[x509.Certificate]:
    """The BinarySecurityToken certificates of the real phase4 dump (G2 encryption cert, G3 signing cert)."""
    data = (corpus / "as4-interop" / "phase4" / "dump-raw.as4out").read_bytes()
    blobs = re.findall(rb"BinarySecurityToken[^>]*>([A-Za-z0-9+/=\s]+)<", data)
    return [x509.load_der_x509_certificate(base64.b64decode(re.sub(rb"\s", b"", b))) for b in blobs]


def _real_g3_ap_cert(corpus: Path) -> x509.Certificate:
    return next(c for c in _bst_certificates(corpus) if "G3" in str(c.issuer.rfc4514_string()))


def test_real_g3_test_ap_certificate_validates_against_corpus_test_truststore(corpus: Path) -> None:
    store = TrustStore.from_pem(corpus / PEPPOL / "ap-test-truststore.pem")
    validator = CertificateValidator(store, purpose=Purpose.AP, stage=Stage.TEST, allow_fetching=False)
    result = validator.validate(_real_g3_ap_cert(corpus), moment=REAL_MOMENT)
    assert result.seat_id == "POP000306"
    assert result.stage is Stage.TEST
    assert seat_id(result.chain[-1]) == "PEPPOL Root TEST CA - G3"
    assert result.revocation_checked is False  # offline, soft-fail: honest about it


def test_real_g3_test_ap_certificate_is_wrong_stage_for_production(corpus: Path) -> None:
    store = TrustStore.from_pem(corpus / PEPPOL / "ap-prod-truststore.pem")
    with pytest.raises(WrongStage):
        CertificateValidator(store, purpose=Purpose.AP, allow_fetching=False).validate(
            _real_g3_ap_cert(corpus), moment=REAL_MOMENT
        )


def test_real_g2_certificate_is_untrusted_by_the_g3_truststore(corpus: Path) -> None:
    g2 = next(c for c in _bst_certificates(corpus) if "G2" in c.issuer.rfc4514_string())
    store = TrustStore.from_pem(corpus / PEPPOL / "ap-test-truststore.pem")
    with pytest.raises(CertificateUntrusted):
        CertificateValidator(store, purpose=Purpose.AP, allow_fetching=False).validate(g2, moment=REAL_MOMENT)


def test_real_g3_ap_certificate_is_wrong_purpose_for_smp(corpus: Path) -> None:
    store = TrustStore.from_pem(corpus / PEPPOL / "smp-test-truststore.pem")
    with pytest.raises(WrongPurpose):
        CertificateValidator(store, purpose=Purpose.SMP, allow_fetching=False).validate(
            _real_g3_ap_cert(corpus), moment=REAL_MOMENT
        )


# -- hostile input ------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_certificates_give_typed_errors_never_crashes(
    test_pki: TestPki, data: st.DataObject
) -> None:
    original = test_pki.aps[0].certificate()
    der = bytearray(original.public_bytes(serialization.Encoding.DER))
    for _ in range(data.draw(st.integers(1, 3))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    try:
        cert = x509.load_der_x509_certificate(bytes(der))
    except ValueError:
        return
    validator = test_pki.ap_validator(cache_ttl=0)
    try:
        result = validator.validate(cert)
    except CertificateError as exc:
        assert exc.code in {"untrusted", "wrong-purpose", "wrong-stage", "expired", "not-yet-valid"}
    else:  # only a mutation that left the signed part intact may pass
        assert cert.tbs_certificate_bytes == original.tbs_certificate_bytes
        assert result.seat_id == "PFR000001"
