"""Each admin use case (what one Slack admin interaction calls in core) checks the role, does
the work and reads what the reply shows in ONE transaction, and a refusal saves nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from core.db import Database
from core.errors import NotAllowed
from core.models import Assignment, Campaign, CampaignContact
from core.roles import Role
from core.services import (
    campaign_editing,
    campaign_lifecycle,
    campaign_progress,
    campaign_settings,
    members,
    message_review,
    texters_panel,
)
from core.services.admin import CampaignSettingsChange
from core.services.batches import request_batch
from core.statuses import MessageStatus
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter


@contextmanager
def transactions(db: Database) -> Iterator[list[str]]:
    """Every transaction begun on the database's engine (readers and writers) meanwhile."""
    begun: list[str] = []

    def record(connection: Any) -> None:
        begun.append("begin")

    event.listen(db.engine, "begin", record)
    try:
        yield begun
    finally:
        event.remove(db.engine, "begin", record)


@pytest.fixture
def world(db: Database) -> dict[str, int]:
    org = make_org(db)
    campaign = make_campaign(db, org)
    add_contacts(db, campaign, 20)
    texter = make_texter(db, org, "UTEXTER")
    make_assignment(db, campaign, texter)
    request_batch(db, campaign, texter, 5)
    manual = make_campaign(db, org, title="By hand", dynamic=False)
    add_contacts(db, manual, 5, start=100)
    return {
        "org": org,
        "campaign": campaign,
        "manual": manual,
        "texter": texter,
        "admin": make_texter(db, org, "UADMIN", Role.ADMIN),
        "supervolunteer": make_texter(db, org, "USUPER", Role.SUPERVOLUNTEER),
        "vettable": make_texter(db, org, "UVET"),
    }


UseCase = Callable[[Database, int, dict[str, int]], object]

# name -> (the role it needs, the call as an actor)
USE_CASES: dict[str, tuple[Role, UseCase]] = {
    "list": (
        Role.SUPERVOLUNTEER,
        lambda db, a, w: campaign_progress.campaigns_with_stats(db, a, w["org"], limit=10),
    ),
    "stats": (
        Role.SUPERVOLUNTEER,
        lambda db, a, w: campaign_progress.stats_report(db, a, w["org"], w["campaign"]),
    ),
    "texters page": (
        Role.SUPERVOLUNTEER,
        lambda db, a, w: texters_panel.texters_page(db, a, w["org"], w["campaign"], 0, 18),
    ),
    "max amount form": (
        Role.ADMIN,
        lambda db, a, w: texters_panel.texter_cap(db, a, w["org"], w["campaign"], w["texter"]),
    ),
    "save max amount": (
        Role.ADMIN,
        lambda db, a, w: texters_panel.save_max_amount(
            db, a, w["org"], w["campaign"], w["texter"], "7"
        ),
    ),
    "remove unsent": (
        Role.SUPERVOLUNTEER,
        lambda db, a, w: texters_panel.release_texter(
            db, a, w["org"], w["campaign"], w["texter"], everything=False
        ),
    ),
    "assign by hand": (
        Role.ADMIN,
        lambda db, a, w: texters_panel.assign_texts(db, a, w["org"], w["manual"], "UTEXTER", 2),
    ),
    "settings form": (
        Role.ADMIN,
        lambda db, a, w: campaign_settings.settings_form(db, a, w["org"], w["campaign"]),
    ),
    "save settings": (
        Role.ADMIN,
        lambda db, a, w: campaign_settings.save_settings(
            db,
            a,
            w["org"],
            w["campaign"],
            CampaignSettingsChange(batch_size=42),
            {"MAX_TEXTERS_PER_CAMPAIGN": "9"},
        ),
    ),
    "review": (
        Role.SUPERVOLUNTEER,
        lambda db, a, w: message_review.review(
            db, a, w["org"], w["campaign"], texter_slack_user_id="UTEXTER"
        ),
    ),
    "unassign": (
        Role.SUPERVOLUNTEER,
        lambda db, a, w: message_review.unassign(
            db, a, w["org"], w["campaign"], texter_user_id=w["texter"]
        ),
    ),
    "edit": (
        Role.ADMIN,
        lambda db, a, w: campaign_editing.edit_campaign(
            db, a, w["org"], w["campaign"], CampaignSettingsChange(title="Renamed"), None
        ),
    ),
    "copy": (
        Role.ADMIN,
        lambda db, a, w: campaign_editing.copy_with_report(db, a, w["org"], w["campaign"]),
    ),
    "join link": (
        Role.ADMIN,
        lambda db, a, w: campaign_lifecycle.join_link_for(db, a, w["org"], w["campaign"]),
    ),
    "rotate link": (
        Role.ADMIN,
        lambda db, a, w: campaign_lifecycle.rotate_join_link(db, a, w["org"], w["campaign"]),
    ),
    "archive": (
        Role.ADMIN,
        lambda db, a, w: campaign_lifecycle.archive_campaign(db, a, w["org"], w["campaign"]),
    ),
    "vet": (
        Role.ADMIN,
        lambda db, a, w: members.change_vetting(db, a, w["org"], "UVET", True),
    ),
}


@pytest.mark.parametrize("name", list(USE_CASES))
def test_an_admin_use_case_is_one_transaction(
    db: Database, world: dict[str, int], name: str
) -> None:
    _, call = USE_CASES[name]
    with transactions(db) as begun:
        call(db, world["admin"], world)
    assert len(begun) == 1, name


@pytest.mark.parametrize("name", list(USE_CASES))
def test_below_the_role_is_refused_in_that_same_transaction(
    db: Database, world: dict[str, int], name: str
) -> None:
    needed, call = USE_CASES[name]
    actor = world["texter"] if needed == Role.SUPERVOLUNTEER else world["supervolunteer"]
    before = snapshot(db)
    with transactions(db) as begun, pytest.raises(NotAllowed):
        call(db, actor, world)
    assert len(begun) == 1, name
    assert snapshot(db) == before, f"{name} saved something though refused"


def snapshot(db: Database) -> tuple[object, ...]:
    with db.uow(read_only=True) as uow:
        session = uow.session
        campaigns = [
            (c.id, c.title, c.is_archived, c.join_token, c.batch_size)
            for c in session.scalars(select(Campaign).order_by(Campaign.id))
        ]
        held = session.execute(
            select(CampaignContact.id, CampaignContact.assignment_id).order_by(CampaignContact.id)
        ).all()
        caps = session.execute(
            select(Assignment.id, Assignment.max_contacts).order_by(Assignment.id)
        ).all()
        return campaigns, [tuple(row) for row in held], [tuple(row) for row in caps]


def test_release_shows_the_panel_as_it_is_after_the_release(
    db: Database, world: dict[str, int]
) -> None:
    released = texters_panel.release_texter(
        db, world["admin"], world["org"], world["campaign"], world["texter"], everything=True
    )
    assert (released.result.initials, released.texter_name) == (5, "Texter UTEXTER")
    [row] = released.page.rows
    assert (row.unsent, row.assigned) == (0, 0)


def test_review_names_the_holders_of_the_rows_shown(db: Database, world: dict[str, int]) -> None:
    page = message_review.review(
        db, world["admin"], world["org"], world["campaign"], status=MessageStatus.NEEDS_MESSAGE
    )
    assert (page.total, page.title) == (20, "GOTV")
    assert set(page.slack_ids.values()) == {"UTEXTER"}
