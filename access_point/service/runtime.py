"""One service process: the store, our identity, discovery, the queue, and the work the actors do.

Outbound (``design.md`` step 7): :meth:`Service.submit` prepares and validates synchronously, stores the
SBD and the job row, commits, then enqueues (transactional outbox). :meth:`Service.send` claims the row,
builds the AS4 message once (its exact bytes and signed references are stored before the first
attempt, so every retry — in any process, after any crash — posts the same bytes), makes one attempt,
records it as evidence, and moves the row on: delivered, retrying (exponential back-off with jitter),
failed (permanent: no retry) or dead (attempts exhausted); a circuit per receiving AP holds attempts
back while it is open.

Inbound: the receiver core accepts into the :class:`~access_point.store.SqlInboundLedger` (the
``/as4`` endpoint), the ``acknowledged`` hook enqueues :meth:`Service.process_inbound`: validate, keep
for pull (``inbound_processing``), answer a T005 with a T006 / an invalid pre-award document with a
T018 when the tenant wants it, and queue the webhook delivery (HMAC-signed, retried).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from access_point.service import tables as t
from access_point.service.config import ServiceConfig, Tenant, load_service_identity
from access_point.service.keys import key_id_of, matches
from access_point.service.locks import serialize
from access_point.service.metrics import Metrics
from access_point.service.queue import Handlers, Queue, Sweeper
from access_point.store import Store, open_store, relaxed_transaction
from access_point.store.blobs import process_work_dir
from access_point.store.ledger import message_key
from access_point.store.orphans import sweep_orphan_payloads
from exchange.errors import DiscoveryFailed, ExchangeError
from exchange.outbound import (
    OutboundRequest,
    PreparedMessage,
    attempt,
    build,
    discover,
    document_from_sbd,
    prepare_document,
)
from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2, Endpoint
from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from peppol.pki import Purpose, RevocationPolicy, seat_id
from transport.as4 import OutboundMessage, ReceiptSignerPolicy
from transport.as4.dsig import Reference
from transport.receiver import CallbackHooks, ReceivedMessage
from transport.sender import As4Sender

log = logging.getLogger(__name__)

#: Read timeout of one AS4 POST: at most this, and below the lease (``limits.lease_seconds``: how long a
#: worker owns a claimed outbound row before another may take it over) by :data:`READ_TIMEOUT_SHARE`.
#: An attempt that outlives the lease (a large upload) is harmless: a worker taking the row over posts
#: the same bytes, which the receiver answers with the same receipt.
SEND_READ_TIMEOUT: Final = 60.0
READ_TIMEOUT_SHARE: Final = 0.75


#: A stored body (SBD, AS4 message) up to this size is read into memory; a larger one is streamed from
#: its file in the blob store.
INLINE_BODY_BYTES: Final = 1024 * 1024
#: The spool directory (per process) inside the data directory.
SPOOL_DIR: Final = "spool"
#: Jitter: the back-off is multiplied by a random factor in [1 - JITTER, 1 + JITTER].
JITTER: Final = 0.2
#: Seconds of one webhook POST.
WEBHOOK_TIMEOUT: Final = 10.0
#: Header names of a webhook delivery.
SIGNATURE_HEADER: Final = "X-AP-Signature"
TIMESTAMP_HEADER: Final = "X-AP-Timestamp"
#: Outbound statuses.
QUEUED, SENDING, RETRYING, DELIVERED, FAILED, DEAD = (
    "queued",
    "sending",
    "retrying",
    "delivered",
    "failed",
    "dead",
)
#: Seconds between two sweeps of orphan payload files.
ORPHAN_SWEEP_INTERVAL_SECONDS: Final = 3600.0
#: Inbound ledger statuses this module moves a record through.
INBOUND_RECEIVED, INBOUND_PROCESSED = "received", "processed"
PREAWARD_ROOTS: Final = ("CallForTenders", "Tender", "TenderReceipt", "TenderWithdrawal", "Qualification")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive (they were stored as UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def backoff_seconds(
    attempts: int, initial: float, maximum: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential back-off with jitter before the attempt after ``attempts`` failed ones."""
    base = min(maximum, initial * (2 ** max(0, attempts - 1)))
    return float(base * (1 - JITTER + 2 * JITTER * rand()))


class ServiceError(Exception):
    """A request the service refuses; ``status`` is the HTTP status, ``title`` the problem title."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: a tenant and the scopes of the key used."""

    tenant: Tenant
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ServiceError(403, "Forbidden", f"this API key lacks the {scope!r} scope")


def validation_report(result: Any) -> dict[str, Any]:
    """A :class:`ubl.result.ValidationResult` as JSON."""
    return {
        "valid": bool(result.valid),
        "document_type": result.document_type,
        "layers": [
            {
                "name": layer.name,
                "status": str(layer.status),
                "items": [
                    {
                        "rule_id": i.rule_id,
                        "severity": str(i.severity),
                        "text": i.text,
                        "location": i.location,
                    }
                    for i in layer.items
                ],
            }
            for layer in result.layers
        ],
    }


def _references_json(references: tuple[Reference, ...]) -> str:
    return json.dumps([[r.uri, r.digest_method, r.digest_value, list(r.transforms)] for r in references])


def _references(text: str) -> tuple[Reference, ...]:
    return tuple(
        Reference(uri, method, value, tuple(transforms))
        for uri, method, value, transforms in json.loads(text)
    )


