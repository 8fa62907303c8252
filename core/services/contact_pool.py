"""The database questions strategies may ask, and the one statement that claims contacts."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from core.models import Campaign, CampaignContact
from core.services.claim_floor import claim_floors
from core.statuses import MessageStatus
from core.texting_hours import is_textable_now, textable_zones
from strategies.base import CampaignInfo, ContactSelection

Contact = CampaignContact


def status_in(statuses: frozenset[MessageStatus]) -> ColumnElement[bool]:
    # Literal values (not bound parameters) so PostgreSQL can prove the claimable partial
    # index's predicate from the query's WHERE clause.
    literals = [literal_column(f"'{MessageStatus(s).value}'") for s in sorted(statuses)]
    if len(literals) == 1:
        return Contact.message_status == literals[0]
    return Contact.message_status.in_(literals)


def textable_now_filter(campaign: CampaignInfo, now: datetime) -> ColumnElement[bool] | None:
    """Contacts whose local time (their zone, else the campaign's) is within texting hours."""
    key = _hours_key(campaign, now)
    return None if key is None else _zone_condition(*key)


def _hours_key(campaign: CampaignInfo, now: datetime) -> tuple[frozenset[str], bool] | None:
    """What the texting-hours filter depends on: the zones inside hours now (fixed within a
    15-minute slot) and whether the campaign's own zone is; None without texting hours."""
    start, end = campaign.texting_hours_start, campaign.texting_hours_end
    if start is None or end is None:
        return None
    return textable_zones(start, end, now), is_textable_now(start, end, campaign.timezone, now)


def _zone_condition(zones: frozenset[str], campaign_zone_open: bool) -> ColumnElement[bool]:
    own_zone = Contact.timezone.in_(sorted(zones)) if zones else literal_column("1 = 0")
    if campaign_zone_open:
        return or_(own_zone, Contact.timezone.is_(None))
    return and_(own_zone, Contact.timezone.is_not(None))


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


def campaign_info(campaign: Campaign | Row[Any]) -> CampaignInfo:
    """The campaign as strategies and the pool see it, from a Campaign or a row selecting
    the same columns."""
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
    """ContactPool over one session, for one campaign and one assignment."""

    def __init__(
        self,
        session: Session,
        campaign: CampaignInfo,
        assignment_id: int,
        now: datetime,
        waiting_replies: int | None = None,
    ) -> None:
        self.session = session
        self.campaign = campaign
        self.assignment_id = assignment_id
        self.now = now
        # The texter's needsResponse count, when the caller has just read it.
        self._waiting_replies = waiting_replies

    def _zone_filter(self, selection: ContactSelection) -> ColumnElement[bool] | None:
        key = self._hours(selection)
        return None if key is None else _zone_condition(*key)

    def _hours(self, selection: ContactSelection) -> tuple[frozenset[str], bool] | None:
        # A campaign with texting hours never hands out a contact that can't be texted now,
        # whatever the strategy: such a contact would sit on the texter's card unsendable.
        if not (selection.textable_now_only or self.campaign.enforces_texting_hours):
            return None
        return _hours_key(self.campaign, self.now)

    def count_available(self, selection: ContactSelection, up_to: int) -> int:
        up_to = max(up_to, 1)
        floor = claim_floors(self.session).floor(self.campaign.id, selection.statuses)
        if floor is not None:
            above = self._count_available(selection, up_to, floor)
            if above >= up_to:
                return above
        return self._count_available(selection, up_to, None)

    def _count_available(
        self, selection: ContactSelection, up_to: int, after_id: int | None
    ) -> int:
        # Bounded: a LIMITed subquery stops after `up_to` rows instead of counting them all.
        conditions = _unassigned(
            Contact.campaign_id == self.campaign.id,
            selection.statuses,
            self._zone_filter(selection),
        )
        if after_id is not None:
            conditions.append(Contact.id > after_id)
        limited = select(Contact.id).where(*conditions).limit(up_to)
        return self.session.scalar(select(func.count()).select_from(limited.subquery())) or 0

    def count_waiting_replies(self, textable_now_only: bool) -> int:
        zone_filter = textable_now_filter(self.campaign, self.now) if textable_now_only else None
        if zone_filter is None and self._waiting_replies is not None:
            return self._waiting_replies
        conditions = [
            Contact.assignment_id == self.assignment_id,
            Contact.message_status == MessageStatus.NEEDS_RESPONSE.value,
            ~Contact.is_opted_out,
        ]
        if zone_filter is not None:
            conditions.append(zone_filter)
        return self.session.scalar(select(func.count()).where(*conditions)) or 0

    def claim(self, selection: ContactSelection, count: int) -> list[int]:
        """Give up to `count` matching contacts to the assignment, lowest ids first.

        SKIP LOCKED (PostgreSQL) lets concurrent texters take different rows without waiting
        on each other; SQLite serialises writers with BEGIN IMMEDIATE instead.
        """
        if count <= 0:
            return []
        floors = claim_floors(self.session)
        floor = floors.floor(self.campaign.id, selection.statuses)
        claimed = self._claim(selection, count, floor)
        if floor is not None and len(claimed) < count:
            # Nothing more above the floor: look below it, where released contacts are.
            claimed += self._claim(selection, count - len(claimed), None)
        if claimed:
            floors.reached(self.campaign.id, selection.statuses, max(claimed))
        return sorted(claimed)

    def _claim(self, selection: ContactSelection, count: int, after_id: int | None) -> list[int]:
        dialect = self.session.get_bind().dialect.name
        hours = self._hours(selection)
        from_floor = after_id is not None
        statement = (
            _standing_claim(dialect, selection.statuses, from_floor)
            if hours is None
            else _hours_claim(dialect, selection.statuses, from_floor, *hours)
        )
        parameters = {
            "claim_campaign": self.campaign.id,
            "after_id": after_id or 0,
            "count": count,
            "claimant": self.assignment_id,
            "claimed_at": self.now,
        }
        # Core, not the ORM: nothing in the session holds these rows.
        return list(self.session.connection().scalars(statement, parameters))


def _unassigned(
    campaign_test: ColumnElement[bool],
    statuses: frozenset[MessageStatus],
    zone_filter: ColumnElement[bool] | None,
) -> list[ColumnElement[bool]]:
    conditions = [
        campaign_test,
        Contact.assignment_id.is_(None),
        status_in(statuses),
        ~Contact.is_opted_out,
    ]
    if zone_filter is not None:
        conditions.append(zone_filter)
    return conditions


def _claim_statement(
    dialect: str,
    statuses: frozenset[MessageStatus],
    zone_filter: ColumnElement[bool] | None,
    from_floor: bool,
) -> Update:
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
    conditions = _unassigned(test, statuses, zone_filter)
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
    picked = (
        key == any_(func.array(chosen.scalar_subquery()))
        if postgres
        else key.in_(chosen.scalar_subquery())
    )
    return (
        update(Contact)
        .where(picked)
        .values(assignment_id=bindparam("claimant"), updated_at=bindparam("claimed_at"))
        .returning(Contact.id)
    )


@lru_cache(maxsize=32)
def _standing_claim(dialect: str, statuses: frozenset[MessageStatus], from_floor: bool) -> Update:
    """The claim without a texting-hours filter, built once per shape: every request runs it."""
    return _claim_statement(dialect, statuses, None, from_floor)


@lru_cache(maxsize=64)
def _hours_claim(
    dialect: str,
    statuses: frozenset[MessageStatus],
    from_floor: bool,
    zones: frozenset[str],
    campaign_zone_open: bool,
) -> Update:
    """The claim within texting hours, built once per 15-minute slot and shape."""
    return _claim_statement(
        dialect, statuses, _zone_condition(zones, campaign_zone_open), from_floor
    )
