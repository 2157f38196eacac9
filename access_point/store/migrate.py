"""Alembic migrations run programmatically: :func:`upgrade` brings a database to head at start-up.

The scripts ship as package data in ``access_point/store/migrations`` (``env.py`` takes the
connection from ``config.attributes``; no ``alembic.ini``). On PostgreSQL, concurrent start-ups of
several processes are serialised with a transaction-scoped advisory lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock taken while migrating (any constant shared by all processes).
_ADVISORY_LOCK_KEY: Final = 0x41505354  # "APST"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the shipped scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (idempotent)."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
