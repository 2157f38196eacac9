"""Discovery: participant + document type + process → a validated :class:`peppol.endpoint.Endpoint`.

Flow: SML (U-NAPTR) → SMP base URL → ``GET`` SignedServiceMetadata → XMLDSig verified on the raw
bytes, signer validated against the SMP trust store only → at most one SMP ``Redirect`` (signer
must match ``CertificateUID``) → identifier echo check → endpoint selection (process, transport
profile, dates) → endpoint certificate validated against the AP trust store (chain, validity,
revocation). Every step is recorded as a :class:`Step` for ``ap lookup``; on failure the steps so far
are attached to the raised :class:`~smp_client.errors.DiscoveryError` as ``exc.steps``.

Caching: SML answers per (zone, participant) and verified, parsed metadata per (SMP URL,
participant, document type) for ``cache_ttl`` seconds (successes only). A cached lookup is two
dictionary hits, endpoint selection and the (itself cached) certificate validation — no DNS, no
HTTP, no XML. A lookup answered wholly from those caches at "now" is then memoised whole (per
participant, document type, process, transport profile) until the first of: its cache entries or the AP
validator's cached verdict expire, the validator's cache is cleared, or "now" crosses a date it was
checked against (any endpoint activation/expiration in the metadata, the certificate's validity).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from cryptography import x509

from peppol.deadline import DeadlineExceeded, deadline
from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2, Endpoint
from peppol.identifiers import (
    DEFAULT_SML_ZONE,
    DOCTYPE_WILDCARD_SCHEME,
    DocumentTypeId,
    IdentifierError,
    ParticipantId,
    ProcessId,
    resolve_zone,
    sml_cname_name,
    sml_naptr_name,
)
from peppol.pki import CertificateError, CertificateValidator, ValidatedCertificate
from peppol.pki.memo import PerObject
from peppol.xml import XmlError, parse_bytes
from smp_client.cache import DEFAULT_CACHE_SIZE, DEFAULT_CACHE_TTL, TtlCache
from smp_client.documents import detect_dialect, parse_service_group, parse_service_metadata
from smp_client.endpoints import decode_certificate, select_endpoint
from smp_client.errors import (
    DiscoveryError,
    DocumentTypeNotServed,
    DomainNameSyntaxError,
    IdentifierMismatch,
    LookupDeadlineExceeded,
    NoMatchingEndpoint,
    RedirectError,
    SmlRecordError,
    SmpSignerUntrusted,
    SmpXmlError,
    UntrustedEndpointCertificate,
)
from smp_client.http import HttpSettings, SmpHttp
from smp_client.model import RawId, RedirectRecord, ServiceMetadataDoc, SmpDialect
from smp_client.names import certificate_uid_matches
from smp_client.naptr import check_smp_uri
from smp_client.signature import SignaturePolicy, VerifiedDocument, verify_smp_signature
from smp_client.sml import SmlAnswer, SmlClient, SmlConfig
from smp_client.urls import service_group_url, service_metadata_url
from smp_client.wildcard import select_document_type, wildcard_candidates


@dataclass(frozen=True, slots=True)
class Step:
    """One thing discovery did, for humans (``summary``) and machines (``details``)."""

    name: str
    summary: str
    ok: bool = True
    details: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.name, "ok": self.ok, "summary": self.summary, **dict(self.details)}


@dataclass(frozen=True, slots=True)
class SignatureFacts:
    """What the SMP signature check established."""

    valid: bool
    signer: x509.Certificate
    signer_subject: str
    signer_issuer: str
    trust: str
    algorithm: str
    c14n: str


@dataclass(frozen=True, slots=True)
class EndpointCheck:
    """The certificate verdict on one endpoint (for output; the chosen one is in ``endpoint``)."""

    subject: str
    issuer: str
    #: ``True`` validated against the AP trust store; ``None`` not validated (static directory pin).
    valid: bool | None
    detail: str
    seat_id: str | None = None


@dataclass(frozen=True, slots=True)
class LookupResult:
    """A successful lookup: the endpoint to send to, and how it was found."""

    participant: ParticipantId
    document_type: DocumentTypeId
    process: ProcessId
    transport_profile: str
    endpoint: Endpoint
    certificate: EndpointCheck
    steps: tuple[Step, ...]
    source: str = "smp"  # "smp" or "static"
    smp_url: str | None = None
    metadata_url: str | None = None
    signature: SignatureFacts | None = None
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``ap lookup --json``."""
        ep = self.endpoint
        return {
            "participant": self.participant.uri,
            "document_type": self.document_type.uri,
            "process": self.process.uri,
            "transport_profile": self.transport_profile,
            "source": self.source,
            "smp_url": self.smp_url,
            "metadata_url": self.metadata_url,
            "signature_valid": self.signature.valid if self.signature else None,
            "signer": self.signature.signer_subject if self.signature else None,
            "signer_trust": self.signature.trust if self.signature else None,
            "cached": self.cached,
            "endpoints": [
                {
                    "url": ep.url,
                    "transport_profile": ep.transport_profile,
                    "certificate_subject": self.certificate.subject,
                    "certificate_issuer": self.certificate.issuer,
                    "certificate_valid": self.certificate.valid,
                    "certificate_check": self.certificate.detail,
                    "seat_id": self.certificate.seat_id,
                    "activation": ep.activation.isoformat() if ep.activation else None,
                    "expiration": ep.expiration.isoformat() if ep.expiration else None,
                    "service_description": ep.service_description,
                    "technical_contact": ep.technical_contact,
                }
            ],
            "steps": [s.as_dict() for s in self.steps],
        }


