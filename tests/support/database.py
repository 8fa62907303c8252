"""The `db` fixture: every database test runs twice, on SQLite and on PostgreSQL (a real
server, never mocked).

The PostgreSQL server comes from SPOKEBOT_TEST_POSTGRES_URL (scripts/test starts a throwaway
one). Without it the PostgreSQL half is skipped locally and fails under CI=true.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.db import Database, make_engine
from core.migrate import upgrade
from core.models import Base

ENGINES = ["sqlite", "postgresql"]


def postgres_admin_url() -> str | None:
    url = os.environ.get("SPOKEBOT_TEST_POSTGRES_URL", "").strip()
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but SPOKEBOT_TEST_POSTGRES_URL is not set: run scripts/test")
        return None
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("no PostgreSQL: set SPOKEBOT_TEST_POSTGRES_URL or run scripts/test")
    name = f"spokebot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if engine_name == "sqlite":
        path = tmp_path / "spokebot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    db = Database.from_url(url)
    _truncate_all(db)
    db.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()
