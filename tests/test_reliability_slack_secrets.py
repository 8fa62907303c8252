"""The Slack front door: secrets never appear in the logs or HTTP answers of the app in
this process (every logger at DEBUG), with one bot token or with Add to Slack."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot import ids
from core.db import Database
from core.roles import Role
from tests.support.reliability import (
    ADMIN,
    DISTINCT_APP_TOKEN,
    DISTINCT_BOT_TOKEN,
    DISTINCT_CLIENT_SECRET,
    DISTINCT_SIGNING_SECRET,
    DISTINCT_TWILIO_TOKEN,
    FORM,
    OAUTH_TOKENS,
    TEXTER,
    assert_no_secret,
    form_payload,
    post_raw,
    private_replies,
)
from tests.support.slack_harness import FakeSlack, SlackHarness
from tests.support.world import add_contacts, make_campaign, make_org, make_texter

LIBRARIES = ("slack_bolt", "slack_sdk", "spokebot", "urllib3", "waitress", "sqlalchemy")


@pytest.fixture
def libraries_at_debug() -> Iterator[None]:
    """Every library's logger at DEBUG for one test (caplog puts the root there), and back
    afterwards: sqlalchemy left at DEBUG would log later tests' parameters, join tokens too."""
    loggers = [logging.getLogger(name) for name in LIBRARIES]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def full_flow(slack: SlackHarness) -> list[str]:
    """Join, a batch, Done for the Day, a bad request and an unexpected error; returns every
    HTTP response body."""
    org = make_org(slack.db)
    make_texter(slack.db, org, ADMIN, Role.ADMIN)
    campaign_id = make_campaign(slack.db, org, batch_size=3)
    add_contacts(slack.db, campaign_id, 20)
    bodies = []
    answer = slack.command("/campaign", f"link {campaign_id}", user=ADMIN, channel="C0VOLS")
    bodies.append(answer.body)
    join = slack.fake.wait_for(lambda c: c.method == "chat.postMessage")[0].button(ids.JOIN)
    answer = slack.click_button(join, user=TEXTER)
    bodies.append(answer.body)
    slack.fake.response_to(answer.response_url)
    for request in (
        lambda: slack.command("/sendfirsttexts", user=TEXTER),
        lambda: slack.command("/doneforday", user=TEXTER),
        lambda: slack.click(ids.DONE_FOR_THE_DAY_CONFIRM, str(campaign_id), user=TEXTER),
        lambda: slack.home_opened(TEXTER, event_id="EvSecrets"),
    ):
        answer = request()
        bodies.append(answer.body)
        if answer.response_url:
            slack.fake.response_to(answer.response_url)
    bodies.append(slack.command("/sendfirsttexts", user=TEXTER, sign=False).body)  # 401
    bodies.append(post_raw(slack, form_payload("{broken"), FORM)[1])  # 400
    return bodies


def test_secrets_never_appear_in_logs_or_responses(
    db: Database,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    libraries_at_debug: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in (
        ("SLACK_BOT_TOKEN", DISTINCT_BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", DISTINCT_SIGNING_SECRET),
        ("SLACK_APP_TOKEN", DISTINCT_APP_TOKEN),
        ("TWILIO_AUTH_TOKEN", DISTINCT_TWILIO_TOKEN),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("tests.support.slack_harness.BOT_TOKEN", DISTINCT_BOT_TOKEN)
    caplog.set_level(logging.DEBUG)
    slack = SlackHarness(db, fake_slack, secret=DISTINCT_SIGNING_SECRET)
    try:
        bodies = full_flow(slack)
        import bot.listeners.first_texts

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"boom with {DISTINCT_BOT_TOKEN}")  # an error quoting a secret

        monkeypatch.setattr(bot.listeners.first_texts, "request_first_texts", broken)
        answer = slack.command("/sendfirsttexts", user=TEXTER)
        bodies.append(answer.body)
        reply = private_replies(slack, answer.response_url)[0]
        assert "something went wrong" in reply
        assert_no_secret(reply, "the error reply")
    finally:
        slack.close()
        slack.app.listener_runner.listener_executor.shutdown(wait=True)
    assert len(caplog.records) > 50  # DEBUG logging was really on
    assert any(r.name.startswith("slack_sdk") for r in caplog.records)
    for record in caplog.records:
        assert_no_secret(record.getMessage(), f"a log record of {record.name}")
    assert_no_secret(caplog.text, "the formatted log (tracebacks included)")
    for body in bodies:
        assert_no_secret(body, "an HTTP response")
    for call in fake_slack.calls:
        assert_no_secret(json.dumps(call.params, default=str), f"a {call.method} call to Slack")


def test_oauth_secrets_never_appear_in_logs_or_pages(
    db: Database,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    libraries_at_debug: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Installs (one with a rotating token that is then refreshed), a refused install, a bad
    code, commands from both workspaces and an uninstall, every logger at DEBUG: no token,
    refresh token or client secret in any log record or page."""
    from tests.test_slack_oauth import CLIENT_ID, install

    monkeypatch.setenv("SLACK_CLIENT_SECRET", DISTINCT_CLIENT_SECRET)
    caplog.set_level(logging.DEBUG)
    first, refresh, rotated, refresh2, other = OAUTH_TOKENS
    slack = SlackHarness(
        db,
        fake_slack,
        secret=DISTINCT_SIGNING_SECRET,
        client_id=CLIENT_ID,
        client_secret=DISTINCT_CLIENT_SECRET,
        allowed_teams=("T2", "T3"),
    )
    bodies: list[str] = []
    try:
        fake_slack.grant(
            "c2", team="T2", token=first, user="UOWN2", refresh_token=refresh, expires_in=60
        )
        fake_slack.grant("c3", team="T3", token=other, user="UOWN3")
        fake_slack.grant("c4", team="T4", token="xoxb-4-SECRET-REFUSED-0042", user="UX")
        fake_slack.refresh_tokens[refresh] = {
            "ok": True,
            "token_type": "bot",
            "access_token": rotated,
            "refresh_token": refresh2,
            "expires_in": 43200,
        }
        fake_slack.token_teams[rotated] = "T2"
        for code in ("c2", "c3", "c4", "no-such-code"):
            bodies.append(install(slack, code).body)
        bodies.append(slack.get("/slack/install").body)
        for team, user in (("T2", "UOWN2"), ("T3", "UOWN3")):
            answer = slack.command("/campaign", "list", user=user, team=team)
            bodies.append(answer.body)
            slack.fake.response_to(answer.response_url)
        assert any(c.token == rotated for c in fake_slack.calls)  # the refresh happened
        bodies.append(slack.event({"type": "app_uninstalled"}, event_id="EvGone", team="T3").body)
    finally:
        slack.close()
        slack.app.listener_runner.listener_executor.shutdown(wait=True)
    secrets = [DISTINCT_CLIENT_SECRET, DISTINCT_SIGNING_SECRET, *OAUTH_TOKENS]
    secrets.append("xoxb-4-SECRET-REFUSED-0042")
    assert len(caplog.records) > 50 and any(r.name.startswith("slack_sdk") for r in caplog.records)
    texts = [(r.getMessage(), f"a log record of {r.name}") for r in caplog.records]
    texts.append((caplog.text, "the formatted log"))
    texts += [(body, "an HTTP response") for body in bodies]
    for text, where in texts:
        for secret in secrets:
            assert secret not in text, f"{secret[:14]}... found in {where}"
            assert secret[-10:] not in text, f"the end of {secret[:14]}... found in {where}"