@dataclass(frozen=True, slots=True)
class ServiceGroupResult:
    """The document types an SMP lists for a participant."""

    participant: ParticipantId
    document_types: tuple[DocumentTypeId, ...]
    steps: tuple[Step, ...]
    smp_url: str | None = None
    url: str | None = None
    source: str = "smp"

    def as_dict(self) -> dict[str, Any]:
        return {
            "participant": self.participant.uri,
            "source": self.source,
            "smp_url": self.smp_url,
            "service_group_url": self.url,
            "document_types": [d.uri for d in self.document_types],
            "steps": [s.as_dict() for s in self.steps],
        }


class EndpointDirectory(Protocol):
    """What senders need: :class:`Discovery` and :class:`smp_client.StaticDirectory` both provide it."""

    def lookup(
        self,
        participant: ParticipantId,
        document_type: DocumentTypeId,
        process: ProcessId,
        transport_profile: str = ...,
        *,
        moment: datetime | None = None,
    ) -> LookupResult: ...

    def service_group(self, participant: ParticipantId) -> list[DocumentTypeId]: ...

    def service_group_result(self, participant: ParticipantId) -> ServiceGroupResult: ...


def lookup_wildcard(
    directory: EndpointDirectory,
    participant: ParticipantId,
    document_type: DocumentTypeId,
    process: ProcessId,
    transport_profile: str = TRANSPORT_PROFILE_AS4_V2,
    *,
    moment: datetime | None = None,
) -> LookupResult:
    """:meth:`Discovery.lookup` with peppol-commons' wildcard selection for ``peppol-doctype-wildcard``
    ids (PINT): the ServiceGroup is read and the best offered candidate is looked up (see
    :mod:`smp_client.wildcard`). ``result.document_type`` is the candidate the SMP serves. Other
    schemes are looked up exactly, without reading the ServiceGroup.
    """
    if document_type.scheme != DOCTYPE_WILDCARD_SCHEME:
        return directory.lookup(participant, document_type, process, transport_profile, moment=moment)
    group = directory.service_group_result(participant)
    chosen = select_document_type(document_type, group.document_types)
    if chosen is None:
        tried = ", ".join(c.value.split("##", 1)[-1] for c in wildcard_candidates(document_type))
        error = DocumentTypeNotServed(f"the ServiceGroup offers none of the wildcard candidates ({tried})")
        error.steps = (*group.steps, Step("error", f"{error.code}: {error}", ok=False))
        raise error
    pick = Step("wildcard", f"{document_type.value} → {chosen.value}")
    try:
        result = directory.lookup(participant, chosen, process, transport_profile, moment=moment)
    except DiscoveryError as exc:
        exc.steps = (*group.steps, pick, *exc.steps)
        raise
    return replace(result, steps=(*group.steps, pick, *result.steps))


