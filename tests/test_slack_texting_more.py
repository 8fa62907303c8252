"""The rest of the texting loop in Slack: Edit, texting hours, taken conversations, the Home
tab, and rendering (missing fields, Block Kit limits)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from bot import ids
from bot.cli import cli
from bot.render import send_card as cards
from bot.render import threads as thread_render
from bot.render.common import (
    MAX_BUTTON_TEXT,
    MAX_CONTEXT_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
)
from core.models import Campaign, CampaignContact
from core.roles import Role
from core.services.batches import Eligibility
from core.services.send_card import SendCard
from core.services.texting import MessageView, Thread
from core.statuses import MessageStatus
from tests.support.slack_harness import BOT_TOKEN, SlackHarness
from tests.support.texting import (
    TEXTER,
    Texting,
    card_contact,
    click,
    contact,
    dm_event,
    first_card,
    submit_view,
    world,
)
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter


def _settings(t: Texting, **settings: object) -> None:
    with t.db.uow() as uow:
        campaign = uow.session.get(Campaign, t.campaign_id)
        assert campaign is not None
        campaign.settings = {**(campaign.settings or {}), **settings}
        uow.commit()


# ---------------------------------------------------------------------------- Edit


def test_edit_changes_this_one_message(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2)
    card = first_card(t)
    edited = card_contact(card)
    answer = texting_slack.click_button(card.button(ids.EDIT_TEXT), user=TEXTER)
    [opened] = t.fake.wait_for(lambda c: c.method == "views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == ids.EDIT_TEXT_MODAL
    assert "Hi Contact0, it's Ada" in json.dumps(view)  # prefilled with the rendered text
    values = {
        ids.EDIT_TEXT_BLOCK: {
            ids.EDIT_TEXT_INPUT: {"type": "plain_text_input", "value": "Hey Contact0! Ada here."}
        }
    }
    assert submit_view(t, view, values).status == 200
    # The card the Edit came from moves on to the next contact.
    moved = t.fake.response_to(answer.response_url)[0]
    assert moved.params["replace_original"] is True
    assert "Sent to Contact0" in moved.text()
    assert card_contact(moved) != edited
    assert [s.body for s in sms.sent] == ["Hey Contact0! Ada here."]
    assert contact(t.db, edited).message_status == MessageStatus.MESSAGED.value


def test_no_edit_button_when_the_campaign_forbids_it(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=1, batch_size=1)
    _settings(t, allow_edit_initial=False)
    card = first_card(t)
    assert ids.EDIT_TEXT not in {b["action_id"] for b in card.buttons()}


# ---------------------------------------------------------------------------- texting hours


def _closed_hours() -> str:
    """Texting hours (UTC) that exclude the current hour, with a margin either side."""
    start = (datetime.now(UTC).hour + 2) % 24
    return f"{start}-{start + 1}"


def test_outside_texting_hours_nothing_is_handed_out_and_no_card_is_a_dead_end(
    texting_slack: SlackHarness, sms
) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2, texting_hours=_closed_hours())
    with t.db.uow() as uow:
        campaign = uow.session.get(Campaign, t.campaign_id)
        assert campaign is not None
        campaign.timezone = "UTC"
        uow.commit()
    # Nobody can be texted now: the request assigns nothing and says when texting opens.
    answer = first_card(t)
    assert "Texting hours for GOTV are" in answer.text() and "UTC: you can send from" in (
        answer.text()
    )
    assert re.search(r", in [12] h", answer.text())  # opens in 1-2 hours
    assert all(contact(t.db, c).assignment_id is None for c in t.contact_ids)
    # Request More would fail until texting opens, so it isn't offered (issue 13's rule)
    assert {b["action_id"] for b in answer.buttons()} == {ids.DONE_FOR_NOW}

    # Contacts held from before closing: the card says so and offers keep or release.
    with t.db.uow() as uow:
        for contact_id in t.contact_ids:
            uow.session.get(CampaignContact, contact_id).assignment_id = t.assignment_id
        uow.commit()
    card = first_card(t)
    assert "You still hold 2 first texts in *GOTV*, but none you can send right now." in (
        card.text()
    )
    assert "2 contacts can't be texted now. Texting hours for GOTV are" in card.text()
    assert [b["action_id"] for b in card.buttons()] == [ids.DONE_FOR_NOW, ids.RELEASE_HELD]

    # A Send from a card shown while hours were open: refused, and the card says what's left.
    first = t.contact_ids[0]
    answer = texting_slack.click(
        ids.SEND_TEXT, ids.contact_value(t.campaign_id, first), user=TEXTER
    )
    moved = t.fake.response_to(answer.response_url)[0]
    assert "outside texting hours" in moved.text() and "(UTC)" in moved.text()
    assert "none you can send right now" in moved.text()
    assert sms.sent == []
    assert contact(t.db, first).message_status == MessageStatus.NEEDS_MESSAGE.value


# ---------------------------------------------------------------------------- taken conversations


def test_unowned_reply_waits_and_is_threaded_to_whoever_takes_it(
    texting_slack: SlackHarness, sms, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(texting_slack.db)
    campaign_id = make_campaign(
        texting_slack.db, org, strategies=["vetted-takeconversations"], batch_size=5
    )
    [released] = add_contacts(texting_slack.db, campaign_id, 1, status=MessageStatus.MESSAGED)
    user_id = make_texter(texting_slack.db, org, TEXTER, Role.VETTED_TEXTER)
    make_assignment(texting_slack.db, campaign_id, user_id)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", texting_slack.fake.api_url)
    cell = contact(texting_slack.db, released).cell
    result = CliRunner().invoke(cli, ["sms", "simulate-reply", cell, "Still there?"])
    assert result.exit_code == 0 and "no texter" in result.output
    assert not texting_slack.fake.of("chat.postMessage")  # nobody to tell yet

    answer = texting_slack.command(ids.CMD_SEND_FIRST_TEXTS, user=TEXTER)
    texting_slack.fake.response_to(answer.response_url)
    posted = texting_slack.fake.wait_for(lambda c: "Contact0 replied:" in c.text())[0]
    assert "Still there?" in posted.text() and posted.params["channel"] == "D" + TEXTER
    thread_ts = posted.params["thread_ts"]
    t = Texting(texting_slack, sms, org, campaign_id, user_id, 0, [released])
    dm_event(t, "Yes! Ada here.", channel="D" + TEXTER, thread_ts=thread_ts)
    texting_slack.fake.wait_for(lambda c: c.method == "reactions.add")
    assert sms.sent[-1].body == "Yes! Ada here."
    assert contact(t.db, released).message_status == MessageStatus.CONVO.value


# ---------------------------------------------------------------------------- Home tab


def test_request_more_from_home_sends_the_card_as_a_dm(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=3, batch_size=2)
    texting_slack.click(
        ids.REQUEST_MORE, ids.campaign_value(t.campaign_id), user=TEXTER, in_home=True
    )
    [dm] = t.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and c.params.get("channel") == "D" + TEXTER
    )
    assert "You got 2 first texts" in dm.text()
    card = click(t, dm, ids.SEND_TEXT)
    assert "Sent to Contact" in card.text() and len(sms.sent) == 1


# ---------------------------------------------------------------------------- rendering


def _card(**changes: object) -> SendCard:
    base = dict(
        contact_id=7,
        assignment_id=3,
        campaign_id=2,
        campaign_title="GOTV",
        first_name="",
        last_name="",
        cell="+12025550123",
        zip="",
        custom_fields={},
        text="Hi , are you in ward ?",
        can_edit=True,
        textable_now=True,
        textable_at=None,
        timezone="America/New_York",
        remaining=1,
    )
    base.update(changes)
    return SendCard(**base)  # type: ignore[arg-type]


def _within_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= MAX_SECTION_TEXT
        for element in block.get("elements", []):
            if block["type"] == "context":
                assert len(element["text"]) <= MAX_CONTEXT_TEXT
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= MAX_BUTTON_TEXT
                assert len(element["action_id"]) <= 255 and len(element["value"]) <= 2000
        assert len(block.get("block_id", "")) <= 255


def test_card_with_missing_fields_shows_no_braces_and_the_cell() -> None:
    reply = cards.send_card(_card())
    text = json.dumps(reply.blocks)
    assert "{" not in reply.text and "+12025550123" in text
    assert "Hi , are you in ward ?" in text
    _within_limits(reply.blocks)


def test_huge_cards_and_threads_stay_within_block_kit_limits() -> None:
    fields = {f"field{i}": "x" * 5000 for i in range(40)}
    card = _card(
        first_name="N" * 500,
        last_name="M" * 500,
        custom_fields=fields,
        text="y" * 1600,
        campaign_title="T" * 500,
        hours_note="z" * 5000,
        textable_now=False,
    )
    reply = cards.send_card(card, "n" * 5000, retry=True)
    _within_limits(reply.blocks)
    assert "…and 30 more fields" in json.dumps(reply.blocks, ensure_ascii=False)
    modal = cards.edit_modal(_card(text="y" * 1600), "https://hooks.slack.com/actions/T/1/x")
    _within_limits(modal["blocks"])
    assert len(modal["title"]["text"]) <= 24
    now = datetime.now(UTC)
    thread = Thread(
        contact_id=7,
        campaign_id=2,
        first_name="J" * 300,
        last_name="",
        cell="+12025550123",
        contact_status=MessageStatus.NEEDS_RESPONSE.value,
        is_opted_out=False,
        messages=tuple(
            MessageView(i, "inbound" if i % 2 else "outbound", "w" * 1600, "ok", None, None, now)
            for i in range(100)
        ),
    )
    root = thread_render.thread_root(thread, "T" * 500)
    _within_limits(root.blocks)
    _within_limits(thread_render.inbound("J" * 300, "w" * 5000).blocks)
    done = cards.batch_done(
        2, "T" * 500, Eligibility(2, 3, "finished-replies", None, waiting_replies=2), "n" * 5000
    )
    _within_limits(done.blocks)


def test_an_empty_edit_keeps_the_same_contact(texting_slack: SlackHarness, sms) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2)
    card = first_card(t)
    edited = card_contact(card)
    answer = texting_slack.click_button(card.button(ids.EDIT_TEXT), user=TEXTER)
    [opened] = t.fake.wait_for(lambda c: c.method == "views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    values = {
        ids.EDIT_TEXT_BLOCK: {ids.EDIT_TEXT_INPUT: {"type": "plain_text_input", "value": " "}}
    }
    assert submit_view(t, view, values).status == 200
    again = t.fake.response_to(answer.response_url)[0]
    assert "can't be empty" in again.text()
    assert card_contact(again) == edited
    assert sms.sent == []
