"""Waiting replies as Slack shows them: how long each waited (a controlled clock, at the
edges), and Home within Slack's limits however many replies wait."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.render.home import home_view
from bot.render.replies import reply_blocks, waited
from core.services.waiting_replies import WaitingReply
from tests.test_slack_render import LONG, campaign, check

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "shown"),
    [
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=59, seconds=59), "59 min"),
        (timedelta(minutes=60), "1 h"),
        (timedelta(hours=47, minutes=59), "47 h"),
        (timedelta(hours=48), "2 days"),
        (timedelta(seconds=-30), "just now"),  # a clock a little ahead never shows "-1 min"
    ],
)
def test_how_long_a_reply_waited(ago: timedelta, shown: str) -> None:
    assert waited(NOW - ago, NOW) == shown
    assert waited((NOW - ago).replace(tzinfo=None), NOW) == shown  # SQLite's naive times


def reply(n: int, campaign_id: int) -> WaitingReply:
    return WaitingReply(
        n, campaign_id, LONG, LONG, LONG * 3, NOW - timedelta(minutes=n), "D1", f"1.{n}"
    )


def test_reply_lines_link_and_say_how_many_more() -> None:
    replies = [reply(n, 1) for n in range(7)]
    links = {n: f"https://example.slack.com/archives/D1/p1{n}" for n in range(3)}
    blocks = [b.to_dict() for b in reply_blocks(replies, links, NOW, limit=3, more_value="1")]
    assert [b["accessory"]["url"] for b in blocks[:3]] == list(links.values())
    assert "and 4 more replies" in json.dumps(blocks[3])
    assert blocks[4]["elements"][0]["text"]["text"] == "Show all replies"
    check(blocks, 50)


@pytest.mark.parametrize("count", [1, 18, 40])
def test_home_with_many_waiting_replies_within_limits(count: int) -> None:
    replies = [reply(n, c) for c in range(count) for n in range(c * 10, c * 10 + 6)]
    view = home_view(
        [campaign(i) for i in range(count)],
        done_for_the_day_enabled=True,
        notice=LONG,
        replies=replies,
        links={r.contact_id: "https://example.slack.com/x" for r in replies},
        now=NOW,
    )
    check(view["blocks"], 100)
    assert len(json.dumps(view)) < 250_000
    if count > 1:
        assert "more campaign" in str(view["blocks"][-1])