#: Total seconds one lookup may take by default: several times what an honest SML + SMP need (DNS 3 s
#: per server, connect 5 s, read 10 s), yet a server trickling its answer cannot hold a send for long.
DEFAULT_LOOKUP_DEADLINE: Final = 30.0


def default_sml_config() -> SmlConfig:
    return SmlConfig(zone=resolve_zone(DEFAULT_SML_ZONE))


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    """Everything configurable about network discovery. Secure by default."""

    sml: SmlConfig = field(default_factory=default_sml_config)
    http: HttpSettings = field(default_factory=HttpSettings)
    #: URL form to use (Peppol and BDXR 1 share it; responses of either are understood).
    dialect: SmpDialect = SmpDialect.PEPPOL
    signature: SignaturePolicy = field(default_factory=SignaturePolicy)
    #: INSECURE, explicit only: verify SMP signatures cryptographically but do not check that the
    #: signer chains to the SMP CA (historic responses whose CA is gone; see docs/discovery.md).
    skip_smp_signer_trust: bool = False
    cache_ttl: float = DEFAULT_CACHE_TTL
    cache_size: int = DEFAULT_CACHE_SIZE
    #: Total seconds one lookup may take, DNS and HTTP together (``None``: per-read timeouts only).
    deadline: float | None = DEFAULT_LOOKUP_DEADLINE


@dataclass(frozen=True, slots=True)
class _Metadata:
    doc: ServiceMetadataDoc
    url: str
    signature: SignatureFacts
    redirected: bool
    steps: tuple[Step, ...]


def _raw(identifier: ParticipantId | DocumentTypeId | ProcessId) -> RawId:
    return RawId(identifier.scheme, identifier.value)