class Service:
    """Everything one process of the service needs (see the module docstring)."""

    def __init__(
        self, config: ServiceConfig, *, validator: Callable[[bytes | Path], Any] | bool | None = True
    ) -> None:
        from smp_client.setup import DiscoverySettings, build_discovery, build_static, load_validator

        self.config = config
        self.store: Store = open_store(config.data_dir, config.database_url)
        self.engine = self.store.engine
        self.blobs = self.store.blobs
        self.ledger = self.store.ledger
        self.identity = load_service_identity(config)
        revocation = RevocationPolicy(config.revocation)
        self.ap_validator = load_validator(
            config.ap_trust,
            Purpose.AP,
            crls=config.crls,
            revocation=revocation,
            allow_fetching=config.allow_fetching,
        )
        self.resolver: Any
        if config.static_directory is not None:
            self.resolver = build_static(
                config.static_directory,
                ap_trust=config.ap_trust,
                crls=config.crls,
                revocation=revocation,
                allow_fetching=config.allow_fetching,
            )
        else:
            self.resolver = build_discovery(
                DiscoverySettings(
                    smp_trust=config.smp_trust,
                    ap_trust=config.ap_trust,
                    zone=config.sml_zone or "",
                    nameservers=config.nameservers,
                    tls_ca=config.tls_trust,
                    crls=config.crls,
                    revocation=revocation,
                    allow_fetching=config.allow_fetching,
                )
            )
        if validator is True:
            validator = _default_validator()
        self.metrics = Metrics(self)
        self.validator: Callable[[bytes | Path], Any] | None = self.metrics.timed_validator(validator or None)
        self._local = threading.local()
        #: Where large documents, their SBDs and built messages are spooled (emptied when the process
        #: that wrote them is gone: see :func:`~access_point.store.blobs.process_work_dir`).
        self.spool_dir = _spool_dir(config.data_dir)
        self.participants: dict[ParticipantId, Tenant] = {
            p: tenant for tenant in config.tenants for p in tenant.participants
        }
        self.queue = Queue(
            config.redis_url,
            config.data_dir,
            Handlers(
                send=_left_to_sweeper_on_outage(self.send),
                process_inbound=_left_to_sweeper_on_outage(self.process_inbound),
                deliver_webhook=_left_to_sweeper_on_outage(self.deliver_webhook),
            ),
        )
        self._next_orphan_sweep = 0.0
        self.sweeper = Sweeper(self.sweep)
        self.sync_tenants()

    # --- life cycle -----------------------------------------------------------------------------

    def start(self, *, workers: bool | None = None) -> int:
        """Start the in-process workers (default: when the Redis is embedded) and the sweeper, which
        re-enqueues every pending piece of work first; returns how many were re-enqueued."""
        in_process = workers if workers is not None else self.config.embedded_redis
        if in_process and self.config.embedded_redis:
            self._reclaim_in_flight()
        if in_process:
            self.start_worker_only()
        return self.sweeper.start()

    def _reclaim_in_flight(self) -> None:
        """With the embedded Redis this process is the only worker: what a previous run was sending when
        it died is taken back at once (a shared Redis waits for the lease to run out instead)."""
        o = t.outbound_messages
        now = utc_now()
        with self.engine.begin() as conn:
            ids = conn.execute(select(o.c.id).where(o.c.status == SENDING)).scalars().all()
            for outbound_id in ids:
                conn.execute(
                    update(o)
                    .where(o.c.id == outbound_id)
                    .values(status=RETRYING, lease_until=None, next_attempt_at=now)
                )
                self._event(conn, outbound_id, RETRYING, "taken back after a restart", now)

    def start_worker_only(self) -> None:
        webhooks = any(tenant.webhook_url for tenant in self.config.tenants)
        self.queue.start_workers(self.config.limits.worker_threads, webhooks=webhooks)

    def close(self) -> None:
        self.sweeper.stop()
        self.queue.close()
        self.store.close()

    def _sender(self) -> As4Sender:
        sender = getattr(self._local, "sender", None)
        if sender is None:
            sender = As4Sender(
                ca_bundle=self.config.tls_trust,
                allow_http=self.config.insecure_http,
                read_timeout=min(SEND_READ_TIMEOUT, self.config.limits.lease_seconds * READ_TIMEOUT_SHARE),
                validate_signer=self.ap_validator.validate,
                receipt_signer=ReceiptSignerPolicy(self.config.receipt_signer),
            )
            self._local.sender = sender
        return sender

    # --- tenants and API keys -------------------------------------------------------------------

    def sync_tenants(self) -> None:
        """Make the tenant, participant and API key tables say what the configuration says. Processes
        starting at the same moment on one database take turns (``serialize``: an advisory lock on
        PostgreSQL), so none fails on another's half-written rows."""
        now = utc_now()
        with self.engine.begin() as conn:
            serialize(conn)  # several processes start at once on one database
            conn.execute(t.api_keys.delete())
            conn.execute(t.participants.delete())
            conn.execute(t.tenants.delete())
            for tenant in self.config.tenants:
                conn.execute(insert(t.tenants).values(id=tenant.id, format=tenant.format, updated_at=now))
                for participant in tenant.participants:
                    conn.execute(
                        insert(t.participants).values(participant=participant.uri, tenant_id=tenant.id)
                    )
                for key in tenant.api_keys:
                    conn.execute(
                        insert(t.api_keys).values(
                            id=key.id, tenant_id=tenant.id, hash=key.hash, scopes=" ".join(key.scopes)
                        )
                    )

    def authenticate(self, presented: str | None) -> Principal:
        """The principal of an API key (``401`` when missing or unknown)."""
        key_id = key_id_of(presented or "")
        row = None
        if key_id is not None:
            with self.engine.connect() as conn:
                row = conn.execute(select(t.api_keys).where(t.api_keys.c.id == key_id)).first()
        if row is None or presented is None or not matches(presented, row.hash):
            raise ServiceError(
                401, "Unauthorized", "a valid API key is required (Authorization: Bearer <key>)"
            )
        tenant = next(x for x in self.config.tenants if x.id == row.tenant_id)
        return Principal(tenant, frozenset(row.scopes.split()))

    def is_served(self, receiver: ParticipantId, document_type: DocumentTypeId, process: ProcessId) -> bool:
        return receiver in self.participants

    def receiver_hooks(self) -> CallbackHooks:
        return CallbackHooks(is_served_fn=self.is_served, acknowledged_fn=self._accepted)

    def _accepted(self, message: ReceivedMessage, receipt: bytes) -> None:
        m = self.ledger_table()
        with self.engine.connect() as conn:
            record_id = conn.execute(
                select(m.c.id).where(m.c.message_key == message_key(message.message_id))
            ).scalar()
        if record_id is not None:
            self.queue.enqueue_inbound(record_id)

    # --- outbound: submission -------------------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        payload: bytes | Path,
        *,
        receiver: str,
        input_format: str = "ubl",
        sender: str | None = None,
        document_type: str | None = None,
        process: str | None = None,
        mapping_target: str | None = None,
        answers: str | None = None,
    ) -> str:
        """Validate and queue one document (bytes, or a file: a large document is streamed from it into
        its SBD and the blob store); returns the outbound id. Raises :class:`ServiceError`."""
        principal.require("send")
        tenant = principal.tenant
        try:
            to = ParticipantId.parse(receiver)
            source = ParticipantId.parse(sender) if sender else tenant.participants[0]
            doctype = DocumentTypeId.parse(document_type) if document_type else None
            proc = ProcessId.parse(process) if process else None
        except ValueError as exc:
            raise ServiceError(422, "Invalid identifier", str(exc)) from exc
        if source not in tenant.participants:
            raise ServiceError(
                403, "Forbidden", f"tenant {tenant.id!r} does not own participant {source.uri}"
            )
        if input_format not in ("ubl", "ocds", "decp"):
            raise ServiceError(
                422, "Invalid format", f"format must be ubl, ocds or decp, not {input_format!r}"
            )
        request = OutboundRequest(
            payload=payload,
            sender=source,
            receiver=to,
            c1_country=tenant.country or "ZZ",
            input_format=input_format,  # type: ignore[arg-type]
            document_type=doctype,
            process=proc,
            mapping_target=mapping_target,
        )
        try:
            with self.metrics.stage("validate"):
                document = prepare_document(request, validator=self.validator, spool_dir=self.spool_dir)
        except ExchangeError as exc:
            self.metrics.refused(source.uri, to.uri, exc.code, str(exc))
            validation = getattr(exc, "result", None)
            extra: dict[str, Any] = {"code": exc.code}
            if validation is not None:
                extra["validation"] = validation_report(validation)
            raise ServiceError(422, "Document refused", str(exc), **extra) from exc
        if isinstance(document.sbd, bytes):
            blob = self.blobs.put(document.sbd)
        else:
            try:
                blob = self.blobs.put_file(document.sbd)
            finally:
                document.sbd.unlink(missing_ok=True)
        outbound_id = str(uuid.uuid4())
        now = utc_now()
        row = {
            "id": outbound_id,
            "tenant_id": tenant.id,
            "sender": document.sender.uri,
            "receiver": document.receiver.uri,
            "document_type": document.document_type.uri,
            "process": document.process.uri,
            "instance_id": document.instance_id,
            "country_c1": request.c1_country,
            "status": QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "sbd_sha256": blob.sha256,
            "answers": answers,
            "created_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            conn.execute(insert(t.outbound_messages).values(**row))
            self._event(conn, outbound_id, QUEUED, "validated and queued", now)
        self.queue.enqueue_send(outbound_id)
        self.metrics.submitted(row)
        return outbound_id

    @staticmethod
    def _event(
        conn: Any, outbound_id: str, status: str, detail: str | None, at: datetime | None = None
    ) -> None:
        conn.execute(
            insert(t.outbound_events).values(
                outbound_id=outbound_id, at=at or utc_now(), status=status, detail=detail
            )
        )

    def retry(self, principal: Principal, outbound_id: str) -> dict[str, Any]:
        """Put a failed or dead message back in the queue (same bytes when it was built)."""
        principal.require("send")
        self.outbound(principal, outbound_id)  # 404 for another tenant's message
        now = utc_now()
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(t.outbound_messages)
                .where(
                    t.outbound_messages.c.id == outbound_id, t.outbound_messages.c.status.in_((FAILED, DEAD))
                )
                .values(status=QUEUED, attempts=0, next_attempt_at=now, updated_at=now)
            ).rowcount
            if not changed:
                raise ServiceError(409, "Conflict", "only a failed or dead message can be retried")
            self._event(conn, outbound_id, QUEUED, "retry requested", now)
        self.queue.enqueue_send(outbound_id)
        return self.outbound(principal, outbound_id)

    def outbound(self, principal: Principal, outbound_id: str) -> dict[str, Any]:
        """The status timeline, attempts, receipt and errors of one message (``404`` otherwise)."""
        principal.require("read")
        o = t.outbound_messages
        with self.engine.connect() as conn:
            row = conn.execute(
                select(o).where(o.c.id == outbound_id, o.c.tenant_id == principal.tenant.id)
            ).first()
            if row is None:
                raise ServiceError(404, "Not found", f"no outbound message {outbound_id}")
            events = conn.execute(
                select(t.outbound_events)
                .where(t.outbound_events.c.outbound_id == outbound_id)
                .order_by(t.outbound_events.c.id)
            ).all()
            attempts = conn.execute(
                select(t.outbound_attempts)
                .where(t.outbound_attempts.c.outbound_id == outbound_id)
                .order_by(t.outbound_attempts.c.id)
            ).all()
        return {
            "id": row.id,
            "status": row.status,
            "sender": row.sender,
            "receiver": row.receiver,
            "document_type": row.document_type,
            "process": row.process,
            "instance_id": row.instance_id,
            "message_id": row.message_id,
            "endpoint": row.endpoint_url,
            "attempts": row.attempts,
            "next_attempt_at": _iso(row.next_attempt_at) if row.status in (QUEUED, RETRYING) else None,
            "receipt_id": row.receipt_id,
            "receipt": base64.b64encode(row.receipt).decode() if row.receipt else None,
            "error": {"code": row.error_code, "detail": row.error_detail} if row.error_code else None,
            "timeline": [{"at": _iso(e.at), "status": e.status, "detail": e.detail} for e in events],
            "attempt_log": [
                {
                    "number": a.number,
                    "at": _iso(a.at),
                    "endpoint": a.endpoint_url,
                    "delivered": a.delivered,
                    "code": a.code,
                    "detail": a.detail,
                    "permanent": a.permanent,
                    "http_status": a.http_status,
                }
                for a in attempts
            ],
        }

    # --- outbound: the send actor ---------------------------------------------------------------

    def send(self, outbound_id: str) -> None:
        """One attempt of one outbound message (idempotent: claims the row first).

        Three commits: the claim and the outcome are :func:`relaxed_transaction` (a power loss that
        loses one only repeats the attempt: the same bytes, answered with the stored receipt); the built
        message (the first attempt only) is a full commit, since its bytes are about to be posted."""
        o = t.outbound_messages
        now = utc_now()
        lease = self.config.limits.lease_seconds
        due = or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at <= now + timedelta(seconds=1))
        claim = (
            update(o)
            .where(
                o.c.id == outbound_id,
                or_(
                    and_(o.c.status.in_((QUEUED, RETRYING)), due),
                    and_(o.c.status == SENDING, o.c.lease_until < now),
                ),
            )
            .values(status=SENDING, lease_until=now + timedelta(seconds=lease), updated_at=now)
            .returning(*o.c)
        )
        with relaxed_transaction(self.engine) as conn:
            row = conn.execute(claim).first()
        if row is None:
            return
        try:
            with self.metrics.stage("prepare"):
                prepared = self._message_for(row)
        except ExchangeError as exc:
            self._failed(
                row, exc.code, str(exc), permanent=exc.permanent or not isinstance(exc, DiscoveryFailed)
            )
            return
        endpoint = prepared.endpoint
        circuit = self._circuit(endpoint.url)
        open_until = _aware(circuit.open_until) if circuit is not None else None
        if open_until is not None and open_until > utc_now():
            with relaxed_transaction(self.engine) as conn:
                conn.execute(
                    update(o)
                    .where(o.c.id == outbound_id)
                    .values(status=RETRYING, next_attempt_at=open_until, updated_at=utc_now())
                )
                self._event(
                    conn, outbound_id, RETRYING, f"circuit open for {endpoint.url} until {_iso(open_until)}"
                )
            self.queue.enqueue_send(outbound_id, (open_until - utc_now()).total_seconds())
            return
        with self.metrics.stage("attempt"):
            outcome = attempt(prepared, endpoint, sender=self._sender())
        number = row.attempts + 1
        moment = utc_now()
        settled: tuple[str, float] = (DELIVERED, 0.0)
        with relaxed_transaction(self.engine) as conn:
            conn.execute(
                insert(t.outbound_attempts).values(
                    outbound_id=outbound_id,
                    number=number,
                    at=moment,
                    endpoint_url=endpoint.url,
                    delivered=outcome.delivered,
                    code=outcome.code,
                    detail=(outcome.detail or "")[:2000] or None,
                    permanent=outcome.permanent,
                    http_status=outcome.http_status,
                    receipt=outcome.receipt,
                )
            )
            if outcome.delivered:
                conn.execute(
                    update(o)
                    .where(o.c.id == outbound_id)
                    .values(
                        status=DELIVERED,
                        attempts=number,
                        receipt=outcome.receipt,
                        receipt_id=outcome.receipt_id,
                        error_code=None,
                        error_detail=None,
                        lease_until=None,
                        next_attempt_at=None,
                        updated_at=moment,
                    )
                )
                self._event(conn, outbound_id, DELIVERED, f"receipt {outcome.receipt_id} verified", moment)
            else:
                settled = self._settle_failure(
                    conn, row, outcome.code or "ERROR", outcome.summary, outcome.permanent, number
                )
            self._record_circuit(conn, endpoint.url, outcome.delivered or outcome.permanent, circuit)
        self._after_settled(row, *settled, outcome.code or "ERROR", prepared.message_id)

    def _failed(self, row: Any, code: str, detail: str, *, permanent: bool) -> None:
        """A failure before any attempt (discovery, build): settled like a failed attempt."""
        with relaxed_transaction(self.engine) as conn:
            settled = self._settle_failure(conn, row, code, detail, permanent, row.attempts + 1)
        self._after_settled(row, *settled, code)

    def _settle_failure(
        self, conn: Any, row: Any, code: str, detail: str, permanent: bool, number: int
    ) -> tuple[str, float]:
        """Move ``row`` to failed (permanent), dead (attempts exhausted) or retrying (with back-off) in
        ``conn``; returns the status and the delay before the next attempt."""
        o = t.outbound_messages
        limits = self.config.limits
        now = utc_now()
        delay = 0.0
        if permanent:
            status = FAILED
        elif number >= limits.send_max_attempts:
            status = DEAD
        else:
            status = RETRYING
            delay = backoff_seconds(number, limits.retry_initial_seconds, limits.retry_max_seconds)
        conn.execute(
            update(o)
            .where(o.c.id == row.id)
            .values(
                status=status,
                attempts=number,
                error_code=code,
                error_detail=detail[:2000],
                lease_until=None,
                next_attempt_at=now + timedelta(seconds=delay) if status == RETRYING else None,
                updated_at=now,
            )
        )
        note = f"{code}: {detail}"[:500]
        if status == RETRYING:
            note += f" (attempt {number}; next in {delay:.1f} s)"
        self._event(conn, row.id, status, note, now)
        return status, delay

    def _after_settled(
        self, row: Any, status: str, delay: float, code: str | None, message_id: str | None = None
    ) -> None:
        """What follows the commit of an outcome: the retry is enqueued, the metrics counted."""
        if status == RETRYING:
            self.queue.enqueue_send(row.id, delay)
        self.metrics.outbound(row, status, None if status == DELIVERED else code, message_id)

    def _blob_source(self, sha256: str) -> bytes | Path:
        """A stored blob as bytes when small, else its file (streamed by whoever reads it)."""
        path = self.blobs.path(sha256)
        return path if path.stat().st_size > INLINE_BODY_BYTES else path.read_bytes()

    def _message_for(self, row: Any) -> PreparedMessage:
        """The AS4 message of ``row``: built and stored on the first call, read back afterwards. A large
        body is posted from its file in the blob store (never held in memory)."""
        document = document_from_sbd(self._blob_source(row.sbd_sha256))
        if row.message_sha256 is None:
            built = self._build(row, document)
            if built is not None:
                return built
            row = self._row(row.id)  # another worker stored its build first: post those bytes
        body = self._blob_source(row.message_sha256)
        message = OutboundMessage(
            message_id=row.message_id,
            content_type=row.content_type,
            body=body if isinstance(body, bytes) else None,
            body_path=body if isinstance(body, Path) else None,
            signed_references=_references(row.signed_references),
        )
        endpoint = Endpoint(
            url=row.endpoint_url,
            transport_profile=TRANSPORT_PROFILE_AS4_V2,
            certificate=x509.load_pem_x509_certificate(row.endpoint_certificate.encode()),
        )
        return PreparedMessage(message, endpoint, document)

    def _row(self, outbound_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.outbound_messages).where(t.outbound_messages.c.id == outbound_id)
            ).one()

    def _build(self, row: Any, document: Any) -> PreparedMessage | None:
        """Discover, build, store the bytes (blob) and what a retry needs (columns) in one full commit;
        ``None`` when another worker's build was stored first."""
        endpoint = discover(document, resolver=self.resolver)
        spool = Path(tempfile.mkdtemp(prefix="ap-out-", dir=self.spool_dir))
        try:
            built = build(document, endpoint, identity=self.identity, spool_dir=spool)
            sent = built.message
            if sent.body is not None:
                blob = self.blobs.put(sent.body)
            else:
                assert sent.body_path is not None
                blob = self.blobs.put_file(sent.body_path)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
        certificate = endpoint.certificate.public_bytes(serialization.Encoding.PEM).decode()
        o = t.outbound_messages
        with self.engine.begin() as conn:
            stored = conn.execute(
                update(o)
                .where(o.c.id == row.id, o.c.message_sha256.is_(None))
                .values(
                    message_id=built.message_id,
                    message_sha256=blob.sha256,
                    content_type=built.content_type,
                    signed_references=_references_json(sent.signed_references),
                    endpoint_url=endpoint.url,
                    endpoint_certificate=certificate,
                    to_party=seat_id(endpoint.certificate),
                    updated_at=utc_now(),
                )
            ).rowcount
            if stored:
                self._event(conn, row.id, SENDING, f"message {built.message_id} built for {endpoint.url}")
        if not stored:
            return None
        if sent.body is None:  # the spool is gone: post the stored file
            sent = dataclasses.replace(sent, body_path=self.blobs.path(blob.sha256))
        return PreparedMessage(sent, endpoint, document)

    # --- circuit breaker per receiving AP -------------------------------------------------------

    def _circuit(self, url: str) -> Any:
        """The circuit row of ``url`` (``None``: closed, no failure counted)."""
        with self.engine.connect() as conn:
            return conn.execute(select(t.circuits).where(t.circuits.c.endpoint_url == url)).first()

    def _record_circuit(self, conn: Any, url: str, healthy: bool, seen: Any) -> None:
        """A delivery (or a permanent answer: the AP is up) closes the circuit — written only when it
        was not known and closed already (``seen``: the row read before the attempt); a transport failure
        counts, and :attr:`Limits.circuit_failures` in a row open it."""
        c = t.circuits
        row = seen
        if healthy:
            if row is not None and not row.failures and row.open_until is None:
                return  # closed, and it stays closed: nothing to write
            values: dict[str, Any] = {"failures": 0, "open_until": None}
        else:
            limits = self.config.limits
            row = conn.execute(select(c).where(c.c.endpoint_url == url)).first()
            failures = (row.failures if row is not None else 0) + 1
            open_until = None
            if failures >= limits.circuit_failures:
                open_until = utc_now() + timedelta(seconds=limits.circuit_open_seconds)
                failures = 0
            values = {"failures": failures, "open_until": open_until}
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(c).values(endpoint_url=url, **values))
            except IntegrityError:
                conn.execute(update(c).where(c.c.endpoint_url == url).values(**values))
        else:
            conn.execute(update(c).where(c.c.endpoint_url == url).values(**values))

    # --- inbound ----------------------------------------------------------------------------------

    def process_inbound(self, record_id: str) -> None:
        """Validate an accepted inbound message, keep it for its tenant, answer and notify (idempotent).

        One :func:`relaxed_transaction` keeps it for pull and marks the record processed (a power loss
        that loses it only processes the message again); when an automatic answer is due the record is
        marked processed only after the answer was submitted, so a crash in between answers on the
        next run (the answer is submitted once: ``outbound_messages.answers`` is unique)."""
        from transport.sbdh import read_sbd

        record = self.ledger.get(record_id)
        if record is None or record.status != INBOUND_RECEIVED:
            return
        tenant = self.participants.get(ParticipantId.parse(record.receiver))
        if tenant is None:  # served when accepted, no longer configured: keep it for an operator
            log.warning("inbound %s for %s: no tenant serves it any more", record.message_id, record.receiver)
            return
        stored = self.blobs.path(record.payload_sha256)
        root = read_sbd(stored).payload.local_name
        document: bytes | None = None
        valid: bool | None = None
        report: dict[str, Any] | None = None
        if self.validator is not None:
            document = _payload_of(stored.read_bytes())
            try:
                result = self.validator(document)
                valid, report = bool(result.valid), validation_report(result)
            except Exception as exc:  # validation could not run: deliver, flagged
                report = {"valid": None, "error": f"{type(exc).__name__}: {exc}"}
        answer_due = _answer_due(tenant, root, valid)
        now = utc_now()
        m = self.ledger_table()
        processed = update(m).where(m.c.id == record.id, m.c.status == INBOUND_RECEIVED)
        processed = processed.values(status=INBOUND_PROCESSED, updated_at=now)
        try:
            with relaxed_transaction(self.engine) as conn:
                conn.execute(
                    insert(t.inbound_processing).values(
                        inbound_id=record.id,
                        tenant_id=tenant.id,
                        status="ready",
                        valid=valid,
                        report=json.dumps(report) if report is not None else None,
                        root=root,
                        processed_at=now,
                    )
                )
                if tenant.webhook_url:
                    conn.execute(
                        insert(t.webhook_deliveries).values(
                            inbound_id=record.id,
                            tenant_id=tenant.id,
                            url=tenant.webhook_url,
                            status="pending",
                            attempts=0,
                            next_attempt_at=now,
                        )
                    )
                if not answer_due:
                    conn.execute(processed)
        except IntegrityError:
            answer_due = True  # processed before (a redelivered message): finish what that run began
        if answer_due:
            self._answer(tenant, record, root, document or _payload_of(stored.read_bytes()), valid, report)
            with relaxed_transaction(self.engine) as conn:
                conn.execute(processed)
        if tenant.webhook_url:
            self.queue.enqueue_webhook(record.id)

    def _answer(
        self, tenant: Tenant, record: Any, root: str, document: bytes, valid: bool | None, report: Any
    ) -> None:
        """The tenant's automatic answers: T006 for a valid T005, T018 for an invalid pre-award document."""
        answer: bytes | None = None
        try:
            if tenant.tender_receipt and root == "Tender" and valid is not False:
                answer = _tender_receipt(document, record)
            elif tenant.rejection and valid is False and root in PREAWARD_ROOTS:
                answer = _rejection(document, record, report)
        except Exception as exc:
            log.warning("automatic answer to %s not built: %s", record.message_id, exc)
            return
        if answer is None:
            return
        principal = Principal(tenant, frozenset({"send"}))
        with self.engine.connect() as conn:
            exists = conn.execute(
                select(t.outbound_messages.c.id).where(t.outbound_messages.c.answers == record.id)
            ).first()
        if exists is not None:
            return
        try:
            self.submit(principal, answer, receiver=record.sender, sender=record.receiver, answers=record.id)
        except (ServiceError, IntegrityError) as exc:
            log.warning("automatic answer to %s refused: %s", record.message_id, exc)

    def inbound_list(
        self, principal: Principal, *, include_acked: bool = False, limit: int = 100
    ) -> list[dict[str, Any]]:
        principal.require("read")
        p, m = t.inbound_processing, self.ledger_table()
        query = (
            select(m, p.c.status.label("state"), p.c.valid, p.c.root, p.c.acked_at)
            .join(p, p.c.inbound_id == m.c.id)
            .where(p.c.tenant_id == principal.tenant.id)
            .order_by(m.c.received_at, m.c.id)
            .limit(limit)
        )
        if not include_acked:
            query = query.where(p.c.acked_at.is_(None))
        with self.engine.connect() as conn:
            return [_inbound_json(row) for row in conn.execute(query)]

    @staticmethod
    def ledger_table() -> Any:
        from access_point.store.schema import inbound_messages

        return inbound_messages

    def _inbound_row(self, principal: Principal, inbound_id: str) -> Any:
        principal.require("read")
        p, m = t.inbound_processing, self.ledger_table()
        query = (
            select(m, p.c.status.label("state"), p.c.valid, p.c.root, p.c.acked_at, p.c.report)
            .join(p, p.c.inbound_id == m.c.id)
            .where(m.c.id == inbound_id, p.c.tenant_id == principal.tenant.id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise ServiceError(404, "Not found", f"no inbound document {inbound_id}")
        return row

    def inbound_get(self, principal: Principal, inbound_id: str) -> dict[str, Any]:
        row = self._inbound_row(principal, inbound_id)
        data = _inbound_json(row)
        data["validation"] = json.loads(row.report) if row.report else None
        return data

    def inbound_document(self, principal: Principal, inbound_id: str, fmt: str | None) -> tuple[bytes, str]:
        """The document in ``fmt`` (default: the tenant's format): ``(bytes, media type)``."""
        row = self._inbound_row(principal, inbound_id)
        fmt = fmt or principal.tenant.format
        if fmt not in ("ubl", "ocds", "decp"):
            raise ServiceError(422, "Invalid format", f"format must be ubl, ocds or decp, not {fmt!r}")
        document = _payload_of(self.blobs.read_bytes(row.payload_sha256))
        if fmt == "ubl":
            return document, "application/xml"
        from mappings.convert import convert
        from mappings.errors import MappingError

        try:
            converted = convert(document, source="ubl", target=fmt)
        except MappingError as exc:
            raise ServiceError(
                422, "Not convertible", f"this {row.root} cannot be read as {fmt}: {exc}"
            ) from exc
        return converted.data, "application/json" if fmt == "ocds" else "application/xml"

    def inbound_ack(self, principal: Principal, inbound_id: str) -> dict[str, Any]:
        self._inbound_row(principal, inbound_id)
        p = t.inbound_processing
        with self.engine.begin() as conn:
            conn.execute(
                update(p)
                .where(p.c.inbound_id == inbound_id, p.c.acked_at.is_(None))
                .values(acked_at=utc_now(), status="acked")
            )
        return self.inbound_get(principal, inbound_id)

    # --- webhooks ---------------------------------------------------------------------------------

    def deliver_webhook(self, inbound_id: str) -> None:
        """POST the document to the tenant's webhook, HMAC-signed; retried with back-off."""
        w = t.webhook_deliveries
        now = utc_now()
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(w)
                .where(
                    w.c.inbound_id == inbound_id,
                    w.c.status == "pending",
                    or_(w.c.next_attempt_at.is_(None), w.c.next_attempt_at <= now + timedelta(seconds=1)),
                )
                .values(next_attempt_at=now + timedelta(seconds=self.config.limits.lease_seconds))
            ).rowcount
            if not claimed:
                return
            row = conn.execute(select(w).where(w.c.inbound_id == inbound_id)).one()
        tenant = next((x for x in self.config.tenants if x.id == row.tenant_id), None)
        if tenant is None or not tenant.webhook_secret:
            return
        principal = Principal(tenant, frozenset({"read"}))
        document, media_type = self.inbound_document(principal, inbound_id, None)
        body = json.dumps(
            {
                "event": "inbound.received",
                "inbound": self.inbound_get(principal, inbound_id),
                "format": tenant.format,
                "media_type": media_type,
                "document": base64.b64encode(document).decode(),
            }
        ).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(
            tenant.webhook_secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        error: str | None = None
        try:
            response = requests.post(
                row.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: f"sha256={signature}",
                    TIMESTAMP_HEADER: timestamp,
                },
                timeout=WEBHOOK_TIMEOUT,
                verify=str(self.config.tls_trust) if self.config.tls_trust else True,
            )
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        number = row.attempts + 1
        limits = self.config.limits
        values: dict[str, Any]
        if error is None:
            values = {"status": "delivered", "delivered_at": utc_now(), "last_error": None}
        elif number >= limits.webhook_max_attempts:
            values = {"status": "dead", "last_error": error}
        else:
            delay = backoff_seconds(number, limits.retry_initial_seconds, limits.retry_max_seconds)
            values = {"next_attempt_at": utc_now() + timedelta(seconds=delay), "last_error": error}
        with self.engine.begin() as conn:
            conn.execute(update(w).where(w.c.inbound_id == inbound_id).values(attempts=number, **values))
        if error is not None and number < limits.webhook_max_attempts:
            self.queue.enqueue_webhook(inbound_id, delay)

    # --- recovery ---------------------------------------------------------------------------------

    def sweep(self, grace_seconds: float) -> int:
        """Re-enqueue every piece of work that is due for more than ``grace_seconds`` (0 at start-up:
        all of it) or whose worker's lease ran out; returns how many. The first periodic sweep after
        start-up, and one every :data:`ORPHAN_SWEEP_INTERVAL_SECONDS`, also removes orphan payload
        files (:mod:`access_point.store.orphans`: written before a crash, their row never committed)."""
        now = utc_now()
        due = now - timedelta(seconds=grace_seconds)
        o, w, m = t.outbound_messages, t.webhook_deliveries, self.ledger_table()
        with self.engine.connect() as conn:
            sends = (
                conn.execute(
                    select(o.c.id).where(
                        or_(
                            and_(o.c.status.in_((QUEUED, RETRYING)), o.c.next_attempt_at <= due),
                            and_(o.c.status == SENDING, o.c.lease_until < now),
                        )
                    )
                )
                .scalars()
                .all()
            )
            inbound = (
                conn.execute(select(m.c.id).where(m.c.status == INBOUND_RECEIVED, m.c.received_at <= due))
                .scalars()
                .all()
            )
            hooks = (
                conn.execute(
                    select(w.c.inbound_id).where(w.c.status == "pending", w.c.next_attempt_at <= due)
                )
                .scalars()
                .all()
            )
        for outbound_id in sends:
            self.queue.enqueue_send(outbound_id)
        for record_id in inbound:
            self.queue.enqueue_inbound(record_id)
        for record_id in hooks:
            self.queue.enqueue_webhook(record_id)
        if grace_seconds and time.monotonic() >= self._next_orphan_sweep:  # in the sweeper's thread
            self._next_orphan_sweep = time.monotonic() + ORPHAN_SWEEP_INTERVAL_SECONDS
            sweep_orphan_payloads(self.engine, self.blobs)
        return len(sends) + len(inbound) + len(hooks)


def _left_to_sweeper_on_outage(handler: Callable[[str], None]) -> Callable[[str], None]:
    """An actor whose database is unreachable (down, restarting) logs one line and returns: its row is
    unchanged or leased, and the sweeper enqueues it again once the database answers. No traceback per
    message and no dramatiq retry (which the row's claim would refuse while the lease runs anyway)."""

    def run(row_id: str) -> None:
        try:
            handler(row_id)
        except OperationalError as exc:
            log.warning(
                "%s %s: database unavailable, left to the sweeper: %s",
                handler.__name__,
                row_id,
                " ".join(str(exc.orig or exc).split())[:200],
            )

    return run


_SPOOLS: dict[Path, Path] = {}
_SPOOLS_LOCK = threading.Lock()


def _spool_dir(data_dir: Path) -> Path:
    """This process's spool directory under ``data_dir`` (one per process: services of one process
    on one data directory share it)."""
    parent = Path(data_dir).resolve() / SPOOL_DIR
    with _SPOOLS_LOCK:
        mine = _SPOOLS.get(parent)
        if mine is None or not mine.is_dir():
            mine = _SPOOLS[parent] = process_work_dir(parent)
        return mine


def _answer_due(tenant: Tenant, root: str, valid: bool | None) -> bool:
    """Whether :meth:`Service._answer` will answer a ``root`` document (validity ``valid``) for ``tenant``."""
    return (tenant.tender_receipt and root == "Tender" and valid is not False) or (
        tenant.rejection and valid is False and root in PREAWARD_ROOTS
    )


def _iso(moment: datetime | None) -> str | None:
    moment = _aware(moment)
    return moment.isoformat() if moment is not None else None


def _inbound_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "message_id": row.message_id,
        "sender": row.sender,
        "receiver": row.receiver,
        "document_type": row.document_type,
        "process": row.process,
        "instance_id": row.instance_id,
        "country_c1": row.country_c1,
        "document": row.root,
        "valid": row.valid,
        "status": row.state,
        "received_at": _iso(row.received_at),
        "acked_at": _iso(row.acked_at),
    }


