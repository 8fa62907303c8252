"""Throwaway benchmark databases on a PostgreSQL server."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.db import _normalise_url


def server_url(url: str | None) -> str:
    """The server to create benchmark databases on: --database-url, else the test server."""
    url = (url or os.environ.get("SPOKEBOT_TEST_POSTGRES_URL", "")).strip()
    if not url:
        raise SystemExit(
            "no PostgreSQL server: pass --database-url postgresql+psycopg://user@host:port/db "
            "or set SPOKEBOT_TEST_POSTGRES_URL (scripts/pg-throwaway starts one)"
        )
    url = _normalise_url(url)
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("the assignment benchmark runs on PostgreSQL only")
    return url


def admin_engine(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)


def database_url(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def new_name(tag: str) -> str:
    return f"spokebot_bench_{tag}_{uuid.uuid4().hex[:8]}"


def create_database(admin: Engine, name: str, template: str | None = None) -> None:
    with admin.connect() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))


def drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def server_version(admin: Engine) -> str:
    with admin.connect() as conn:
        return str(conn.execute(text("SHOW server_version")).scalar())
