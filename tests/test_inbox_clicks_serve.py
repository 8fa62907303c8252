"""Acked clicks and slash commands are not lost when `spokebot serve` is stopped (issue 17):
they go through the durable inbox like thread answers. 12 Send clicks and a /sendfirsttexts
acked with 200, then SIGTERM (in-flight work drains, the rest is resumed by the next process)
or SIGKILL (the next process picks everything up once the dead one's leases end). Each contact
is texted exactly once and every click is answered on its response_url. A real process on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bench.serve_process import ServeProcess
from bot import ids
from core.db import Database
from tests.support.inbox import inbox_serve_env, inbox_statuses, replies_per_contact
from tests.support.slack_harness import (
    APP_ID,
    SIGNING_SECRET,
    TEAM,
    FakeSlack,
)
from tests.support.texting import wait_until
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

CLICKS = 12
TEXTER = "UCLICKER"
LATE_TEXTER = "ULATE"


def send_click(campaign_id: int, contact_id: int, response_url: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": TEXTER, "username": "clicker", "team_id": TEAM},
        "api_app_id": APP_ID,
        "team": {"id": TEAM, "domain": "test"},
        "trigger_id": uuid.uuid4().hex,
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "D1"},
        "channel": {"id": "D1", "name": "directmessage"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": ids.SEND_TEXT,
                "block_id": "b1",
                "value": ids.contact_value(campaign_id, contact_id),
                "action_ts": str(time.time()),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def slash_command(command: str, user: str, response_url: str) -> bytes:
    return urlencode(
        {
            "command": command,
            "text": "",
            "user_id": user,
            "user_name": user.lower(),
            "team_id": TEAM,
            "channel_id": "C0GENERAL",
            "response_url": response_url,
            "trigger_id": uuid.uuid4().hex,
            "api_app_id": APP_ID,
        }
    ).encode()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_acked_clicks_and_commands_survive_the_process(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path, stop: str
) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, batch_size=5)
    assignment = make_assignment(db, campaign, make_texter(db, org, TEXTER, name="Ada"))
    contacts = add_contacts(db, campaign, CLICKS, assignment_id=assignment)
    add_contacts(db, campaign, 5, start=CLICKS)  # for the late texter's /sendfirsttexts
    make_assignment(db, campaign, make_texter(db, org, LATE_TEXTER, name="Bo"))
    # Each reply through response_url takes 0.5 s: work is in flight when the signal comes.
    fake_slack.delays["response"] = 0.5
    env = inbox_serve_env(database_url, fake_slack, MESSAGE_SERVICE="fake")
    first = ServeProcess(env, SIGNING_SECRET, tmp_path / "first.log")
    first.wait_ready()
    form = "application/x-www-form-urlencoded"
    urls = [f"{fake_slack.url}/response/click{i}" for i in range(CLICKS)]
    for contact_id, url in zip(contacts, urls, strict=True):
        assert first.post(send_click(campaign, contact_id, url), form) == 200
    command_url = f"{fake_slack.url}/response/command"
    command = slash_command(ids.CMD_SEND_FIRST_TEXTS, LATE_TEXTER, command_url)
    assert first.post(command, form) == 200
    time.sleep(0.3)
    if stop == "SIGTERM":
        first.terminate()
        assert first.wait(timeout=30) == 0, first.output()[-3000:]
        assert "running" not in inbox_statuses(db)  # what was in flight finished
    else:
        first.kill()
        first.wait(timeout=10)
    assert sum(inbox_statuses(db).values()) == CLICKS + 1  # every acked request was recorded
    second = ServeProcess(env, SIGNING_SECRET, tmp_path / "second.log")
    try:
        second.wait_ready()
        wait_until(lambda: inbox_statuses(db) == {"done": CLICKS + 1}, timeout=60)
    finally:
        second.terminate()
        second.wait(timeout=30)
    # Every acked click was worked: each contact texted, exactly once.
    assert replies_per_contact(db) == {contact_id: 1 for contact_id in contacts}
    # Every click and the command were answered where Slack waits for them.
    answered = {c.path for c in fake_slack.of("response")}
    assert {u.removeprefix(fake_slack.url) for u in urls} <= answered
    assert "/response/command" in answered
