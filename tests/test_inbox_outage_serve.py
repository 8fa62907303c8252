"""A thread answer during a database outage (issue 17, reproduction 3): it was acked with 200
and silently dropped. A real `spokebot serve` on a PostgreSQL server of the test's own, stopped
while the answer comes: Slack gets no 200 (so it retries), and the retry once the database is
back is recorded, texted once and confirmed to the texter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.serve_process import ServeProcess
from core.db import Database
from core.migrate import upgrade
from tests.support.inbox import conversations, inbox_statuses, replies_per_contact, thread_answer
from tests.support.pg_faults import throwaway_postgres
from tests.support.slack_harness import SIGNING_SECRET, FakeSlack, serve_env
from tests.support.texting import wait_until


@pytest.mark.heavy
def test_a_thread_answer_while_the_database_is_down_is_not_acked(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    if not os.environ.get("SPOKEBOT_TEST_POSTGRES_URL"):
        pytest.skip("no PostgreSQL binaries configured for this run")
    with throwaway_postgres() as server:
        db = Database.from_url(server.url)
        upgrade(db.engine)
        convo = conversations(db, 1)
        env = serve_env(
            server.url,
            fake_slack,
            MESSAGE_SERVICE="fake",
        )
        serve = ServeProcess(env, SIGNING_SECRET, tmp_path / "serve.log")
        try:
            serve.wait_ready()
            body = thread_answer(convo.thread_ts[0], "See you Tuesday", "EvOUTAGE")
            server.stop()
            assert serve.post(body) == 503  # Slack retries what it didn't get a 200 for
            server.start()
            assert inbox_statuses(db) == {} and replies_per_contact(db) == {}
            assert serve.post(body) == 200  # Slack's retry, the database back
            wait_until(lambda: inbox_statuses(db) == {"done": 1}, timeout=20)
            wait_until(lambda: len(fake_slack.of("reactions.add")) == 1)
        finally:
            serve.terminate()
            serve.wait(timeout=30)
        assert replies_per_contact(db) == {convo.contact_ids[0]: 1}
        assert len(fake_slack.of("reactions.add")) == 1
        db.dispose()
