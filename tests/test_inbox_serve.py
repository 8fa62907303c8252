"""Nothing acknowledged is lost when `spokebot serve` is stopped (issue 17, reproduction 2):
20 thread answers acked with 200, then SIGTERM (in-flight work drains, the rest is resumed
by the next process) or SIGKILL (the next process picks everything up once the dead one's
leases end). Every answer is texted exactly once. A real process on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.serve_process import ServeProcess
from core.db import Database
from tests.support.inbox import (
    conversations,
    inbox_serve_env,
    inbox_statuses,
    replies_per_contact,
    thread_answer,
)
from tests.support.slack_harness import SIGNING_SECRET, FakeSlack
from tests.support.texting import wait_until

ANSWERS = 20


def _send_answers(serve: ServeProcess, thread_ts: list[str], run: str) -> None:
    for i, ts in enumerate(thread_ts):
        status = serve.post(thread_answer(ts, f"answer {i}", f"Ev{run}{i:04d}"))
        assert status == 200, status


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_acked_thread_answers_survive_the_process(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path, stop: str
) -> None:
    convo = conversations(db, ANSWERS)
    fake_slack.delays["chat.postMessage"] = 0.5  # keeps work in flight when the signal comes
    env = inbox_serve_env(database_url, fake_slack, MESSAGE_SERVICE="fake")
    first = ServeProcess(env, SIGNING_SECRET, tmp_path / "first.log")
    first.wait_ready()
    _send_answers(first, convo.thread_ts, stop)
    time.sleep(0.3)
    if stop == "SIGTERM":
        first.terminate()
        assert first.wait(timeout=30) == 0, first.output()[-3000:]
        assert "stopping: in-flight work" in first.output()
        # What was in flight finished: nothing is left `running`.
        assert "running" not in inbox_statuses(db)
    else:
        first.kill()
        first.wait(timeout=10)
    second = ServeProcess(env, SIGNING_SECRET, tmp_path / "second.log")
    try:
        second.wait_ready()
        wait_until(lambda: inbox_statuses(db) == {"done": ANSWERS}, timeout=60)
    finally:
        second.terminate()
        second.wait(timeout=30)
    # Every acked answer was texted, each exactly once.
    assert replies_per_contact(db) == {contact_id: 1 for contact_id in convo.contact_ids}
    # Each answer was confirmed to the texter: a ✅ on their message in the thread.
    confirmed = {c.params.get("timestamp") for c in fake_slack.of("reactions.add")}
    assert len(confirmed) == ANSWERS
