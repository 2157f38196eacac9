"""Inbound ledger: ``inbound_messages``.

Revision ID: 0001_inbound
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_inbound"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("document_key", sa.String(64), nullable=True),
        sa.Column("sender", sa.Text, nullable=False),
        sa.Column("instance_id", sa.Text, nullable=True),
        sa.Column("receiver", sa.Text, nullable=False),
        sa.Column("document_type", sa.Text, nullable=False),
        sa.Column("process", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("from_party", sa.Text, nullable=False),
        sa.Column("to_party", sa.Text, nullable=False),
        sa.Column("country_c1", sa.String(8), nullable=True),
        sa.Column("country_c4", sa.String(8), nullable=True),
        sa.Column("signer_subject", sa.Text, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("receipt", sa.LargeBinary, nullable=False),
        sa.Column("receipt_id", sa.Text, nullable=True),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("payload_size", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("message_key", name="uq_inbound_messages_message_key"),
        sa.UniqueConstraint("document_key", name="uq_inbound_messages_document_key"),
    )
    op.create_index("ix_inbound_messages_status_received_at", "inbound_messages", ["status", "received_at"])
    op.create_index("ix_inbound_messages_receiver", "inbound_messages", ["receiver"])


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_receiver", table_name="inbound_messages")
    op.drop_index("ix_inbound_messages_status_received_at", table_name="inbound_messages")
    op.drop_table("inbound_messages")
