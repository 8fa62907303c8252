"""What a batch decision reads, in one statement: who the texter is in the campaign, what they
hold, and the version of their holdings those counts belong to.

Nothing is locked here. Everything that gives a texter contacts moves the assignment's
`holdings_version` forward under its row lock (core/services/holdings.py), and the claim only
goes ahead if the version is still the one these counts were read at
(core/services/contact_pool.py); otherwise the request reads again. So a double click's second
request, or one racing a reassign to the texter, decides on what the first left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    select,
)

from core.models import Assignment, Campaign, CampaignContact, Organization, UserOrganization
from core.roles import Role
from core.services.contact_pool import CAMPAIGN_INFO_COLUMNS, campaign_info, status_in
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
    # The assignment's holdings_version the counts were read at; a claim checks it.
    version: int | None = None


def _texter_in_campaign_query(by_id: bool) -> Select[Any]:
    """By campaign and user; or, when the assignment's id is already known, by it too and with
    what the texter holds, counted for that id as a bound value (so the planner's statistics for
    the texter's own rows apply, where a correlated count gets a generic plan)."""
    held: list[Any] = []
    if by_id:
        held = [
            _held(MessageStatus.NEEDS_MESSAGE).label("unsent"),
            _held(MessageStatus.NEEDS_RESPONSE).label("waiting_replies"),
            exists().where(MINE).label("holds_any"),
            # Only under a cap, which bounds it: a CASE runs its subquery only when needed.
            case(
                (
                    Assignment.max_contacts.is_not(None),
                    select(func.count()).where(MINE).scalar_subquery(),
                )
            ).label("total_held"),
        ]
    query = (
        select(
            Assignment.id.label("assignment_id"),
            Assignment.max_contacts,
            Assignment.holdings_version,
            *CAMPAIGN_INFO_COLUMNS,
            Campaign.batch_strategies,
            UserOrganization.role,
            Organization.settings,
            *held,
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
    return query.where(Assignment.id == bindparam("assignment_id")) if by_id else query


def _held(
    status: MessageStatus, *more: Any, mine: ColumnElement[bool] | None = None
) -> ScalarSelect[int]:
    # One equality per status keeps each count a range of ix_campaign_contact_assignment_status.
    return (
        select(func.count())
        .where(
            MINE if mine is None else mine,
            status_in(frozenset({status})),
            ~Contact.is_opted_out,
            *more,
        )
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
    # Last: the version these counts belong to, read in the same snapshot.
    columns.append(
        select(Assignment.holdings_version)
        .where(Assignment.id == bindparam("assignment_id"))
        .scalar_subquery()
    )
    return select(*columns)


# Built once: a batch request runs these on every click, and a statement object that is
# reused also reuses its compiled form without rebuilding its cache key.
MINE = Contact.assignment_id == bindparam("assignment_id")
TEXTER_IN_CAMPAIGN = {by_id: _texter_in_campaign_query(by_id) for by_id in (False, True)}


class KnownAssignments:
    """(campaign, user) -> assignment id, as this process last read it. Only a hint: the
    statement it feeds checks all three, so a stale entry finds no row and is looked up again.
    Bounded, and shared by the process's threads (a dict's get and set are atomic)."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._ids: dict[tuple[int, int], int] = {}

    def get(self, campaign_id: int, user_id: int) -> int | None:
        return self._ids.get((campaign_id, user_id))

    def remember(self, campaign_id: int, user_id: int, assignment_id: int) -> None:
        if len(self._ids) >= self.LIMIT:
            self._ids.clear()
        self._ids[(campaign_id, user_id)] = assignment_id

    def forget(self, campaign_id: int, user_id: int) -> None:
        self._ids.pop((campaign_id, user_id), None)


KNOWN_ASSIGNMENTS = KnownAssignments()


def read_texter_in_campaign(
    connection: Connection, campaign_id: int, user_id: int
) -> tuple[TexterInCampaign, HeldWork | None] | None:
    """The texter's assignment, its campaign, their role and the organization's settings;
    None when they haven't joined. With them what the texter holds, in the same statement,
    once this process knows the assignment's id (else None: read_held_work then)."""
    parameters = {"campaign_id": campaign_id, "user_id": user_id}
    known = KNOWN_ASSIGNMENTS.get(campaign_id, user_id)
    row = None
    if known is not None:
        row = connection.execute(
            TEXTER_IN_CAMPAIGN[True], {**parameters, "assignment_id": known}
        ).one_or_none()
        if row is None:
            KNOWN_ASSIGNMENTS.forget(campaign_id, user_id)
    if row is None:
        row = connection.execute(TEXTER_IN_CAMPAIGN[False], parameters).one_or_none()
        if row is None:
            return None
        KNOWN_ASSIGNMENTS.remember(campaign_id, user_id, row.assignment_id)
        known = None
    texter = TexterInCampaign(
        assignment_id=row.assignment_id,
        max_contacts=row.max_contacts,
        campaign=campaign_info(row),
        batch_strategies=row.batch_strategies,
        role=Role(row.role) if row.role is not None else None,
        org_settings=dict(row.settings or {}),
    )
    if known is None:
        return texter, None
    waiting = row.waiting_replies or 0
    held = HeldWork(
        unsent=row.unsent or 0,
        waiting_replies=waiting,
        holds_any=bool(row.holds_any),
        total_held=(row.total_held or 0) if row.max_contacts is not None else None,
        # With none waiting, none can be answered now; else the pool counts them if asked.
        waiting_replies_textable_now=0 if waiting == 0 else None,
        version=row.holdings_version,
    )
    return texter, held


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
        waiting_replies_textable_now=(row[-2] or 0) if hours is not None else None,
        version=row[-1],
    )
