"""Slow Slack calls don't starve texters (issue 17, reproduction 6: `views.publish` slowed to
10 s, a 429 wait, for 5 texters delayed the next texter's reply by 9.6 s, since one process's
5 lazy-listener threads served everything). A real `spokebot serve` with its default workers:
5 texters open Home while Slack takes 8 s to publish each; a sixth texter's /sendfirsttexts is
answered while all 5 publishes are still waiting. And a burst of texters' replies wait out
Slack's round trips together, not in turns (with 8 workers and Slack answering in 200 ms, 20
interactions a second queued without end: replies 16 s late). SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

from bench.serve_process import ServeProcess
from bot import ids
from core.db import Database
from tests.support.slack_harness import (
    SIGNING_SECRET,
    FakeSlack,
    event_envelope,
    serve_env,
)
from tests.support.world import build_world
from tests.test_inbox_clicks_serve import slash_command

SLOW = [f"USLOW{i}" for i in range(5)]
BURST = [f"UBURST{i:02d}" for i in range(24)]
FORM = "application/x-www-form-urlencoded"
TEXTER = "UNEXT"


def _home_opened(user: str, event_id: str) -> bytes:
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
    return event_envelope(event, event_id)


def test_slow_home_publishes_do_not_hold_up_another_texter(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    build_world(db, members=[*SLOW, TEXTER], contacts=20, batch_size=2)
    env = serve_env(
        database_url,
        fake_slack,
        MESSAGE_SERVICE="fake",
    )
    serve = ServeProcess(env, SIGNING_SECRET, tmp_path / "serve.log")
    try:
        serve.wait_ready()
        fake_slack.delays["views.publish"] = 8.0
        for i, user in enumerate(SLOW):
            assert serve.post(_home_opened(user, f"EvHome{i}")) == 200
        time.sleep(0.5)  # the 5 publishes are waiting on Slack
        url = f"{fake_slack.url}/response/next"
        form = "application/x-www-form-urlencoded"
        assert serve.post(slash_command(ids.CMD_SEND_FIRST_TEXTS, TEXTER, url), form) == 200
        [answer] = fake_slack.response_to(url)
        assert answer.text()
        # Answered while every slow publish was still waiting.
        assert not fake_slack.of("views.publish")
    finally:
        fake_slack.delays.clear()
        serve.terminate()
        serve.wait(timeout=30)


def test_a_burst_of_replies_waits_on_slack_together(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    build_world(db, members=BURST, contacts=2 * len(BURST), batch_size=2)
    env = serve_env(database_url, fake_slack, MESSAGE_SERVICE="fake")  # default INBOX_WORKERS
    serve = ServeProcess(env, SIGNING_SECRET, tmp_path / "serve.log")
    try:
        serve.wait_ready()
        fake_slack.hold("response")  # every reply waits on Slack until released
        urls = [f"{fake_slack.url}/response/burst{i}" for i in range(len(BURST))]
        for user, url in zip(BURST, urls, strict=True):
            assert serve.post(slash_command(ids.CMD_SEND_FIRST_TEXTS, user, url), FORM) == 200
        # Counted, not timed: all 24 replies wait on Slack at once (8 workers: never more
        # than 8, and this gives up after its timeout).
        assert fake_slack.wait_delayed("response", len(BURST)), fake_slack.delayed_now
        fake_slack.release("response")
        for url in urls:
            [answer] = fake_slack.response_to(url)
            assert "You got 2 first texts" in answer.text()
    finally:
        fake_slack.release("response")
        serve.terminate()
        serve.wait(timeout=30)
