"""Certificate validation for the Peppol PKI on top of pyhanko-certvalidator.

:class:`CertificateValidator` answers one question: may this certificate be used for ``purpose`` at
``moment``? It builds a path to an anchor of its :class:`TrustStore`, then checks, in order:

1. **stage** — the CAs of the path belong to the expected stage (test/production, see
   :mod:`peppol.pki.names`), else :class:`WrongStage`;
2. **purpose** — the leaf's issuing CA is the AP CA (purpose ``AP``) or the SMP CA (``SMP``), and the
   leaf's key usage / EKU fit the purpose, else :class:`WrongPurpose`;
3. **PKIX** (pyhanko) — signatures, validity at ``moment`` (:class:`CertificateExpired`), revocation by
   CRL/OCSP (:class:`CertificateRevoked`, or :class:`RevocationUnknown` under hard-fail).

When no path exists at all, the leaf's issuer name is used to say *why*: a Peppol CA of the other stage
gives :class:`WrongStage`, of the other purpose :class:`WrongPurpose`; anything else
:class:`CertificateUntrusted`.

Revocation policy (default :data:`DEFAULT_REVOCATION_POLICY` = soft-fail, like phase4's optional mode
and because OCSP outages have hit the network): ``SOFT_FAIL`` accepts a certificate whose CRL/OCSP
cannot be fetched (``revocation_checked`` is then False), ``HARD_FAIL`` raises
:class:`RevocationUnknown`, ``OFF`` skips revocation. A *revoked* status always fails. Results are
cached per certificate for ``cache_ttl`` seconds (unverified soft-fail results for at most
:data:`SOFT_FAIL_CACHE_SECONDS`), so a busy receiver does not fetch a CRL per message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko_certvalidator.context import ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.validate import async_validate_path

from peppol.pki.errors import (
    CertificateError,
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    KeyLoadError,
    RevocationUnknown,
    WrongPurpose,
    WrongStage,
)
from peppol.pki.memo import PerObject
from peppol.pki.names import Purpose, Stage, common_name, name_purpose, name_stage
from peppol.pki.truststore import TrustStore

log = logging.getLogger("peppol.pki")


class RevocationPolicy(StrEnum):
    """What to do when the revocation status cannot be established (a *revoked* status always fails)."""

    HARD_FAIL = "hard-fail"
    SOFT_FAIL = "soft-fail"
    OFF = "off"


#: Default revocation policy: soft-fail (see the module docstring).
DEFAULT_REVOCATION_POLICY: Final = RevocationPolicy.SOFT_FAIL
#: Default result-cache lifetime (seconds); OCSP outages argue for hours, revocations for less.
DEFAULT_CACHE_TTL: Final = 3600.0
#: Longest time a soft-fail result (revocation not verified) is cached, so it is re-checked soon.
SOFT_FAIL_CACHE_SECONDS: Final = 300.0
#: Timeout of one CRL / OCSP HTTP request (seconds).
DEFAULT_FETCH_TIMEOUT: Final = 10.0
#: Most cached results per validator; the oldest entries are dropped beyond it.
MAX_CACHE_ENTRIES: Final = 10_000
_SHA256: Final = hashes.SHA256()


def _sha256_fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(_SHA256)


#: The cache key of a validation, computed once per certificate object.
_fingerprint: Final = PerObject(_sha256_fingerprint)

_DIGITAL_SIGNATURE: Final = "digital_signature"
_KEY_ENCIPHERMENT: Final = "key_encipherment"


@dataclass(frozen=True)
class ValidatedCertificate:
    """A certificate that passed validation. ``chain`` runs from the leaf to the anchor."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    subject: str
    seat_id: str | None
    revocation_checked: bool
    stage: Stage | None = None
    purpose: Purpose | None = None
    #: Why the revocation status could not be established when soft-fail let the certificate pass
    #: (``None`` when it was checked, or not asked for)
    revocation_warning: str | None = None

    @property
    def revocation_status(self) -> str:
        """``checked``; ``unknown`` (soft-fail: could not be checked, see ``revocation_warning``);
        ``not-checked`` (policy off, or the certificate declares no CRL / OCSP URL)."""
        if self.revocation_checked:
            return "checked"
        return "unknown" if self.revocation_warning is not None else "not-checked"


