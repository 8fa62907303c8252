"""The database questions strategies may ask, and the one statement that claims contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, any_, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from core.models import Campaign, CampaignContact
from core.statuses import MessageStatus
from core.texting_hours import is_textable_now, textable_zones
from strategies.base import CampaignInfo, ContactSelection

Contact = CampaignContact


def _status_in(statuses: frozenset[MessageStatus]) -> ColumnElement[bool]:
    # Literal values (not bound parameters) so PostgreSQL can prove the claimable partial
    # index's predicate from the query's WHERE clause.
    literals = [literal_column(f"'{MessageStatus(s).value}'") for s in sorted(statuses)]
    if len(literals) == 1:
        return Contact.message_status == literals[0]
    return Contact.message_status.in_(literals)


def textable_now_filter(campaign: CampaignInfo, now: datetime) -> ColumnElement[bool] | None:
    """Contacts whose local time (their zone, else the campaign's) is within texting hours."""
    start, end = campaign.texting_hours_start, campaign.texting_hours_end
    if start is None or end is None:
        return None
    zones = textable_zones(start, end, now)
    own_zone = Contact.timezone.in_(sorted(zones)) if zones else literal_column("1 = 0")
    if is_textable_now(start, end, campaign.timezone, now):
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


def held_live_count(session: Session, assignment_id: int, status: MessageStatus) -> int:
    """Not-opted-out contacts of one status the assignment holds. One equality per status
    keeps this a range of ix_campaign_contact_assignment_status, whatever else is held."""
    return (
        session.scalar(
            select(func.count()).where(
                Contact.assignment_id == assignment_id,
                _status_in(frozenset({status})),
                ~Contact.is_opted_out,
            )
        )
        or 0
    )


def holds_any(session: Session, assignment_id: int) -> bool:
    found = session.scalar(
        select(Contact.id).where(Contact.assignment_id == assignment_id).limit(1)
    )
    return found is not None


def campaign_info(campaign: Campaign) -> CampaignInfo:
    """The campaign as strategies and the pool see it."""
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
        self, session: Session, campaign: CampaignInfo, assignment_id: int, now: datetime
    ) -> None:
        self.session = session
        self.campaign = campaign
        self.assignment_id = assignment_id
        self.now = now

    def _unassigned(
        self, selection: ContactSelection, campaign_test: ColumnElement[bool] | None = None
    ) -> list[ColumnElement[bool]]:
        conditions = [
            Contact.campaign_id == self.campaign.id if campaign_test is None else campaign_test,
            Contact.assignment_id.is_(None),
            _status_in(selection.statuses),
            ~Contact.is_opted_out,
        ]
        if selection.textable_now_only:
            zone_filter = textable_now_filter(self.campaign, self.now)
            if zone_filter is not None:
                conditions.append(zone_filter)
        return conditions

    def count_available(self, selection: ContactSelection, up_to: int) -> int:
        # Bounded: a LIMITed subquery stops after `up_to` rows instead of counting them all.
        limited = select(Contact.id).where(*self._unassigned(selection)).limit(max(up_to, 1))
        return self.session.scalar(select(func.count()).select_from(limited.subquery())) or 0

    def count_waiting_replies(self, textable_now_only: bool) -> int:
        conditions = [
            Contact.assignment_id == self.assignment_id,
            Contact.message_status == MessageStatus.NEEDS_RESPONSE.value,
            ~Contact.is_opted_out,
        ]
        if textable_now_only:
            zone_filter = textable_now_filter(self.campaign, self.now)
            if zone_filter is not None:
                conditions.append(zone_filter)
        return self.session.scalar(select(func.count()).where(*conditions)) or 0

    def _claimable_in_order(self, selection: ContactSelection) -> Select[tuple[int]]:
        if self.session.get_bind().dialect.name != "postgresql":
            return select(Contact.id).where(*self._unassigned(selection)).order_by(Contact.id)
        # `campaign_id = ANY(ARRAY[c])` ordered by (campaign_id, id): PostgreSQL does not fold
        # an ANY into a constant, so only the claimable partial index (campaign_id, id) yields
        # this order. With `= c ... ORDER BY id` the planner may walk the primary key instead,
        # assuming claimable rows are spread evenly, and read every contact claimed so far.
        return (
            select(Contact.id)
            .where(
                *self._unassigned(selection, Contact.campaign_id == any_(array([self.campaign.id])))
            )
            .order_by(Contact.campaign_id, Contact.id)
        )

    def claim(self, selection: ContactSelection, count: int) -> list[int]:
        """Give up to `count` matching contacts to the assignment, in one statement.

        SKIP LOCKED (PostgreSQL) lets concurrent texters take different rows without waiting
        on each other; SQLite serialises writers with BEGIN IMMEDIATE instead.
        """
        if count <= 0:
            return []
        chosen = self._claimable_in_order(selection).limit(count).with_for_update(skip_locked=True)
        statement = (
            update(Contact)
            .where(Contact.id.in_(chosen.scalar_subquery()))
            .values(assignment_id=self.assignment_id, updated_at=self.now)
            .returning(Contact.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(self.session.scalars(statement))
