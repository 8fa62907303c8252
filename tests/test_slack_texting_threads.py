"""Replies as DM threads per contact, the texter's threaded answers, Close and Opt out."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot import ids
from bot.cli import cli
from core.statuses import MessageStatus
from tests.support.slack_harness import Call
from tests.support.texting import (
    TEXTER,
    Texting,
    card_contact,
    click,
    contact,
    dm_event,
    first_card,
    messages_of,
    wait_until,
    world,
)

DM = "D" + TEXTER


def sent_one(t: Texting) -> int:
    """Send the first card's contact their first text; its id."""
    card = first_card(t)
    contact_id = card_contact(card)
    click(t, card, ids.SEND_TEXT)
    return contact_id


def dm_posts(t: Texting) -> list[Call]:
    return [c for c in t.fake.of("chat.postMessage") if c.params.get("channel") == DM]


def thread_posts(t: Texting, thread_ts: str) -> list[Call]:
    return [c for c in dm_posts(t) if c.params.get("thread_ts") == thread_ts]


def roots(t: Texting) -> list[Call]:
    """Conversation roots: DM posts outside a thread, other than the send card."""
    return [
        c
        for c in dm_posts(t)
        if not c.params.get("thread_ts")
        and ids.SEND_TEXT not in {b.get("action_id") for b in c.buttons()}
    ]


def in_thread(t: Texting, text: str, count: int = 1) -> list[Call]:
    return t.fake.wait_for(
        lambda c: (
            c.method == "chat.postMessage" and bool(c.params.get("thread_ts")) and text in c.text()
        ),
        count,
    )


def reply_post(t: Texting, text: str) -> Call:
    [call] = t.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and text in c.text() and c.params.get("thread_ts")
    )
    return call


def test_replies_thread_per_contact_and_answers_become_sms(texting_slack, sms, simulate) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=3)
    contact_id = sent_one(t)
    cell = contact(t.db, contact_id).cell
    output = simulate(cell, "Who is this?")
    assert "notified in Slack" in output
    first = reply_post(t, "Contact0 replied:")
    thread_ts = first.params["thread_ts"]
    assert "Who is this?" in first.text()
    [root] = roots(t)
    assert "Conversation with Contact0 Test" in root.text() and "GOTV" in root.text()
    assert "Hi Contact0, it's Ada" in root.text()  # the history so far
    assert {b["action_id"] for b in root.buttons()} == {ids.THREAD_CLOSE, ids.THREAD_OPT_OUT}
    assert root.button(ids.THREAD_OPT_OUT).get("confirm")
    assert contact(t.db, contact_id).message_status == MessageStatus.NEEDS_RESPONSE.value

    # The texter answers in the thread: an SMS, and the contact is in conversation.
    answer = dm_event(
        t, "It's Ada from the campaign &amp; friends", channel=DM, thread_ts=thread_ts
    )
    assert answer.status == 200 and answer.seconds < 3
    # Confirmed in place: a ✅ on the texter's message and the root says "answered".
    [mark] = t.fake.wait_for(lambda c: c.method == "reactions.add")
    assert mark.params["name"] == "white_check_mark" and mark.params["channel"] == DM
    [update] = t.fake.wait_for(lambda c: c.method == "chat.update")
    assert update.params["ts"] == thread_ts and "Answered" in update.text()
    assert not [c for c in thread_posts(t, thread_ts) if "Sent to" in c.text()]
    assert sms.sent[-1].body == "It's Ada from the campaign & friends"
    assert sms.sent[-1].to_cell == cell
    assert contact(t.db, contact_id).message_status == MessageStatus.CONVO.value

    # A second reply lands in the same thread; no new root.
    simulate(cell, "Oh hi Ada")
    again = reply_post(t, "Oh hi Ada")
    assert again.params["thread_ts"] == thread_ts
    assert len(roots(t)) == 1