def _moment(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _render_dns(cert: x509.Certificate) -> tuple[str, str]:
    return cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()


#: The steps of a lookup answered wholly from the caches (the only lookups memoised whole).
_MEMO_STEPS: Final = frozenset({"cache", "endpoint", "certificate"})

#: Subject and issuer as RFC 4514 strings, rendered once per certificate object (a cached lookup
#: returns the same decoded certificate every time).
_dn_strings: Final = PerObject(_render_dns)


def check_endpoint_certificate(
    validator: CertificateValidator, cert: x509.Certificate, moment: datetime | None = None
) -> tuple[EndpointCheck, ValidatedCertificate]:
    """Validate an endpoint certificate with the AP ``validator`` (chain to the AP CA, dates,
    revocation) before anyone encrypts to it; :class:`UntrustedEndpointCertificate` otherwise."""
    subject, issuer = _dn_strings(cert)
    try:
        validated = validator.validate(cert, moment=moment)
    except CertificateError as exc:
        raise UntrustedEndpointCertificate(
            f"endpoint certificate {subject} rejected: {exc.code}: {exc.reason}", exc.code
        ) from exc
    revocation = "revocation checked" if validated.revocation_checked else "revocation NOT checked"
    check = EndpointCheck(
        subject=subject,
        issuer=issuer,
        valid=True,
        detail=f"valid, chains to the AP CA, {revocation}",
        seat_id=validated.seat_id,
    )
    return check, validated


class DirectoryMethods:
    """What :class:`Discovery` and :class:`smp_client.StaticDirectory` derive alike from their own
    ``lookup`` and ``service_group_result``."""

    def lookup_wildcard(
        self: EndpointDirectory,
        participant: ParticipantId,
        document_type: DocumentTypeId,
        process: ProcessId,
        transport_profile: str = TRANSPORT_PROFILE_AS4_V2,
        *,
        moment: datetime | None = None,
    ) -> LookupResult:
        """:func:`lookup_wildcard` on this directory (PINT wildcard document types)."""
        return lookup_wildcard(self, participant, document_type, process, transport_profile, moment=moment)

    def service_group(self: EndpointDirectory, participant: ParticipantId) -> list[DocumentTypeId]:
        """The document types listed for the participant."""
        return list(self.service_group_result(participant).document_types)


@dataclass(frozen=True, slots=True)
class _Memo:
    """A whole validated lookup, reusable while nothing it was derived from can have changed: the cache
    entries it came from (``expires``, monotonic), the AP validator's cache (``generation``) and the
    dates it was checked against (``after`` < now < ``before``: the endpoint activation/expiration
    dates in the metadata and the certificate's validity window)."""

    result: LookupResult
    expires: float
    generation: int
    after: datetime | None
    before: datetime | None


def _window(when: datetime, dates: list[datetime]) -> tuple[datetime | None, datetime | None] | None:
    """The open interval around ``when`` containing none of ``dates``; ``None`` if ``when`` is one."""
    if when in dates:
        return None
    earlier = [d for d in dates if d < when]
    later = [d for d in dates if d > when]
    return (max(earlier) if earlier else None, min(later) if later else None)


class Discovery(DirectoryMethods):
    """SML + SMP discovery with signature checks and caching. Thread-safe; share one instance."""

    def __init__(
        self,
        config: DiscoveryConfig | None = None,
        *,
        smp_validator: CertificateValidator | None,
        ap_validator: CertificateValidator,
        http: SmpHttp | None = None,
    ) -> None:
        self.config = config or DiscoveryConfig()
        if smp_validator is None and not self.config.skip_smp_signer_trust:
            raise ValueError(
                "an SMP certificate validator is required (or the explicit skip_smp_signer_trust)"
            )
        self.smp_validator = smp_validator
        self.ap_validator = ap_validator
        self.sml = SmlClient(self.config.sml)
        self.http = http or SmpHttp(self.config.http)
        self._sml_cache: TtlCache[tuple[str, str, str], SmlAnswer] = TtlCache(
            ttl=self.config.cache_ttl, maxsize=self.config.cache_size
        )
        self._metadata_cache: TtlCache[tuple[str, str, str], _Metadata] = TtlCache(
            ttl=self.config.cache_ttl, maxsize=self.config.cache_size
        )
        self._cert_cache: TtlCache[str, x509.Certificate] = TtlCache(
            ttl=self.config.cache_ttl, maxsize=self.config.cache_size
        )
        #: Whole cached lookups (``moment=None`` only), see :class:`_Memo`.
        self._memo: TtlCache[tuple[str | None, str, str, str, str], _Memo] = TtlCache(
            ttl=self.config.cache_ttl, maxsize=self.config.cache_size
        )

    def clear_cache(self) -> None:
        self._sml_cache.clear()
        self._metadata_cache.clear()
        self._cert_cache.clear()
        self._memo.clear()

    # -- public API -------------------------------------------------------------------------------

    def lookup(
        self,
        participant: ParticipantId,
        document_type: DocumentTypeId,
        process: ProcessId,
        transport_profile: str = TRANSPORT_PROFILE_AS4_V2,
        *,
        moment: datetime | None = None,
        smp_url: str | None = None,
    ) -> LookupResult:
        """Find and validate the endpoint; raise a :class:`DiscoveryError` subclass otherwise.

        ``moment`` (default now) is the time for endpoint dates and certificate checks;
        ``smp_url`` skips the SML and asks that SMP directly.
        """
        memo_key = (smp_url, participant.uri, document_type.uri, process.uri, transport_profile)
        if moment is None:
            memo = self._memo.get(memo_key)
            if memo is not None:
                now = datetime.now(UTC)
                if (
                    memo.expires > time.monotonic()
                    and memo.generation == self.ap_validator.cache_generation
                    and (memo.after is None or memo.after < now)
                    and (memo.before is None or now < memo.before)
                ):
                    return memo.result
        result, memo = self._lookup(participant, document_type, process, transport_profile, moment, smp_url)
        if memo is not None:
            self._memo.put(memo_key, memo)
        return result

    def _lookup(
        self,
        participant: ParticipantId,
        document_type: DocumentTypeId,
        process: ProcessId,
        transport_profile: str,
        moment: datetime | None,
        smp_url: str | None,
    ) -> tuple[LookupResult, _Memo | None]:
        self._check_smp_url(smp_url)
        steps: list[Step] = []
        generation = self.ap_validator.cache_generation
        with attach_steps(steps), within_deadline(self.config.deadline):
            when = _moment(moment)
            base = smp_url or self._resolve(participant, steps).smp_url
            key = (base, participant.uri, document_type.uri)
            expiries = [self._sml_cache.expires_at(self._sml_key(participant))] if smp_url is None else []
            docs = []
            meta = self._metadata_cache.get(key)
            cached = meta is not None
            if meta is None:
                meta = self._fetch_metadata(base, participant, document_type, steps, moment)
                self._metadata_cache.put(key, meta)
            else:
                steps.append(Step("cache", f"metadata from cache ({meta.url})"))
            expiries.append(self._metadata_cache.expires_at(key))
            docs.append(meta.doc)
            selection = select_endpoint(meta.doc, _raw(process), transport_profile, when)
            if selection.redirect is not None:  # BDXR 2: per-process redirect
                if meta.redirected:
                    raise RedirectError("the redirect target redirects again (only one hop is allowed)")
                rkey = (selection.redirect.href, participant.uri, document_type.uri)
                target = self._metadata_cache.get(rkey)
                if target is None:
                    target = self._follow_redirect(
                        selection.redirect, participant, document_type, steps, moment
                    )
                    self._metadata_cache.put(rkey, target)
                meta = target
                expiries.append(self._metadata_cache.expires_at(rkey))
                docs.append(meta.doc)
                selection = select_endpoint(meta.doc, _raw(process), transport_profile, when)
            record = selection.endpoint
            if record is None:  # pragma: no cover - select_endpoint returns one or raises
                raise NoMatchingEndpoint("no endpoint selected")
            note = (
                f" ({selection.duplicates} more matching endpoints ignored)" if selection.duplicates else ""
            )
            steps.append(
                Step(
                    "endpoint",
                    f"{record.url} [{record.transport_profile}]{note}",
                    details=(("url", record.url), ("transport_profile", record.transport_profile)),
                )
            )
            if not record.certificates:
                raise UntrustedEndpointCertificate(f"endpoint {record.url} publishes no certificate")
            cert = self._decode(record.certificates[0])
            check, _validated = self.check_endpoint_certificate(cert, moment)
            steps.append(Step("certificate", f"{check.subject}: {check.detail}"))
            endpoint = record.to_endpoint(cert)
            result = LookupResult(
                participant=participant,
                document_type=document_type,
                process=process,
                transport_profile=transport_profile,
                endpoint=endpoint,
                certificate=check,
                steps=tuple(steps),
                smp_url=base,
                metadata_url=meta.url,
                signature=meta.signature,
                cached=cached,
            )
        if moment is not None or not all(s.name in _MEMO_STEPS for s in steps):
            return result, None  # memoise only what a fully cached lookup at "now" returns
        expiries.append(self.ap_validator.cached_until(cert))
        dates = [cert.not_valid_before_utc, cert.not_valid_after_utc]
        for doc in docs:
            for proc in doc.processes:
                for ep in proc.endpoints:
                    dates.extend(d for d in (ep.activation, ep.expiration) if d is not None)
        window = _window(when, dates)
        known = [e for e in expiries if e is not None]
        if window is None or len(known) != len(expiries):
            return result, None
        return result, _Memo(result, min(known), generation, *window)

    def service_group_result(
        self, participant: ParticipantId, *, smp_url: str | None = None
    ) -> ServiceGroupResult:
        """:meth:`service_group` with the steps (for ``ap lookup`` without ``--doctype``)."""
        self._check_smp_url(smp_url)
        steps: list[Step] = []
        with attach_steps(steps), within_deadline(self.config.deadline):
            base = smp_url or self._resolve(participant, steps).smp_url
            url = service_group_url(base, (participant.scheme, participant.value), self.config.dialect)
            response = self.http.get(url)
            steps.append(Step("http", f"GET {url} → {response.status}", details=(("url", url),)))
            try:
                root = parse_bytes(response.body).getroot()
            except XmlError as exc:
                raise SmpXmlError(f"ServiceGroup is not acceptable XML: {exc}") from exc
            group = parse_service_group(root)
            self._check_participant(group.participant, participant)
            doctypes: list[DocumentTypeId] = []
            skipped = 0
            for raw in group.document_types:
                try:
                    doctypes.append(DocumentTypeId.of(raw.value, raw.scheme, strict=False))
                except IdentifierError:
                    skipped += 1
            note = f", {skipped} unreadable reference(s) skipped" if skipped else ""
            steps.append(Step("service-group", f"{len(doctypes)} document type(s){note}"))
            return ServiceGroupResult(participant, tuple(doctypes), tuple(steps), smp_url=base, url=url)

    def check_endpoint_certificate(
        self, cert: x509.Certificate, moment: datetime | None = None
    ) -> tuple[EndpointCheck, ValidatedCertificate]:
        """Validate an endpoint certificate against the AP trust store (chain, dates, revocation)."""
        return check_endpoint_certificate(self.ap_validator, cert, moment)

    # -- steps ------------------------------------------------------------------------------------

    def _check_smp_url(self, smp_url: str | None) -> None:
        """A caller-supplied SMP URL must be as acceptable as one from the SML (ValueError if not)."""
        if smp_url is None:
            return
        try:
            check_smp_uri(smp_url, allow_http=self.config.http.allow_http)
        except SmlRecordError as exc:
            raise ValueError(f"invalid SMP URL: {exc}") from exc

    def _sml_key(self, participant: ParticipantId) -> tuple[str, str, str]:
        cfg = self.config.sml
        return (cfg.zone, participant.uri, "cname" if cfg.legacy_cname else "naptr")

    def _resolve(self, participant: ParticipantId, steps: list[Step]) -> SmlAnswer:
        cfg = self.config.sml
        key = self._sml_key(participant)
        answer = self._sml_cache.get(key)
        if answer is not None:
            steps.append(Step("cache", f"SML answer from cache: {answer.smp_url}"))
            return answer
        try:
            name = (
                sml_cname_name(participant, cfg.zone)
                if cfg.legacy_cname
                else sml_naptr_name(participant, cfg.zone)
            )
        except IdentifierError as exc:
            raise DomainNameSyntaxError(f"cannot build the SML name: {exc}") from exc
        steps.append(Step("dns-name", name, details=(("dns_name", name), ("method", key[2]))))
        answer = self.sml.resolve_cname(name) if cfg.legacy_cname else self.sml.resolve_naptr(name)
        for record in answer.records:
            chosen = answer.selected is not None and record == answer.selected
            steps.append(Step("naptr", str(record) + ("  ← selected" if chosen else ""), ok=True))
        steps.append(
            Step(
                "smp-url",
                f"{answer.smp_url} (via {answer.nameserver}/{answer.transport})",
                details=(("smp_url", answer.smp_url),),
            )
        )
        self._sml_cache.put(key, answer)
        return answer

    def _verify(self, data: bytes, moment: datetime | None) -> VerifiedDocument:
        def signer_check(cert: x509.Certificate, when: datetime | None) -> str:
            if self.config.skip_smp_signer_trust:
                return "signer trust NOT checked (explicit insecure option)"
            assert self.smp_validator is not None
            try:
                validated = self.smp_validator.validate(cert, moment=when)
            except CertificateError as exc:
                raise SmpSignerUntrusted(
                    f"SMP signer {cert.subject.rfc4514_string()} rejected: {exc.code}: {exc.reason}", exc.code
                ) from exc
            revocation = "revocation checked" if validated.revocation_checked else "revocation NOT checked"
            return f"chains to the SMP CA, not expired, {revocation}"

        return verify_smp_signature(
            data,
            signer_check=signer_check,
            policy=self.config.signature,
            moment=moment,
            check_root=detect_dialect,
        )

    def _get_verified(
        self, url: str, steps: list[Step], moment: datetime | None
    ) -> tuple[ServiceMetadataDoc, SignatureFacts]:
        response = self.http.get(url)
        steps.append(
            Step(
                "http",
                f"GET {url} → {response.status} "
                f"({len(response.body)} bytes, {response.elapsed * 1000:.0f} ms)",
                details=(("url", url), ("status", str(response.status))),
            )
        )
        verified = self._verify(response.body, moment)
        facts = SignatureFacts(
            valid=True,
            signer=verified.signer,
            signer_subject=verified.signer_subject,
            signer_issuer=verified.signer.issuer.rfc4514_string(),
            trust=verified.trust,
            algorithm=verified.signature_method,
            c14n=verified.c14n,
        )
        steps.append(
            Step(
                "signature",
                f"valid, signed by {facts.signer_subject} ({facts.trust})",
                details=(("signer", facts.signer_subject), ("algorithm", facts.algorithm)),
            )
        )
        return parse_service_metadata(verified.root), facts

    def _fetch_metadata(
        self,
        base: str,
        participant: ParticipantId,
        document_type: DocumentTypeId,
        steps: list[Step],
        moment: datetime | None,
    ) -> _Metadata:
        url = service_metadata_url(
            base,
            (participant.scheme, participant.value),
            (document_type.scheme, document_type.value),
            self.config.dialect,
        )
        first = len(steps)
        doc, facts = self._get_verified(url, steps, moment)
        if doc.redirect is not None:
            return self._follow_redirect(doc.redirect, participant, document_type, steps, moment)
        self._check_echo(doc, participant, document_type)
        steps.append(Step("identifiers", "participant and document type match the request"))
        return _Metadata(doc, url, facts, False, tuple(steps[first:]))

    def _follow_redirect(
        self,
        redirect: RedirectRecord,
        participant: ParticipantId,
        document_type: DocumentTypeId,
        steps: list[Step],
        moment: datetime | None,
    ) -> _Metadata:
        steps.append(
            Step("redirect", f"SMP redirects to {redirect.href}", details=(("href", redirect.href),))
        )
        first = len(steps)
        doc, facts = self._get_verified(redirect.href, steps, moment)
        if doc.redirect is not None or any(p.redirect is not None for p in doc.processes):
            raise RedirectError(
                f"the redirect target {redirect.href} redirects again (only one hop is allowed)"
            )
        # Compare the target's signer with what the redirecting (signed) document announced.
        signer_ok: bool
        if redirect.certificate_uid is not None:
            signer_ok = _signer_matches_uid(facts, redirect.certificate_uid)
        elif redirect.certificates:
            signer_ok = _signer_in(facts, redirect.certificates)
        else:
            raise RedirectError("Redirect carries neither CertificateUID nor Certificate")
        if not signer_ok:
            raise RedirectError(
                f"redirect target signed by {facts.signer_subject}, which does not match the announced "
                f"{redirect.certificate_uid or 'certificate'}"
            )
        self._check_echo(doc, participant, document_type)
        steps.append(Step("identifiers", "redirect signer and identifiers match"))
        return _Metadata(doc, redirect.href, facts, True, tuple(steps[first:]))

    @staticmethod
    def _check_participant(got: RawId | None, wanted: ParticipantId) -> None:
        if got is None or got.scheme != wanted.scheme or got.value.lower() != wanted.value.lower():
            raise IdentifierMismatch(f"SMP answered for participant {got} instead of {wanted.uri}")

    def _check_echo(
        self, doc: ServiceMetadataDoc, participant: ParticipantId, document_type: DocumentTypeId
    ) -> None:
        self._check_participant(doc.participant, participant)
        got = doc.document_type
        if got is None or got.scheme != document_type.scheme or got.value != document_type.value:
            raise IdentifierMismatch(f"SMP answered for document type {got} instead of {document_type.uri}")

    def _decode(self, text: str) -> x509.Certificate:
        cert = self._cert_cache.get(text)
        if cert is None:
            cert = decode_certificate(text)
            self._cert_cache.put(text, cert)
        return cert


def _signer_matches_uid(facts: SignatureFacts, uid: str) -> bool:
    return certificate_uid_matches(facts.signer, uid)


def _signer_in(facts: SignatureFacts, certificates: tuple[str, ...]) -> bool:
    for text in certificates:
        try:
            if decode_certificate(text) == facts.signer:
                return True
        except DiscoveryError:
            continue
    return False


@contextmanager
def attach_steps(steps: list[Step]) -> Iterator[None]:
    """Attach the steps taken so far to any discovery error passing through."""
    try:
        yield
    except DiscoveryError as exc:
        if not exc.steps:
            exc.steps = (*steps, Step("error", f"{exc.code}: {exc}", ok=False))
        raise


@contextmanager
def within_deadline(seconds: float | None) -> Iterator[None]:
    """Run a lookup under its total deadline (:mod:`peppol.deadline`); running out of it is
    :class:`LookupDeadlineExceeded`, whichever DNS or HTTP step was waiting."""
    with deadline(seconds, "the lookup"):
        try:
            yield
        except DeadlineExceeded as exc:
            raise LookupDeadlineExceeded(str(exc)) from exc
