"""The Slack front door: Web API faults (429 and 5xx, from FakeSlack's `http_faults`) are
retried and nothing is lost.

Through HTTP to the real WSGI app (tests/support/slack_harness.py) with signed requests and
FakeSlack behind it; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from core.db import Database
from tests.support.reliability import (
    ADMIN,
    FORM,
    TEXTER,
    held,
    private_replies,
    world,
)
from tests.support.slack_harness import TEAM, FakeSlack, SlackHarness


@pytest.fixture
def faulty_slack(db: Database, fake_slack: FakeSlack) -> Iterator[tuple[SlackHarness, FakeSlack]]:
    """The app with FakeSlack behind it; set `http_faults` to make its calls fail first."""
    harness = SlackHarness(db, fake_slack)
    yield harness, fake_slack
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)


@pytest.mark.parametrize("fault", [429, 500, 503])
def test_web_api_faults_are_retried_and_nothing_is_lost(
    faulty_slack: tuple[SlackHarness, FakeSlack], fault: int
) -> None:
    slack, fake = faulty_slack
    w = world(slack)
    # The admin posts the join link (chat.postMessage), the texter's Home is published.
    fake.http_faults = {"chat.postMessage": [fault], "views.publish": [fault, fault]}
    answer = slack.command("/campaign", f"link {w.campaign_id}", user=ADMIN, channel="C0VOLS")
    assert answer.status == 200
    assert "Posted the join link" in private_replies(slack, answer.response_url)[0]
    posted = slack.fake.of("chat.postMessage")
    assert len(posted) == 1 and posted[0].params["channel"] == "C0VOLS"  # once, not twice
    answer = slack.command("/sendfirsttexts", user=TEXTER)
    assert "You got 3" in private_replies(slack, answer.response_url)[0]
    home = slack.fake.home_for(TEXTER)
    assert "3 first texts to send" in home.text()
    assert sorted(fake.injected) == sorted(
        [("chat.postMessage", fault), ("views.publish", fault), ("views.publish", fault)]
    )
    assert held(slack.db, w.campaign_id, w.texter_user_id) == 3


@pytest.mark.parametrize("fault", [429, 500, 503])
def test_private_replies_survive_response_url_faults(
    faulty_slack: tuple[SlackHarness, FakeSlack], fault: int
) -> None:
    """Bolt's respond() has no retry handlers for 429/5xx; bot.respond_retry adds them."""
    slack, fake = faulty_slack
    w = world(slack)
    base = fake.url
    for n, (command, text, expected) in enumerate(
        [
            ("/sendfirsttexts", "", "You got 3"),  # a reply after a change
            ("/campaign", "frobnicate", "I don't know"),  # a refusal
            ("/campaign", "link ²", "Usage"),  # an error reported by bot.errors
        ]
    ):
        reply_id = f"faulty{n}"
        fake.http_faults = {reply_id: [fault, fault]}
        fields = {"command": command, "text": text, "team_id": TEAM, "user_id": TEXTER}
        fields["response_url"] = f"{base}/response/{reply_id}"
        assert slack.post(urlencode(fields).encode(), FORM).status == 200
        replies = slack.fake.wait_for(lambda c, p=f"/response/{reply_id}": c.path == p)
        assert len(replies) == 1 and expected in replies[0].text()
    assert len(fake.injected) == 6
    assert held(slack.db, w.campaign_id, w.texter_user_id) == 3


def test_web_client_has_retry_handlers_for_429_5xx_and_connection_errors() -> None:
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    from bot.settings import Settings
    from bot.slack_client import make_web_client

    client = make_web_client(Settings(bot_token="xoxb-x", signing_secret="s", database_url=""))
    kinds = {type(handler) for handler in client.retry_handlers}
    assert {
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
        ConnectionErrorRetryHandler,
    } <= kinds
