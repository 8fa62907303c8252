"""SlackNotifier and `spokebot scheduler` against a loopback fake of Slack's Web API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.ids import HANDLE_REPLIES_ACTION
from bot.notify import SlackNotifier
from bot.render import notices as render
from bot.settings import Settings
from bot.slack_client import SlackDirectory, make_web_client
from core.db import Database
from core.migrate import upgrade
from core.services.digest import CampaignDigest, OrgDigest
from core.services.reminders import ReminderSummary, WaitingCampaign
from core.services.stale import ReleasedInCampaign, StaleReleaseNotice
from core.timed_jobs.runner import Ticks
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler import T0, Clock, replies, texter_in
from tests.support.world import make_campaign, make_org

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "xoxb-test-token-not-real"


def _summary(campaigns: int = 2, title: str = "GOTV") -> ReminderSummary:
    return ReminderSummary(
        user_id=1,
        slack_user_id="U1",
        organization_id=1,
        campaigns=tuple(
            WaitingCampaign(100 + n, f"{title} {n}", n + 1, T0 - timedelta(hours=1))
            for n in range(campaigns)
        ),
    )


def _within_limits(message: dict[str, Any]) -> None:
    """Slack's Block Kit limits for everything these messages use."""
    assert 0 < len(message["text"]) <= 4000
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
            button = block.get("accessory")
            if button:
                assert len(button["text"]["text"]) <= 75
                assert len(button["value"]) <= 2000
                assert len(button["action_id"]) <= 255
        if block["type"] == "context":
            assert all(len(e["text"]) <= 2000 for e in block["elements"])


def slack_notifier(db: Database, url: str) -> SlackNotifier:
    """The notifier as `spokebot scheduler` builds it: the one client factory, one token."""
    settings = Settings(bot_token=TOKEN, signing_secret="", database_url="", api_url=url)
    return SlackNotifier(db, make_web_client(settings))


def test_reminder_dm_has_a_handle_replies_button_per_campaign(
    db: Database, fake_slack: FakeSlack
) -> None:
    notifier = slack_notifier(db, fake_slack.api_url)
    notifier.send_reply_reminder("U1", _summary())
    notifier.send_reply_reminder("U1", _summary(1))

    assert fake_slack.named("conversations.open") == [{"users": "U1", "_auth": f"Bearer {TOKEN}"}]
    first, _second = fake_slack.named("chat.postMessage")
    assert first["channel"] == "DU1"
    assert "3 replies" in first["text"]
    buttons = [b["accessory"] for b in first["blocks"] if b.get("accessory")]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (HANDLE_REPLIES_ACTION, "100"),
        (HANDLE_REPLIES_ACTION, "101"),
    ]
    assert all(b["text"]["text"] == "Handle replies" for b in buttons)
    _within_limits(first)


def test_reminders_use_the_listeners_dm_channel_cache(db: Database, fake_slack: FakeSlack) -> None:
    settings = Settings(
        bot_token=TOKEN, signing_secret="", database_url="", api_url=fake_slack.api_url
    )
    client, directory = make_web_client(settings), SlackDirectory()
    assert directory.dm_channel(client, "U1") == "DU1"  # as a listener's DM would
    SlackNotifier(db, client, directory).send_reply_reminder("U1", _summary())
    assert len(fake_slack.named("conversations.open")) == 1
    [reminder] = fake_slack.named("chat.postMessage")
    assert reminder["channel"] == "DU1"


def test_huge_inputs_stay_within_block_kit_limits() -> None:
    reminder = render.reply_reminder(_summary(campaigns=120, title="T" * 5000))
    _within_limits(reminder)
    assert "100 campaigns more" in reminder["blocks"][-1]["elements"][0]["text"]
    notice = StaleReleaseNotice(
        1, "U1", tuple(ReleasedInCampaign(n, "<b>" * 2000, 3, 4) for n in range(80)), 1
    )
    _within_limits(render.stale_release_notice(notice))
    digest = OrgDigest(
        1,
        "Org",
        date(2026, 3, 10),
        tuple(CampaignDigest(n, "C" * 4000, 10**9, 10**8, 10**6, 10**6, 10**6) for n in range(90)),
    )
    _within_limits(render.digest(digest))


def test_titles_are_escaped_and_progress_is_drawn() -> None:
    message = render.digest(
        OrgDigest(
            1, "Org", date(2026, 3, 10), (CampaignDigest(1, "<!channel> & co", 9, 3, 2, 2, 1),)
        )
    )
    section = message["blocks"][1]
    assert "&lt;!channel&gt; &amp; co" in section["text"]["text"]
    assert "`▓▓▓░░░░░░░` 33%" in section["text"]["text"]
    assert [f["text"] for f in section["fields"]] == [
        "*Texters active*\n2",
        "*Unsent first texts held*\n2",
        "*Replies waiting*\n1",
    ]


def test_stale_notice_dm_and_digest_post(db: Database, fake_slack: FakeSlack) -> None:
    notifier = slack_notifier(db, fake_slack.api_url)
    notifier.send_stale_release_notice(
        "U2", StaleReleaseNotice(2, "U2", (ReleasedInCampaign(7, "GOTV", 2, 1),), 1)
    )
    notifier.post_digest("C9", OrgDigest(1, "Org", date(2026, 3, 10), ()))
    notice, digest = fake_slack.named("chat.postMessage")
    assert notice["channel"] == "DU2"
    assert "2 unanswered replies and 1 unsent first text" in notice["blocks"][1]["text"]["text"]
    assert digest["channel"] == "C9"
    assert digest["blocks"][0]["type"] == "header"


def test_a_slack_error_raises_so_the_job_retries(db: Database, fake_slack: FakeSlack) -> None:
    org_id = make_org(db)
    campaign_id = make_campaign(db, org_id)
    replies(db, campaign_id, texter_in(db, org_id, campaign_id, "U1"), 1, T0)
    notifier = slack_notifier(db, fake_slack.api_url)
    fake_slack.failures = {"chat.postMessage": "channel_not_found"}
    with pytest.raises(SlackApiError):
        notifier.send_reply_reminder("U1", _summary())

    clock = Clock(T0 + timedelta(minutes=31))
    ticks = Ticks(db, notifier, clock, holder="p1", environ={})
    assert ticks.reply_reminders().failed == 1
    fake_slack.failures = {}
    clock.advance(minutes=15)
    assert ticks.reply_reminders().sent == 1
    assert len(fake_slack.named("chat.postMessage")) == 3  # two refused, then the retry


def test_spokebot_scheduler_sends_reminders_and_stops_on_sigterm(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'spokebot.db'}"
    db = Database.from_url(url)
    upgrade(db.engine)
    org_id = make_org(db)
    campaign_id = make_campaign(db, org_id)  # no texting hours: any time is fine
    replies(
        db,
        campaign_id,
        texter_in(db, org_id, campaign_id, "U7"),
        2,
        datetime.now(UTC) - timedelta(hours=1),
    )
    db.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": fake_slack.api_url,
        "PYTHONPATH": str(ROOT),
    }
    code = "from bot.timed_jobs import scheduler_command; scheduler_command()"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not fake_slack.named("chat.postMessage") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    [dm] = fake_slack.named("chat.postMessage")
    assert dm["channel"] == "DU7" and "2 replies" in dm["text"]
    assert TOKEN not in output


def test_spokebot_scheduler_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.timed_jobs import scheduler_command

    result = CliRunner().invoke(
        scheduler_command, env={"SLACK_BOT_TOKEN": "", "DATABASE_URL": f"sqlite:///{tmp_path}/x"}
    )
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN is not set" in result.output
