"""What a batch decision reads, in two statements: who the texter is in the campaign, then
what they hold.

Two, not one: the first locks the assignment, and under READ COMMITTED a statement that
waited for that lock still sees the snapshot it started with. Counting in a second statement
means a request queued behind the same texter's double click sees the batch it just got.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, ScalarSelect, Select, and_, bindparam, exists, func, select

from core.models import Assignment, Campaign, CampaignContact, Organization, UserOrganization
from core.roles import Role
from core.services.contact_pool import campaign_info, status_in
from core.services.textable_now import textable_now_condition, textable_now_parameters
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
    # needsResponse textable now: counted only when the campaign has texting hours
    waiting_replies_textable_now: int | None = None


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


def _held(status: MessageStatus, *more: Any) -> ScalarSelect[int]:
    # One equality per status keeps each count a range of ix_campaign_contact_assignment_status.
    return (
        select(func.count())
        .where(MINE, status_in(frozenset({status})), ~Contact.is_opted_out, *more)
        .scalar_subquery()
    )


@lru_cache(maxsize=8)
def _held_work_query(dialect: str, capped: bool, textable_now: bool) -> Select[Any]:
    columns: list[Any] = [
        _held(MessageStatus.NEEDS_MESSAGE),
        _held(MessageStatus.NEEDS_RESPONSE),
        exists().where(MINE),
    ]
    if capped:
        columns.append(select(func.count()).where(MINE).scalar_subquery())
    if textable_now:
        # The finished-replies strategies' "replies you can answer now", counted here rather
        # than in a statement of its own.
        columns.append(_held(MessageStatus.NEEDS_RESPONSE, textable_now_condition(dialect)))
    return select(*columns)


# Built once: a batch request runs these on every click, and a statement object that is
# reused also reuses its compiled form without rebuilding its cache key.
MINE = Contact.assignment_id == bindparam("assignment_id")
TEXTER_IN_CAMPAIGN = {lock: _texter_in_campaign_query(lock) for lock in (False, True)}


def read_texter_in_campaign(
    connection: Connection, campaign_id: int, user_id: int, lock: bool
) -> TexterInCampaign | None:
    """The texter's assignment (locked if asked), its campaign, their role and the
    organization's settings; None when they haven't joined."""
    row = connection.execute(
        TEXTER_IN_CAMPAIGN[lock], {"campaign_id": campaign_id, "user_id": user_id}
    ).one_or_none()
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


@lru_cache(maxsize=16)
def _held_live_query(status: MessageStatus) -> Select[Any]:
    return select(_held(status))


def held_live_count(connection: Connection, assignment_id: int, status: MessageStatus) -> int:
    """Not-opted-out contacts of one status the assignment holds."""
    count = connection.scalar(_held_live_query(status), {"assignment_id": assignment_id})
    return count or 0


def read_held_work(
    connection: Connection,
    assignment_id: int,
    capped: bool,
    campaign: CampaignInfo | None = None,
    now: datetime | None = None,
) -> HeldWork:
    """The counts a decision needs, none of them growing with what the texter has finished.
    Given the campaign and the time, also the waiting replies within texting hours now."""
    dialect = connection.dialect.name
    hours = (
        textable_now_parameters(dialect, campaign, now)
        if campaign is not None and now is not None
        else None
    )
    query = _held_work_query(dialect, capped, hours is not None)
    row = connection.execute(query, {"assignment_id": assignment_id, **(hours or {})}).one()
    return HeldWork(
        unsent=row[0] or 0,
        waiting_replies=row[1] or 0,
        holds_any=bool(row[2]),
        total_held=(row[3] or 0) if capped else None,
        waiting_replies_textable_now=(row[-1] or 0) if hours is not None else None,
    )
