"""The Slack front door: malformed signed payloads get a 4xx, never a 500, and are logged
without their body.

Through HTTP to the real WSGI app (tests/support/slack_harness.py) with signed requests and
FakeSlack behind it; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest

from tests.support.reliability import (
    FORM,
    TEXTER,
    click_payload,
    database_state,
    form_payload,
    no_more_calls_after,
    post_raw,
    private_replies,
    world,
)
from tests.support.slack_harness import TEAM, SlackHarness

MALFORMED: list[tuple[str, bytes, str, int]] = [
    ("payload is not JSON", form_payload("{not json"), FORM, 400),
    ("payload is a list", form_payload("[1, 2]"), FORM, 400),
    ("payload is a number", form_payload("3"), FORM, 400),
    ("payload nested 100k deep", form_payload("[" * 100_000 + "]" * 100_000), FORM, 400),
    ("payload without a type", form_payload({}), FORM, 400),
    (
        "click without actions",
        form_payload({"type": "block_actions", "user": {"id": "U"}}),
        FORM,
        400,
    ),
    (
        "click with empty actions",
        form_payload({"type": "block_actions", "user": {"id": "U"}, "actions": []}),
        FORM,
        400,
    ),
    (
        "click with actions as text",
        form_payload({"type": "block_actions", "user": {"id": "U"}, "actions": "x"}),
        FORM,
        400,
    ),
    (
        "action without action_id",
        form_payload({"type": "block_actions", "user": {"id": "U"}, "actions": [{}]}),
        FORM,
        400,
    ),
    ("click without a user", form_payload({**click_payload("x", "1"), "user": None}), FORM, 400),
    ("user is a string", form_payload({**click_payload("x", "1"), "user": "U1"}), FORM, 400),
    (
        "user id is a number",
        form_payload({**click_payload("x", "1"), "user": {"id": 7}}),
        FORM,
        400,
    ),
    ("team is a string", form_payload({**click_payload("x", "1"), "team": "T1"}), FORM, 400),
    ("container is a list", form_payload({**click_payload("x", "1"), "container": []}), FORM, 400),
    (
        "response_url is a number",
        form_payload({**click_payload("x", "1"), "response_url": 5}),
        FORM,
        400,
    ),
    (
        "command without user_id",
        urlencode({"command": "/sendfirsttexts", "team_id": TEAM}).encode(),
        FORM,
        400,
    ),
    (
        "command without team_id",
        urlencode({"command": "/campaign", "user_id": "U1"}).encode(),
        FORM,
        400,
    ),
    ("empty form body", b"", FORM, 400),
    ("empty JSON body", b"", "application/json", 400),
    ("JSON body not JSON", b"{not json", "application/json", 400),
    ("JSON body a list", b"[1]", "application/json", 400),
    ("JSON body a string", b'"event"', "application/json", 400),
    ("event_callback without event", b'{"type": "event_callback"}', "application/json", 400),
    ("event is a string", b'{"type": "event_callback", "event": "x"}', "application/json", 400),
    ("event without type", b'{"type": "event_callback", "event": {}}', "application/json", 400),
    ("not UTF-8 form", b"\xff\xfe\x00=\x01", FORM, 400),
    (
        "lone surrogate in a value",
        form_payload(
            '{"type": "block_actions", "user": {"id": "U"}, "actions": '
            '[{"action_id": "campaign_join", "value": "1:\\ud800"}]}'
        ),
        FORM,
        400,
    ),
    ("not UTF-8 JSON", b'{"a": "\xff"}', "application/json", 400),
    ("plain text", b"hello", "text/plain", 415),
    ("multipart", b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415),
    ("huge form body (5 MB)", form_payload("x" * 5_000_000), FORM, 413),
    ("huge JSON body (5 MB)", b'{"a": "' + b"x" * 5_000_000 + b'"}', "application/json", 413),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [pytest.param(body, ct, status, id=name) for name, body, ct, status in MALFORMED],
)
def test_malformed_signed_requests_get_4xx_never_500(
    slack: SlackHarness, body: bytes, content_type: str, status: int
) -> None:
    world(slack)
    before = database_state(slack.db)
    answer_status, answer_body = post_raw(slack, body, content_type)
    assert answer_status == status, answer_body
    assert "Traceback" not in answer_body and 'File "' not in answer_body
    assert no_more_calls_after(slack, 0.2) == 0
    assert database_state(slack.db) == before


def test_refusals_are_logged_without_the_body(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world(slack)
    status, _ = post_raw(slack, form_payload("{not json, secret-looking-body"), FORM)
    assert status == 400
    refusals = [r for r in caplog.records if r.name == "spokebot.web"]
    assert [r.getMessage() for r in refusals] == [
        "refused a Slack request: 400 payload is not JSON"
    ]
    assert "secret-looking-body" not in caplog.text


def test_command_text_containing_payload_is_still_answered(slack: SlackHarness) -> None:
    """Bolt's parser mistook any form body containing "payload" for an interactivity payload
    and dispatched an empty body (404, Slack's "dispatch_failed", no reply)."""
    world(slack)
    answer = slack.command("/campaign", "payload=1", user=TEXTER)
    assert answer.status == 200
    assert "I don't know `/campaign payload=1`" in private_replies(slack, answer.response_url)[0]


def test_unknown_command_and_action_are_4xx(slack: SlackHarness) -> None:
    world(slack)
    assert slack.command("/nosuchcommand", user=TEXTER).status == 404
    assert slack.click("no_such_action", "1", user=TEXTER).status == 404
