"""The service's tables (:mod:`access_point.service.tables`): tenants, participants, API keys, outbound
messages with their events and attempts, circuits, inbound processing, webhook deliveries.

Revision ID: 0002_service
Revises: 0001_inbound

This first revision of these tables creates them from their declaration; later changes to them get
explicit operations in revisions of their own.
"""

from __future__ import annotations

from alembic import op

revision = "0002_service"
down_revision = "0001_inbound"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from access_point.service.tables import SERVICE_TABLES

    bind = op.get_bind()
    for table in SERVICE_TABLES:
        table.create(bind)


def downgrade() -> None:
    from access_point.service.tables import SERVICE_TABLES

    bind = op.get_bind()
    for table in reversed(SERVICE_TABLES):
        table.drop(bind)
