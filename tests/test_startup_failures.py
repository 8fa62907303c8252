"""Start-up failures as a person meets them: the real `spokebot serve`, `spokebot scheduler`
and CLI as processes. Each failure is one line on stderr naming what to fix, exit 2 for
configuration and 1 for an outage, no traceback, and nothing written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.database import postgres_admin_url
from tests.support.slack_harness import BOT_TOKEN, SIGNING_SECRET, FakeSlack

PASSWORD = "hunter2-not-shown"
DATABASE_FORMS = "sqlite:///PATH"


def spokebot() -> list[str]:
    installed = Path(sys.executable).parent / "spokebot"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "bot.cli"]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TWILIO_"))}
    for name in ("DATABASE_URL", "PORT", "MESSAGE_SERVICE", "MAX_CONTACTS_PER_TEXTER"):
        clean.pop(name, None)
    return subprocess.run(
        [*spokebot(), *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in result.stderr + result.stdout
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def single_error(result: subprocess.CompletedProcess[str], exit_code: int) -> str:
    assert result.returncode == exit_code, result.stderr
    [line] = error_lines(result)
    assert PASSWORD not in result.stderr + result.stdout
    assert BOT_TOKEN not in result.stderr + result.stdout
    return line


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory to run in; tests check that nothing appears in it."""
    path = tmp_path / "run"
    path.mkdir()
    return path


def slack_env(fake_slack: FakeSlack, workdir: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'spokebot.db'}",
        "PORT": str(unused_port()),
    }


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_a_bad_setting_stops_the_start(command: str, fake_slack: FakeSlack, workdir: Path) -> None:
    env = {**slack_env(fake_slack, workdir), "MAX_CONTACTS_PER_TEXTER": "abc"}
    line = single_error(run([command], env, workdir), 2)
    assert line == (
        "error: cannot start: MAX_CONTACTS_PER_TEXTER='abc' is invalid: "
        "expected a whole number of 0 or more, or empty for no limit"
    )
    assert list(workdir.iterdir()) == []
    assert fake_slack.calls == []


def test_every_bad_setting_gets_its_own_line(fake_slack: FakeSlack, workdir: Path) -> None:
    env = {
        **slack_env(fake_slack, workdir),
        "REPLY_REMINDER_AFTER_MINUTES": "abc",
        "DIGEST_HOUR": "25",
        "SLACK_SIGNING_SECRET": "",
    }
    result = run(["serve"], env, workdir)
    assert result.returncode == 2
    assert error_lines(result) == ["error: cannot start: 3 settings need fixing:"]
    named = [line.split()[0].split("=")[0] for line in result.stderr.splitlines()[1:]]
    assert named == ["SLACK_SIGNING_SECRET", "REPLY_REMINDER_AFTER_MINUTES", "DIGEST_HOUR"]
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("command", [["serve"], ["scheduler"], ["campaign", "list"]])
@pytest.mark.parametrize("url", ["notaurl", f"mysql://spokebot:{PASSWORD}@db.example/spokebot"])
def test_a_database_url_of_another_kind(
    command: list[str], url: str, fake_slack: FakeSlack, workdir: Path
) -> None:
    env = {**slack_env(fake_slack, workdir), "DATABASE_URL": url}
    line = single_error(run(command, env, workdir), 2)
    assert "DATABASE_URL is invalid" in line and DATABASE_FORMS in line
    assert "postgresql://USER:PASSWORD@HOST:PORT/DB" in line
    assert list(workdir.iterdir()) == []
    assert fake_slack.calls == []


@pytest.mark.parametrize("command", [["serve"], ["scheduler"], ["org", "show", "1"]])
def test_an_unreachable_postgresql_is_an_outage(
    command: list[str], fake_slack: FakeSlack, workdir: Path
) -> None:
    url = f"postgresql://spokebot:{PASSWORD}@127.0.0.1:{unused_port()}/spokebot"
    env = {**slack_env(fake_slack, workdir), "DATABASE_URL": url}
    line = single_error(run(command, env, workdir), 1)
    assert line.startswith(
        "error: cannot reach the database postgresql+psycopg://spokebot:***@127.0.0.1:"
    )
    assert "(DATABASE_URL)" in line and "refused" in line.lower()
    assert fake_slack.calls == []  # said before waiting on Slack


def test_a_missing_sqlite_directory_is_named(fake_slack: FakeSlack, workdir: Path) -> None:
    env = {**slack_env(fake_slack, workdir), "DATABASE_URL": f"sqlite:///{workdir}/no/x.db"}
    line = single_error(run(["campaign", "list"], env, workdir), 2)
    assert line == (
        f"error: DATABASE_URL names the SQLite file {workdir}/no/x.db, but the directory "
        f"{workdir}/no does not exist"
    )
    assert list(workdir.iterdir()) == []


@pytest.fixture
def postgres_admin() -> str:
    url = postgres_admin_url()
    if url is None:
        pytest.skip("no PostgreSQL: set SPOKEBOT_TEST_POSTGRES_URL or run scripts/test")
    return url


