"""The service's own tables, declared on the store's one ``metadata`` (:mod:`access_point.store.schema`):
tenants, their participants and API keys (hashed), outbound messages with their status timeline and
attempts (evidence), circuits per receiving AP, the processing state of inbound messages and webhook
deliveries. Created by the Alembic revision ``0002_service``."""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from access_point.store.schema import BLOB_REFERENCE, metadata

tenants: Final = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("format", String(8), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

participants: Final = Table(
    "participants",
    metadata,
    #: the participant URI in its canonical (case-folded where Peppol says so) form
    Column("participant", String(300), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
)

api_keys: Final = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("hash", String(71), nullable=False),
    #: space-separated scopes
    Column("scopes", Text, nullable=False),
)

outbound_messages: Final = Table(
    "outbound_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("sender", Text, nullable=False),
    Column("receiver", Text, nullable=False),
    Column("document_type", Text, nullable=False),
    Column("process", Text, nullable=False),
    Column("instance_id", Text, nullable=False),
    Column("country_c1", String(8), nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("sbd_sha256", String(64), nullable=False, info={BLOB_REFERENCE: True}),
    #: the built AS4 message (set once, before the first attempt; every retry posts these bytes)
    Column("message_id", Text, nullable=True),
    Column("message_sha256", String(64), nullable=True, info={BLOB_REFERENCE: True}),
    Column("content_type", Text, nullable=True),
    Column("signed_references", Text, nullable=True),
    Column("endpoint_url", Text, nullable=True),
    Column("endpoint_certificate", Text, nullable=True),
    Column("to_party", Text, nullable=True),
    Column("receipt", LargeBinary, nullable=True),
    Column("receipt_id", Text, nullable=True),
    Column("error_code", Text, nullable=True),
    Column("error_detail", Text, nullable=True),
    #: the inbound message this one answers (automatic T006/T018)
    Column("answers", String(36), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(None, "status", "next_attempt_at"),
)

outbound_events: Final = Table(
    "outbound_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("outbound_id", String(36), ForeignKey("outbound_messages.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("detail", Text, nullable=True),
)

outbound_attempts: Final = Table(
    "outbound_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("outbound_id", String(36), ForeignKey("outbound_messages.id"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("endpoint_url", Text, nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("code", Text, nullable=True),
    Column("detail", Text, nullable=True),
    Column("permanent", Boolean, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("receipt", LargeBinary, nullable=True),
)

circuits: Final = Table(
    "circuits",
    metadata,
    Column("endpoint_url", String(500), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("open_until", DateTime(timezone=True), nullable=True),
)

inbound_processing: Final = Table(
    "inbound_processing",
    metadata,
    Column("inbound_id", String(36), ForeignKey("inbound_messages.id"), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    #: ready (kept for pull) → acked; or failed
    Column("status", String(16), nullable=False),
    Column("valid", Boolean, nullable=True),
    Column("report", Text, nullable=True),
    Column("root", Text, nullable=True),
    Column("acked_at", DateTime(timezone=True), nullable=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries: Final = Table(
    "webhook_deliveries",
    metadata,
    Column("inbound_id", String(36), ForeignKey("inbound_messages.id"), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    #: pending → delivered; or dead after the last attempt
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index(None, "status", "next_attempt_at"),
)

#: Tables of revision ``0002_service`` in creation order.
SERVICE_TABLES: Final = (
    tenants,
    participants,
    api_keys,
    outbound_messages,
    outbound_events,
    outbound_attempts,
    circuits,
    inbound_processing,
    webhook_deliveries,
)
