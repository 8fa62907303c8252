"""Replies a texter can reach: links on the batch card's refusal, Done For Now and in the
DM's answers to top-level messages; a failed answer's Retry; the thread's state in place."""

from __future__ import annotations

from bot import ids
from core.statuses import MessageStatus
from tests.support.texting import (
    TEXTER,
    card_contact,
    click,
    contact,
    dm_event,
    first_card,
    wait_until,
    world,
)

DM = "D" + TEXTER


def replied(t, simulate, text: str = "Who is this?"):
    """Send the first card's contact their text and have them reply: (contact, thread ts,
    the card after the send)."""
    card = first_card(t)
    contact_id = card_contact(card)
    after = click(t, card, ids.SEND_TEXT)
    simulate(contact(t.db, contact_id).cell, text)
    posted = t.fake.wait_for(lambda c: c.method == "chat.postMessage" and text in c.text())[0]
    return contact_id, posted.params["thread_ts"], after


def link_of(thread_ts: str) -> str:
    return f"https://example.slack.com/archives/{DM}/p{thread_ts.replace('.', '')}"


def urls(call) -> list[str]:
    return [b["accessory"]["url"] for b in call.blocks() if b.get("accessory", {}).get("url")]


def test_refusal_and_done_for_now_link_the_waiting_reply(texting_slack, sms, simulate) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=1)
    _, thread_ts, card = replied(t, simulate)
    assert {b["action_id"] for b in card.buttons()} == {ids.REQUEST_MORE, ids.DONE_FOR_NOW}
    refused = click(t, card, ids.REQUEST_MORE)
    assert "Finish your 1 reply first" in refused.text()
    # Request More can't succeed now: not offered; the reply is one click away.
    assert {b["action_id"] for b in refused.buttons()} == {ids.DONE_FOR_NOW}
    assert urls(refused) == [link_of(thread_ts)]
    assert "“Who is this?”" in refused.text()
    done = click(t, refused, ids.DONE_FOR_NOW)
    assert "still waiting for you" in done.text() and urls(done) == [link_of(thread_ts)]
    # Home lists it too, with its Open link.
    texting_slack.home_opened(TEXTER, event_id="EvHome")
    home = t.fake.wait_for(lambda c: c.method == "views.publish" and "Who is this?" in c.text())
    assert link_of(thread_ts) in urls(home[-1])


def test_top_level_dm_messages_get_an_answer(texting_slack, sms, simulate) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=1)
    dm_event(t, "hello? what do I do", channel=DM, thread_ts=None)
    nothing = t.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and "only pass on texts" in c.text()
    )[0]
    assert nothing.params["channel"] == DM and not nothing.params.get("thread_ts")
    assert "no replies are waiting" in nothing.text() and "/sendfirsttexts" in nothing.text()
    assert nothing.button(ids.SEND_FIRST_TEXTS)
    _, thread_ts, _ = replied(t, simulate)
    before = len(sms.sent)
    dm_event(t, "It's Ada! (typed in the wrong place)", channel=DM, thread_ts=None)
    answer = t.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and "reply in their thread" in c.text()
    )[0]
    assert "1 reply is waiting" in answer.text() and urls(answer) == [link_of(thread_ts)]
    assert len(sms.sent) == before  # nothing sent to anyone
    # A thread that isn't a conversation is answered in that thread.
    dm_event(t, "and here?", channel=DM, thread_ts="1600000000.000009")
    in_thread = t.fake.wait_for(
        lambda c: (
            c.params.get("thread_ts") == "1600000000.000009" and "reply in their thread" in c.text()
        )
    )
    assert in_thread


def test_failed_answer_says_so_with_retry_and_state_updates(texting_slack, sms, simulate) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2)
    contact_id, thread_ts, _ = replied(t, simulate)
    sms.fail_with = "carrier unreachable"
    dm_event(t, "Hi, it's Ada", channel=DM, thread_ts=thread_ts)
    failed = t.fake.wait_for(
        lambda c: c.params.get("thread_ts") == thread_ts and "not sent" in c.text()
    )[0]
    assert "carrier unreachable" in failed.text()
    assert contact(t.db, contact_id).message_status == MessageStatus.NEEDS_RESPONSE.value
    sms.fail_with = None
    retried = click(t, failed, ids.THREAD_RETRY)
    assert "Sent to Contact0 on retry" in retried.text()
    assert sms.sent[-1].body == "Hi, it's Ada"
    wait_until(lambda: contact(t.db, contact_id).message_status == MessageStatus.CONVO.value)
    answered = t.fake.wait_for(lambda c: c.method == "chat.update" and "Answered" in c.text())
    assert answered[0].params["ts"] == thread_ts
    # STOP: the root says "opted out" in place.
    simulate(contact(t.db, contact_id).cell, "STOP")
    opted = t.fake.wait_for(lambda c: c.method == "chat.update" and "Opted out" in c.text())
    assert opted[0].params["ts"] == thread_ts and not opted[0].buttons()
