"""Reply reminders: which texters have replies waiting too long, and claiming a reminder.

A reminder is claimed by recording it (compare-and-swap on reply_reminder.version, or an insert
that the (user_id, campaign_id) unique constraint lets only one process win) in one
transaction. The caller sends after the claim commits and undoes the claim if sending fails,
so a reminder is never sent twice and a failed send is due again on the next tick.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import Database, as_utc
from core.models import (
    Assignment,
    Campaign,
    CampaignContact,
    Message,
    Organization,
    ReplyReminder,
    User,
)
from core.org_settings import effective_setting
from core.statuses import Direction, MessageStatus
from core.texting_hours import is_textable_now


@dataclass(frozen=True)
class WaitingCampaign:
    campaign_id: int
    title: str
    waiting: int
    oldest_reply_at: datetime


@dataclass(frozen=True)
class ReminderSummary:
    """What one texter is told: replies waiting, per campaign."""

    user_id: int
    slack_user_id: str
    organization_id: int
    campaigns: tuple[WaitingCampaign, ...]

    @property
    def total(self) -> int:
        return sum(c.waiting for c in self.campaigns)


@dataclass(frozen=True)
class _CampaignClaim:
    campaign_id: int
    covered: tuple[int, ...]
    version: int | None  # the row's version when read; None: no row yet
    prior_covered: tuple[int, ...]
    prior_last_sent_at: datetime | None


@dataclass(frozen=True)
class DueReminder:
    summary: ReminderSummary
    claims: tuple[_CampaignClaim, ...]


@dataclass(frozen=True)
class ClaimedReminder:
    """A reminder recorded as sent; `summary` holds only the campaigns this caller won."""

    summary: ReminderSummary
    claims: tuple[tuple[_CampaignClaim, int], ...]  # (claim, version written)


@dataclass(frozen=True)
class _Waiting:
    user_id: int
    slack_user_id: str
    campaign_id: int
    title: str
    latest_inbound_id: int
    latest_inbound_at: datetime


def due_reminders(
    db: Database, now: datetime, environ: Mapping[str, str] | None = None
) -> list[DueReminder]:
    """Texters with replies waiting longer than REPLY_REMINDER_AFTER_MINUTES, within texting
    hours, leaving out campaigns whose waiting replies were all reminded within
    REMINDER_REPEAT_MINUTES."""
    due: list[DueReminder] = []
    with db.uow(read_only=True) as uow:
        session = uow.session
        orgs = session.execute(select(Organization.id, Organization.settings)).all()
        for org_id, settings in orgs:
            after = effective_setting(settings, "REPLY_REMINDER_AFTER_MINUTES", environ)
            repeat = effective_setting(settings, "REMINDER_REPEAT_MINUTES", environ)
            waiting = _waiting_replies(session, org_id, now, timedelta(minutes=after))
            if waiting:
                due.extend(_due(session, org_id, waiting, now, timedelta(minutes=repeat)))
    return due


def _waiting_replies(
    session: Session, org_id: int, now: datetime, after: timedelta
) -> list[_Waiting]:
    contact = CampaignContact
    latest_at = func.max(Message.created_at)
    rows = session.execute(
        select(
            Assignment.user_id,
            User.slack_user_id,
            Campaign.id,
            Campaign.title,
            Campaign.timezone,
            Campaign.texting_hours_start,
            Campaign.texting_hours_end,
            contact.timezone,
            func.max(Message.id),
            latest_at,
        )
        .select_from(contact)
        .join(Assignment, Assignment.id == contact.assignment_id)
        .join(User, User.id == Assignment.user_id)
        .join(Campaign, Campaign.id == contact.campaign_id)
        .join(Message, Message.campaign_contact_id == contact.id)
        .where(
            Campaign.organization_id == org_id,
            Campaign.is_started.is_(True),
            Campaign.is_archived.is_(False),
            contact.message_status == MessageStatus.NEEDS_RESPONSE.value,
            contact.is_opted_out.is_(False),
            Message.direction == Direction.INBOUND.value,
        )
        .group_by(
            contact.id,
            Assignment.user_id,
            User.slack_user_id,
            Campaign.id,
            Campaign.title,
            Campaign.timezone,
            Campaign.texting_hours_start,
            Campaign.texting_hours_end,
            contact.timezone,
        )
        .having(latest_at <= now - after)
    ).all()
    waiting = []
    for user_id, slack_id, cid, title, camp_tz, start, end, contact_tz, msg_id, at in rows:
        # No reminder the texter could not act on: the contact's local time (its own zone,
        # else the campaign's) must be within texting hours.
        if is_textable_now(start, end, contact_tz or camp_tz, now):
            waiting.append(_Waiting(user_id, slack_id, cid, title, msg_id, as_utc(at)))
    return waiting


def _due(
    session: Session, org_id: int, waiting: list[_Waiting], now: datetime, repeat: timedelta
) -> list[DueReminder]:
    by_pair: dict[tuple[int, int], list[_Waiting]] = defaultdict(list)
    for item in waiting:
        by_pair[(item.user_id, item.campaign_id)].append(item)
    users = {user for user, _ in by_pair}
    campaigns = {campaign for _, campaign in by_pair}
    state = {
        (row.user_id, row.campaign_id): row
        for row in session.scalars(
            select(ReplyReminder).where(
                ReplyReminder.user_id.in_(users), ReplyReminder.campaign_id.in_(campaigns)
            )
        )
    }
    per_user: dict[int, list[tuple[WaitingCampaign, _CampaignClaim]]] = defaultdict(list)
    slack_ids: dict[int, str] = {}
    for (user_id, campaign_id), items in by_pair.items():
        covered = tuple(sorted(item.latest_inbound_id for item in items))
        row = state.get((user_id, campaign_id))
        if row is not None and not _is_due(row, covered, now, repeat):
            continue
        slack_ids[user_id] = items[0].slack_user_id
        per_user[user_id].append(
            (
                WaitingCampaign(
                    campaign_id=campaign_id,
                    title=items[0].title,
                    waiting=len(items),
                    oldest_reply_at=min(item.latest_inbound_at for item in items),
                ),
                _CampaignClaim(
                    campaign_id=campaign_id,
                    covered=covered,
                    version=None if row is None else row.version,
                    prior_covered=() if row is None else tuple(row.covered),
                    prior_last_sent_at=None if row is None else row.last_sent_at,
                ),
            )
        )
    result = []
    for user_id, entries in sorted(per_user.items()):
        entries.sort(key=lambda entry: (entry[0].title, entry[0].campaign_id))
        summary = ReminderSummary(
            user_id=user_id,
            slack_user_id=slack_ids[user_id],
            organization_id=org_id,
            campaigns=tuple(entry[0] for entry in entries),
        )
        result.append(DueReminder(summary, tuple(entry[1] for entry in entries)))
    return result


def _is_due(row: ReplyReminder, covered: tuple[int, ...], now: datetime, repeat: timedelta) -> bool:
    if row.last_sent_at is None:
        return True
    # A reply that arrived after the last reminder has a message id it did not cover.
    if not set(covered) <= set(row.covered):
        return True
    return as_utc(row.last_sent_at) <= now - repeat


def claim_reminder(db: Database, due: DueReminder, now: datetime) -> ClaimedReminder | None:
    """Record the reminder as sent, per campaign; None when another process got there first."""
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    won: list[tuple[_CampaignClaim, int]] = []
    with db.uow() as uow:
        session = uow.session
        for claim in due.claims:
            values = {"covered": list(claim.covered), "last_sent_at": now}
            if claim.version is None:
                written = 1
                inserted = session.execute(
                    insert(ReplyReminder)
                    .values(
                        user_id=due.summary.user_id,
                        campaign_id=claim.campaign_id,
                        version=written,
                        **values,
                    )
                    .on_conflict_do_nothing(index_elements=["user_id", "campaign_id"])
                    # rowcount is not reliable for ORM-executed INSERTs: count returned rows.
                    .returning(ReplyReminder.id)
                ).all()
                taken = len(inserted)
            else:
                written = claim.version + 1
                taken = _swap(
                    session,
                    due.summary.user_id,
                    claim.campaign_id,
                    claim.version,
                    {**values, "version": written},
                )
            if taken == 1:
                won.append((claim, written))
        uow.commit()
    if not won:
        return None
    won_ids = {claim.campaign_id for claim, _ in won}
    summary = ReminderSummary(
        user_id=due.summary.user_id,
        slack_user_id=due.summary.slack_user_id,
        organization_id=due.summary.organization_id,
        campaigns=tuple(c for c in due.summary.campaigns if c.campaign_id in won_ids),
    )
    return ClaimedReminder(summary, tuple(won))


def undo_reminder(db: Database, claimed: ClaimedReminder) -> None:
    """Put back what was recorded before the claim, so the reminder is due again."""
    with db.uow() as uow:
        for claim, written in claimed.claims:
            _swap(
                uow.session,
                claimed.summary.user_id,
                claim.campaign_id,
                written,
                {
                    "covered": list(claim.prior_covered),
                    "last_sent_at": claim.prior_last_sent_at,
                    "version": written + 1,
                },
            )
        uow.commit()


def _swap(
    session: Session, user_id: int, campaign_id: int, version: int, values: dict[str, Any]
) -> int:
    return session.execute(
        update(ReplyReminder)
        .where(
            ReplyReminder.user_id == user_id,
            ReplyReminder.campaign_id == campaign_id,
            ReplyReminder.version == version,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount


__all__ = [
    "ClaimedReminder",
    "DueReminder",
    "ReminderSummary",
    "WaitingCampaign",
    "claim_reminder",
    "due_reminders",
    "undo_reminder",
]
