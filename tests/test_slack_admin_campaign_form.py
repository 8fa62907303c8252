"""/campaign create, edit and copy over Slack's protocol: the form, its inline errors (the
script check under the script field), what is saved, and the confirmations."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot import ids
from core.models import Campaign, CampaignContact
from tests.support.admin import ADMIN, modal_values, run, select_option, submit, team
from tests.support.admin import text_value as typed
from tests.support.slack_harness import SlackHarness
from tests.support.world import make_texter


def opened_modal(slack: SlackHarness, text: str, count: int = 1, user: str = ADMIN) -> dict:
    answer = slack.command("/campaign", text, user=user)
    assert answer.status == 200 and answer.seconds < 3
    opened = slack.fake.wait_for(lambda c: c.method == "views.open", count)[count - 1]
    view = opened.params["view"]
    return view if isinstance(view, dict) else json.loads(view)


def stored(slack: SlackHarness, campaign_id: int) -> Campaign:
    with slack.db.uow(read_only=True) as uow:
        campaign = uow.session.get(Campaign, campaign_id)
        assert campaign is not None
        uow.session.expunge(campaign)
        return campaign


def campaign_ids(slack: SlackHarness) -> list[int]:
    with slack.db.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Campaign.id).order_by(Campaign.id)))


def view_text(answer: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in answer["view"]["blocks"] if "text" in b)


def test_create_opens_a_form_with_spokes_defaults_and_saves(slack: SlackHarness) -> None:
    world = team(slack, contacts=0)
    view = opened_modal(slack, "create")
    assert view["callback_id"] == ids.ADMIN_CREATE_MODAL
    values = modal_values(view)
    assert values[ids.CAMPAIGN_FIELD_TEXTING_HOURS]["value"] == "9-21"
    assert values[ids.CAMPAIGN_FIELD_TIMEZONE]["value"] == "America/New_York"
    assert values[ids.CAMPAIGN_FIELD_BATCH_SIZE]["value"] == "200"

    # Invalid fields come back under each field, and nothing is created.
    bad = {
        **values,
        ids.CAMPAIGN_FIELD_TITLE: typed(" "),
        ids.CAMPAIGN_FIELD_SCRIPT: typed("Hi {firstName}"),
        ids.CAMPAIGN_FIELD_TEXTING_HOURS: typed("21-9"),
        ids.CAMPAIGN_FIELD_TIMEZONE: typed("Mars/Base"),
        ids.CAMPAIGN_FIELD_BATCH_SIZE: typed("²"),
    }
    before = campaign_ids(slack)
    answer = submit(slack, ids.ADMIN_CREATE_MODAL, "", bad)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        ids.CAMPAIGN_FIELD_TITLE,
        ids.CAMPAIGN_FIELD_TEXTING_HOURS,
        ids.CAMPAIGN_FIELD_TIMEZONE,
        ids.CAMPAIGN_FIELD_BATCH_SIZE,
    }
    assert campaign_ids(slack) == before

    good = {
        **values,
        ids.CAMPAIGN_FIELD_TITLE: typed("Early vote"),
        ids.CAMPAIGN_FIELD_DESCRIPTION: typed("Remind people of early voting"),
        ids.CAMPAIGN_FIELD_SCRIPT: typed("Hi {firstName}, vote early at {site}!"),
        ids.CAMPAIGN_FIELD_STRATEGY: select_option("vetted-texters"),
        ids.CAMPAIGN_FIELD_BATCH_SIZE: typed("50"),
    }
    answer = submit(slack, ids.ADMIN_CREATE_MODAL, "", good)
    assert answer["response_action"] == "update"
    (new_id,) = set(campaign_ids(slack)) - set(before)
    campaign = stored(slack, new_id)
    assert campaign.organization_id == world.org_id
    assert (campaign.title, campaign.batch_size) == ("Early vote", 50)
    assert campaign.description == "Remind people of early voting"
    assert (campaign.texting_hours_start, campaign.texting_hours_end) == (9, 21)
    assert campaign.batch_strategies == ["vetted-texters"]
    assert campaign.is_started is False
    said = view_text(answer)
    assert f"Campaign *{new_id}*" in said
    assert f"`import {new_id}`" in said and f"`/campaign launch {new_id}`" in said
    assert "9 AM\N{EN DASH}9 PM America/New_York" in said
    assert "{site}" in said  # before any import, an unknown field is a warning naming it
    assert "Hi [firstName], vote early at [site]!" in said


def test_only_admins_create(slack: SlackHarness) -> None:
    world = team(slack, contacts=0)
    answer = slack.command("/campaign", "create", user="UT000")
    assert answer.status == 200
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "Only an admin" in reply.text()
    assert not [c for c in slack.fake.calls if c.method == "views.open"]
    assert world.campaign_id in campaign_ids(slack)
    edit = run(slack, f"edit {world.campaign_id}", user="UT000")
    assert "Only an admin" in edit.text()
    # A forged submission by a texter saves nothing either.
    forged = submit(
        slack,
        ids.ADMIN_EDIT_MODAL,
        str(world.campaign_id),
        {
            ids.CAMPAIGN_FIELD_TITLE: typed("Hijacked"),
            ids.CAMPAIGN_FIELD_SCRIPT: typed("Hi"),
            ids.CAMPAIGN_FIELD_BATCH_SIZE: typed("5"),
            ids.CAMPAIGN_FIELD_TEXTING_HOURS: typed("any"),
            ids.CAMPAIGN_FIELD_TIMEZONE: typed("UTC"),
        },
        user="UT000",
    )
    assert forged["response_action"] == "errors"
    assert stored(slack, world.campaign_id).title == "GOTV"
    before = campaign_ids(slack)
    values = {
        ids.CAMPAIGN_FIELD_TITLE: typed("Mine"),
        ids.CAMPAIGN_FIELD_SCRIPT: typed("Hi"),
        ids.CAMPAIGN_FIELD_BATCH_SIZE: typed("5"),
        ids.CAMPAIGN_FIELD_TEXTING_HOURS: typed("9-21"),
        ids.CAMPAIGN_FIELD_TIMEZONE: typed("UTC"),
    }
    forged = submit(slack, ids.ADMIN_CREATE_MODAL, "", values, user="UT000")
    assert "Only an admin" in forged["errors"][ids.CAMPAIGN_FIELD_TITLE]
    assert campaign_ids(slack) == before
    assert not [c for c in slack.fake.calls if c.method == "views.open"]


def test_edit_checks_the_script_against_the_contacts(slack: SlackHarness) -> None:
    world = team(slack, contacts=3, texting_hours="9-21")
    view = opened_modal(slack, f"edit {world.campaign_id}")
    assert view["callback_id"] == ids.ADMIN_EDIT_MODAL
    assert view["private_metadata"] == str(world.campaign_id)
    values = modal_values(view)
    assert values[ids.CAMPAIGN_FIELD_TITLE]["value"] == "GOTV"
    assert values[ids.CAMPAIGN_FIELD_TEXTING_HOURS]["value"] == "9-21"

    typo = {**values, ids.CAMPAIGN_FIELD_SCRIPT: typed("Hi {frstName}!")}
    answer = submit(slack, ids.ADMIN_EDIT_MODAL, str(world.campaign_id), typo)
    assert answer["response_action"] == "errors"
    error = answer["errors"][ids.CAMPAIGN_FIELD_SCRIPT]
    assert "{frstName}" in error and "{firstName}" in error and "{texterFirstName}" in error
    assert stored(slack, world.campaign_id).script.startswith("Hi {firstName}")

    fixed = {
        **values,
        ids.CAMPAIGN_FIELD_TITLE: typed("GOTV (fixed)"),
        ids.CAMPAIGN_FIELD_SCRIPT: typed("Hello {firstName} {lastName}"),
        ids.CAMPAIGN_FIELD_TEXTING_HOURS: typed("any"),
        ids.CAMPAIGN_FIELD_TIMEZONE: typed("America/Chicago"),
    }
    answer = submit(slack, ids.ADMIN_EDIT_MODAL, str(world.campaign_id), fixed)
    assert answer["response_action"] == "update"
    campaign = stored(slack, world.campaign_id)
    assert campaign.title == "GOTV (fixed)"
    assert campaign.script == "Hello {firstName} {lastName}"
    assert campaign.texting_hours_start is None and campaign.timezone == "America/Chicago"
    said = view_text(answer)
    assert "Hello Contact0 Test" in said  # the first contact's text
    assert "any time (no texting hours)" in said


def test_edit_keeps_strategies_it_does_not_show(slack: SlackHarness) -> None:
    world = team(slack, strategies=["finished-replies", "vetted-takeconversations"])
    values = modal_values(opened_modal(slack, f"edit {world.campaign_id}"))
    assert values[ids.CAMPAIGN_FIELD_STRATEGY]["selected_option"]["value"] == "finished-replies"
    submit(slack, ids.ADMIN_EDIT_MODAL, str(world.campaign_id), values)
    assert stored(slack, world.campaign_id).batch_strategies == [
        "finished-replies",
        "vetted-takeconversations",
    ]
    values[ids.CAMPAIGN_FIELD_STRATEGY] = select_option("vetted-texters")
    submit(slack, ids.ADMIN_EDIT_MODAL, str(world.campaign_id), values)
    assert stored(slack, world.campaign_id).batch_strategies == [
        "vetted-texters",
        "vetted-takeconversations",
    ]


def test_edit_of_an_unknown_campaign_is_not_found(slack: SlackHarness) -> None:
    world = team(slack)
    make_texter(slack.db, world.org_id, "UT999")
    answer = slack.command("/campaign", "edit 99999", user=ADMIN)
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "no campaign with id 99999" in reply.text()
    stale = submit(slack, ids.ADMIN_EDIT_MODAL, "99999", {ids.CAMPAIGN_FIELD_TITLE: typed("x")})
    assert stale["response_action"] == "errors"


def test_copy_makes_a_fresh_unlaunched_campaign(slack: SlackHarness) -> None:
    world = team(slack, contacts=5, texting_hours="8-20", batch_size=30)
    reply = run(slack, f"copy {world.campaign_id}")
    (copy_id,) = set(campaign_ids(slack)) - {world.campaign_id}
    assert f"campaign *{copy_id}*" in reply.text()
    assert f"`import {copy_id}`" in reply.text()
    original, copy = stored(slack, world.campaign_id), stored(slack, copy_id)
    assert copy.script == original.script and copy.batch_size == 30
    assert (copy.texting_hours_start, copy.texting_hours_end) == (8, 20)
    assert copy.is_started is False and copy.join_token != original.join_token
    with slack.db.uow(read_only=True) as uow:
        count = uow.session.scalar(
            select(func.count()).where(CampaignContact.campaign_id == copy_id)
        )
    assert count == 0
    refused = run(slack, f"copy {world.campaign_id}", user="UT000")
    assert "Only an admin" in refused.text()


def test_stats_and_launch_say_the_texting_hours_and_the_first_text(slack: SlackHarness) -> None:
    world = team(slack, contacts=2, started=False, texting_hours="9-21")
    assert (
        "Texting hours: 9 AM\N{EN DASH}9 PM America/New_York"
        in run(slack, f"stats {world.campaign_id}").text()
    )
    with slack.db.uow() as uow:
        uow.session.get(Campaign, world.campaign_id).script = "Hi {firstName} of {ward}"
        uow.commit()
    refused = run(slack, f"launch {world.campaign_id}")
    assert "{ward}" in refused.text() and "can't be launched" in refused.text()
    assert stored(slack, world.campaign_id).is_started is False
    with slack.db.uow() as uow:
        uow.session.get(Campaign, world.campaign_id).script = "Hi {firstName}"
        uow.commit()
    launched = run(slack, f"launch {world.campaign_id}")
    assert "is launched" in launched.text() and "Hi Contact0" in launched.text()
    assert stored(slack, world.campaign_id).is_started is True


def test_an_edited_script_reaches_first_texts_not_yet_sent(slack: SlackHarness) -> None:
    from core.services.batches import request_batch
    from tests.support.card import card_offered

    world = team(slack, contacts=3)
    texter = world.texters["UT000"]
    result = request_batch(slack.db, world.campaign_id, texter)
    values = modal_values(opened_modal(slack, f"edit {world.campaign_id}"))
    values[ids.CAMPAIGN_FIELD_SCRIPT] = typed("New words for {firstName}")
    assert (
        submit(slack, ids.ADMIN_EDIT_MODAL, str(world.campaign_id), values)["response_action"]
        == "update"
    )
    assert result.eligibility.assignment_id is not None
    card = card_offered(slack.db, world.campaign_id, "UT000")
    assert card is not None and card.text == "New words for Contact0"


def test_stats_count_texted_then_opted_out_as_sent(slack: SlackHarness) -> None:
    from core.services.batches import request_batch
    from core.statuses import MessageStatus
    from tests.support.world import set_status

    world = team(slack, contacts=10)
    sent = request_batch(slack.db, world.campaign_id, world.texters["UT000"], 4).contact_ids
    set_status(slack.db, sent, MessageStatus.MESSAGED)
    with slack.db.uow() as uow:
        uow.session.get(CampaignContact, sent[0]).is_opted_out = True
        uow.commit()
    text = run(slack, f"stats {world.campaign_id}").text()
    assert "(4 of 10)" in text
    assert "Opted out: 1 (1 after their first text, counted as sent)" in text