def _payload_of(sbd: bytes) -> bytes:
    """The business document inside an SBD, serialised on its own."""
    from lxml import etree

    from peppol.xml import parse_bytes

    root = parse_bytes(sbd).getroot()
    for child in root:
        if isinstance(child.tag, str) and not child.tag.endswith("}StandardBusinessDocumentHeader"):
            return etree.tostring(child, xml_declaration=True, encoding="UTF-8")
    raise ValueError("the SBD holds no business document")


def _tender_receipt(document: bytes, record: Any) -> bytes:
    """T006 for an inbound T005: the tender read as OCDS, its registration time = reception time."""
    from mappings.peppol import build_document, read_t005
    from peppol.xml import parse_bytes

    release = read_t005(parse_bytes(document).getroot())
    received = _aware(record.received_at) or utc_now()
    bid = ((release.get("bids") or {}).get("details") or [{}])[0]
    peppol = release.setdefault("platform", {}).setdefault("peppol", {})
    peppol["receipt"] = {
        "bidId": bid.get("id"),
        "registeredDate": received.date().isoformat(),
        "registeredTime": received.strftime("%H:%M:%S") + "Z",
    }
    peppol.setdefault("documents", {})["t006"] = {"uuid": str(uuid.uuid4())}
    return build_document(release, "t006")


