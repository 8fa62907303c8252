"""/campaign settings: the Assignment Management modal, saving, and inline validation."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from core.models import Campaign, Organization
from core.services.organizations import organization_settings
from tests.support.admin import (
    ADMIN,
    checked,
    choice,
    modal_values,
    run,
    select_option,
    submit,
    team,
    text_value,
)
from tests.support.slack_harness import SlackHarness
from tests.support.world import make_campaign, make_texter


def open_settings(slack: SlackHarness, campaign_id: int, count: int = 1) -> dict[str, Any]:
    answer = slack.command("/campaign", f"settings {campaign_id}", user=ADMIN)
    assert answer.status == 200
    opened = slack.fake.wait_for(lambda c: c.method == "views.open", count)[count - 1]
    assert opened.params["trigger_id"] == "trigger.1"
    view = opened.params["view"]
    return view if isinstance(view, dict) else json.loads(view)


def campaign_row(slack: SlackHarness, campaign_id: int) -> dict[str, Any]:
    with slack.db.uow(read_only=True) as uow:
        c = uow.session.get(Campaign, campaign_id)
        return {
            "dynamic": c.use_dynamic_assignment,
            "batch_size": c.batch_size,
            "strategies": c.batch_strategies,
            "settings": dict(c.settings or {}),
        }


def test_modal_shows_assignment_management(slack: SlackHarness) -> None:
    world = team(slack, batch_size=200)
    view = open_settings(slack, world.campaign_id)
    assert view["callback_id"] == ids.ADMIN_SETTINGS_MODAL
    assert view["private_metadata"] == str(world.campaign_id)
    assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100
    values = modal_values(view)
    assert values[ids.ADMIN_SETTING_DYNAMIC]["selected_option"]["value"] == "on"
    assert values[ids.ADMIN_SETTING_BATCH_SIZE]["value"] == "200"
    assert values[ids.ADMIN_SETTING_STRATEGY]["selected_option"]["value"] == "finished-replies"
    assert values[ids.ADMIN_SETTING_DONE_FOR_THE_DAY]["selected_option"]["value"] == "on"
    assert values[ids.ADMIN_SETTING_RELEASE_CONVERSATIONS]["selected_option"]["value"] == "off"
    assert values[ids.ADMIN_SETTING_MAX_TEXTERS]["value"] == ""
    strategy_block = next(
        b for b in view["blocks"] if b.get("block_id") == ids.ADMIN_SETTING_STRATEGY
    )
    offered = [o["value"] for o in strategy_block["element"]["options"]]
    assert offered == ["finished-replies", "vetted-texters", "all-texters", "finished-replies-tz"]
    # Submitting untouched saves the same values.
    before = campaign_row(slack, world.campaign_id)
    answer = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world.campaign_id), values)
    assert answer["response_action"] == "update"
    after = campaign_row(slack, world.campaign_id)
    assert after["dynamic"] == before["dynamic"] and after["batch_size"] == 200
    with slack.db.uow(read_only=True) as uow:  # defaults are not pinned into the org
        assert uow.session.get(Organization, world.org_id).settings == {}


def test_saving_every_field(slack: SlackHarness) -> None:
    world = team(slack)
    view = open_settings(slack, world.campaign_id)
    values = modal_values(view)
    values.update(
        {
            ids.ADMIN_SETTING_DYNAMIC: choice("off"),
            ids.ADMIN_SETTING_BATCH_SIZE: text_value("50"),
            ids.ADMIN_SETTING_STRATEGY: select_option("vetted-texters"),
            ids.ADMIN_SETTING_TAKE_CONVERSATIONS: checked("vetted-takeconversations"),
            ids.ADMIN_SETTING_REQUEST_LABEL: text_value("Get more texts"),
            ids.ADMIN_SETTING_REQUEST_MESSAGE: text_value("Thanks for texting!"),
            ids.ADMIN_SETTING_DONE_FOR_THE_DAY: choice("off"),
            ids.ADMIN_SETTING_RELEASE_CONVERSATIONS: choice("on"),
            ids.ADMIN_SETTING_MAX_TEXTERS: text_value("12"),
        }
    )
    answer = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world.campaign_id), values)
    assert answer["response_action"] == "update"
    assert "are saved" in json.dumps(answer["view"])
    row = campaign_row(slack, world.campaign_id)
    assert row["dynamic"] is False and row["batch_size"] == 50
    assert row["strategies"] == ["vetted-texters", "vetted-takeconversations"]
    assert row["settings"]["request_button_label"] == "Get more texts"
    assert row["settings"]["request_message"] == "Thanks for texting!"
    org = organization_settings(slack.db, world.org_id)
    assert org["DONE_FOR_THE_DAY_ENABLED"] is False
    assert org["RELEASE_CONVERSATIONS_ALLOWED"] is True
    assert org["MAX_TEXTERS_PER_CAMPAIGN"] == 12

    # The modal opens again on the saved values.
    again = modal_values(open_settings(slack, world.campaign_id, count=2))
    assert again[ids.ADMIN_SETTING_DYNAMIC]["selected_option"]["value"] == "off"
    assert again[ids.ADMIN_SETTING_STRATEGY]["selected_option"]["value"] == "vetted-texters"
    assert [
        o["value"] for o in again[ids.ADMIN_SETTING_TAKE_CONVERSATIONS]["selected_options"]
    ] == ["vetted-takeconversations"]
    assert again[ids.ADMIN_SETTING_MAX_TEXTERS]["value"] == "12"
    assert again[ids.ADMIN_SETTING_REQUEST_LABEL]["value"] == "Get more texts"


def test_invalid_values_shown_inline_nothing_saved(slack: SlackHarness) -> None:
    world = team(slack)
    view = open_settings(slack, world.campaign_id)
    values = modal_values(view)
    values.update(
        {
            ids.ADMIN_SETTING_DYNAMIC: choice("off"),  # valid, but must not be saved either
            ids.ADMIN_SETTING_BATCH_SIZE: text_value("lots"),
            ids.ADMIN_SETTING_REQUEST_LABEL: text_value("x" * 76),
            ids.ADMIN_SETTING_MAX_TEXTERS: text_value("-1"),
            ids.ADMIN_SETTING_DONE_FOR_THE_DAY: choice("off"),
        }
    )
    before = campaign_row(slack, world.campaign_id)
    org_before = organization_settings(slack.db, world.org_id)
    answer = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world.campaign_id), values)
    assert answer["response_action"] == "errors"
    errors = answer["errors"]
    assert set(errors) == {
        ids.ADMIN_SETTING_BATCH_SIZE,
        ids.ADMIN_SETTING_REQUEST_LABEL,
        ids.ADMIN_SETTING_MAX_TEXTERS,
    }
    assert "whole number of 1 or more" in errors[ids.ADMIN_SETTING_BATCH_SIZE]
    assert "1 to 75 characters" in errors[ids.ADMIN_SETTING_REQUEST_LABEL]
    assert "whole number of 0 or more" in errors[ids.ADMIN_SETTING_MAX_TEXTERS]
    assert campaign_row(slack, world.campaign_id) == before
    assert organization_settings(slack.db, world.org_id) == org_before

    for raw, words in (("0", "batch size must be 1 or more"), ("", "Give a batch size")):
        values[ids.ADMIN_SETTING_BATCH_SIZE] = text_value(raw)
        values[ids.ADMIN_SETTING_REQUEST_LABEL] = text_value("")
        values[ids.ADMIN_SETTING_MAX_TEXTERS] = text_value("")
        answer = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world.campaign_id), values)
        assert words in answer["errors"][ids.ADMIN_SETTING_BATCH_SIZE]
        assert campaign_row(slack, world.campaign_id) == before


def test_texter_cannot_open_or_submit(slack: SlackHarness) -> None:
    world = team(slack)
    make_texter(slack.db, world.org_id, "UPLAIN")
    reply = run(slack, f"settings {world.campaign_id}", user="UPLAIN")
    assert "Only an admin can do that." in reply.text()
    assert slack.fake.of("views.open") == []
    values = {
        ids.ADMIN_SETTING_DYNAMIC: choice("off"),
        ids.ADMIN_SETTING_BATCH_SIZE: text_value("5"),
        ids.ADMIN_SETTING_STRATEGY: select_option("all-texters"),
        ids.ADMIN_SETTING_DONE_FOR_THE_DAY: choice("off"),
        ids.ADMIN_SETTING_RELEASE_CONVERSATIONS: choice("off"),
    }
    before = campaign_row(slack, world.campaign_id)
    answer = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world.campaign_id), values, user="UPLAIN")
    assert answer["errors"] == {ids.ADMIN_SETTING_DYNAMIC: "Only an admin can do that."}
    assert campaign_row(slack, world.campaign_id) == before
    assert organization_settings(slack.db, world.org_id)["DONE_FOR_THE_DAY_ENABLED"] is True


def test_saving_keeps_strategies_the_form_does_not_show(slack: SlackHarness) -> None:
    # Set with the CLI: only the secondary strategy. The form shows it and keeps it.
    world = team(slack, strategies=["vetted-takeconversations"])
    view = open_settings(slack, world.campaign_id)
    values = modal_values(view)
    assert values[ids.ADMIN_SETTING_STRATEGY]["selected_option"]["value"] == (
        "vetted-takeconversations"
    )
    answer = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world.campaign_id), values)
    assert answer["response_action"] == "update"
    assert campaign_row(slack, world.campaign_id)["strategies"] == ["vetted-takeconversations"]

    # A list longer than the form: changing the primary keeps the rest.
    other = make_campaign(
        slack.db,
        world.org_id,
        strategies=["finished-replies", "all-texters", "vetted-takeconversations"],
    )
    view = open_settings(slack, other, count=2)
    values = modal_values(view)
    assert values[ids.ADMIN_SETTING_TAKE_CONVERSATIONS]["selected_options"]
    values[ids.ADMIN_SETTING_STRATEGY] = select_option("vetted-texters")
    submit(slack, ids.ADMIN_SETTINGS_MODAL, str(other), values)
    assert campaign_row(slack, other)["strategies"] == [
        "vetted-texters",
        "vetted-takeconversations",
        "all-texters",
    ]
