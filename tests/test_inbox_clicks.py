"""Clicks, slash commands and view submissions go through the durable inbox (issue 17): each
is recorded before its ack, and one that can't be recorded gets no 200; over HTTP and over
Socket Mode (a request as Bolt's Socket Mode adapter dispatches it). Both engines."""

from __future__ import annotations

import pytest
from slack_bolt import BoltRequest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot import ids
from core.models import SlackInbox
from core.services import inbox as core_inbox
from tests.support.inbox import inbox_statuses
from tests.support.slack_harness import APP_ID, TEAM, SlackHarness
from tests.support.texting import TEXTER, card_contact, first_card, wait_until, world


def _outage(*_args, **_kwargs):
    raise OperationalError("INSERT INTO slack_inbox", {}, Exception("connection refused"))


def _kinds(slack: SlackHarness) -> list[str]:
    with slack.db.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(SlackInbox.kind).order_by(SlackInbox.id)))


def test_clicks_and_commands_are_recorded_then_worked(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=2)
    card = first_card(t)
    answer = t.slack.click_button(card.button(ids.SEND_TEXT), user=TEXTER)
    assert answer.status == 200 and answer.seconds < 3
    [after] = t.fake.response_to(answer.response_url)
    assert after.params["replace_original"] is True
    wait_until(lambda: inbox_statuses(t.db) == {"done": 2})
    assert _kinds(t.slack) == ["lazy:lazy_send_first_texts", "lazy:lazy_send_clicked"]
    assert len(sms.sent) == 1


def test_a_click_during_a_database_outage_is_not_acked(
    texting_slack: SlackHarness, sms, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=2)
    card = first_card(t)
    contact_id = card_contact(card)
    monkeypatch.setattr(core_inbox, "record", _outage)
    answer = t.slack.click_button(card.button(ids.SEND_TEXT), user=TEXTER)
    assert answer.status == 500  # no 200: Slack shows the click failed
    [told] = t.fake.response_to(answer.response_url)
    assert "Please try again in a minute" in told.text()
    monkeypatch.undo()
    assert sms.sent == []
    wait_until(lambda: inbox_statuses(t.db) == {"done": 1})  # only the first command
    # Clicked again once the database is back: recorded, acked, sent.
    again = t.slack.click_button(card.button(ids.SEND_TEXT), user=TEXTER)
    assert again.status == 200
    t.fake.response_to(again.response_url)
    assert [s.to_cell for s in sms.sent] and len(sms.sent) == 1
    wait_until(lambda: inbox_statuses(t.db) == {"done": 2})
    assert card_contact(card) == contact_id


def _socket_mode_command(user: str, response_url: str) -> BoltRequest:
    """A slash command as Bolt's Socket Mode adapter dispatches it (no signature)."""
    body = {
        "command": ids.CMD_SEND_FIRST_TEXTS,
        "text": "",
        "user_id": user,
        "team_id": TEAM,
        "channel_id": "C0GENERAL",
        "response_url": response_url,
        "trigger_id": "trigger.sm",
        "api_app_id": APP_ID,
    }
    return BoltRequest(body=body, mode="socket_mode")


def test_socket_mode_requests_are_recorded_before_the_ack(
    texting_slack: SlackHarness, sms, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=2)
    app = t.slack.app
    # Not recorded: no 200, so the adapter sends no ack over the socket.
    monkeypatch.setattr(core_inbox, "record", _outage)
    refused_url = t.slack.new_response_url()
    assert app.dispatch(_socket_mode_command(TEXTER, refused_url)).status != 200
    monkeypatch.undo()
    assert inbox_statuses(t.db) == {}
    # Recorded, acked, then worked by the inbox, answering on its response_url.
    url = t.slack.new_response_url()
    assert app.dispatch(_socket_mode_command(TEXTER, url)).status == 200
    assert inbox_statuses(t.db) in ({"pending": 1}, {"running": 1}, {"done": 1})
    [reply] = t.fake.response_to(url)
    assert "your direct messages with me" in reply.text()
    wait_until(lambda: inbox_statuses(t.db) == {"done": 1})
