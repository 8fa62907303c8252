"""Message Review with Unassign, manual assignment, launch, archive, vet/unvet, rotate-link."""

from __future__ import annotations

from sqlalchemy import select

from bot import ids
from core.models import Campaign, CampaignContact
from core.roles import Role
from core.services.batches import request_batch
from core.services.identity import identify
from core.statuses import MessageStatus
from tests.support.admin import ADMIN, answer_to_click, run, team
from tests.support.slack_harness import SlackHarness
from tests.support.world import make_texter, set_status


def assigned_count(slack: SlackHarness, campaign_id: int) -> int:
    with slack.db.uow(read_only=True) as uow:
        return len(
            uow.session.scalars(
                select(CampaignContact.id).where(
                    CampaignContact.campaign_id == campaign_id,
                    CampaignContact.assignment_id.is_not(None),
                )
            ).all()
        )


def test_review_defaults_to_needs_first_message(slack: SlackHarness) -> None:
    world = team(slack, contacts=30, batch_size=5)
    request_batch(slack.db, world.campaign_id, world.texters["UT000"])
    reply = run(slack, f"review {world.campaign_id}")
    text = reply.text()
    assert "*30 contacts* with Needs First Message of every texter" in text
    assert "<@UT000>" in text and "unassigned" in text
    assert "Showing the first 20 of 30." in text
    unassign = reply.button(ids.ADMIN_UNASSIGN)
    assert unassign["confirm"]["confirm"]["text"] == "Unassign"
    assert len(reply.blocks()) <= 50


def test_review_by_texter_and_unassign(slack: SlackHarness) -> None:
    world = team(slack, contacts=30, batch_size=5)
    first, second = world.texters["UT000"], world.texters["UT001"]
    mine = request_batch(slack.db, world.campaign_id, first)
    request_batch(slack.db, world.campaign_id, second)
    set_status(slack.db, mine.contact_ids[:2], MessageStatus.NEEDS_RESPONSE)
    reply = run(slack, f"review {world.campaign_id} <@UT000|texter0>")
    assert "*3 contacts* with Needs First Message held by <@UT000>" in reply.text()
    answer = answer_to_click(slack, reply.button(ids.ADMIN_UNASSIGN))
    assert answer.params["replace_original"] is True
    assert "Unassigned 3 unsent first texts" in answer.text()
    assert assigned_count(slack, world.campaign_id) == 7  # 2 replies + the other's 5

    replies = run(slack, f"review {world.campaign_id} needs-response <@UT000>")
    assert "*2 contacts* with Needs Response held by <@UT000>" in replies.text()
    answer = answer_to_click(slack, replies.button(ids.ADMIN_UNASSIGN))
    assert "Unassigned 0 unsent first texts and 2 conversations" in answer.text()
    assert assigned_count(slack, world.campaign_id) == 5

    # A stale Unassign click finds nothing more to do.
    again = answer_to_click(slack, replies.button(ids.ADMIN_UNASSIGN))
    assert "Nothing to unassign" in again.text()


def test_review_all_statuses_and_unknown_member(slack: SlackHarness) -> None:
    world = team(slack, contacts=4)
    assert "*4 contacts* with any status" in run(slack, f"review {world.campaign_id} all").text()
    reply = run(slack, f"review {world.campaign_id} <@UNOBODY>")
    assert "<@UNOBODY> is not a member of this organization yet." in reply.text()


def test_assign_refused_while_dynamic_assignment_is_on(slack: SlackHarness) -> None:
    world = team(slack, contacts=10)
    reply = run(slack, f"assign {world.campaign_id} <@UT000|t> 3")
    assert "Turn dynamic assignment off, assign the texts, then turn it back on." in reply.text()
    assert assigned_count(slack, world.campaign_id) == 0


def test_assign_with_dynamic_assignment_off(slack: SlackHarness) -> None:
    world = team(slack, contacts=10, dynamic=False)
    reply = run(slack, f"assign {world.campaign_id} <@UT000|t> 4")
    assert "Assigned 4 first texts to <@UT000> in *GOTV*." in reply.text()
    reply = run(slack, f"assign {world.campaign_id} <@UT001> 40")
    assert "Assigned 6 first texts" in reply.text() and "Only 6" in reply.text()
    assert assigned_count(slack, world.campaign_id) == 10


def test_launch_and_archive(slack: SlackHarness) -> None:
    world = team(slack, started=False)
    reply = run(slack, f"launch {world.campaign_id}")
    assert f"Campaign {world.campaign_id} is launched" in reply.text()
    reply = run(slack, f"archive {world.campaign_id}")
    assert "*GOTV* is archived" in reply.text()
    with slack.db.uow(read_only=True) as uow:
        campaign = uow.session.get(Campaign, world.campaign_id)
        assert campaign.is_started and campaign.is_archived
    reply = run(slack, f"launch {world.campaign_id}")
    assert "is archived and can't be launched" in reply.text()


def test_launch_without_contacts_is_refused(slack: SlackHarness) -> None:
    world = team(slack, started=False, contacts=0)
    assert "has no contacts; import some first" in run(slack, f"launch {world.campaign_id}").text()


def role_of(slack: SlackHarness, slack_id: str) -> Role | None:
    return identify(slack.db, "T1", slack_id).role


def test_vet_and_unvet(slack: SlackHarness) -> None:
    team(slack)
    assert "<@UT000> is now VETTED_TEXTER." in run(slack, "vet <@UT000|t>").text()
    assert role_of(slack, "UT000") == Role.VETTED_TEXTER
    assert "already vetted; nothing changed" in run(slack, "vet <@UT000>").text()
    assert "<@UT000> is now TEXTER." in run(slack, "unvet <@UT000>").text()
    assert role_of(slack, "UT000") == Role.TEXTER
    assert "is not vetted; nothing changed" in run(slack, "unvet <@UT000>").text()


def test_unvet_never_demotes_admins(slack: SlackHarness) -> None:
    world = team(slack)
    make_texter(slack.db, world.org_id, "UADMIN2", Role.ADMIN)
    reply = run(slack, "unvet <@UADMIN2>").text()
    assert "is ADMIN, not VETTED_TEXTER" in reply
    assert role_of(slack, "UADMIN2") == Role.ADMIN
    make_texter(slack.db, world.org_id, "USUSP", Role.SUSPENDED)
    assert "is SUSPENDED, not TEXTER" in run(slack, "vet <@USUSP>").text()
    assert "is not a member" in run(slack, "vet <@UNOBODY>").text()


def test_rotate_link_invalidates_earlier_join_buttons(slack: SlackHarness) -> None:
    world = team(slack)
    link = slack.command("/campaign", f"link {world.campaign_id}", user=ADMIN)
    assert link.status == 200
    posted = slack.fake.wait_for(lambda c: c.method == "chat.postMessage")[0]
    join = posted.button(ids.JOIN)
    reply = run(slack, f"rotate-link {world.campaign_id}")
    assert "stopped working" in reply.text()
    assert len(slack.fake.of("chat.postMessage")) == 1  # rotate-link posts nothing
    refused = answer_to_click(slack, join, user="UNEW")
    assert "not valid" in refused.text()

    slack.command("/campaign", f"link {world.campaign_id}", user=ADMIN)
    fresh = slack.fake.wait_for(lambda c: c.method == "chat.postMessage", 2)[1]
    slack.click_button(fresh.button(ids.JOIN), user="UNEW")
    card = slack.fake.wait_for(lambda c: c.params.get("channel") == "DUNEW")[0]
    assert "You've joined *GOTV*" in card.text()
