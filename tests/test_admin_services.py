"""Admin services: settings validation, roles, archiving, releases by admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import Database
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Campaign, CampaignContact
from core.roles import Role
from core.services.admin import (
    CampaignSettingsChange,
    set_archived,
    set_max_contacts,
    set_member_role,
    update_campaign_settings,
)
from core.services.batches import request_batch
from core.services.message_review import unassign
from core.services.texters_panel import release_texter
from core.statuses import MessageStatus as S
from tests.support.world import Member, build_world, make_assignment, make_texter


@pytest.fixture
def world(db: Database):
    w = build_world(
        db,
        members=[
            Member("UTEXTER"),
            Member("UADMIN", role=Role.ADMIN, joined=False),
            Member("USUPER", role=Role.SUPERVOLUNTEER, joined=False),
        ],
        contacts=50,
    )
    users = w.users
    return db, w.org_id, w.campaign_id, users["UTEXTER"], users["UADMIN"], users["USUPER"]


def campaign_row(db: Database, campaign_id: int) -> Campaign:
    with db.uow(read_only=True) as uow:
        return uow.session.get(Campaign, campaign_id)


def test_settings_change_saves_every_field(world) -> None:
    db, _, campaign, _, admin, _ = world
    saved = update_campaign_settings(
        db,
        admin,
        campaign,
        CampaignSettingsChange(
            use_dynamic_assignment=False,
            batch_size=75,
            strategies=["vetted-texters", "vetted-takeconversations"],
            texting_hours="10-20",
            timezone="America/Denver",
            request_button_label="Send more texts",
            allow_edit_initial=False,
        ),
    )
    assert saved["batch_size"] == 75
    row = campaign_row(db, campaign)
    assert (row.use_dynamic_assignment, row.batch_size) == (False, 75)
    assert row.batch_strategies == ["vetted-texters", "vetted-takeconversations"]
    assert (row.texting_hours_start, row.texting_hours_end, row.timezone) == (
        10,
        20,
        "America/Denver",
    )
    assert row.settings["request_button_label"] == "Send more texts"
    assert row.settings["allow_edit_initial"] is False
    update_campaign_settings(db, admin, campaign, CampaignSettingsChange(texting_hours=""))
    assert campaign_row(db, campaign).texting_hours_start is None


def test_invalid_settings_name_each_field_and_save_nothing(world) -> None:
    db, _, campaign, _, admin, _ = world
    with pytest.raises(InvalidInput) as bad:
        update_campaign_settings(
            db,
            admin,
            campaign,
            CampaignSettingsChange(
                batch_size=0,
                strategies=["fastest"],
                timezone="Mars/Base",
                texting_hours="22-8",
                request_button_label="x" * 80,
                title="Renamed",
            ),
        )
    message = bad.value.message
    for field in ("batch_size", "strategies", "timezone", "texting_hours", "request_button_label"):
        assert f"{field}:" in message
    row = campaign_row(db, campaign)
    assert (row.batch_size, row.title, row.timezone) == (200, "GOTV", "America/New_York")


def test_only_admins_change_settings_caps_and_archive(world) -> None:
    db, _, campaign, texter, _, supervolunteer = world
    for actor in (texter, supervolunteer):
        with pytest.raises(NotAllowed, match="Only an admin"):
            update_campaign_settings(db, actor, campaign, CampaignSettingsChange(batch_size=5))
        with pytest.raises(NotAllowed):
            set_max_contacts(db, actor, campaign, texter, "5")
        with pytest.raises(NotAllowed):
            set_archived(db, actor, campaign)
    assert campaign_row(db, campaign).batch_size == 200


def test_max_amount_rejects_garbage(world) -> None:
    db, _, campaign, texter, admin, _ = world
    with pytest.raises(InvalidInput, match="whole number"):
        set_max_contacts(db, admin, campaign, texter, "lots")
    with pytest.raises(NotFound, match="not joined"):
        set_max_contacts(db, admin, campaign, admin, "5")


def test_vet_and_unvet(world) -> None:
    db, org, _, _, admin, supervolunteer = world
    assert set_member_role(db, admin, org, "UTEXTER", Role.VETTED_TEXTER) == Role.VETTED_TEXTER
    assert set_member_role(db, admin, org, "UTEXTER", Role.TEXTER) == Role.TEXTER
    with pytest.raises(InvalidInput, match="above your own"):
        set_member_role(db, admin, org, "UTEXTER", Role.OWNER)
    with pytest.raises(NotAllowed):
        set_member_role(db, supervolunteer, org, "UTEXTER", Role.VETTED_TEXTER)
    with pytest.raises(NotFound, match="not a member"):
        set_member_role(db, admin, org, "UNOBODY", Role.VETTED_TEXTER)


def test_archived_campaign_hands_out_nothing(world) -> None:
    db, _, campaign, texter, admin, _ = world
    set_archived(db, admin, campaign)
    assert request_batch(db, campaign, texter).assigned == 0


def test_trash_can_and_release_all_need_supervolunteer(world) -> None:
    db, org, campaign, texter, admin, supervolunteer = world
    batch = request_batch(db, campaign, texter).contact_ids
    with db.uow() as uow:
        for cid in batch[:10]:
            uow.session.get(CampaignContact, cid).message_status = S.MESSAGED.value
        uow.commit()
    with pytest.raises(NotAllowed):
        release_texter(db, texter, org, campaign, texter, everything=False)
    trashed = release_texter(db, supervolunteer, org, campaign, texter, everything=False).result
    assert (trashed.initials, trashed.conversations) == (40, 0)
    everything = release_texter(db, admin, org, campaign, texter, everything=True).result
    assert (everything.initials, everything.conversations) == (0, 10)


def test_message_review_unassigns_by_texter_status_and_ids(world) -> None:
    db, org, campaign, texter, admin, _ = world
    other = make_texter(db, org, "UOTHER")
    make_assignment(db, campaign, other)
    mine = request_batch(db, campaign, texter, requested=20).contact_ids
    theirs = request_batch(db, campaign, other, requested=20).contact_ids
    picked = mine[:5]
    result = unassign(
        db,
        admin,
        org,
        campaign,
        texter_user_id=texter,
        statuses=[S.NEEDS_MESSAGE],
        contact_ids=picked + theirs[:5],  # another texter's ids are not touched
    )
    assert result.initials == 5
    with db.uow(read_only=True) as uow:
        free = set(
            uow.session.scalars(
                select(CampaignContact.id).where(
                    CampaignContact.assignment_id.is_(None), CampaignContact.id.in_(mine + theirs)
                )
            )
        )
    assert free == set(picked)
    assert unassign(db, admin, org, campaign, statuses=[S.NEEDS_MESSAGE]).initials == 35
