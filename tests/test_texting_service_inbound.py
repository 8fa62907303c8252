"""The texting loop's core, receiving: opt-outs (STOP keywords and the button, organization
wide) and the routing of inbound texts."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.errors import Conflict, NotAllowed, NotFound
from core.messaging import FakeMessageService
from core.models import Campaign, CampaignContact, OptOut
from core.services.batches import request_batch
from core.services.conversation_changes import opt_out_contact_as
from core.services.texting import (
    receive_inbound,
    send_first_text,
    send_reply,
)
from core.statuses import MessageStatus
from tests.support.card import card_offered
from tests.support.texting_service import (
    Texting,
    contact_row,
    service_world,
    stored_messages,
)
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

# ---------------------------------------------------------------- opt-outs (scenario 28)


def _two_campaigns_with_one_cell(db: Database) -> tuple[Texting, int, int, int]:
    """Campaign A (the world) and campaign B of the same org share a cell; also an archived
    campaign C and another organization's campaign with the same cell."""
    world = service_world(db, contacts=1, prefix="+1202555")
    campaign_b = make_campaign(db, world.org_id, title="B")
    [in_b] = add_contacts(db, campaign_b, 1, prefix="+1202555")
    archived = make_campaign(db, world.org_id, title="C")
    [in_archived] = add_contacts(db, archived, 1, prefix="+1202555")
    with db.uow() as uow:
        uow.session.execute(
            update(Campaign).where(Campaign.id == archived).values(is_archived=True)
        )
        uow.commit()
    other_org = make_org(db, team="T2")
    [elsewhere] = add_contacts(db, make_campaign(db, other_org), 1, prefix="+1202555")
    return world, in_b, in_archived, elsewhere


def _opted_out(db: Database, contact_id: int) -> bool:
    return contact_row(db, contact_id).is_opted_out


def _flagged(db: Database, contact_id: int) -> int:
    """How many contacts with this contact's cell are opted out (all flagged by the button)."""
    cell = contact_row(db, contact_id).cell
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count())
            .select_from(CampaignContact)
            .where(CampaignContact.cell == cell, CampaignContact.is_opted_out.is_(True))
        )


@pytest.mark.parametrize("keyword", ["STOP", " stop ", "Unsubscribe", "QUIT", "stopall"])
def test_stop_keyword_opts_out_organization_wide(db: Database, keyword: str) -> None:
    world, in_b, in_archived, elsewhere = _two_campaigns_with_one_cell(db)
    service = FakeMessageService()
    send_first_text(db, world.contact_ids[0], world.user_id, service)
    cell = contact_row(db, world.contact_ids[0]).cell
    result = receive_inbound(db, cell, keyword, service_id="SMstop")
    assert result.opted_out and result.user_id == world.user_id
    assert result.contact_id == world.contact_ids[0]
    assert _opted_out(db, world.contact_ids[0]) and _opted_out(db, in_b)
    assert not _opted_out(db, in_archived) and not _opted_out(db, elsewhere)
    assert contact_row(db, world.contact_ids[0]).message_status == "messaged"  # status unchanged
    with db.uow(read_only=True) as uow:
        [row] = uow.session.scalars(select(OptOut)).all()
        assert (row.organization_id, row.cell) == (world.org_id, cell)
        assert keyword.strip() in row.reason
    # Campaign B: never assigned, never texted.
    texter_b = make_texter(db, world.org_id, "UTEXTERB")
    assignment_b = make_assignment(db, contact_row(db, in_b).campaign_id, texter_b)
    assert request_batch(db, contact_row(db, in_b).campaign_id, texter_b).assigned == 0
    with db.uow() as uow:  # even if it had been assigned before the opt-out
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == in_b)
            .values(assignment_id=assignment_b)
        )
        uow.commit()
    assert card_offered(db, contact_row(db, in_b).campaign_id, "UTEXTERB") is None
    with pytest.raises(Conflict, match="opted out"):
        send_first_text(db, in_b, texter_b, service)
    assert len(service.sent) == 1


def test_a_plain_reply_mentioning_stop_is_not_an_opt_out(db: Database) -> None:
    world = service_world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    cell = contact_row(db, world.contact_ids[0]).cell
    result = receive_inbound(db, cell, "please don't stop texting me")
    assert not result.opted_out and not _opted_out(db, world.contact_ids[0])


