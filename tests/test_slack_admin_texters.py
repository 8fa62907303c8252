"""The Texters panel: rows, paging, Set max amount (modal), Remove unsent, Release all."""

from __future__ import annotations

from sqlalchemy import select

from bot import ids
from core.models import Assignment, CampaignContact
from core.roles import Role
from core.services.batches import request_batch
from core.statuses import MessageStatus
from tests.support.admin import (
    ADMIN,
    answer_to_click,
    modal_values,
    run,
    submit,
    team,
    text_value,
)
from tests.support.slack_harness import SlackHarness
from tests.support.world import make_assignment, make_texter, set_status


def max_of(slack: SlackHarness, campaign_id: int, user_id: int) -> int | None:
    with slack.db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(Assignment.max_contacts).where(
                Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
            )
        )


def held_by(slack: SlackHarness, campaign_id: int, user_id: int) -> int:
    with slack.db.uow(read_only=True) as uow:
        assignment = uow.session.scalar(
            select(Assignment.id).where(
                Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
            )
        )
        return len(
            uow.session.scalars(
                select(CampaignContact.id).where(CampaignContact.assignment_id == assignment)
            ).all()
        )


def test_panel_rows_and_actions(slack: SlackHarness) -> None:
    world = team(slack, texters=2, contacts=10, batch_size=3)
    texter = world.texters["UT000"]
    batch = request_batch(slack.db, world.campaign_id, texter)
    set_status(slack.db, batch.contact_ids[:1], MessageStatus.NEEDS_RESPONSE)
    panel = run(slack, f"texters {world.campaign_id}")
    assert panel.params["response_type"] == "ephemeral"
    text = panel.text()
    assert "Texters: GOTV" in text
    assert "Assigned 3 · Unsent 2 · Replies waiting 1 · Messaged 1 · Max amount no cap" in text
    assert "Texter 001" in text and "Texters 1 to 2 of 2" in text
    remove = [b for b in panel.buttons() if b["action_id"] == ids.ADMIN_REMOVE_UNSENT]
    release = [b for b in panel.buttons() if b["action_id"] == ids.ADMIN_RELEASE_ALL]
    assert len(remove) == len(release) == 2
    assert remove[0]["confirm"]["confirm"]["text"] == "Remove them"
    assert release[0]["confirm"]["confirm"]["text"] == "Release all"
    assert ids.ADMIN_TEXTERS_PAGE not in {b["action_id"] for b in panel.buttons()}


def test_panel_pages_within_block_limits(slack: SlackHarness) -> None:
    world = team(slack, texters=0)
    for n in range(40):
        user_id = make_texter(slack.db, world.org_id, f"UP{n:03d}", name=f"P{n:03d}")
        make_assignment(slack.db, world.campaign_id, user_id)
    first = run(slack, f"texters {world.campaign_id}")
    assert len(first.blocks()) <= 50
    assert "Texters 1 to 18 of 40" in first.text() and "P000" in first.text()
    page_buttons = [b for b in first.buttons() if b["action_id"] == ids.ADMIN_TEXTERS_PAGE]
    assert [b["text"]["text"] for b in page_buttons] == ["Next"]

    second = answer_to_click(slack, page_buttons[0])
    assert second.params["replace_original"] is True
    assert "Texters 19 to 36 of 40" in second.text() and "P018" in second.text()
    assert "P000" not in second.text()
    labels = {b["text"]["text"]: b for b in second.buttons() if b["value"].count(":") == 1}
    assert set(labels) == {"Previous", "Next"}

    third = answer_to_click(slack, labels["Next"])
    assert "Texters 37 to 40 of 40" in third.text() and len(third.blocks()) <= 50
    back = next(b for b in third.buttons() if b["text"]["text"] == "Previous")
    assert "Texters 19 to 36 of 40" in answer_to_click(slack, back).text()


def test_set_max_amount_modal(slack: SlackHarness) -> None:
    world = team(slack)
    texter = world.texters["UT000"]
    panel = run(slack, f"texters {world.campaign_id}")
    set_max = next(
        b
        for b in panel.buttons()
        if b["action_id"] == ids.ADMIN_SET_MAX and f":{texter}:" in b["value"]
    )
    slack.click_button(set_max, user=ADMIN)
    opened = slack.fake.wait_for(lambda c: c.method == "views.open")[0]
    view = opened.params["view"]
    view = view if isinstance(view, dict) else __import__("json").loads(view)
    assert opened.params["trigger_id"] == "trigger.2"
    assert view["callback_id"] == ids.ADMIN_MAX_MODAL
    assert "Texter 000" in str(view["blocks"])
    metadata = view["private_metadata"]
    assert modal_values(view)[ids.ADMIN_MAX_INPUT]["value"] == ""

    answer = submit(slack, ids.ADMIN_MAX_MODAL, metadata, {ids.ADMIN_MAX_INPUT: text_value("5")})
    assert answer["response_action"] == "update"
    assert "Texter 000's max amount is now 5" in str(answer["view"])
    assert max_of(slack, world.campaign_id, texter) == 5

    submit(slack, ids.ADMIN_MAX_MODAL, metadata, {ids.ADMIN_MAX_INPUT: text_value("0")})
    assert max_of(slack, world.campaign_id, texter) == 0
    panel = run(slack, f"texters {world.campaign_id}")
    assert "Max amount 0 (no more batches)" in panel.text()

    submit(slack, ids.ADMIN_MAX_MODAL, metadata, {ids.ADMIN_MAX_INPUT: text_value("")})
    assert max_of(slack, world.campaign_id, texter) is None  # empty clears the cap


