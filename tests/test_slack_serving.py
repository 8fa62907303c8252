"""Serving: signatures, health, settings, the 3-second ack, Socket Mode wiring."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.settings import Settings
from core.errors import ConfigurationError
from tests.support.slack_harness import SlackHarness
from tests.support.world import add_contacts, make_campaign, make_org, make_texter

GOOD_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def test_unsigned_request_is_rejected(slack: SlackHarness) -> None:
    answer = slack.command("/sendfirsttexts", user="U1", sign=False)
    assert answer.status == 401
    time.sleep(0.2)
    assert slack.fake.of("response") == []


def test_badly_signed_request_is_rejected(slack: SlackHarness) -> None:
    answer = slack.command(
        "/sendfirsttexts", user="U1", headers={"X-Slack-Signature": "v0=" + "0" * 64}
    )
    assert answer.status == 401


def test_stale_request_is_rejected(slack: SlackHarness) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    answer = slack.command("/sendfirsttexts", user="U1", timestamp=six_minutes_ago)
    assert answer.status == 401


def test_healthz_answers_when_the_database_does(slack: SlackHarness) -> None:
    answer = slack.get("/healthz")
    assert answer.status == 200
    assert json.loads(answer.body)["database"] is True


def test_healthz_is_503_without_a_database(slack: SlackHarness, monkeypatch) -> None:
    import bot.web

    monkeypatch.setattr(bot.web, "database_answers", lambda db: False)
    assert slack.get("/healthz").status == 503


def test_unknown_paths_and_methods(slack: SlackHarness) -> None:
    assert slack.get("/nope").status == 404
    assert slack.get("/slack/events").status == 405


def test_url_verification_challenge(slack: SlackHarness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    answer = slack.post(body.encode(), "application/json")
    assert answer.status == 200
    assert "abc123" in answer.body


def test_ack_returns_before_slow_work(slack: SlackHarness) -> None:
    """Slack's Web API being slow (here users.info takes 3.5 s) must not delay the ack."""
    org = make_org(slack.db)
    campaign = make_campaign(slack.db, org)
    add_contacts(slack.db, campaign, 5)
    make_texter(slack.db, org, "U1")
    slack.fake.delays["users.info"] = 3.5
    answer = slack.command("/sendfirsttexts", user="U1")
    assert answer.status == 200
    assert answer.seconds < 3
    # The work still happens after the ack.
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "joined" in reply.text()


def test_settings_name_every_missing_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({})
    assert "SLACK_BOT_TOKEN" in caught.value.message
    assert "SLACK_SIGNING_SECRET" in caught.value.message
    settings = Settings.from_env({**GOOD_ENV, "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert settings.port == 3000 and settings.api_url == "http://127.0.0.1:9/api/"
    assert not settings.socket_mode
    assert "xoxb" not in repr(settings)  # secrets never end up in logs


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.socket_mode


def test_bad_port_is_reported() -> None:
    with pytest.raises(ConfigurationError, match="PORT"):
        Settings.from_env({**GOOD_ENV, "PORT": "http"})


def test_serve_without_settings_exits_2(monkeypatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PORT"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN" in result.output and "SLACK_SIGNING_SECRET" in result.output
    assert result.output.count("error:") == 1


def test_rate_limited_web_api_calls_are_retried(slack: SlackHarness) -> None:
    """A 429 from Slack is waited out and retried (slack-sdk's retry handlers)."""
    org = make_org(slack.db)
    campaign = make_campaign(slack.db, org)
    add_contacts(slack.db, campaign, 5)
    make_texter(slack.db, org, "U1")
    slack.fake.rate_limited["views.publish"] = 1
    answer = slack.command("/sendfirsttexts", user="U1")
    assert "haven't joined" in slack.fake.response_to(answer.response_url)[0].text()
    answer = slack.home_opened("U1", event_id="Ev429")
    assert answer.status == 200
    publishes = slack.fake.wait_for(lambda c: c.method == "views.publish", count=2)
    assert publishes[0].params["_status"] == 429
    assert "_status" not in publishes[1].params


OAUTH_ENV = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs", "SLACK_SIGNING_SECRET": "s"}


def test_oauth_mode_needs_no_bot_token() -> None:
    settings = Settings.from_env(
        {
            **OAUTH_ENV,
            "SLACK_CLIENT_SECRET": "client-secret-0xyz",
            "SPOKEBOT_INSTALL_ALLOWED_TEAMS": " T1, T2 ,,",
        }
    )
    assert settings.oauth and not settings.bot_token
    assert settings.install_allowed_teams == ("T1", "T2")
    assert "client-secret-0xyz" not in repr(settings)
    assert not Settings.from_env(GOOD_ENV).oauth  # a bot token alone: one workspace, as before


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET is not set"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs"},
            "SLACK_SIGNING_SECRET is not set",
        ),
        ({**OAUTH_ENV, "SLACK_BOT_TOKEN": "xoxb-1"}, "not both"),
        ({**OAUTH_ENV, "SLACK_APP_TOKEN": "xapp-1"}, "install page needs HTTP"),
        (
            {**OAUTH_ENV, "SPOKEBOT_INSTALL_ALLOWED_TEAMS": "T1;T2"},
            "SPOKEBOT_INSTALL_ALLOWED_TEAMS",
        ),
    ],
)
def test_oauth_settings_are_checked(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_serve_with_half_the_oauth_settings_exits_2(monkeypatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.delenv("SLACK_CLIENT_SECRET", raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "SLACK_CLIENT_SECRET" in result.output and "SLACK_BOT_TOKEN" not in result.output


def test_single_workspace_mode_serves_no_install_pages(slack: SlackHarness) -> None:
    assert slack.get("/slack/install").status == 404
    assert slack.get("/slack/oauth_redirect?code=x&state=y").status == 404
