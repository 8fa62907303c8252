"""Two workspaces installed into one running app: each sees only its own campaigns, each call
goes out with its own token, the scheduler reminds both, an uninstall of one leaves the other
working, and a reinstall resumes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.app import workspaces_of
from bot.cli import cli
from bot.notify import SlackNotifier
from core.db import Database
from core.messaging import FakeMessageService
from core.models import Campaign, CampaignContact, Organization, slack_installations
from core.services.organizations import set_organization_setting
from core.services.texting import send_first_text
from core.timed_jobs.runner import Ticks
from tests.support.scheduler import T0, Clock, replies, texter_in
from tests.support.slack_harness import FakeSlack, SlackHarness
from tests.support.world import add_contacts, make_campaign
from tests.test_slack_oauth import CLIENT_ID, CLIENT_SECRET, install


@dataclass(frozen=True)
class Workspace:
    team: str
    token: str
    owner: str
    texter: str
    org_id: int
    campaign_id: int
    title: str


@pytest.fixture
def oauth(db: Database, fake_slack: FakeSlack) -> Iterator[SlackHarness]:
    harness = SlackHarness(db, fake_slack, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    yield harness
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)


def installed(slack: SlackHarness, team: str, n: int) -> Workspace:
    token = f"xoxb-{team}-token"
    owner, texter = f"UOWN{n}", f"UTXT{n}"
    code = slack.fake.grant(f"code-{team}", team=team, token=token, user=owner)
    assert install(slack, code).status == 200
    with slack.db.engine.connect() as conn:
        org_id = conn.scalar(select(Organization.id).where(Organization.slack_team_id == team))
    title = f"Campaign of {team}"
    campaign_id = make_campaign(slack.db, org_id, title=title)
    return Workspace(team, token, owner, texter, org_id, campaign_id, title)


@pytest.fixture
def two(oauth: SlackHarness) -> tuple[Workspace, Workspace]:
    return installed(oauth, "T2", 2), installed(oauth, "T3", 3)


def test_each_workspace_sees_only_its_own_campaigns(
    oauth: SlackHarness, two: tuple[Workspace, Workspace]
) -> None:
    for me, other in (two, two[::-1]):
        answer = oauth.command("/campaign", "list", user=me.owner, team=me.team)
        assert answer.status == 200
        text = oauth.fake.response_to(answer.response_url)[0].text()
        assert me.title in text and other.title not in text
        # Another workspace's campaign id is "not found", whoever asks.
        answer = oauth.command(
            "/campaign", f"link {other.campaign_id}", user=me.owner, team=me.team
        )
        reply = oauth.fake.response_to(answer.response_url)[0].text()
        assert f"no campaign with id {other.campaign_id}" in reply


def test_each_reply_goes_out_with_its_workspaces_token(
    oauth: SlackHarness, two: tuple[Workspace, Workspace]
) -> None:
    for ws in two:
        answer = oauth.command(
            "/campaign",
            f"link {ws.campaign_id}",
            user=ws.owner,
            team=ws.team,
            channel="C" + ws.team,
        )
        assert answer.status == 200
        oauth.home_opened(ws.texter, event_id=f"Ev{ws.team}", team=ws.team)
    posts = oauth.fake.wait_for(lambda c: c.method == "chat.postMessage", count=2)
    homes = oauth.fake.wait_for(lambda c: c.method == "views.publish", count=2)
    by_channel = {c.params["channel"]: c.token for c in posts}
    assert by_channel == {"CT2": "xoxb-T2-token", "CT3": "xoxb-T3-token"}
    by_user = {c.params["user_id"]: c.token for c in homes}
    assert by_user == {"UTXT2": "xoxb-T2-token", "UTXT3": "xoxb-T3-token"}
    # Every Web API call of a request carried the token of the workspace it came from.
    for call in oauth.fake.calls:
        if call.method not in ("response", "oauth.v2.access"):
            assert call.token in ("xoxb-T2-token", "xoxb-T3-token"), call


def ticks(oauth: SlackHarness, clock: Clock) -> Ticks:
    notifier = SlackNotifier(oauth.db, workspaces=workspaces_of(oauth.app))
    return Ticks(oauth.db, notifier, clock, holder="p1", environ={})


def reminders_by_channel(fake: FakeSlack) -> dict[str, str]:
    return {
        c.params["channel"]: c.token
        for c in fake.of("chat.postMessage")
        if "waiting" in str(c.params.get("text"))
    }


def waiting_replies(oauth: SlackHarness, ws: Workspace) -> None:
    texter = texter_in(oauth.db, ws.org_id, ws.campaign_id, ws.texter)
    replies(oauth.db, ws.campaign_id, texter, 2, T0)


def test_the_scheduler_reminds_texters_of_both_with_the_right_token(
    oauth: SlackHarness, two: tuple[Workspace, Workspace]
) -> None:
    for ws in two:
        waiting_replies(oauth, ws)
    clock = Clock(T0 + timedelta(minutes=31))
    result = ticks(oauth, clock).reply_reminders()
    assert result is not None and result.sent == 2
    assert reminders_by_channel(oauth.fake) == {
        "DUTXT2": "xoxb-T2-token",
        "DUTXT3": "xoxb-T3-token",
    }
    opened = {c.params["users"]: c.token for c in oauth.fake.of("conversations.open")}
    assert opened == {"UTXT2": "xoxb-T2-token", "UTXT3": "xoxb-T3-token"}


def installations(db: Database, team: str) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(
            select(func.count())
            .select_from(slack_installations)
            .where(slack_installations.c.team_id == team)
        )


def test_an_uninstall_leaves_the_other_working_and_a_reinstall_resumes(
    oauth: SlackHarness,
    two: tuple[Workspace, Workspace],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone, kept = two
    for ws in two:
        waiting_replies(oauth, ws)
    answer = oauth.event({"type": "app_uninstalled"}, event_id="EvBye", team=gone.team)
    assert answer.status == 200
    oauth.fake.token_errors[gone.token] = "token_revoked"  # what Slack does with its token
    assert installations(oauth.db, gone.team) == 0 and installations(oauth.db, kept.team) == 1
    with oauth.db.engine.connect() as conn:  # the organization's data is kept
        assert conn.scalar(select(Campaign.title).where(Campaign.id == gone.campaign_id))

    # The other workspace goes on: its commands are answered with its token.
    answer = oauth.command("/campaign", "list", user=kept.owner, team=kept.team)
    assert kept.title in oauth.fake.response_to(answer.response_url)[0].text()
    # The uninstalled one is told plainly, without touching the database.
    answer = oauth.command("/campaign", "list", user=gone.owner, team=gone.team)
    assert (
        "isn't installed in this workspace" in oauth.fake.response_to(answer.response_url)[0].text()
    )

    # The scheduler reminds the kept workspace, skips the other, and says so once.
    caplog.set_level(logging.INFO, logger="spokebot.scheduler")
    clock = Clock(T0 + timedelta(minutes=31))
    scheduler = ticks(oauth, clock)
    assert scheduler.reply_reminders().sent == 1
    assert reminders_by_channel(oauth.fake) == {"DUTXT3": kept.token}
    skipped = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(skipped) == 1 and gone.team in skipped[0] and "not installed" in skipped[0]
    assert not [c for c in oauth.fake.calls if c.token == gone.token and c.method != "auth.test"]

    # A reinstall resumes: the waiting replies were never claimed, so they are reminded now.
    oauth.fake.grant("again", team=gone.team, token="xoxb-T2-second", user=gone.owner)
    assert install(oauth, "again").status == 200
    clock.advance(minutes=15)
    assert scheduler.reply_reminders().sent == 1
    assert reminders_by_channel(oauth.fake)["DUTXT2"] == "xoxb-T2-second"


def test_a_revoked_token_skips_that_workspace_and_is_logged_once_per_tick(
    oauth: SlackHarness,
    two: tuple[Workspace, Workspace],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, fine = two
    for ws in two:
        waiting_replies(oauth, ws)
    # A second texter in the broken workspace: still one log line for the workspace.
    second = texter_in(oauth.db, broken.org_id, broken.campaign_id, "UTXT2B")
    replies(oauth.db, broken.campaign_id, second, 1, T0, start=100)
    oauth.fake.token_errors[broken.token] = "account_inactive"
    caplog.set_level(logging.INFO, logger="spokebot.scheduler")
    clock = Clock(T0 + timedelta(minutes=31))
    scheduler = ticks(oauth, clock)
    result = scheduler.reply_reminders()
    assert result is not None and result.sent == 1
    assert reminders_by_channel(oauth.fake) == {"DUTXT3": fine.token}
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(lines) == 1 and "T2" in lines[0] and "account_inactive" in lines[0]
    # Its reminders were put back: they go out once the workspace works again.
    del oauth.fake.token_errors[broken.token]
    clock.advance(minutes=15)
    assert scheduler.reply_reminders().sent == 2


def test_tokens_revoked_deletes_the_workspaces_tokens(
    oauth: SlackHarness, two: tuple[Workspace, Workspace]
) -> None:
    revoked, kept = two
    user_only = {"type": "tokens_revoked", "tokens": {"oauth": ["UOWN2"]}}
    assert oauth.event(user_only, event_id="EvUser", team=revoked.team).status == 200
    assert installations(oauth.db, revoked.team) == 1  # we hold no user tokens: nothing to do
    bot = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}
    assert oauth.event(bot, event_id="EvBot", team=revoked.team).status == 200
    assert installations(oauth.db, revoked.team) == 0
    assert installations(oauth.db, kept.team) == 1


def test_digest_and_stale_releases_per_workspace(
    oauth: SlackHarness, two: tuple[Workspace, Workspace], caplog: pytest.LogCaptureFixture
) -> None:
    gone, kept = two
    for ws in two:
        set_organization_setting(oauth.db, ws.org_id, "DIGEST_CHANNEL", "C" + ws.team)
        set_organization_setting(oauth.db, ws.org_id, "STALE_REPLY_RELEASE_MINUTES", "60")
        waiting_replies(oauth, ws)
    assert oauth.event({"type": "app_uninstalled"}, event_id="EvBye", team=gone.team).status == 200
    caplog.set_level(logging.INFO, logger="spokebot.scheduler")
    scheduler = ticks(oauth, Clock(T0 + timedelta(hours=2)))
    digest = scheduler.digest()
    assert digest is not None and digest.sent == 1
    [post] = [c for c in oauth.fake.of("chat.postMessage") if c.params["channel"].startswith("C")]
    assert post.params["channel"] == "CT3" and post.token == kept.token
    stale = scheduler.stale_releases()
    assert stale is not None and stale.sent == 1
    assert reminders_by_channel(oauth.fake) == {}  # notices, not reminders
    notices = [c for c in oauth.fake.of("chat.postMessage") if c.params["channel"] == "DUTXT3"]
    assert len(notices) == 1 and notices[0].token == kept.token
    # The uninstalled organization keeps its texters' contacts until it can tell them.
    with oauth.db.engine.connect() as conn:
        held = conn.scalar(
            select(func.count())
            .select_from(CampaignContact)
            .where(
                CampaignContact.campaign_id == gone.campaign_id,
                CampaignContact.assignment_id.is_not(None),
            )
        )
    assert held == 2
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(lines) == 2  # once for the digest, once for the stale releases
    assert all(gone.team in line for line in lines)
    assert any(line.startswith("admin_digest") for line in lines)


def texted_contacts(oauth: SlackHarness, two: tuple[Workspace, ...]) -> dict[str, str]:
    """A contact per workspace who got a first text from its texter: team -> cell."""
    cells = {}
    for n, ws in enumerate(two):
        texter = texter_in(oauth.db, ws.org_id, ws.campaign_id, ws.texter)
        [contact_id] = add_contacts(
            oauth.db, ws.campaign_id, 1, assignment_id=texter.assignment_id, start=10 * n
        )
        send_first_text(oauth.db, contact_id, texter.user_id, FakeMessageService())
        with oauth.db.engine.connect() as conn:
            cells[ws.team] = conn.scalar(
                select(CampaignContact.cell).where(CampaignContact.id == contact_id)
            )
    return cells


def test_twilio_replies_reach_each_texter_with_their_workspaces_token(
    oauth: SlackHarness, two: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-auth-token-for-tests")
    cells = texted_contacts(oauth, two)
    for n, ws in enumerate(two):
        form = {"From": cells[ws.team], "Body": f"Reply {ws.team}", "MessageSid": f"SM{n:032d}"}
        url = oauth.url + "/sms/twilio"
        signature = RequestValidator("twilio-auth-token-for-tests").compute_signature(url, form)
        answer = oauth.post(
            urlencode(form).encode(),
            "application/x-www-form-urlencoded",
            sign=False,
            path="/sms/twilio",
            headers={"X-Twilio-Signature": signature},
        )
        assert answer.status == 200
    for ws in two:
        [reply] = oauth.fake.wait_for(lambda c, t=ws.team: f"Reply {t}" in c.text())
        assert reply.token == ws.token and reply.params["channel"] == "D" + ws.texter


def test_cli_reply_notifications_use_the_organizations_token(
    oauth: SlackHarness,
    two: tuple[Workspace, Workspace],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`spokebot sms simulate-reply` outside the server: the texter's DM thread is posted with
    the token of the contact's organization; an uninstalled one is reported, not crashed."""
    for name, value in (
        ("DATABASE_URL", database_url),
        ("SLACK_CLIENT_ID", CLIENT_ID),
        ("SLACK_CLIENT_SECRET", CLIENT_SECRET),
        ("SLACK_API_URL", oauth.fake.api_url),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    cells = texted_contacts(oauth, two)
    runner = CliRunner()
    for ws in two:
        result = runner.invoke(cli, ["sms", "simulate-reply", cells[ws.team], "Yes!"])
        assert result.exit_code == 0 and "notified in Slack" in result.output, result.output
    threads = [c for c in oauth.fake.of("chat.postMessage") if "Yes!" in c.text()]
    assert {c.params["channel"]: c.token for c in threads} == {
        "DUTXT2": "xoxb-T2-token",
        "DUTXT3": "xoxb-T3-token",
    }
    oauth.event({"type": "app_uninstalled"}, event_id="EvBye", team="T2")
    result = runner.invoke(cli, ["sms", "simulate-reply", cells["T2"], "Hello?"])
    assert result.exit_code == 0
    assert "not told in Slack: WorkspaceUnavailable: not installed" in result.output


def test_an_uninstalled_workspace_with_nothing_due_is_not_logged(
    oauth: SlackHarness, two: tuple[Workspace, Workspace], caplog: pytest.LogCaptureFixture
) -> None:
    gone = two[0]
    oauth.event({"type": "app_uninstalled"}, event_id="EvBye", team=gone.team)
    caplog.set_level(logging.INFO, logger="spokebot.scheduler")
    scheduler = ticks(oauth, Clock(T0 + timedelta(hours=2)))
    for tick in (scheduler.reply_reminders, scheduler.stale_releases, scheduler.digest):
        result = tick()
        assert result is not None and result.ran and result.sent == 0
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]
