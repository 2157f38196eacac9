"""Alembic environment: runs on the connection passed in ``config.attributes["connection"]``
(see :func:`access_point.store.migrate.upgrade`)."""

from __future__ import annotations

from alembic import context

from access_point.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI directly
    raise RuntimeError("run the migrations through access_point.store.migrate.upgrade(engine)")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
