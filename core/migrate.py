"""Schema migrations (Alembic) and the check that a database is current before use."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from core.errors import DatabaseNotReady

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    return {
        script.revision
        for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_current(engine: Engine, auto_migrate: bool | None = None) -> None:
    """Migrate an embedded SQLite database; refuse to start on a stale PostgreSQL one."""
    if current_revision(engine) == head_revision():
        return
    if auto_migrate is None:
        auto_migrate = engine.dialect.name == "sqlite"
    if auto_migrate:
        upgrade(engine)
        return
    raise DatabaseNotReady("the database schema is not up to date; run `spokebot db upgrade` first")
