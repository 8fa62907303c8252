"""The Slack front door: Forged, replayed and unsigned requests get 401 and change nothing.

Through HTTP to the real WSGI app (tests/support/slack_harness.py) with signed requests and
FakeSlack behind it; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from bot import ids
from tests.support.reliability import (
    FORM,
    TEXTER,
    click_payload,
    database_state,
    form_payload,
    no_more_calls_after,
    post_raw,
    signature,
    world,
)
from tests.support.slack_harness import TEAM, SlackHarness


def forged_headers(forgery: str, body: bytes, secret: str) -> dict[str, str]:
    now = int(time.time())
    if forgery == "unsigned":
        return {}
    if forgery == "wrong secret":
        return {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": signature("not-the-secret", str(now), body),
        }
    if forgery == "garbage timestamp":
        return {
            "X-Slack-Request-Timestamp": "yesterday",
            "X-Slack-Signature": signature(secret, "yesterday", body),
        }
    # Correctly signed, but replayed 5.5 minutes later, or dated 10 minutes ahead.
    timestamp = str(now - 330 if forgery == "stale timestamp" else now + 600)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
    }


def post_with_headers(
    slack: SlackHarness, body: bytes, content_type: str, headers: dict[str, str]
) -> tuple[int, str]:
    request = urllib.request.Request(
        slack.url + "/slack/events", data=body, headers={"Content-Type": content_type, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@pytest.mark.parametrize(
    "forgery",
    ["unsigned", "wrong secret", "stale timestamp", "future timestamp", "garbage timestamp"],
)
@pytest.mark.parametrize("kind", ["command", "click", "event"])
def test_forged_and_replayed_requests_get_401_and_change_nothing(
    slack: SlackHarness, forgery: str, kind: str
) -> None:
    w = world(slack)
    before = database_state(slack.db)
    if kind == "command":
        fields = {"command": "/sendfirsttexts", "team_id": TEAM, "user_id": TEXTER, "text": ""}
        body, content_type = urlencode({**fields, "response_url": slack.new_response_url()}), FORM
    elif kind == "click":
        payload = click_payload(ids.SEND_FIRST_TEXTS, str(w.campaign_id))
        payload["response_url"] = slack.new_response_url()
        body, content_type = form_payload(payload).decode(), FORM
    else:
        event = {"type": "app_home_opened", "user": TEXTER, "tab": "home"}
        envelope = {"type": "event_callback", "team_id": TEAM, "event": event, "event_id": "Ev1"}
        body, content_type = json.dumps(envelope), "application/json"
    raw = body.encode()
    status, answer = post_with_headers(
        slack, raw, content_type, forged_headers(forgery, raw, slack.secret)
    )
    assert status == 401
    assert "Traceback" not in answer
    assert no_more_calls_after(slack) == 0  # no reply, no Home, no lookup
    assert database_state(slack.db) == before
    # The same request, correctly signed now, does go through: the test can tell.
    assert post_raw(slack, raw, content_type)[0] == 200
