"""The daily admin digest: per campaign in progress, how far it got and what is waiting.

Posted once per organization per UTC day, from DIGEST_HOUR on (a process that was down at that
hour catches up later the same day). The day is claimed in digest_state before posting and
given back if posting fails, like reply reminders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import Database
from core.models import Campaign, CampaignContact, DigestState, Organization
from core.org_settings import effective_setting
from core.services.stats import counts_by_status
from core.statuses import MessageStatus


@dataclass(frozen=True)
class CampaignDigest:
    campaign_id: int
    title: str
    textable: int  # contacts not opted out
    first_texts_sent: int
    texters_active: int  # texters holding at least one contact
    unsent_held: int  # first texts assigned to a texter, not yet sent
    replies_waiting: int

    @property
    def progress(self) -> float:
        """Share of not-opted-out contacts sent their first text."""
        return self.first_texts_sent / self.textable if self.textable else 0.0


@dataclass(frozen=True)
class OrgDigest:
    organization_id: int
    organization_name: str
    day: date
    campaigns: tuple[CampaignDigest, ...]


@dataclass(frozen=True)
class DigestDue:
    organization_id: int
    channel: str
    day: date


@dataclass(frozen=True)
class DigestClaim:
    due: DigestDue
    previous_day: date | None


def digests_due(
    db: Database, now: datetime, environ: Mapping[str, str] | None = None
) -> list[DigestDue]:
    """Organizations with DIGEST_CHANNEL set, past DIGEST_HOUR, not yet posted today."""
    today = now.date()
    due = []
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(Organization.id, Organization.settings, DigestState.posted_on)
            .outerjoin(DigestState, DigestState.organization_id == Organization.id)
            .order_by(Organization.id)
        ).all()
    for org_id, settings, posted_on in rows:
        channel = effective_setting(settings, "DIGEST_CHANNEL", environ)
        hour = effective_setting(settings, "DIGEST_HOUR", environ)
        if channel and now.hour >= hour and (posted_on is None or posted_on < today):
            due.append(DigestDue(org_id, channel, today))
    return due


def claim_digest(db: Database, due: DigestDue) -> DigestClaim | None:
    """Record today's digest as posted; None when another process already did."""
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    with db.uow() as uow:
        session = uow.session
        previous = session.scalar(
            select(DigestState.posted_on).where(DigestState.organization_id == due.organization_id)
        )
        taken = session.execute(
            update(DigestState)
            .where(
                DigestState.organization_id == due.organization_id,
                or_(DigestState.posted_on.is_(None), DigestState.posted_on < due.day),
            )
            .values(posted_on=due.day)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 0:
            inserted = session.execute(
                insert(DigestState)
                .values(organization_id=due.organization_id, posted_on=due.day)
                .on_conflict_do_nothing(index_elements=["organization_id"])
                .returning(DigestState.organization_id)  # INSERT rowcount is not reliable
            ).all()
            taken = len(inserted)
            previous = None
        uow.commit()
    return DigestClaim(due, previous) if taken == 1 else None


def undo_digest(db: Database, claim: DigestClaim) -> None:
    """Posting failed: today's digest is due again."""
    with db.uow() as uow:
        uow.session.execute(
            update(DigestState)
            .where(
                DigestState.organization_id == claim.due.organization_id,
                DigestState.posted_on == claim.due.day,
            )
            .values(posted_on=claim.previous_day)
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def build_digest(db: Database, organization_id: int, day: date) -> OrgDigest:
    """Figures for every launched, not archived campaign of the organization."""
    with db.uow(read_only=True) as uow:
        session = uow.session
        org = session.get(Organization, organization_id)
        campaigns = session.execute(
            select(Campaign.id, Campaign.title)
            .where(
                Campaign.organization_id == organization_id,
                Campaign.is_started.is_(True),
                Campaign.is_archived.is_(False),
            )
            .order_by(Campaign.title, Campaign.id)
        ).all()
        return OrgDigest(
            organization_id=organization_id,
            organization_name=org.name if org else "",
            day=day,
            campaigns=tuple(_campaign_digest(session, cid, title) for cid, title in campaigns),
        )


def _campaign_digest(session: Session, campaign_id: int, title: str) -> CampaignDigest:
    by_status, _opted_out = counts_by_status(session, campaign_id)
    contact = CampaignContact
    unsent = contact.message_status == MessageStatus.NEEDS_MESSAGE.value
    texters, unsent_held = session.execute(
        select(
            func.count(func.distinct(contact.assignment_id)),
            func.coalesce(func.sum(case((unsent, 1), else_=0)), 0),
        ).where(
            contact.campaign_id == campaign_id,
            contact.assignment_id.is_not(None),
            contact.is_opted_out.is_(False),
        )
    ).one()
    textable = sum(by_status.values())
    return CampaignDigest(
        campaign_id=campaign_id,
        title=title,
        textable=textable,
        first_texts_sent=textable - by_status[MessageStatus.NEEDS_MESSAGE.value],
        texters_active=int(texters),
        unsent_held=int(unsent_held),
        replies_waiting=by_status[MessageStatus.NEEDS_RESPONSE.value],
    )
