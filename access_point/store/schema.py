"""The service's tables, all on ONE :class:`~sqlalchemy.MetaData` object: :data:`metadata`.

Other modules of the service declare their tables on this same ``metadata`` (import it from here) and
add an Alembic revision on top of this package's head (``migrations/versions``). Tables are created by
the migrations only, never by ``metadata.create_all`` (the migrations are the schema's history).

``inbound_messages``: one row per accepted inbound AS4 message (the inbound ledger, see
:mod:`access_point.store.ledger`). Ledger keys are SHA-256 digests (hex) so their unique indexes stay
small and portable whatever the identifiers hold: ``message_key`` = digest of the ``eb:MessageId``,
``document_key`` = digest of SBDH Sender URI + ``\\n`` + InstanceIdentifier (``NULL`` without an
instance id; NULLs never collide). The identifiers themselves are kept in plain columns.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

#: Naming convention for constraints and indexes (stable names for migrations on every backend).
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: Final = MetaData(naming_convention=NAMING_CONVENTION)

#: ``Column(..., info={BLOB_REFERENCE: True})``: the column holds the SHA-256 name of a payload file
#: (:mod:`access_point.store.orphans` keeps the files such a column refers to).
BLOB_REFERENCE: Final = "blob_reference"

#: Status of a freshly accepted inbound message; the service moves it on (validated, delivered, …).
INBOUND_STATUS_RECEIVED: Final = "received"

inbound_messages: Final = Table(
    "inbound_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("message_key", String(64), nullable=False, unique=True),
    Column("message_id", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("document_key", String(64), nullable=True, unique=True),
    Column("sender", Text, nullable=False),
    Column("instance_id", Text, nullable=True),
    Column("receiver", Text, nullable=False),
    Column("document_type", Text, nullable=False),
    Column("process", Text, nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("from_party", Text, nullable=False),
    Column("to_party", Text, nullable=False),
    Column("country_c1", String(8), nullable=True),
    Column("country_c4", String(8), nullable=True),
    Column("signer_subject", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("receipt", LargeBinary, nullable=False),
    Column("receipt_id", Text, nullable=True),
    Column("payload_sha256", String(64), nullable=False, info={BLOB_REFERENCE: True}),
    Column("payload_size", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(None, "status", "received_at"),
    Index(None, "receiver"),
)
