"""Prometheus metrics of one service process, and the per-message log lines of the service.

:class:`Metrics` owns a registry per :class:`~access_point.service.runtime.Service` (two services in one
process — tests, the demo — do not add up). Counters and histograms count what *this process* did
(the messages it received, the attempts its workers made); the gauges read the shared state at scrape
time (the database, Redis, the certificate files), so any node of a cluster reports the same values.

========================================  ==========================================================
``ap_messages_total``                     direction (inbound/outbound), status, document_type
``ap_message_duration_seconds``           end to end: inbound request → answer; outbound submitted
                                          → delivered
``ap_stage_duration_seconds``             stage: validate, prepare (discover + build), attempt,
                                          receive
``ap_validation_duration_seconds``        one validation of a document (submission, inbound)
``ap_send_retries_total``                 attempts that ended in ``retrying``
``ap_outbound_messages``                  outbound rows in the database by status (cluster-wide)
``ap_queue_depth``                        messages in Redis per queue (ready + delayed + in progress)
``ap_circuit_open``                       1 while the circuit of a receiving AP URL is open
``ap_certificate_expiry_days``            days until notAfter: identity (AP), tls (server)
``ap_revocation_soft_fails_total``        validations passed only under revocation soft-fail
========================================  ==========================================================

Certificate expiry is also logged: a WARNING within :data:`EXPIRY_WARN_DAYS` days, an ERROR within
:data:`EXPIRY_URGENT_DAYS` (at start-up, and again at a scrape when the next threshold is crossed).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from cryptography import x509
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from access_point.message_log import log_inbound, log_outbound
from access_point.service import tables as t

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from access_point.service.config import ServiceConfig
    from access_point.service.queue import Queue
    from peppol.pki import Identity


class Service(Protocol):
    """What the metrics read of a :class:`~access_point.service.runtime.Service` (a protocol, so this
    module needs no import of the runtime that owns it)."""

    engine: Engine
    identity: Identity
    config: ServiceConfig
    queue: Queue


log = logging.getLogger(__name__)

EXPIRY_WARN_DAYS: Final = 30
EXPIRY_URGENT_DAYS: Final = 7
#: Histogram buckets (seconds): AS4 exchanges take tens of ms to minutes (retries).
LATENCY_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
UNKNOWN: Final = "unknown"


def days_to_expiry(cert: x509.Certificate, now: datetime | None = None) -> float:
    """Days (fractional, negative once expired) until ``cert``'s notAfter."""
    now = now or datetime.now(UTC)
    return (cert.not_valid_after_utc - now).total_seconds() / 86400


def expiry_level(days: float) -> int | None:
    """The log level of a certificate ``days`` from expiry: None (fine), WARNING (≤ 30), ERROR (≤ 7)."""
    if days <= EXPIRY_URGENT_DAYS:
        return logging.ERROR
    if days <= EXPIRY_WARN_DAYS:
        return logging.WARNING
    return None


def _read_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificates(path.read_bytes())[0]


