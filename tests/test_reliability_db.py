"""Database faults: concurrent SQLite writers, a backend killed mid-request, a restart.

Nothing may be half-written, and the connection pool must recover on its own.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from core.db import Database
from core.migrate import upgrade
from core.models import Assignment, CampaignContact
from core.services.batches import request_batch
from core.services.campaigns import JOIN_TOKEN_BYTES, new_join_token
from tests.support.people import end_day
from tests.support.pg_faults import kill_backend_waiting_on_lock
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

ROOT = Path(__file__).resolve().parent.parent


def assigned_count(db: Database) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).where(CampaignContact.assignment_id.is_not(None))
        )


@pytest.mark.heavy
def test_sqlite_concurrent_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'busy.db'}")
    upgrade(db.engine)
    org = make_org(db)
    campaign = make_campaign(db, org, batch_size=20)
    add_contacts(db, campaign, 2000)
    users = [make_texter(db, org, f"U{n}") for n in range(16)]
    for user in users:
        make_assignment(db, campaign, user)
    errors: list[BaseException] = []
    got: Counter[int] = Counter()
    lock = threading.Lock()

    def work(user: int) -> None:
        try:
            for _ in range(10):
                ids = request_batch(db, campaign, user).contact_ids
                with lock:
                    got.update(ids)
                end_day(db, campaign, user)
                with lock:
                    got.subtract(ids)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, [str(e) for e in errors[:3]]  # never "database is locked"
    assert assigned_count(db) == 0 and all(v == 0 for v in got.values())
    db.dispose()


def test_backend_killed_mid_request_leaves_nothing_and_pool_recovers(
    request: pytest.FixtureRequest,
) -> None:
    url = request.getfixturevalue("postgres_url")
    db = Database.from_url(url)
    from tests.support.database import _truncate_all

    _truncate_all(db)
    org = make_org(db)
    campaign = make_campaign(db, org)
    add_contacts(db, campaign, 500)
    texter = make_texter(db, org, "UKILLED")
    assignment = make_assignment(db, campaign, texter)
    blocker = create_engine(url)
    outcome: dict[str, object] = {}
    with blocker.connect() as hold:
        # Hold the texter's assignment lock so their request waits inside its transaction.
        hold.execute(text("SELECT id FROM assignment WHERE id = :a FOR UPDATE"), {"a": assignment})

        def ask() -> None:
            try:
                outcome["result"] = request_batch(db, campaign, texter)
            except DBAPIError as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=ask)
        worker.start()
        kill_backend_waiting_on_lock(hold)
        worker.join(timeout=30)
        hold.rollback()
    blocker.dispose()
    assert isinstance(outcome.get("error"), DBAPIError)
    assert assigned_count(db) == 0
    retried = request_batch(db, campaign, texter)  # same pool, next connection
    assert retried.assigned == 200
    db.dispose()


def test_a_pooled_connection_whose_backend_died_is_replaced_before_use(
    db: Database, engine_name: str
) -> None:
    if engine_name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    with db.engine.connect() as conn:
        doomed = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with create_engine(db.engine.url).connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": doomed}).scalar()
        for _ in range(100):  # until the backend is gone
            gone = admin.execute(
                text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :p"), {"p": doomed}
            ).scalar()
            if gone:
                break
            time.sleep(0.02)
    org = make_org(db)  # the first unit of work after the kill: no error reaches it
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != doomed
    assert org > 0


@pytest.mark.heavy
def test_postgres_restart_while_running(tmp_path: Path) -> None:
    if not os.environ.get("SPOKEBOT_TEST_POSTGRES_URL"):
        pytest.skip("no PostgreSQL binaries configured for this run")
    started = subprocess.run(
        [str(ROOT / "scripts" / "pg-throwaway")], capture_output=True, text=True, check=True
    ).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in started.splitlines())
    url, data_dir = env["SPOKEBOT_TEST_POSTGRES_URL"], env["SPOKEBOT_TEST_POSTGRES_DIR"]
    owner = ["runuser", "-u", Path(data_dir).owner(), "--"] if os.getuid() == 0 else []
    # -l: the restarted server must not inherit our pipes, or waiting on pg_ctl never ends.
    pg_ctl = [*owner, "pg_ctl", "-D", f"{data_dir}/data", "-l", f"{data_dir}/server.log", "-w"]
    try:
        db = Database.from_url(url)
        upgrade(db.engine)
        org = make_org(db)
        campaign = make_campaign(db, org)
        add_contacts(db, campaign, 1000)
        texter = make_texter(db, org, "URESTART")
        make_assignment(db, campaign, texter)
        first = request_batch(db, campaign, texter)
        assert first.assigned == 200
        subprocess.run(
            [*pg_ctl, "-m", "fast", "restart"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        # Pooled connections died with the server; pre-ping replaces them transparently.
        end_day(db, campaign, texter)
        again = request_batch(db, campaign, texter)
        assert again.contact_ids == first.contact_ids
        with db.uow(read_only=True) as uow:
            assert uow.session.scalar(select(func.count()).select_from(Assignment)) == 1
        db.dispose()
    finally:
        subprocess.run([str(ROOT / "scripts" / "pg-throwaway"), "stop", data_dir], check=False)


def test_join_tokens_are_at_least_128_bit_random() -> None:
    assert JOIN_TOKEN_BYTES * 8 >= 128
    tokens = {new_join_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) >= 22 for t in tokens)  # url-safe base64 of >= 16 bytes
