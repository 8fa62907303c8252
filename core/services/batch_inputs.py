"""What a batch decision reads, in two statements: who the texter is in the campaign, then
what they hold.

Two, not one: the first locks the assignment, and under READ COMMITTED a statement that
waited for that lock still sees the snapshot it started with. Counting in a second statement
means a request queued behind the same texter's double click sees the batch it just got.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ScalarSelect, Select, and_, bindparam, exists, func, select
from sqlalchemy.orm import Session

from core.models import Assignment, Campaign, CampaignContact, Organization, UserOrganization
from core.roles import Role
from core.services.contact_pool import campaign_info, status_in
from core.statuses import MessageStatus
from strategies.base import CampaignInfo

Contact = CampaignContact


@dataclass(frozen=True)
class TexterInCampaign:
    assignment_id: int
    max_contacts: int | None
    campaign: CampaignInfo
    batch_strategies: list[str] | None
    role: Role | None  # None: no longer a member of the organization
    org_settings: dict[str, Any]


@dataclass(frozen=True)
class HeldWork:
    unsent: int  # not-opted-out needsMessage
    waiting_replies: int  # not-opted-out needsResponse
    holds_any: bool
    total_held: int | None  # every status; counted only under a cap, which bounds it


def _texter_in_campaign_query(lock: bool) -> Select[Any]:
    query = (
        select(
            Assignment.id.label("assignment_id"),
            Assignment.max_contacts,
            Campaign.id,
            Campaign.organization_id,
            Campaign.use_dynamic_assignment,
            Campaign.is_archived,
            Campaign.is_started,
            Campaign.batch_size,
            Campaign.texting_hours_start,
            Campaign.texting_hours_end,
            Campaign.timezone,
            Campaign.batch_strategies,
            UserOrganization.role,
            Organization.settings,
        )
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(Organization, Organization.id == Campaign.organization_id)
        .outerjoin(
            UserOrganization,
            and_(
                UserOrganization.user_id == Assignment.user_id,
                UserOrganization.organization_id == Campaign.organization_id,
            ),
        )
        .where(
            Assignment.campaign_id == bindparam("campaign_id"),
            Assignment.user_id == bindparam("user_id"),
        )
    )
    return query.with_for_update(of=Assignment) if lock else query


def _held(status: MessageStatus) -> ScalarSelect[int]:
    # One equality per status keeps each count a range of ix_campaign_contact_assignment_status.
    return (
        select(func.count())
        .where(MINE, status_in(frozenset({status})), ~Contact.is_opted_out)
        .scalar_subquery()
    )


def _held_work_query(capped: bool) -> Select[Any]:
    columns: list[Any] = [
        _held(MessageStatus.NEEDS_MESSAGE),
        _held(MessageStatus.NEEDS_RESPONSE),
        exists().where(MINE),
    ]
    if capped:
        columns.append(select(func.count()).where(MINE).scalar_subquery())
    return select(*columns)


# Built once: a batch request runs these on every click, and a statement object that is
# reused also reuses its compiled form without rebuilding its cache key.
MINE = Contact.assignment_id == bindparam("assignment_id")
TEXTER_IN_CAMPAIGN = {lock: _texter_in_campaign_query(lock) for lock in (False, True)}
HELD_WORK = {capped: _held_work_query(capped) for capped in (False, True)}


def read_texter_in_campaign(
    session: Session, campaign_id: int, user_id: int, lock: bool
) -> TexterInCampaign | None:
    """The texter's assignment (locked if asked), its campaign, their role and the
    organization's settings; None when they haven't joined."""
    row = (
        session.connection()
        .execute(TEXTER_IN_CAMPAIGN[lock], {"campaign_id": campaign_id, "user_id": user_id})
        .one_or_none()
    )
    if row is None:
        return None
    return TexterInCampaign(
        assignment_id=row.assignment_id,
        max_contacts=row.max_contacts,
        campaign=campaign_info(row),
        batch_strategies=row.batch_strategies,
        role=Role(row.role) if row.role is not None else None,
        org_settings=dict(row.settings or {}),
    )


def held_live_count(session: Session, assignment_id: int, status: MessageStatus) -> int:
    """Not-opted-out contacts of one status the assignment holds."""
    count = session.connection().scalar(select(_held(status)), {"assignment_id": assignment_id})
    return count or 0


def read_held_work(session: Session, assignment_id: int, capped: bool) -> HeldWork:
    """The counts a decision needs, none of them growing with what the texter has finished."""
    row = session.connection().execute(HELD_WORK[capped], {"assignment_id": assignment_id}).one()
    return HeldWork(
        unsent=row[0] or 0,
        waiting_replies=row[1] or 0,
        holds_any=bool(row[2]),
        total_held=(row[3] or 0) if capped else None,
    )