class Metrics:
    """The metrics and message log lines of one service (see the module docstring)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages = Counter(
            "ap_messages",
            "Messages by direction, status (verdict) and document type.",
            ["direction", "status", "document_type"],
            registry=self.registry,
        )
        self.end_to_end = Histogram(
            "ap_message_duration_seconds",
            "End to end: an inbound request until its answer; an outbound message from submission until"
            " its receipt.",
            ["direction"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "ap_stage_duration_seconds",
            "Duration of one stage: validate, prepare (discover + build), attempt, receive.",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.validation = Histogram(
            "ap_validation_duration_seconds",
            "Duration of one document validation.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.retries = Counter(
            "ap_send_retries", "Outbound attempts that ended in a scheduled retry.", registry=self.registry
        )
        self.registry.register(_StateCollector(self))
        self._local = threading.local()
        self._warned: dict[str, int] = {}
        self.check_certificates()

    # --- inbound ------------------------------------------------------------------------------------

    def inbound(self, headers: Any, response: Any, seconds: float) -> None:
        """The ``observer`` of the AS4 endpoint: one log line, the counters, the latency."""
        try:
            fields = log_inbound(headers, response, seconds)
            doctype = fields["document_type"] or UNKNOWN
            self.messages.labels("inbound", fields["verdict"], doctype).inc()
            self.end_to_end.labels("inbound").observe(seconds)
            self.stages.labels("receive").observe(seconds)
        except Exception:  # observing must never break the answer
            log.exception("inbound metrics failed")

    # --- outbound -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage of this thread's current message (the ``attempt`` time goes into its log line)."""
        started = time.monotonic()
        try:
            yield
        finally:
            seconds = time.monotonic() - started
            self.stages.labels(name).observe(seconds)
            setattr(self._local, name, seconds)

    def timed_validator(
        self, validator: Callable[[bytes | Path], Any] | None
    ) -> Callable[[bytes | Path], Any] | None:
        """``validator`` measured into ``ap_validation_duration_seconds``."""
        if validator is None:
            return None
        inner = validator

        def timed(document: bytes | Path) -> Any:
            started = time.monotonic()
            try:
                return inner(document)
            finally:
                self.validation.observe(time.monotonic() - started)

        return timed

    def submitted(self, row: dict[str, Any]) -> None:
        """A document accepted by the API and queued."""
        self.messages.labels("outbound", "queued", row["document_type"]).inc()
        log_outbound(
            message_id=None,
            sender=row["sender"],
            receiver=row["receiver"],
            document_type=row["document_type"],
            verdict="queued",
            ebms_code=None,
            seconds=None,
            outbound_id=row["id"],
        )

    def refused(self, sender: str | None, receiver: str, code: str | None, detail: str) -> None:
        """A document the API refused (422: not mapped, not valid): nothing was queued."""
        self.messages.labels("outbound", "refused", UNKNOWN).inc()
        log_outbound(
            message_id=None,
            sender=sender,
            receiver=receiver,
            document_type=None,
            verdict="refused",
            ebms_code=None,
            seconds=None,
            code=code,
            reason=detail[:500],
        )

    def outbound(self, row: Any, status: str, code: str | None, message_id: str | None = None) -> None:
        """The outcome of one attempt (or of a message that could not be attempted): delivered,
        retrying, failed or dead. ``message_id``: the AS4 MessageId when the caller knows it (else it is
        read from the row, or the database)."""
        try:
            seconds = getattr(self._local, "attempt", None)
            self._local.attempt = None
            message_id = message_id or row.message_id or self._message_id(row.id)
            self.messages.labels("outbound", status, row.document_type).inc()
            if status == "retrying":
                self.retries.inc()
            if status == "delivered":
                created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
                self.end_to_end.labels("outbound").observe((datetime.now(UTC) - created).total_seconds())
            log_outbound(
                message_id=message_id,
                sender=row.sender,
                receiver=row.receiver,
                document_type=row.document_type,
                verdict=status,
                ebms_code=code if code and code.startswith("EBMS:") else None,
                seconds=seconds,
                outbound_id=row.id,
                code=code,
                attempt=row.attempts + 1 if seconds is not None else None,
            )
        except Exception:
            log.exception("outbound metrics failed")

    def _message_id(self, outbound_id: str) -> str | None:
        o = t.outbound_messages
        with self.service.engine.connect() as conn:
            value = conn.execute(select(o.c.message_id).where(o.c.id == outbound_id)).scalar()
        return str(value) if value is not None else None

    # --- certificates -------------------------------------------------------------------------------

    def certificates(self) -> dict[str, x509.Certificate]:
        """Our certificates by role: ``identity`` (the AP certificate), ``tls`` (the server's)."""
        found = {"identity": self.service.identity.certificate}
        if self.service.config.tls_cert is not None:
            with contextlib.suppress(OSError, ValueError):
                found["tls"] = _read_certificate(self.service.config.tls_cert)
        return found

    def check_certificates(self) -> dict[str, float]:
        """Days to expiry of each certificate; logs a warning when one crosses 30 or 7 days."""
        days = {name: days_to_expiry(cert) for name, cert in self.certificates().items()}
        for name, left in days.items():
            level = expiry_level(left)
            if level is not None and self._warned.get(name, 0) < level:
                self._warned[name] = level
                log.log(
                    level,
                    "the %s certificate expires in %.0f days: renew it (docs/operations.md)",
                    name,
                    left,
                    extra={"certificate": name, "days_to_expiry": round(left, 1)},
                )
        return days

    def serve(self, host: str, port: int) -> None:
        """Serve ``/metrics`` on ``host:port`` from a daemon thread (``ap worker --metrics-port``)."""
        start_http_server(port, addr=host, registry=self.registry)

    def exposition(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """The gauges read at scrape time (shared state: the database, Redis, the certificate files)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        from peppol.pki import SOFT_FAILS

        service = self.metrics.service
        soft = CounterMetricFamily(
            "ap_revocation_soft_fails",
            "Certificate validations passed only because revocation soft-fail ignored an unknown status"
            " (this process).",
        )
        soft.add_metric([], SOFT_FAILS.count)
        yield soft
        expiry = GaugeMetricFamily(
            "ap_certificate_expiry_days", "Days until the certificate's notAfter.", labels=["certificate"]
        )
        for name, days in self.metrics.check_certificates().items():
            expiry.add_metric([name], days)
        yield expiry
        try:
            yield from self._database(service)
        except Exception as exc:
            log.warning("metrics: the database could not be read: %s", exc)
        try:
            yield self._queues(service)
        except Exception as exc:
            log.warning("metrics: Redis could not be read: %s", exc)

    @staticmethod
    def _database(service: Service) -> Iterator[Any]:
        o = t.outbound_messages
        with service.engine.connect() as conn:
            counts = conn.execute(select(o.c.status, func.count()).group_by(o.c.status)).all()
            circuits = conn.execute(select(t.circuits.c.endpoint_url, t.circuits.c.open_until)).all()
        by_status = GaugeMetricFamily(
            "ap_outbound_messages", "Outbound messages in the database by status.", labels=["status"]
        )
        for status, count in counts:
            by_status.add_metric([status], count)
        yield by_status
        now = datetime.now(UTC)
        circuit = GaugeMetricFamily(
            "ap_circuit_open", "1 while the circuit of a receiving AP is open.", labels=["endpoint"]
        )
        for url, until in circuits:
            if until is not None and until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            circuit.add_metric([url], 1.0 if until is not None and until > now else 0.0)
        yield circuit

    @staticmethod
    def _queues(service: Service) -> Any:
        from access_point.service.queue import INBOUND_QUEUE, OUTBOUND_QUEUE, WEBHOOK_QUEUE

        client = service.queue.broker.client
        namespace = service.queue.broker.namespace
        depth = GaugeMetricFamily(
            "ap_queue_depth", "Messages in Redis per queue (ready, delayed or in progress).", labels=["queue"]
        )
        for queue in (OUTBOUND_QUEUE, INBOUND_QUEUE, WEBHOOK_QUEUE):
            total = client.hlen(f"{namespace}:{queue}.msgs") + client.hlen(f"{namespace}:{queue}.DQ.msgs")
            depth.add_metric([queue], total)
        return depth
