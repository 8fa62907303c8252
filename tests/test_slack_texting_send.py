"""The send card through the Slack protocol: one contact at a time, replaced in place."""

from __future__ import annotations

import threading

from sqlalchemy import select

from bot import ids
from core.models import CampaignContact
from core.statuses import MessageStatus
from tests.support.slack_harness import SlackHarness
from tests.support.texting import (
    TEXTER,
    card_contact,
    click,
    contact,
    first_card,
    messages_of,
    world,
)


def test_send_every_contact_then_request_more(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=5, batch_size=3)
    card = first_card(t)
    assert "You got 3 first texts in *GOTV*" in card.text()
    assert "Hi Contact0, it's Ada. Are you in ward ?" in card.text()  # missing field: empty
    assert "{" not in card.text()
    assert {b["action_id"] for b in card.buttons()} == {
        ids.SEND_TEXT,
        ids.SKIP_CONTACT,
        ids.OPT_OUT_CONTACT,
        ids.EDIT_TEXT,
    }
    assert card.button(ids.OPT_OUT_CONTACT).get("confirm")
    block_ids = set()
    sent_to = []
    for _ in range(3):
        contact_id = card_contact(card)
        block_ids |= {b.get("block_id") for b in card.blocks() if b["type"] == "actions"}
        card = click(t, card, ids.SEND_TEXT)
        assert card.params["replace_original"] is True  # the same message, replaced
        sent_to.append(contact_id)
        assert contact(t.db, contact_id).message_status == MessageStatus.MESSAGED.value
    assert len(block_ids) == 3  # a fresh block_id per render
    assert [s.to_cell for s in sms.sent] == [contact(t.db, c).cell for c in sent_to]
    assert sms.sent[0].body == "Hi Contact0, it's Ada. Are you in ward ?"
    # The batch is done: Request More / Done For Now in the card's place.
    assert "no first texts left to send" in card.text()
    assert {b["action_id"] for b in card.buttons()} == {ids.REQUEST_MORE, ids.DONE_FOR_NOW}
    card = click(t, card, ids.REQUEST_MORE)
    assert "You got 2 first texts" in card.text()
    assert card_contact(card) not in sent_to
    for _ in range(2):
        card = click(t, card, ids.SEND_TEXT)
    assert len(sms.sent) == 5
    assert "no first texts left to send" in card.text()


def test_skip_keeps_the_contact_for_later(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=2)
    card = first_card(t)
    skipped = card_contact(card)
    card = click(t, card, ids.SKIP_CONTACT)
    assert "Skipped" in card.text()
    other = card_contact(card)
    assert other != skipped
    card = click(t, card, ids.SEND_TEXT)
    # Only the skipped one is left: the card says so and offers a way on, never a loop.
    assert "You still hold 1 first text in *GOTV*" in card.text()
    assert "You skipped 1 of them." in card.text()
    assert [b["action_id"] for b in card.buttons()] == [
        ids.CARD_RESTART,
        ids.DONE_FOR_NOW,
        ids.RELEASE_HELD,
    ]
    assert contact(t.db, skipped).message_status == MessageStatus.NEEDS_MESSAGE.value
    card = click(t, card, ids.CARD_RESTART)
    assert card_contact(card) == skipped  # it comes back once asked
    card = click(t, card, ids.SEND_TEXT)
    assert len(sms.sent) == 2
    assert "no first texts left to send" in card.text()


def test_release_the_skipped_ones(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=2)
    card = first_card(t)
    held = [card_contact(card)]
    card = click(t, card, ids.SKIP_CONTACT)
    held.append(card_contact(card))
    card = click(t, card, ids.SKIP_CONTACT)
    assert "You skipped 2 of them." in card.text()
    release = card.button(ids.RELEASE_HELD)
    assert release["confirm"]["confirm"]["text"] == "Release them"
    card = click(t, card, ids.RELEASE_HELD)
    assert "Released 2 first texts back to the pool." in card.text()
    assert ids.REQUEST_MORE in {b["action_id"] for b in card.buttons()}
    assert all(contact(t.db, c).assignment_id is None for c in held)
    # Done for now keeps them: a new batch, both skipped, then Done for now.
    card = first_card(t)
    card = click(t, click(t, card, ids.SKIP_CONTACT), ids.SKIP_CONTACT)
    done = click(t, card, ids.DONE_FOR_NOW)
    assert "stay yours" in done.text() and "/sendfirsttexts" in done.text()
    assert held_by_texter(t) == 2


def held_by_texter(t) -> int:
    with t.db.uow(read_only=True) as uow:
        return len(
            uow.session.scalars(
                select(CampaignContact.id).where(CampaignContact.assignment_id == t.assignment_id)
            ).all()
        )


def test_opt_out_from_the_card(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2)
    card = first_card(t)
    opted = card_contact(card)
    card = click(t, card, ids.OPT_OUT_CONTACT)
    assert "opted out" in card.text()
    assert contact(t.db, opted).is_opted_out
    assert card_contact(card) != opted
    card = click(t, card, ids.SEND_TEXT)
    assert [s.to_cell for s in sms.sent] != [contact(t.db, opted).cell]
    assert len(sms.sent) == 1
    assert "no first texts left" in card.text()


def test_a_stale_send_click_does_not_send_twice(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=3)
    card = first_card(t)
    first = card_contact(card)
    click(t, card, ids.SEND_TEXT)
    again = click(t, card, ids.SEND_TEXT)  # the old card's button, clicked again
    assert "already been sent their first text" in again.text()
    assert card_contact(again) != first
    assert len(sms.sent) == 1
    assert len(messages_of(t.db, first)) == 1


def test_double_click_at_once_sends_once(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=3)
    card = first_card(t)
    first = card_contact(card)
    button = card.button(ids.SEND_TEXT)
    answers = []

    def go() -> None:
        answers.append(t.slack.click_button(button, user=TEXTER))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for answer in answers:
        t.fake.response_to(answer.response_url)
    assert len(sms.sent) == 1
    assert len(messages_of(t.db, first)) == 1


def test_provider_failure_shows_retry_and_keeps_the_contact(
    texting_slack: SlackHarness, sms
) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2)
    sms.fail_with = "carrier unreachable"
    card = first_card(t)
    failed = card_contact(card)
    card = click(t, card, ids.SEND_TEXT)
    assert "not sent" in card.text() and "carrier unreachable" in card.text()
    assert card_contact(card) == failed
    assert {b["action_id"] for b in card.buttons()} >= {ids.RETRY_SEND, ids.SKIP_CONTACT}
    row = contact(t.db, failed)
    assert row.message_status == MessageStatus.NEEDS_MESSAGE.value
    assert row.assignment_id == t.assignment_id
    assert messages_of(t.db, failed)[-1].status == "failed"
    sms.fail_with = None
    card = click(t, card, ids.RETRY_SEND)
    assert "Sent to Contact" in card.text()
    assert contact(t.db, failed).message_status == MessageStatus.MESSAGED.value
    assert len(sms.sent) == 1


def test_another_texters_click_sends_nothing(texting_slack: SlackHarness, sms) -> None:
    from tests.support.world import make_assignment, make_texter

    t = world(texting_slack, sms, contacts=2, batch_size=2)
    card = first_card(t)
    other = make_texter(t.db, t.org_id, "UOTHER")
    make_assignment(t.db, t.campaign_id, other)
    answer = click(t, card, ids.SEND_TEXT, user="UOTHER")
    assert "not assigned to you" in answer.text()
    assert sms.sent == []
