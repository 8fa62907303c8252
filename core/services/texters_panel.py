"""The Texters panel and what its buttons do: a page of a campaign's texters, a texter's
max amount, taking back what a texter holds, and assigning first texts by hand.

Each use case checks the actor's role and the campaign's organization, does the work and
reads what the reply shows in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import NotFound
from core.models import Assignment, User
from core.roles import Role
from core.services.admin import assign_in, set_cap_in
from core.services.campaign_access import MANAGE, VIEW, campaign_for
from core.services.members import member_in
from core.services.release import ReleaseResult, commit_release, release_texter_in
from core.services.stats import TexterRow, texter_page

TEXTERS_PER_PAGE = 20


def texter_rows(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    offset: int = 0,
    limit: int = TEXTERS_PER_PAGE,
) -> tuple[list[TexterRow], int]:
    with db.uow(read_only=True) as uow:
        campaign_for(uow.session, actor_user_id, organization_id, campaign_id, VIEW)
        return texter_page(uow.session, campaign_id, offset, limit)


@dataclass(frozen=True)
class TextersPage:
    campaign_id: int
    title: str
    rows: list[TexterRow]
    total: int
    offset: int


def texters_page(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    offset: int = 0,
    limit: int = TEXTERS_PER_PAGE,
) -> TextersPage:
    with db.uow(read_only=True) as uow:
        campaign = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, VIEW)
        return _page(uow.session, campaign_id, campaign.title, offset, limit)


def _page(session: Session, campaign_id: int, title: str, offset: int, limit: int) -> TextersPage:
    rows, total = texter_page(session, campaign_id, offset, limit)
    if not rows and offset > 0:  # the team shrank under a stale page: show the last one
        offset = max(total - limit, 0)
        rows, total = texter_page(session, campaign_id, offset, limit)
    return TextersPage(campaign_id, title, rows, total, offset)


@dataclass(frozen=True)
class TexterCap:
    name: str
    slack_user_id: str
    max_contacts: int | None


def texter_cap(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    texter_user_id: int,
    role: Role = MANAGE,
) -> TexterCap:
    """A texter of the campaign, their name and max amount (for the Set max amount form)."""
    with db.uow(read_only=True) as uow:
        campaign_for(uow.session, actor_user_id, organization_id, campaign_id, role)
        return _cap(uow.session, campaign_id, texter_user_id)


def _cap(session: Session, campaign_id: int, texter_user_id: int) -> TexterCap:
    row = session.execute(
        select(User.name, User.slack_user_id, Assignment.max_contacts)
        .join(Assignment, Assignment.user_id == User.id)
        .where(Assignment.campaign_id == campaign_id, User.id == texter_user_id)
    ).first()
    if row is None:
        raise NotFound("That texter has not joined this campaign.")
    name, slack_user_id, max_contacts = row
    return TexterCap(name or slack_user_id, slack_user_id, max_contacts)


@dataclass(frozen=True)
class MaxAmountSaved:
    texter_name: str
    max_contacts: int | None


def save_max_amount(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    texter_user_id: int,
    raw: str,
) -> MaxAmountSaved:
    """The Set max amount form's save: empty clears the cap, 0 stops further batches."""
    with db.uow() as uow:
        campaign_for(uow.session, actor_user_id, organization_id, campaign_id, MANAGE)
        texter = _cap(uow.session, campaign_id, texter_user_id)
        saved = set_cap_in(uow.session, campaign_id, texter_user_id, raw)
        uow.commit()
        return MaxAmountSaved(texter.name, saved)


@dataclass(frozen=True)
class TexterReleased:
    texter_name: str
    result: ReleaseResult
    page: TextersPage  # the panel after the release


def release_texter(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    texter_user_id: int,
    *,
    everything: bool,
    offset: int = 0,
    limit: int = TEXTERS_PER_PAGE,
) -> TexterReleased:
    """The panel's Remove unsent (first texts only) or Release all (everything the texter
    holds): the contacts go back to the pool, and the panel is read again."""
    with db.uow() as uow:
        session = uow.session
        campaign = campaign_for(session, actor_user_id, organization_id, campaign_id, VIEW)
        texter = _cap(session, campaign_id, texter_user_id)
        result = release_texter_in(session, campaign_id, texter_user_id, everything)
        page = _page(session, campaign_id, campaign.title, offset, limit)
        commit_release(uow, campaign_id)
        return TexterReleased(texter.name, result, page)


@dataclass(frozen=True)
class TextsAssigned:
    campaign_title: str
    assigned: int


def assign_texts(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    texter_slack_user_id: str,
    wanted: int,
) -> TextsAssigned:
    """`/campaign assign`: `wanted` unassigned first texts to a member, by hand (refused
    while dynamic assignment is on)."""
    with db.uow() as uow:
        session = uow.session
        campaign = campaign_for(
            session, actor_user_id, organization_id, campaign_id, MANAGE, for_update=True
        )
        texter = member_in(session, organization_id, texter_slack_user_id)
        assigned = assign_in(session, campaign, texter.id, wanted)
        uow.commit()
        return TextsAssigned(campaign.title, assigned)
