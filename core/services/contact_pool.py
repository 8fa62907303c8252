"""The database questions strategies may ask, and the one statement that claims contacts."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from core.models import Assignment, Campaign, CampaignContact
from core.services.claim_floor import claim_floors
from core.services.textable_now import textable_now_condition, textable_now_parameters
from core.statuses import MessageStatus
from strategies.base import CampaignInfo, ContactSelection

Contact = CampaignContact


def status_in(statuses: frozenset[MessageStatus]) -> ColumnElement[bool]:
    # Literal values (not bound parameters) so PostgreSQL can prove the claimable partial
    # index's predicate from the query's WHERE clause.
    literals = [literal_column(f"'{MessageStatus(s).value}'") for s in sorted(statuses)]
    if len(literals) == 1:
        return Contact.message_status == literals[0]
    return Contact.message_status.in_(literals)


def status_counts(
    session: Session, where: ColumnElement[bool]
) -> dict[tuple[MessageStatus, bool], int]:
    """Contacts matching `where`, counted by (status, opted out)."""
    rows = session.execute(
        select(Contact.message_status, Contact.is_opted_out, func.count())
        .where(where)
        .group_by(Contact.message_status, Contact.is_opted_out)
    ).all()
    return {(MessageStatus(status), bool(opted)): count for status, opted, count in rows}


# The columns campaign_info reads, for statements that select them beside others.
CAMPAIGN_INFO_COLUMNS = (
    Campaign.id,
    Campaign.organization_id,
    Campaign.use_dynamic_assignment,
    Campaign.is_archived,
    Campaign.is_started,
    Campaign.batch_size,
    Campaign.texting_hours_start,
    Campaign.texting_hours_end,
    Campaign.timezone,
)


def campaign_info(campaign: Campaign | Row[Any]) -> CampaignInfo:
    """The campaign as strategies and the pool see it, from a Campaign or a row selecting
    CAMPAIGN_INFO_COLUMNS."""
    return CampaignInfo(
        id=campaign.id,
        organization_id=campaign.organization_id,
        use_dynamic_assignment=campaign.use_dynamic_assignment,
        is_archived=campaign.is_archived,
        is_started=campaign.is_started,
        batch_size=campaign.batch_size,
        texting_hours_start=campaign.texting_hours_start,
        texting_hours_end=campaign.texting_hours_end,
        timezone=campaign.timezone,
    )


class SqlContactPool:
    """ContactPool over one connection, for one campaign and one assignment.

    Every statement is built once per shape (dialect, statuses, texting hours or not, from a
    floor or not) with the same parameters each time, so SQLAlchemy reuses its compiled form
    and psycopg its prepared statement.
    """

    def __init__(
        self,
        connection: Connection,
        campaign: CampaignInfo,
        assignment_id: int,
        now: datetime,
        waiting_replies: int | None = None,
        waiting_replies_textable_now: int | None = None,
        holdings_version: int | None = None,
    ) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.campaign = campaign
        self.assignment_id = assignment_id
        self.now = now
        # The texter's needsResponse counts (all, and textable now), when the caller has just
        # read them.
        self._waiting_replies = waiting_replies
        self._waiting_replies_textable_now = waiting_replies_textable_now
        # The version of the texter's holdings the caller decided on; None: claim regardless
        # (an admin's manual assignment, which decides on nothing the texter holds).
        self._version = holdings_version

    def _hours(self, textable_now_only: bool) -> dict[str, Any] | None:
        """Texting-hours parameters when they apply to this question, else None."""
        if not textable_now_only:
            return None
        return textable_now_parameters(self.dialect, self.campaign, self.now)

    def _applies_hours(self, selection: ContactSelection) -> bool:
        # A campaign with texting hours never hands out a contact that can't be texted now,
        # whatever the strategy: such a contact would sit on the texter's card unsendable.
        return selection.textable_now_only or self.campaign.enforces_texting_hours

    def count_available(self, selection: ContactSelection, up_to: int) -> int:
        up_to = max(up_to, 1)
        floor = claim_floors(self.connection).floor(self.campaign.id, selection.statuses)
        if floor is not None:
            above = self._count_available(selection, up_to, floor)
            if above >= up_to:
                return above
        return self._count_available(selection, up_to, None)

    def _count_available(
        self, selection: ContactSelection, up_to: int, after_id: int | None
    ) -> int:
        hours = self._hours(self._applies_hours(selection))
        statement = _count_available_statement(
            self.dialect, selection.statuses, hours is not None, after_id is not None
        )
        parameters = {
            "campaign": self.campaign.id,
            "after_id": after_id or 0,
            "up_to": up_to,
            **(hours or {}),
        }
        return self.connection.scalar(statement, parameters) or 0

    def count_waiting_replies(self, textable_now_only: bool) -> int:
        hours = self._hours(textable_now_only)
        known = self._waiting_replies if hours is None else self._waiting_replies_textable_now
        if known is not None:
            return known
        statement = _waiting_replies_statement(self.dialect, hours is not None)
        return self.connection.scalar(statement, {"mine": self.assignment_id, **(hours or {})}) or 0

    def claim(self, selection: ContactSelection, count: int) -> list[int] | None:
        """Give up to `count` matching contacts to the assignment, lowest ids first; None when
        what the texter holds changed since the caller counted it (decide again, then claim).

        SKIP LOCKED (PostgreSQL) lets concurrent texters take different rows without waiting
        on each other; SQLite serialises writers with BEGIN IMMEDIATE instead.
        """
        if count <= 0:
            return []
        floors = claim_floors(self.connection)
        key = (self.campaign.id, selection.statuses)
        floor, start = floors.starts(*key, count)
        try:
            claimed = self._claim(selection, count, start)
        except BaseException:
            floors.overshot(*key)  # give its share back: nothing was taken there
            raise
        if claimed is None:
            floors.overshot(*key)
            return None
        if start != floor and len(claimed) < count:
            # Too little past the claims in flight: look again from the floor.
            floors.overshot(*key)
            claimed += self._claim(selection, count - len(claimed), floor) or []
        if floor is not None and len(claimed) < count:
            # Nothing more above the floor: look below it, where released contacts are.
            claimed += self._claim(selection, count - len(claimed), None) or []
        if claimed:
            floors.reached(*key, max(claimed))
        return sorted(claimed)

    def _claim(
        self, selection: ContactSelection, count: int, after_id: int | None
    ) -> list[int] | None:
        hours = self._hours(self._applies_hours(selection))
        checked = self._version is not None
        postgres = self.dialect == "postgresql"
        parameters = {
            "claim_campaign": self.campaign.id,
            "after_id": after_id or 0,
            "count": count,
            "claimant": self.assignment_id,
            "claimed_at": self.now,
            "seen_version": self._version,
            **(hours or {}),
        }
        statement = _claim_statement(
            self.dialect, selection.statuses, hours is not None, after_id is not None, checked
        )
        if not postgres:
            # SQLite runs one writer transaction at a time (BEGIN IMMEDIATE): what the caller
            # counted cannot have changed, and nobody compares versions.
            return list(self.connection.execute(statement, parameters).scalars().all())
        moved, ids = self.connection.execute(statement, parameters).one()
        if not moved:  # the version moved on since the caller counted (or no assignment)
            return None if checked else []
        if checked:
            self._version = (self._version or 0) + 1  # this claim's own move
        return list(ids or [])


def unassigned_conditions(
    dialect: str,
    campaign_test: ColumnElement[bool],
    statuses: frozenset[MessageStatus],
    textable_now: bool,
) -> list[ColumnElement[bool]]:
    conditions = [
        campaign_test,
        Contact.assignment_id.is_(None),
        status_in(statuses),
        ~Contact.is_opted_out,
    ]
    if textable_now:
        conditions.append(textable_now_condition(dialect))
    return conditions


@lru_cache(maxsize=64)
def _count_available_statement(
    dialect: str, statuses: frozenset[MessageStatus], textable_now: bool, from_floor: bool
) -> Select[Any]:
    # Bounded: a LIMITed subquery stops after `up_to` rows instead of counting them all.
    conditions = unassigned_conditions(
        dialect, Contact.campaign_id == bindparam("campaign"), statuses, textable_now
    )
    if from_floor:
        conditions.append(Contact.id > bindparam("after_id"))
    limited = select(Contact.id).where(*conditions).limit(bindparam("up_to"))
    return select(func.count()).select_from(limited.subquery())


@lru_cache(maxsize=8)
def _waiting_replies_statement(dialect: str, textable_now: bool) -> Select[Any]:
    conditions = [
        Contact.assignment_id == bindparam("mine"),
        Contact.message_status == MessageStatus.NEEDS_RESPONSE.value,
        ~Contact.is_opted_out,
    ]
    if textable_now:
        conditions.append(textable_now_condition(dialect))
    return select(func.count()).where(*conditions)


@lru_cache(maxsize=64)
def _claim_statement(
    dialect: str,
    statuses: frozenset[MessageStatus],
    textable_now: bool,
    from_floor: bool,
    checked: bool = True,
) -> Update | Select[Any]:
    """The claim, built once per shape: every request runs it. On PostgreSQL the claimed ids
    come back as one array: fetching 200 rows one by one cost more client CPU than the rest
    of the request."""
    campaign = bindparam("claim_campaign")
    postgres = dialect == "postgresql"
    if postgres:
        # `campaign_id = ANY(ARRAY[c])` ordered by (campaign_id, id): PostgreSQL does not fold
        # an ANY into a constant, so only the claimable partial index (campaign_id, id) yields
        # this order. With `= c ... ORDER BY id` the planner may walk the primary key instead,
        # assuming claimable rows are spread evenly, and read every contact claimed so far.
        test, order = Contact.campaign_id == any_(array([campaign])), (Contact.campaign_id,)
    else:
        test, order = Contact.campaign_id == campaign, ()
    conditions = unassigned_conditions(dialect, test, statuses, textable_now)
    if from_floor:
        conditions.append(Contact.id > bindparam("after_id"))
    # PostgreSQL: find the locked rows again by their physical address (a TID scan) rather
    # than by id through the primary key; 0.6 ms of a claim. A row we hold locked cannot be
    # updated or moved by anyone else, so its address stays valid until we update it. One
    # difference from `id IN`: a row that another transaction changed after this statement
    # began, and that still matches, is locked but not updated (its new version is invisible
    # to the TID scan), so the batch comes out one short; the row stays claimable.
    key = literal_column("ctid") if postgres else Contact.id
    chosen = (
        select(key)
        .where(*conditions)
        .order_by(*order, Contact.id)
        .limit(bindparam("count"))
        .with_for_update(skip_locked=True)
    )
    if not postgres:
        return (
            update(Contact)
            .where(key.in_(chosen.scalar_subquery()))
            .values(assignment_id=bindparam("claimant"), updated_at=bindparam("claimed_at"))
            .returning(Contact.id)
        )
    # Claiming changes what the texter holds: move the version forward, and when the caller
    # decided on a version, claim only if it is still that one. The UPDATE takes the
    # assignment's row lock first, so a claim racing a release or another claim by the same
    # texter waits, then sees their version and claims nothing.
    moved = _move_version(checked).returning(Assignment.id).cte("moved")
    chosen = chosen.where(select(moved.c.id).exists())
    picked = key == any_(func.array(chosen.scalar_subquery()))
    claimed = (
        update(Contact)
        .where(picked)
        .values(assignment_id=bindparam("claimant"), updated_at=bindparam("claimed_at"))
        .returning(Contact.id)
        .cte("claimed")
    )
    return select(
        select(func.count()).select_from(moved).scalar_subquery(), func.array_agg(claimed.c.id)
    )


def _move_version(checked: bool) -> Update:
    condition = Assignment.id == bindparam("claimant")
    if checked:
        condition = and_(condition, Assignment.holdings_version == bindparam("seen_version"))
    return (
        update(Assignment).where(condition).values(holdings_version=Assignment.holdings_version + 1)
    )