def test_set_max_amount_invalid_shown_inline(slack: SlackHarness) -> None:
    world = team(slack)
    texter = world.texters["UT000"]
    metadata = f"{world.campaign_id}:{texter}"
    submit(slack, ids.ADMIN_MAX_MODAL, metadata, {ids.ADMIN_MAX_INPUT: text_value("7")})
    for raw in ("abc", "-3", "2.5"):
        answer = submit(
            slack, ids.ADMIN_MAX_MODAL, metadata, {ids.ADMIN_MAX_INPUT: text_value(raw)}
        )
        assert answer["response_action"] == "errors"
        assert "Max amount must be a whole number" in answer["errors"][ids.ADMIN_MAX_INPUT]
        assert max_of(slack, world.campaign_id, texter) == 7  # nothing saved


def test_set_max_refused_for_supervolunteer_inline(slack: SlackHarness) -> None:
    world = team(slack, admin_role=Role.SUPERVOLUNTEER)
    texter = world.texters["UT000"]
    panel = run(slack, f"texters {world.campaign_id}")  # supervolunteers see the panel
    set_max = next(b for b in panel.buttons() if b["action_id"] == ids.ADMIN_SET_MAX)
    answer = answer_to_click(slack, set_max)
    assert "Only an admin can do that." in answer.text()
    assert slack.fake.of("views.open") == []
    answer = submit(
        slack,
        ids.ADMIN_MAX_MODAL,
        f"{world.campaign_id}:{texter}",
        {ids.ADMIN_MAX_INPUT: text_value("3")},
    )
    assert answer["errors"][ids.ADMIN_MAX_INPUT] == "Only an admin can do that."
    assert max_of(slack, world.campaign_id, texter) is None


def test_remove_unsent_and_release_all(slack: SlackHarness) -> None:
    world = team(slack, contacts=10, batch_size=4)
    texter = world.texters["UT000"]
    batch = request_batch(slack.db, world.campaign_id, texter)
    set_status(slack.db, batch.contact_ids[:1], MessageStatus.NEEDS_RESPONSE)
    panel = run(slack, f"texters {world.campaign_id}")

    def button(action_id: str) -> dict:
        return next(
            b
            for b in panel.buttons()
            if b["action_id"] == action_id and f":{texter}:" in b["value"]
        )

    refreshed = answer_to_click(slack, button(ids.ADMIN_REMOVE_UNSENT))
    assert refreshed.params["replace_original"] is True
    assert "Released 3 unsent first texts from Texter 000 back to the pool." in refreshed.text()
    assert "Assigned 1 · Unsent 0 · Replies waiting 1" in refreshed.text()
    assert held_by(slack, world.campaign_id, texter) == 1  # the conversation stays

    refreshed = answer_to_click(slack, button(ids.ADMIN_RELEASE_ALL))
    assert "Released 0 unsent first texts and 1 conversation" in refreshed.text()
    assert held_by(slack, world.campaign_id, texter) == 0


def test_supervolunteer_may_release(slack: SlackHarness) -> None:
    world = team(slack, contacts=10, batch_size=4, admin_role=Role.SUPERVOLUNTEER)
    texter = world.texters["UT000"]
    request_batch(slack.db, world.campaign_id, texter)
    value = ids.admin_texter_value(world.campaign_id, texter, 0)
    reply = answer_to_click(slack, {"action_id": ids.ADMIN_REMOVE_UNSENT, "value": value})
    assert "Released 4 unsent first texts" in reply.text()
    assert held_by(slack, world.campaign_id, texter) == 0


def test_stale_or_forged_panel_buttons(slack: SlackHarness) -> None:
    world = team(slack)
    for value in ("garbage", f"{world.campaign_id}:x:0", f"{world.campaign_id}"):
        reply = answer_to_click(slack, {"action_id": ids.ADMIN_RELEASE_ALL, "value": value})
        assert "out of date" in reply.text()
    stranger = make_texter(slack.db, world.org_id, "USTRANGER")  # never joined the campaign
    value = ids.admin_texter_value(world.campaign_id, stranger, 0)
    reply = answer_to_click(slack, {"action_id": ids.ADMIN_REMOVE_UNSENT, "value": value})
    assert "That texter has not joined this campaign." in reply.text()


def test_tampered_modal_metadata(slack: SlackHarness) -> None:
    world = team(slack)
    for metadata in ("", "x", f"{world.campaign_id}", f"{world.campaign_id}:²", "1:2:3"):
        answer = submit(
            slack, ids.ADMIN_MAX_MODAL, metadata, {ids.ADMIN_MAX_INPUT: text_value("4")}
        )
        assert "out of date" in answer["errors"][ids.ADMIN_MAX_INPUT]


def test_suspended_texter_is_marked(slack: SlackHarness) -> None:
    world = team(slack, texters=2)
    make_texter(slack.db, world.org_id, "UT001", Role.SUSPENDED, name="Texter 001")
    text = run(slack, f"texters {world.campaign_id}").text()
    assert "*Texter 001 (Suspended)*" in text
    assert "*Texter 000*" in text and "Texter 000 (Suspended)" not in text