def _rejection(document: bytes, record: Any, report: Any) -> bytes:
    """T018 rejecting an invalid inbound pre-award document."""
    from mappings.peppol import build_document

    failures = [
        item
        for layer in (report or {}).get("layers", [])
        for item in layer["items"]
        if item["severity"] in ("error", "fatal")
    ]
    description = (
        "; ".join(f"{i['rule_id']}: {i['text']}" for i in failures[:5]) or "the document is not valid"
    )
    sender_scheme, _, sender_id = record.receiver.partition("::")[2].partition(":")
    receiver_scheme, _, receiver_id = record.sender.partition("::")[2].partition(":")
    release = {
        "ocid": f"ocds-rejection-{record.id}",
        "id": str(uuid.uuid4()),
        "date": utc_now().isoformat(),
        "parties": [
            {"id": "us", "roles": ["buyer"]},
            {"id": "them", "roles": ["tenderer"]},
        ],
        "platform": {
            "peppol": {
                "parties": {
                    "us": {"endpoint": {"scheme": sender_scheme, "id": sender_id}},
                    "them": {"endpoint": {"scheme": receiver_scheme, "id": receiver_id}},
                },
                "response": {
                    "code": "RE",
                    "description": description[:1000],
                    "documentId": record.instance_id or record.message_id,
                    "documentTypeCode": _transaction_of(document),
                    "sender": "us",
                    "receiver": "them",
                },
                "documents": {"t018": {"uuid": str(uuid.uuid4())}},
            }
        },
    }
    return build_document(release, "t018")


def _transaction_of(document: bytes) -> str:
    """The rejected document's transaction id as T018 1.1 names it (``…:trns:tNNN:1.1``: T018 answers
    the 1.1 transactions; a 1.2 document is named by its transaction number)."""
    import re

    from peppol.xml import parse_bytes

    customization = ""
    try:
        root = parse_bytes(document).getroot()
        customization = (
            root.findtext(
                "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}CustomizationID"
            )
            or ""
        )
    except Exception:  # an unreadable document is still rejected, as an unknown transaction
        customization = ""
    found = re.search(r"trns:(t0[01][0-9])", customization)
    return f"urn:fdc:peppol.eu:prac:trns:{found.group(1) if found else 't001'}:1.1"


def _default_validator() -> Callable[[bytes | Path], Any]:
    from functools import partial

    from ubl.artifacts import default_store
    from ubl.validate import validate_document

    return partial(validate_document, store=default_store())
