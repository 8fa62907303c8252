"""Engines, sessions and the unit of work. One session per unit of work, never shared."""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.config import database_url

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_LOCK_TIMEOUT_MS = 20_000
PG_CONNECT_TIMEOUT_S = 10


def _normalise_url(url: str) -> str:
    # Accept the common spellings and always use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = _normalise_url(url or database_url())
    if make_url(url).get_backend_name() == "sqlite":
        return _make_sqlite_engine(url, **kwargs)
    # A request waiting on a lock longer than Slack's patience should fail and say "try
    # again", never hang a worker thread.
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("options", f"-c lock_timeout={PG_LOCK_TIMEOUT_MS}")
    # An unreachable host fails start-up within seconds instead of hanging on TCP's timeout.
    connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
    # Enough kept open for what `spokebot serve`'s threads hold at once: its 16 request
    # threads, the poller and the scheduler, and those of the inbox's workers (32) inside a
    # use case; a worker waiting on Slack holds none. A connection beyond pool_size is closed
    # when returned, so a busy server would otherwise open a new PostgreSQL backend (a fork)
    # per checkout. The overflow caps a process at 50 backends (threads beyond wait for one):
    # PostgreSQL's default max_connections, 100, is two such processes at their peak. The
    # pool only opens connections as they are needed.
    kwargs.setdefault("pool_size", 30)
    kwargs.setdefault("max_overflow", 20)
    # Another driver named explicitly (postgresql+psycopg2://) gets SQLAlchemy's own pre-ping.
    is_psycopg = make_url(url).get_driver_name() == "psycopg"
    kwargs.setdefault("pool_pre_ping", not is_psycopg)
    engine = create_engine(url, **kwargs)
    if is_psycopg and not kwargs["pool_pre_ping"]:
        event.listen(engine, "checkout", _replace_if_server_hung_up)
    return engine


def _replace_if_server_hung_up(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Survive a database restart: a pooled connection the server has given up on is replaced
    before use (the pool retries the checkout on DisconnectionError).

    This stands in for pool_pre_ping, whose SELECT 1 costs a round trip on every checkout
    (0.3 ms of a 6 ms batch request). A server that restarts or terminates a backend sends a
    FATAL message and closes the socket, and an idle connection otherwise has nothing to read:
    anything waiting on the socket means this connection is not one to reuse. (A peer gone
    without a word, as after a host reboot, is found by the request instead, which fails and
    makes the pool replace every connection; pre-ping would have hung on it just the same.)
    """
    pgconn = dbapi_connection.pgconn
    if pgconn.status != psycopg.pq.ConnStatus.OK:
        raise DisconnectionError("the database connection is broken")
    waiting = select.poll()
    waiting.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    if waiting.poll(0):
        raise DisconnectionError("the database sent something to an idle connection")


def _make_sqlite_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so writers can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: waiting on busy_timeout beats failing later
        # with "database is locked" when a read transaction tries to upgrade.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored datetime is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Database:
    """An engine plus session factories for read-write and read-only units of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = sessionmaker(engine, expire_on_commit=False)
        # Read-only work on SQLite begins DEFERRED, so it never waits for the write lock.
        self.reader_engine = engine.execution_options(sqlite_begin="DEFERRED")
        self._reader = sessionmaker(self.reader_engine, expire_on_commit=False)
        # Each statement its own transaction, for work that needs none around its statements
        # (a batch request on its own); made once, since each copy of an engine costs.
        self.autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    @classmethod
    def from_url(cls, url: str | None = None, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    def uow(self, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self._reader if read_only else self._writer)

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """`with db.uow() as uow: ...; uow.commit()`: anything not committed is rolled back."""

    session: Session

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back anything uncommitted without expiring loaded objects,
        # so results read inside the unit of work stay usable after it.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def session_scope(db: Database) -> Iterator[Session]:
    """A committed-on-success session, for short scripts and tests."""
    with db.uow() as uow:
        yield uow.session
        uow.commit()


def flushed_connection(session: Session) -> Connection:
    """The session's connection, its pending ORM changes written first (as Session.execute's
    autoflush would), for prebuilt Core reads of columns: Connection.execute skips the ORM's
    per-statement work, which cost more CPU than the statements on the busiest clicks."""
    session.flush()  # returns at once when nothing is pending
    return session.connection()


def again_if_raced(work: Callable[[], T], attempts: int = 2) -> T:
    """Run a unit of work, and again when it lost a race to create the same row (a
    concurrent first click by the same new person): the next attempt finds the row the
    winner made. The last attempt's IntegrityError is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("attempts must be 1 or more")
