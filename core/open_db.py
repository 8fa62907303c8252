"""Opening the database named by DATABASE_URL, with one sentence for each way it can fail.

ConfigurationError (exit 2) when the operator must change something: a URL of another kind, a
missing directory, a wrong password, a database that doesn't exist, a stale schema. Outage
(exit 1) when the server can't be reached now. No message repeats the password.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from core.config import database_url, parse_database_url
from core.db import Database
from core.errors import ConfigurationError, DatabaseNotReady, Outage
from core.migrate import (
    current_revision,
    ensure_current,
    head_revision,
    known_revisions,
    upgrade,
)

# Driver messages meaning the URL is wrong rather than the server down.
_CONFIGURATION_HINTS = (
    "password authentication failed",
    "does not exist",
    "no password supplied",
    "not a database",
    "unable to open database file",
    "invalid dsn",
    "invalid connection option",
)


def shown_url(url: str) -> str:
    """The URL as it may be printed: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL never reaches here (parse_database_url refused it)
        return "DATABASE_URL"


def sqlite_path(url: str) -> Path | None:
    """The file an SQLite URL names (None: not SQLite, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def check_database(url: str) -> None:
    """What open_database would refuse, found without writing anything (an SQLite file that
    doesn't exist yet is not created): run before waiting on anything else at start."""
    url = _parsed(url)
    path = sqlite_path(url)
    if path is not None:  # SQLite migrates itself: only the directory and the file matter
        open_database(url, migrate=False, connect=path.exists()).dispose()
    else:
        open_database(url, migrate=False, check_current=True).dispose()


def _parsed(url: str) -> str:
    try:
        return parse_database_url(url)
    except ValueError as error:
        raise ConfigurationError(f"DATABASE_URL is invalid: {error}") from None


def open_database(
    url: str | None = None,
    *,
    migrate: bool = True,
    on_new_file: Callable[[Path], None] | None = None,
    connect: bool = True,
    check_current: bool = False,
) -> Database:
    """A Database that has answered (and, with `migrate`, is current: SQLite migrates itself,
    a PostgreSQL behind the code is refused). `on_new_file` hears of an SQLite file created."""
    url = _parsed(url if url is not None else database_url())
    path = sqlite_path(url)
    created = False
    if path is not None:
        if not path.parent.exists():
            raise ConfigurationError(
                f"DATABASE_URL names the SQLite file {path}, but the directory "
                f"{path.parent} does not exist"
            )
        created = not path.exists()
    db = Database.from_url(url)
    if not connect:
        return db
    try:
        with db.engine.connect():
            pass
        if check_current and current_revision(db.engine) != head_revision():
            raise DatabaseNotReady("behind")
        if created and on_new_file is not None:
            on_new_file(path.resolve())  # type: ignore[union-attr]
        if migrate:
            ensure_current(db.engine)
    except (DatabaseNotReady, CommandError):
        found = current_revision(db.engine)
        db.dispose()
        raise ConfigurationError(_schema_problem(url, found)) from None
    except SQLAlchemyError as error:
        db.dispose()
        raise _failure(url, error) from None
    return db


def upgrade_schema(db: Database) -> None:
    """`spokebot db upgrade`: a database written by a newer spokebot is one sentence."""
    try:
        upgrade(db.engine)
    except CommandError:
        url = db.engine.url.render_as_string(hide_password=False)
        raise ConfigurationError(_schema_problem(url, current_revision(db.engine))) from None


def _schema_problem(url: str, found: str | None) -> str:
    where = f"the database {shown_url(url)}"
    upgrade = "run `scripts/spokebot db upgrade` (or `spokebot db upgrade`) first"
    if found is None:
        return f"{where} has no spokebot schema yet; {upgrade}"
    if found not in known_revisions():
        return (
            f"{where} has schema revision {found}, which this spokebot doesn't know (a newer "
            f"version wrote it; this one needs {head_revision()}); run the newer spokebot"
        )
    return f"{where} has an older schema (revision {found}, needs {head_revision()}); {upgrade}"


def _failure(url: str, error: SQLAlchemyError) -> ConfigurationError | Outage:
    original = error.orig if isinstance(error, DBAPIError) else error
    detail = _first_line(str(original))
    password = make_url(url).password
    if password:
        detail = detail.replace(str(password), "***")
    where = f"the database {shown_url(url)} (DATABASE_URL)"
    if any(hint in detail.lower() for hint in _CONFIGURATION_HINTS):
        return ConfigurationError(f"{where} refused the connection: {detail}")
    return Outage(f"cannot reach {where}: {detail}")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no reason given"
