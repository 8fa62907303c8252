"""Token rotation: an expiring bot token is refreshed through oauth.v2.access
(grant_type=refresh_token) on the loopback Web API, by Bolt for requests and by the
installation store's rotator for the scheduler, at the edge of the refresh window."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.app import workspaces_of
from bot.notify import SlackNotifier
from bot.workspaces import ROTATE_MINUTES_BEFORE_EXPIRY
from core.db import Database
from core.migrate import upgrade
from core.timed_jobs.runner import Ticks
from tests.support.scheduler import T0, Clock, replies, texter_in
from tests.support.slack_harness import FakeSlack, SlackHarness
from tests.support.world import make_campaign, make_org
from tests.test_slack_oauth import CLIENT_ID, CLIENT_SECRET, install

START = 1_800_000_000  # the controlled wall clock slack-sdk reads, in seconds
ROOT = Path(__file__).resolve().parent.parent
LIFETIME = 12 * 60 * 60  # Slack's rotating tokens live 12 hours


class WallClock:
    def __init__(self) -> None:
        self.now = float(START)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> WallClock:
    clock = WallClock()
    for module in (
        "slack_sdk.oauth.installation_store.models.installation",
        "slack_sdk.oauth.installation_store.models.bot",
        "slack_sdk.oauth.token_rotation.rotator",
    ):
        monkeypatch.setattr(f"{module}.time", clock)
    return clock


@pytest.fixture
def oauth(db: Database, fake_slack: FakeSlack) -> Iterator[SlackHarness]:
    harness = SlackHarness(db, fake_slack, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    yield harness
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)


def refreshes(fake: FakeSlack) -> list[str]:
    return [
        str(c.params.get("refresh_token"))
        for c in fake.of("oauth.v2.access")
        if c.params.get("grant_type") == "refresh_token"
    ]


def next_token(fake: FakeSlack, refresh: str, token: str, new_refresh: str) -> None:
    fake.refresh_tokens[refresh] = {
        "ok": True,
        "token_type": "bot",
        "access_token": token,
        "refresh_token": new_refresh,
        "expires_in": LIFETIME,
        "team": {"id": "T2"},
    }
    fake.token_teams[token] = "T2"


def test_an_expiring_token_is_refreshed_for_requests_and_for_the_scheduler(
    oauth: SlackHarness, wall: WallClock
) -> None:
    fake = oauth.fake
    code = fake.grant(
        "c1",
        team="T2",
        token="xoxe.xoxb-1-first",
        user="UOWN",
        refresh_token="xoxe-1-refresh-first",
        expires_in=LIFETIME,
    )
    assert install(oauth, code).status == 200
    next_token(fake, "xoxe-1-refresh-first", "xoxe.xoxb-1-second", "xoxe-1-refresh-second")
    window = ROTATE_MINUTES_BEFORE_EXPIRY * 60

    # Just outside the refresh window: the first token is used as it is.
    wall.now = START + LIFETIME - window - 60
    answer = oauth.command("/campaign", "list", user="UOWN", team="T2")
    fake.response_to(answer.response_url)
    assert refreshes(fake) == []
    assert {c.token for c in fake.of("auth.test")} == {"xoxe.xoxb-1-first"}

    # Inside it: Bolt refreshes before handling the request, and the store keeps the new one.
    wall.now = START + LIFETIME - window + 60
    answer = oauth.home_opened("UOWN", event_id="EvRotate", team="T2")
    assert answer.status == 200
    publish = fake.wait_for(lambda c: c.method == "views.publish")[0]
    assert publish.token == "xoxe.xoxb-1-second"
    assert refreshes(fake) == ["xoxe-1-refresh-first"]
    store = oauth.app.installation_store
    assert store is not None
    found = store.find_installation(enterprise_id=None, team_id="T2")
    assert found is not None and found.bot_token == "xoxe.xoxb-1-second"
    assert found.bot_refresh_token == "xoxe-1-refresh-second"

    # The scheduler, outside any request, refreshes the second token the same way.
    org_id = 1
    campaign_id = make_campaign(oauth.db, org_id)
    replies(oauth.db, campaign_id, texter_in(oauth.db, org_id, campaign_id, "UTXT"), 1, T0)
    next_token(fake, "xoxe-1-refresh-second", "xoxe.xoxb-1-third", "xoxe-1-refresh-third")
    wall.now += LIFETIME - window + 60
    ticks = Ticks(
        oauth.db,
        SlackNotifier(oauth.db, workspaces=workspaces_of(oauth.app)),
        Clock(T0 + timedelta(minutes=31)),
        holder="p1",
        environ={},
    )
    assert ticks.reply_reminders().sent == 1
    assert refreshes(fake) == ["xoxe-1-refresh-first", "xoxe-1-refresh-second"]
    [reminder] = [c for c in fake.of("chat.postMessage") if c.params["channel"] == "DUTXT"]
    assert reminder.token == "xoxe.xoxb-1-third"


def test_a_refused_refresh_sets_the_workspace_aside(oauth: SlackHarness, wall: WallClock) -> None:
    """Slack refusing the refresh token (revoked meanwhile): the scheduler skips that
    workspace rather than failing the tick."""
    fake = oauth.fake
    code = fake.grant(
        "c1",
        team="T2",
        token="xoxe.xoxb-1-first",
        user="UOWN",
        refresh_token="xoxe-1-refresh-gone",
        expires_in=LIFETIME,
    )
    assert install(oauth, code).status == 200
    campaign_id = make_campaign(oauth.db, 1)
    replies(oauth.db, campaign_id, texter_in(oauth.db, 1, campaign_id, "UTXT"), 1, T0)
    wall.now = START + LIFETIME  # expired, and the refresh token is unknown to Slack
    ticks = Ticks(
        oauth.db,
        SlackNotifier(oauth.db, workspaces=workspaces_of(oauth.app)),
        Clock(T0 + timedelta(minutes=31)),
        holder="p1",
        environ={},
    )
    result = ticks.reply_reminders()
    assert result is not None and result.ran and result.sent == 0
    assert refreshes(fake) == ["xoxe-1-refresh-gone"]
    assert not fake.of("chat.postMessage")


def test_spokebot_scheduler_process_uses_each_workspaces_token(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """`spokebot scheduler` on its own in Add to Slack mode: no bot token needed, each
    organization's reminder goes out with its installed token, none of them in its output."""
    url = f"sqlite:///{tmp_path / 'spokebot.db'}"
    db = Database.from_url(url)
    upgrade(db.engine)
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=db.engine)
    tokens = {"T2": "xoxb-2-scheduler-token-2222", "T3": "xoxb-3-scheduler-token-3333"}
    for team, token in tokens.items():
        org_id = make_org(db, team)
        store.save(Installation(app_id="A1", team_id=team, bot_token=token, user_id="UOWN"))
        campaign_id = make_campaign(db, org_id)  # no texting hours: any time is fine
        texter = texter_in(db, org_id, campaign_id, f"UTXT{team}")
        replies(db, campaign_id, texter, 1, datetime.now(UTC) - timedelta(hours=1))
    db.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
    }
    env.pop("SLACK_BOT_TOKEN", None)
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
        posted = fake_slack.wait_for(lambda c: c.method == "chat.postMessage", count=2, timeout=30)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert {c.params["channel"]: c.token for c in posted} == {
        "DUTXTT2": tokens["T2"],
        "DUTXTT3": tokens["T3"],
    }
    for secret in (*tokens.values(), CLIENT_SECRET):
        assert secret not in output