def test_retried_event_sends_once_and_strangers_are_ignored(texting_slack, sms, simulate) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2)
    contact_id = sent_one(t)
    simulate(contact(t.db, contact_id).cell, "Hello?")
    thread_ts = reply_post(t, "Hello?").params["thread_ts"]
    before = len(sms.sent)
    for _ in range(3):  # Slack's retries carry the same event id
        dm_event(t, "Hi!", channel=DM, thread_ts=thread_ts, event_id="EvSAME")
    t.fake.wait_for(lambda c: c.method == "reactions.add")
    # Not answers: outside any thread, in an unknown thread, from a bot, a file share.
    dm_event(t, "top level", channel=DM, thread_ts=None)
    dm_event(t, "unknown thread", channel=DM, thread_ts="1600000000.000001")
    dm_event(t, "bot echo", channel=DM, thread_ts=thread_ts, bot_id="B0SPOKEBOT")
    dm_event(t, "a csv", channel=DM, thread_ts=thread_ts, subtype="file_share")
    marker = dm_event(t, "last one", channel=DM, thread_ts=thread_ts)
    assert marker.status == 200
    # The SMS leaves inside the send's transaction: wait for the commit, not the send.
    wait_until(lambda: len(messages_of(t.db, contact_id)) >= 4)
    assert [s.body for s in sms.sent[before:]] == ["Hi!", "last one"]
    assert len(messages_of(t.db, contact_id)) == 4  # first text, reply, two answers


def test_close_and_opt_out_buttons_on_the_thread(texting_slack, sms, simulate) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2)
    first_card_call = first_card(t)
    closing = card_contact(first_card_call)
    card = click(t, first_card_call, ids.SEND_TEXT)
    opting = card_contact(card)
    click(t, card, ids.SEND_TEXT)
    simulate(contact(t.db, closing).cell, "Thanks, already voted")
    t.fake.wait_for(lambda c: "already voted" in c.text() and c.params.get("thread_ts"))
    simulate(contact(t.db, opting).cell, "Don't text me")
    t.fake.wait_for(lambda c: "Don't text me" in c.text() and c.params.get("thread_ts"))
    root_close, root_opt = roots(t)

    closed = click(t, root_close, ids.THREAD_CLOSE)
    assert closed.params["replace_original"] is True
    assert "Closed" in closed.text()
    assert contact(t.db, closing).message_status == MessageStatus.CLOSED.value
    assert ids.THREAD_CLOSE not in {b["action_id"] for b in closed.buttons()}

    opted = click(t, root_opt, ids.THREAD_OPT_OUT)
    assert "Opted out" in opted.text() and not opted.buttons()
    assert contact(t.db, opting).is_opted_out
    # An answer to an opted-out contact is refused in the thread, nothing sent.
    before = len(sms.sent)
    thread_ts = next(c for c in dm_posts(t) if "Don't text me" in c.text()).params["thread_ts"]
    dm_event(t, "Sorry!", channel=DM, thread_ts=thread_ts)
    t.fake.wait_for(lambda c: "opted out; they can't be texted again" in c.text())
    assert len(sms.sent) == before


def test_stop_keyword_opts_out_and_tells_the_texter(texting_slack, sms, simulate) -> None:
    t = world(texting_slack, sms, contacts=1, batch_size=1)
    contact_id = sent_one(t)
    output = simulate(contact(t.db, contact_id).cell, "STOP")
    assert "opted out" in output
    notice = t.fake.wait_for(lambda c: "is now opted out" in c.text())[0]
    assert notice.params["channel"] == DM and notice.params.get("thread_ts")
    assert contact(t.db, contact_id).is_opted_out


def test_simulate_reply_without_slack_only_stores(
    texting_slack, sms, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = world(texting_slack, sms, contacts=1, batch_size=1)
    contact_id = sent_one(t)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(
        cli, ["sms", "simulate-reply", contact(t.db, contact_id).cell, "hi"]
    )
    assert result.exit_code == 0 and "notified" not in result.output
    assert contact(t.db, contact_id).message_status == MessageStatus.NEEDS_RESPONSE.value
    assert roots(t) == []