class SoftFailMonitor:
    """Counts validations that passed only because soft-fail ignored an unknown revocation status,
    and calls listeners (a metrics counter, an alert) with ``(subject, reason)`` for each. Every such
    event is also logged as a WARNING on the ``peppol.pki`` logger."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._listeners: list[Callable[[str, str], None]] = []

    @property
    def count(self) -> int:
        """Soft-fail passes so far in this process."""
        return self._count

    def add_listener(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(subject, reason)`` on every soft-fail pass."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[str, str], None]) -> None:
        """Stop calling ``listener``."""
        with self._lock:
            self._listeners.remove(listener)

    def report(self, subject: str, reason: str) -> None:
        """Record one soft-fail pass (log, count, listeners; a failing listener is logged, not raised)."""
        log.warning("revocation of %s could not be checked, accepted under soft-fail: %s", subject, reason)
        with self._lock:
            self._count += 1
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(subject, reason)
            except Exception:
                log.exception("revocation soft-fail listener failed")


#: The process-wide soft-fail monitor (``SOFT_FAILS.count``, ``SOFT_FAILS.add_listener``).
SOFT_FAILS: Final = SoftFailMonitor()


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _revinfo_policy(policy: RevocationPolicy) -> CertRevTrustPolicy:
    if policy is RevocationPolicy.OFF:
        rule = RevocationCheckingRule.NO_CHECK
        return CertRevTrustPolicy(RevocationCheckingPolicy(rule, rule))
    return CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy(policy.value))


def _path_stage(cas: Sequence[x509.Certificate], trust: TrustStore) -> Stage | None:
    """Stage of a path's CAs: TEST if any CA is test-named, else the store's declared stage, else PRODUCTION
    when the path is Peppol-named, else unknown."""
    if any(name_stage(ca.subject) is Stage.TEST for ca in cas):
        return Stage.TEST
    if trust.stage is not None:
        return trust.stage
    return Stage.PRODUCTION if any(name_purpose(ca.subject) is not None for ca in cas) else None


def _key_usage_names(cert: x509.Certificate) -> set[str] | None:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    names = {
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    }
    return {n for n in names if getattr(ku, n)}


def _eku(cert: x509.Certificate) -> set[x509.ObjectIdentifier] | None:
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def check_usage(cert: x509.Certificate, purpose: Purpose) -> None:
    """Raise :class:`WrongPurpose` when the leaf's extensions do not fit ``purpose``.

    * AP (G3 AP profile, ``as4.md`` §7.2): KeyUsage digitalSignature + keyEncipherment (the key signs and
      receives encrypted keys); EKU, when present, must include clientAuth (serverAuth is not required).
    * SMP: KeyUsage, when present, must include digitalSignature.
    * TLS: EKU, when present, must include serverAuth.
    A CA certificate is never accepted as a leaf.
    """
    subject = cert.subject.rfc4514_string()
    if _is_ca(cert):
        raise WrongPurpose(f"{subject} is a CA certificate, not an end-entity {purpose.value} certificate")
    ku = _key_usage_names(cert)
    eku = _eku(cert)
    if purpose is Purpose.AP:
        missing = {_DIGITAL_SIGNATURE, _KEY_ENCIPHERMENT} - (ku or set())
        if missing:
            raise WrongPurpose(f"AP certificate {subject} lacks key usage {', '.join(sorted(missing))}")
        if eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise WrongPurpose(f"AP certificate {subject} lacks extended key usage clientAuth")
    elif purpose is Purpose.SMP:
        if ku is not None and _DIGITAL_SIGNATURE not in ku:
            raise WrongPurpose(f"SMP certificate {subject} lacks key usage digitalSignature")
    elif eku is not None and ExtendedKeyUsageOID.SERVER_AUTH not in eku:
        raise WrongPurpose(f"TLS certificate {subject} lacks extended key usage serverAuth")


def _run(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, also when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class _CacheEntry:
    expires: float
    result: ValidatedCertificate | CertificateRevoked


class CertificateValidator:
    """Validates certificates for one purpose against one trust store (thread-safe, caches results)."""

    def __init__(
        self,
        trust: TrustStore,
        *,
        purpose: Purpose,
        stage: Stage | None = None,
        revocation: RevocationPolicy = DEFAULT_REVOCATION_POLICY,
        crls: Sequence[bytes | x509.CertificateRevocationList] = (),
        allow_fetching: bool = True,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        ocsps: Sequence[bytes] = (),
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
        issuers: Sequence[x509.Certificate | x509.Name] = (),
    ) -> None:
        """``issuers``, when given, replaces the name rule for AP/SMP purpose: the leaf's direct issuer must
        be one of these CAs (for private PKIs whose CA names do not follow the Peppol shape)."""
        self.trust = trust
        self.purpose = Purpose(purpose)
        self.stage = Stage(stage) if stage is not None else trust.stage
        self.revocation = RevocationPolicy(revocation)
        self.allow_fetching = allow_fetching
        self.cache_ttl = cache_ttl
        self.fetch_timeout = fetch_timeout
        self.issuers = frozenset(i.subject if isinstance(i, x509.Certificate) else i for i in issuers)
        self._crls = tuple(_crl_der(c) for c in crls)
        self._ocsps = tuple(_ocsp_der(o) for o in ocsps)
        # DER, not asn1crypto objects: asn1crypto parses lazily and mutates on first access, so shared
        # parsed objects are not safe across the receiver's worker threads. Parsing per validation
        # costs microseconds against milliseconds of path validation.
        self._anchors = tuple(a.public_bytes(serialization.Encoding.DER) for a in trust.anchors)
        self._intermediates = tuple(c.public_bytes(serialization.Encoding.DER) for c in trust.intermediates)
        self._known: dict[bytes, x509.Certificate] = {
            c.public_bytes(serialization.Encoding.DER): c for c in trust.certificates
        }
        self._cache: dict[tuple[bytes, ...], _CacheEntry] = {}
        self._lock = threading.Lock()
        #: Bumped by :meth:`clear_cache`, so that memos built on cached verdicts can tell.
        self.cache_generation = 0

    # -- public -------------------------------------------------------------------------------------

    def validate(
        self,
        cert: x509.Certificate,
        *,
        moment: datetime | None = None,
        intermediates: Sequence[x509.Certificate] = (),
    ) -> ValidatedCertificate:
        """Validate ``cert`` at ``moment`` (default now); raise a :class:`CertificateError` subclass."""
        key = (_fingerprint(cert), *(_fingerprint(c) for c in intermediates))
        if moment is None:
            cached = self._cached(key, cert)
            if isinstance(cached, CertificateRevoked):
                # a fresh exception: re-raising the cached instance would grow its traceback forever
                raise CertificateRevoked(cached.reason)
            if cached is not None:
                return cached
        try:
            result: ValidatedCertificate = _run(self._validate(cert, moment, tuple(intermediates)))
        except CertificateRevoked as exc:
            if moment is None:
                self._store(key, exc, self.cache_ttl)
            raise
        if moment is None:
            ttl = (
                self.cache_ttl if result.revocation_checked else min(self.cache_ttl, SOFT_FAIL_CACHE_SECONDS)
            )
            self._store(key, result, ttl)
        return result

    async def avalidate(
        self,
        cert: x509.Certificate,
        *,
        moment: datetime | None = None,
        intermediates: Sequence[x509.Certificate] = (),
    ) -> ValidatedCertificate:
        """Async variant of :meth:`validate` (no result cache)."""
        return await self._validate(cert, moment, tuple(intermediates))

    def clear_cache(self) -> None:
        """Forget cached results."""
        with self._lock:
            self._cache.clear()
            self.cache_generation += 1

    def cached_until(self, cert: x509.Certificate) -> float | None:
        """When the cached verdict on ``cert`` (validated alone, ``moment=None``) expires, on the
        :func:`time.monotonic` clock; ``None`` if there is none. For callers memoising on top of this
        cache, with :attr:`cache_generation` (bumped by :meth:`clear_cache`)."""
        with self._lock:
            entry = self._cache.get((_fingerprint(cert),))
        return None if entry is None else entry.expires

    # -- cache --------------------------------------------------------------------------------------

    def _cached(
        self, key: tuple[bytes, ...], cert: x509.Certificate
    ) -> ValidatedCertificate | CertificateRevoked | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            if entry.expires < time.monotonic() or cert.not_valid_after_utc < datetime.now(UTC):
                del self._cache[key]
                return None
            return entry.result

    def _store(
        self, key: tuple[bytes, ...], result: ValidatedCertificate | CertificateRevoked, ttl: float
    ) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._cache.pop(key, None)
            self._cache[key] = _CacheEntry(time.monotonic() + ttl, result)
            while len(self._cache) > MAX_CACHE_ENTRIES:
                del self._cache[next(iter(self._cache))]

    # -- validation ---------------------------------------------------------------------------------

    def _context(
        self, moment: datetime | None, intermediates: tuple[x509.Certificate, ...], policy: RevocationPolicy
    ) -> ValidationContext:
        fetching = self.allow_fetching and moment is None and policy is not RevocationPolicy.OFF
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(der) for der in self._anchors],
            other_certs=[
                *(asn1_x509.Certificate.load(der) for der in self._intermediates),
                *(_to_asn1(c) for c in intermediates),
            ],
            moment=moment,
            allow_fetching=fetching,
            crls=list(self._crls),
            ocsps=list(self._ocsps),
            revinfo_policy=_revinfo_policy(policy),
            fetcher_backend=RequestsFetcherBackend(per_request_timeout=self.fetch_timeout)
            if fetching
            else None,
        )

    def _crypto(self, cert: asn1_x509.Certificate) -> x509.Certificate:
        der = cert.dump()
        known = self._known.get(der)
        return known if known is not None else x509.load_der_x509_certificate(der)

    async def _validate(
        self, cert: x509.Certificate, moment: datetime | None, intermediates: tuple[x509.Certificate, ...]
    ) -> ValidatedCertificate:
        """Validate; certificate data that only fails to decode late (extensions are parsed lazily by
        ``cryptography`` and ``asn1crypto``), or a ``moment`` at the edge of the datetime range, becomes
        :class:`CertificateUntrusted`, never a crash."""
        try:
            return await self._validate_unguarded(cert, moment, intermediates)
        except CertificateError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise CertificateUntrusted(f"malformed certificate data: {type(exc).__name__}: {exc}") from exc
        except OverflowError as exc:  # pyhanko adds tolerances to the moment: 9999-12-31 overflows
            raise CertificateUntrusted(f"cannot validate at {moment}: date out of range ({exc})") from exc

    async def _validate_unguarded(
        self, cert: x509.Certificate, moment: datetime | None, intermediates: tuple[x509.Certificate, ...]
    ) -> ValidatedCertificate:
        # Revocation is always checked strictly first, so that "checked" means checked; under soft-fail
        # an indeterminate status then falls back to a second pass without revocation.
        strict = (
            RevocationPolicy.OFF if self.revocation is RevocationPolicy.OFF else RevocationPolicy.HARD_FAIL
        )
        context = self._context(moment, intermediates, strict)
        try:
            leaf = _to_asn1(cert)
            try:
                paths = await context.path_builder.async_build_paths(leaf)
            except PathBuildingError as exc:
                raise self._diagnose_no_path(cert, exc) from exc
            except ValueError as exc:
                raise CertificateUntrusted(f"cannot build a path: {exc}") from exc
            first_error: CertificateError | None = None
            for path in paths:
                chain = tuple(self._crypto(c) for c in path.iter_certs(include_root=True))[::-1]
                try:
                    stage = self._check_path(cert, chain)
                    checked, warning = await self._pkix_with_policy(context, path, moment, intermediates)
                except CertificateError as exc:
                    first_error = first_error or exc
                    continue
                cn = common_name(cert.subject)
                if warning is not None:
                    SOFT_FAILS.report(cert.subject.rfc4514_string(), warning)
                return ValidatedCertificate(
                    certificate=cert,
                    chain=chain,
                    subject=cert.subject.rfc4514_string(),
                    seat_id=cn if self.purpose is not Purpose.TLS else None,
                    revocation_checked=checked,
                    stage=stage,
                    purpose=self.purpose,
                    revocation_warning=warning,
                )
            raise first_error or CertificateUntrusted("no certification path")
        finally:
            await context.aclose()  # type: ignore[no-untyped-call]

    async def _pkix_with_policy(
        self,
        context: ValidationContext,
        path: Any,
        moment: datetime | None,
        intermediates: tuple[x509.Certificate, ...],
    ) -> tuple[bool, str | None]:
        """PKIX-validate ``path``; return whether the leaf's revocation status was actually established
        and, when soft-fail let it pass without, why it could not be."""
        try:
            await self._pkix(context, path)
        except RevocationUnknown as unknown:
            if self.revocation is not RevocationPolicy.SOFT_FAIL:
                raise
            relaxed = self._context(moment, intermediates, RevocationPolicy.OFF)
            try:
                await self._pkix(relaxed, path)
            finally:
                await relaxed.aclose()  # type: ignore[no-untyped-call]
            return False, unknown.reason
        return self.revocation is not RevocationPolicy.OFF and _declares_revinfo(path_leaf(path)), None

    def _check_path(self, cert: x509.Certificate, chain: tuple[x509.Certificate, ...]) -> Stage | None:
        cas = chain[1:]
        if _is_ca(cert):
            raise WrongPurpose(
                f"{cert.subject.rfc4514_string()} is a CA certificate, not an end-entity "
                f"{self.purpose.value} certificate"
            )
        stage = _path_stage(cas, self.trust)
        if self.stage is not None and stage is not None and stage is not self.stage:
            raise WrongStage(
                f"{cert.subject.rfc4514_string()} chains to a {stage.value} CA "
                f"({cas[0].subject.rfc4514_string()}); {self.stage.value} required"
            )
        if self.issuers:
            if not cas or cas[0].subject not in self.issuers:
                raise WrongPurpose(
                    f"{cert.subject.rfc4514_string()} is issued by {cert.issuer.rfc4514_string()}, "
                    f"not by a CA configured for {self.purpose.value}"
                )
        elif self.purpose in (Purpose.AP, Purpose.SMP):
            issuer_purpose = name_purpose(cas[0].subject) if cas else None
            if issuer_purpose is not self.purpose:
                what = issuer_purpose.value.upper() + " CA" if issuer_purpose else "a non-Peppol issuing CA"
                raise WrongPurpose(
                    f"{cert.subject.rfc4514_string()} is issued by {what} "
                    f"({cas[0].subject.rfc4514_string() if cas else '-'}); "
                    f"the {self.purpose.value.upper()} CA is required"
                )
        check_usage(cert, self.purpose)
        return stage

    async def _pkix(self, context: ValidationContext, path: Any) -> None:
        try:
            await async_validate_path(context, path)
        except RevokedError as exc:
            raise CertificateRevoked(str(exc)) from exc
        except ExpiredError as exc:
            raise CertificateExpired(str(exc), code="expired") from exc
        except NotYetValidError as exc:
            raise CertificateExpired(str(exc), code="not-yet-valid") from exc
        except InsufficientRevinfoError as exc:
            raise RevocationUnknown(str(exc)) from exc
        except DisallowedAlgorithmError as exc:
            raise CertificateUntrusted(f"disallowed algorithm: {exc}") from exc
        except (PathValidationError, ValidationError) as exc:
            raise CertificateUntrusted(str(exc)) from exc
        except ValueError as exc:
            raise CertificateUntrusted(f"malformed certificate data: {exc}") from exc

    def _diagnose_no_path(self, cert: x509.Certificate, exc: Exception) -> CertificateError:
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer
        issuer_purpose = name_purpose(issuer)
        if issuer_purpose is not None:
            issuer_stage = name_stage(issuer)
            store_stage = self.stage or self.trust.inferred_stage()
            if store_stage is not None and issuer_stage is not store_stage:
                return WrongStage(
                    f"{subject} is issued by a {issuer_stage.value} CA ({issuer.rfc4514_string()}); "
                    f"this trust store is {store_stage.value}"
                )
            if self.purpose in (Purpose.AP, Purpose.SMP) and issuer_purpose is not self.purpose:
                return WrongPurpose(
                    f"{subject} is issued by the {issuer_purpose.value.upper()} CA "
                    f"({issuer.rfc4514_string()}); "
                    f"the {self.purpose.value.upper()} CA is required"
                )
        return CertificateUntrusted(f"{subject}: no path to a trusted root ({exc})")


def _crl_der(crl: bytes | x509.CertificateRevocationList) -> bytes:
    """A CRL as DER (PEM input is converted; pyhanko wants DER)."""
    if isinstance(crl, x509.CertificateRevocationList):
        return crl.public_bytes(serialization.Encoding.DER)
    data = bytes(crl)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data).public_bytes(serialization.Encoding.DER)
        x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise KeyLoadError(f"not a DER or PEM CRL: {exc}") from exc
    return data


def _ocsp_der(response: bytes) -> bytes:
    """A DER OCSP response, checked to decode."""
    data = bytes(response)
    try:
        ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        raise KeyLoadError(f"not a DER OCSP response: {exc}") from exc
    return data


def path_leaf(path: Any) -> x509.Certificate:
    """The leaf of a pyhanko validation path as a ``cryptography`` certificate."""
    return x509.load_der_x509_certificate(path.leaf.dump())


def _declares_revinfo(cert: x509.Certificate) -> bool:
    for ext_type in (x509.CRLDistributionPoints, x509.AuthorityInformationAccess):
        try:
            cert.extensions.get_extension_for_class(ext_type)
        except x509.ExtensionNotFound:
            continue
        return True
    return False
