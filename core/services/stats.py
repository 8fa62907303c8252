"""Campaign progress and counts, cheap on million-contact campaigns (index-only counts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import Database
from core.models import CampaignContact
from core.services.campaigns import CampaignSummary, _summary, get_campaign
from core.statuses import MessageStatus


@dataclass(frozen=True)
class CampaignStats:
    campaign: CampaignSummary
    by_status: dict[str, int]
    opted_out: int
    unassigned_initials: int
    total: int
    texters: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def textable(self) -> int:
        return self.total - self.opted_out

    @property
    def initials_unsent(self) -> int:
        """First texts still to send to contacts who have not opted out."""
        return self.by_status.get(MessageStatus.NEEDS_MESSAGE.value, 0)

    @property
    def progress(self) -> float:
        """Share of not-opted-out contacts who have been sent their first text."""
        if self.textable == 0:
            return 0.0
        return (self.textable - self.initials_unsent) / self.textable

    @property
    def all_initials_sent(self) -> bool:
        return self.textable > 0 and self.initials_unsent == 0


def counts_by_status(session: Session, campaign_id: int) -> tuple[dict[str, int], int]:
    """Not-opted-out contacts by status, and the number opted out."""
    rows = session.execute(
        select(CampaignContact.message_status, CampaignContact.is_opted_out, func.count())
        .where(CampaignContact.campaign_id == campaign_id)
        .group_by(CampaignContact.message_status, CampaignContact.is_opted_out)
    ).all()
    by_status = {status.value: 0 for status in MessageStatus}
    opted_out = 0
    for status, is_opted_out, count in rows:
        if is_opted_out:
            opted_out += count
        else:
            by_status[status] = by_status.get(status, 0) + count
    return by_status, opted_out


def unassigned_initials(session: Session, campaign_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(CampaignContact)
            .where(
                CampaignContact.campaign_id == campaign_id,
                CampaignContact.assignment_id.is_(None),
                CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
                CampaignContact.is_opted_out.is_(False),
            )
        )
        or 0
    )


def campaign_stats(
    db: Database, campaign_id: int, organization_id: int | None = None
) -> CampaignStats:
    from core.models import Assignment

    with db.uow(read_only=True) as uow:
        session = uow.session
        campaign = get_campaign(session, campaign_id, organization_id)
        by_status, opted_out = counts_by_status(session, campaign_id)
        texters = (
            session.scalar(select(func.count()).where(Assignment.campaign_id == campaign_id)) or 0
        )
        return CampaignStats(
            campaign=_summary(campaign),
            by_status=by_status,
            opted_out=opted_out,
            unassigned_initials=unassigned_initials(session, campaign_id),
            total=sum(by_status.values()) + opted_out,
            texters=texters,
        )