def test_a_wrong_password_is_configuration(
    postgres_admin: str, fake_slack: FakeSlack, workdir: Path
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_admin).set(password=PASSWORD, username="nobody_here")
    env = {
        **slack_env(fake_slack, workdir),
        "DATABASE_URL": url.render_as_string(hide_password=False),
    }
    line = single_error(run(["serve"], env, workdir), 2)
    assert "refused the connection" in line and "(DATABASE_URL)" in line


@pytest.mark.parametrize("command", [["serve"], ["scheduler"], ["campaign", "list"]])
def test_a_stale_postgresql_schema_is_refused(
    command: list[str], postgres_admin: str, fake_slack: FakeSlack, workdir: Path
) -> None:
    name = f"spokebot_stale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_admin.rsplit("/", 1)[0] + "/" + name
    try:
        env = {**slack_env(fake_slack, workdir), "DATABASE_URL": url}
        line = single_error(run(command, env, workdir), 2)
        assert line.endswith(
            "has no spokebot schema yet; run `scripts/spokebot db upgrade` (or "
            "`spokebot db upgrade`) first"
        )
        probe = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with probe.connect() as conn:  # nothing was created
            tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname='public'"))
            assert tables.scalar() == 0
        probe.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_unreachable_slack_is_retried_then_an_outage(
    command: str, fake_slack: FakeSlack, workdir: Path
) -> None:
    api = f"http://127.0.0.1:{unused_port()}/api/"
    env = {
        **slack_env(fake_slack, workdir),
        "SLACK_API_URL": api,
        "SLACK_STARTUP_WAIT_SECONDS": "2",
    }
    started = time.monotonic()
    result = run([command], env, workdir)
    took = time.monotonic() - started
    line = single_error(result, 1)
    assert line.startswith(f"error: cannot reach Slack at {api}auth.test (")
    assert "gave up after 2 tries in 2 s (SLACK_STARTUP_WAIT_SECONDS)" in line
    assert 1 <= took < 20
    # One warning for the incident while retrying, then the error: no line per try.
    assert len(result.stderr.strip().splitlines()) == 2
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_a_rejected_token_names_slack_bot_token(
    command: str, fake_slack: FakeSlack, workdir: Path
) -> None:
    fake_slack.failures["auth.test"] = "invalid_auth"
    line = single_error(run([command], slack_env(fake_slack, workdir), workdir), 2)
    assert line == (
        f"error: Slack rejected SLACK_BOT_TOKEN (invalid_auth from {fake_slack.api_url}"
        "auth.test); use the bot token (xoxb-) from the app's OAuth & Permissions page"
    )
    assert list(workdir.iterdir()) == []


def test_debug_shows_the_traceback(fake_slack: FakeSlack, workdir: Path) -> None:
    env = {**slack_env(fake_slack, workdir), "DATABASE_URL": "notaurl"}
    result = run(["--debug", "campaign", "list"], env, workdir)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "ConfigurationError" in result.stderr


def test_serve_starts_quietly_and_reports_a_bad_stored_setting(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """No Bolt warning on every start; a bad value stored on an organization is named once
    and ignored, and the server serves."""
    import urllib.request

    from core.db import Database, session_scope
    from core.migrate import upgrade
    from core.models import Organization
    from tests.support.world import make_org

    url = f"sqlite:///{tmp_path / 'spokebot.db'}"
    db = Database.from_url(url)
    upgrade(db.engine)
    org_id = make_org(db)
    with session_scope(db) as session:
        session.get(Organization, org_id).settings = {"MAX_CONTACTS_PER_TEXTER": "abc"}
    db.dispose()
    env = {**slack_env(fake_slack, tmp_path), "DATABASE_URL": url}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    process = subprocess.Popen(
        [*spokebot(), "serve", "--host", "127.0.0.1"],
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{env['PORT']}/healthz", timeout=2
                ) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "will be unused" not in output
    warnings = [line for line in output.splitlines() if " WARNING " in line]
    assert len(warnings) == 1, output
    assert warnings[0].endswith(
        f"organization {org_id}: stored MAX_CONTACTS_PER_TEXTER='abc' is invalid: expected a "
        "whole number of 0 or more, or empty for no limit; ignored (fix with `spokebot org set "
        f"{org_id} MAX_CONTACTS_PER_TEXTER VALUE` or `spokebot org unset {org_id} "
        "MAX_CONTACTS_PER_TEXTER`)"
    )
    assert "Traceback" not in output


def test_a_port_in_use_is_one_line(fake_slack: FakeSlack, workdir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**slack_env(fake_slack, workdir), "PORT": str(port)}
        line = single_error(run(["serve", "--host", "127.0.0.1"], env, workdir), 2)
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port} (")
    assert line.endswith("); set PORT to a free port")


@pytest.mark.parametrize("command", [["scheduler"], ["db", "upgrade"], ["campaign", "list"]])
def test_a_schema_from_a_newer_spokebot_is_named(
    command: list[str], fake_slack: FakeSlack, workdir: Path
) -> None:
    import sqlite3

    path = workdir / "newer.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    conn.close()
    env = {**slack_env(fake_slack, workdir), "DATABASE_URL": f"sqlite:///{path}"}
    line = single_error(run(command, env, workdir), 2)
    assert "has schema revision 9999, which this spokebot doesn't know" in line
    with sqlite3.connect(path) as conn:  # left as it was
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]
    conn.close()
