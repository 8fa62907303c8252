"""Shared set-up for the texting-loop Slack tests: the real app over HTTP with a fake message
service the test can inspect (or make fail), and helpers for cards, threads and DM events."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from bot import ids
from core.db import Database
from core.messaging import FakeMessageService
from core.models import CampaignContact, Message
from tests.support.slack_harness import BOT_TOKEN, TEAM, Call, FakeSlack, Response, SlackHarness
from tests.support.world import Member, build_world

TEXTER = "UTEXT"
SCRIPT = "Hi {firstName}, it's {texterFirstName}. Are you in ward {ward}?"

_events = itertools.count(1)


@dataclass
class Texting:
    slack: SlackHarness
    service: FakeMessageService
    org_id: int
    campaign_id: int
    user_id: int
    assignment_id: int
    contact_ids: list[int]

    @property
    def db(self) -> Database:
        return self.slack.db

    @property
    def fake(self) -> FakeSlack:
        return self.slack.fake


@pytest.fixture
def sms() -> FakeMessageService:
    """The message service the app under test sends through (inspect .sent, set .fail_with)."""
    return FakeMessageService()


@pytest.fixture
def texting_slack(db: Database, fake_slack: FakeSlack, sms: FakeMessageService) -> Iterator[Any]:
    harness = SlackHarness(db, fake_slack, message_service=sms)
    yield harness
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)


@pytest.fixture
def simulate(database_url: str, monkeypatch: pytest.MonkeyPatch, texting_slack: SlackHarness):
    """`spokebot sms simulate-reply`, with Slack configured so it notifies the texter."""
    from bot.cli import cli

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", texting_slack.fake.api_url)

    def run(cell: str, text: str) -> str:
        result = CliRunner().invoke(cli, ["sms", "simulate-reply", cell, text])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def world(
    harness: SlackHarness,
    service: FakeMessageService,
    *,
    contacts: int = 5,
    batch_size: int = 3,
    texting_hours: str | None = None,
    **campaign: Any,
) -> Texting:
    harness.fake.names[TEXTER] = "Ada Lovelace"  # users.info, which renames the texter
    built = build_world(
        harness.db,
        members=[Member(TEXTER, "Ada Lovelace")],
        contacts=contacts,
        batch_size=batch_size,
        texting_hours=texting_hours,
        script=campaign.pop("script", SCRIPT),
        **campaign,
    )
    return Texting(
        harness,
        service,
        built.org_id,
        built.campaign_id,
        built.user(TEXTER),
        built.assignment(TEXTER),
        built.contact_ids,
    )


def contact(db: Database, contact_id: int) -> CampaignContact:
    with db.uow(read_only=True) as uow:
        row = uow.session.get(CampaignContact, contact_id)
        assert row is not None
        uow.session.expunge(row)
        return row


def messages_of(db: Database, contact_id: int) -> list[Message]:
    from sqlalchemy import select

    with db.uow(read_only=True) as uow:
        rows = list(
            uow.session.scalars(
                select(Message)
                .where(Message.campaign_contact_id == contact_id)
                .order_by(Message.id)
            )
        )
        for row in rows:
            uow.session.expunge(row)
        return rows


def first_card(t: Texting) -> Call:
    """/sendfirsttexts in a channel: the card is posted in the texter's DM with the bot (the
    channel gets a private pointer to it); a refusal without a card is answered privately."""
    posted = len(dm_posts(t))
    answer = t.slack.command(ids.CMD_SEND_FIRST_TEXTS, user=TEXTER)
    assert answer.status == 200 and answer.seconds < 3
    reply = t.fake.response_to(answer.response_url)[0]
    cards = dm_posts(t)
    if len(cards) > posted:
        assert "your direct messages with me" in reply.text()
        return cards[posted]
    return reply


def dm_posts(t: Texting) -> list[Call]:
    return [
        c
        for c in t.fake.of("chat.postMessage")
        if c.params.get("channel") == f"D{TEXTER}" and not c.params.get("thread_ts")
    ]


def click(t: Texting, card: Call, action_id: str, *, user: str = TEXTER) -> Call:
    """Click a card's button; the answer posted to that click's response_url."""
    answer = t.slack.click_button(card.button(action_id), user=user)
    assert answer.status == 200 and answer.seconds < 3
    return t.fake.response_to(answer.response_url)[0]


def card_contact(card: Call) -> int:
    for action_id in (ids.SEND_TEXT, ids.RETRY_SEND, ids.SKIP_CONTACT):
        found = [b for b in card.buttons() if b.get("action_id") == action_id]
        if found:
            return ids.parse_contact_value(found[0]["value"])[1]
    raise AssertionError(f"not a send card: {card.text()}")


def dm_event(
    t: Texting,
    text: str,
    *,
    channel: str,
    thread_ts: str | None,
    user: str = TEXTER,
    event_id: str | None = None,
    **extra: Any,
) -> Response:
    ts = f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return t.slack.event(event, event_id=event_id or f"Ev{next(_events):08d}")


def submit_view(t: Texting, view: dict[str, Any], values: dict[str, Any]) -> Response:
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "test"},
        "user": {"id": TEXTER, "username": TEXTER.lower(), "team_id": TEAM},
        "api_app_id": "A0SPOKEBOT",
        "token": "unused",
        "trigger_id": "trigger.3",
        "view": {
            "id": "VEDIT",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view.get("blocks", []),
            "state": {"values": values},
        },
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return t.slack.post(body, "application/x-www-form-urlencoded")


def posts_to(fake: FakeSlack, channel: str, count: int = 1, thread_ts: str | None = None):
    return fake.wait_for(
        lambda c: (
            c.method == "chat.postMessage"
            and c.params.get("channel") == channel
            and (thread_ts is None or c.params.get("thread_ts") == thread_ts)
        ),
        count,
    )


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