def test_opt_out_button_is_organization_wide(db: Database) -> None:
    world, in_b, _, elsewhere = _two_campaigns_with_one_cell(db)
    make_texter(db, world.org_id, "UOTHER")
    with pytest.raises(NotAllowed):
        opt_out_contact_as(db, "T1", "UOTHER", None, world.contact_ids[0])
    opt_out_contact_as(db, "T1", "UTEXTER", None, world.contact_ids[0])
    assert _flagged(db, world.contact_ids[0]) == 2
    assert _opted_out(db, world.contact_ids[0]) and _opted_out(db, in_b)
    assert not _opted_out(db, elsewhere)
    with pytest.raises(Conflict, match="opted out"):
        send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    # A second opt-out (keyword after button) keeps one list entry.
    opt_out_contact_as(db, "T1", "UTEXTER", None, world.contact_ids[0])
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(OptOut)) == 1


def test_org_opt_out_list_blocks_a_contact_not_yet_flagged(db: Database) -> None:
    world = service_world(db, contacts=1)
    cell = contact_row(db, world.contact_ids[0]).cell
    with db.uow() as uow:
        uow.session.add(OptOut(organization_id=world.org_id, cell=cell, reason="imported"))
        uow.commit()
    with pytest.raises(Conflict, match="opted out"):
        send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())


# ---------------------------------------------------------------- inbound routing


def test_inbound_is_idempotent_on_the_provider_id(db: Database) -> None:
    world = service_world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    cell = contact_row(db, world.contact_ids[0]).cell
    first = receive_inbound(db, cell, "Yes", service_id="SMdup")
    second = receive_inbound(db, cell, "Yes", service_id="SMdup")
    assert not first.duplicate and second.duplicate
    assert second.message_id == first.message_id
    assert [m.direction for m in stored_messages(db, world.contact_ids[0])] == [
        "outbound",
        "inbound",
    ]


def test_inbound_goes_to_the_most_recently_texted_contact(db: Database) -> None:
    world = service_world(db, contacts=1)
    campaign_b = make_campaign(db, world.org_id, title="B")
    assignment_b = make_assignment(db, campaign_b, world.user_id)
    [in_b] = add_contacts(db, campaign_b, 1, assignment_id=assignment_b)
    [never_texted] = add_contacts(db, make_campaign(db, world.org_id, title="C"), 1)
    service = FakeMessageService()
    send_first_text(db, in_b, world.user_id, service)
    send_first_text(db, world.contact_ids[0], world.user_id, service)
    cell = contact_row(db, in_b).cell
    assert receive_inbound(db, cell, "hi").contact_id == world.contact_ids[0]
    send_reply(db, in_b, world.user_id, "one more", service)
    assert receive_inbound(db, cell, "hi again").contact_id == in_b
    narrowed = receive_inbound(
        db, cell, "hi C", campaign_id=contact_row(db, never_texted).campaign_id
    )
    assert narrowed.contact_id == never_texted and narrowed.user_id is None


def test_inbound_for_an_unknown_number_is_refused(db: Database) -> None:
    service_world(db, contacts=1)
    with pytest.raises(NotFound, match=r"\+12025559999"):
        receive_inbound(db, "+12025559999", "hello?")


def test_reply_from_an_unassigned_contact_waits_for_an_owner(db: Database) -> None:
    world = service_world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == world.contact_ids[0])
            .values(assignment_id=None)
        )
        uow.commit()
    result = receive_inbound(db, contact_row(db, world.contact_ids[0]).cell, "anyone there?")
    assert result.assignment_id is None and result.user_id is None
    assert result.contact_status == MessageStatus.NEEDS_RESPONSE.value


def test_the_same_provider_id_delivered_twice_at_once_is_stored_once(db: Database) -> None:
    world = service_world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    cell = contact_row(db, world.contact_ids[0]).cell
    barrier = threading.Barrier(4)
    results: list[object] = []

    def deliver() -> None:
        barrier.wait()
        results.append(receive_inbound(db, cell, "Yes", service_id="SMrace"))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    assert len({r.message_id for r in results}) == 1
    assert [m.direction for m in stored_messages(db, world.contact_ids[0])] == [
        "outbound",
        "inbound",
    ]
