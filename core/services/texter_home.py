"""What a texter sees across their campaigns: work held and whether more can be had."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from core.db import Database
from core.models import Assignment, Campaign
from core.services.batches import Eligibility, can_request_more


@dataclass(frozen=True)
class TexterCampaign:
    campaign_id: int
    title: str
    description: str
    settings: dict[str, object]
    eligibility: Eligibility

    @property
    def unsent(self) -> int:
        return self.eligibility.unsent

    @property
    def waiting_replies(self) -> int:
        return self.eligibility.waiting_replies


def texter_campaigns(
    db: Database, organization_id: int, user_id: int, now: datetime | None = None
) -> list[TexterCampaign]:
    """The texter's joined, not archived campaigns of the organization, newest first."""
    now = now or datetime.now(UTC)
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(Campaign.id, Campaign.title, Campaign.description, Campaign.settings)
            .join(Assignment, Assignment.campaign_id == Campaign.id)
            .where(
                Assignment.user_id == user_id,
                Campaign.organization_id == organization_id,
                Campaign.is_archived.is_(False),
            )
            .order_by(Campaign.id.desc())
        ).all()
    return [
        TexterCampaign(
            cid,
            title,
            description,
            dict(settings or {}),
            can_request_more(db, cid, user_id, now=now),
        )
        for cid, title, description, settings in rows
    ]


def archived_campaign_titles(db: Database, organization_id: int, user_id: int) -> list[str]:
    """Titles of the archived campaigns the texter joined, newest first (to name them when
    no live campaign is left, instead of "you haven't joined any")."""
    with db.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(Campaign.title)
                .join(Assignment, Assignment.campaign_id == Campaign.id)
                .where(
                    Assignment.user_id == user_id,
                    Campaign.organization_id == organization_id,
                    Campaign.is_archived.is_(True),
                )
                .order_by(Campaign.id.desc())
            )
        )
