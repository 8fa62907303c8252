"""How far the organization's campaigns have got, for supervolunteers and admins:
`/campaign list`, the admin Home and `/campaign stats`. Each is one read-only transaction
(role check included)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from core.db import Database
from core.models import CampaignContact
from core.services.authz import require_role
from core.services.campaign_access import VIEW, campaign_for
from core.services.campaigns import CampaignSummary, campaign_summaries, get_campaign
from core.services.stats import CampaignStats, stats_of
from core.statuses import MessageStatus


def list_campaigns(db: Database, actor_user_id: int, organization_id: int) -> list[CampaignSummary]:
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, VIEW)
        return campaign_summaries(uow.session, organization_id)


def campaigns_with_stats(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    *,
    include_archived: bool = True,
    limit: int | None = None,
) -> tuple[list[CampaignStats], int]:
    """The organization's campaigns, newest first, with their counts (for `list` and the
    admin Home), and how many campaigns there are. Counts are only computed for the first
    `limit` ones: Home is published often and each campaign's counts cost a few queries."""
    with db.uow(read_only=True) as uow:
        session = uow.session
        require_role(session, actor_user_id, organization_id, VIEW)
        return campaigns_with_stats_in(
            session, organization_id, include_archived=include_archived, limit=limit
        )


def campaigns_with_stats_in(
    session: Session,
    organization_id: int,
    *,
    include_archived: bool = True,
    limit: int | None = None,
) -> tuple[list[CampaignStats], int]:
    """campaigns_with_stats inside the caller's unit of work (the role already checked)."""
    summaries = [
        summary
        for summary in campaign_summaries(session, organization_id)
        if include_archived or not summary.is_archived
    ]
    summaries.sort(key=lambda summary: summary.id, reverse=True)
    shown = summaries if limit is None else summaries[:limit]
    stats = [stats_of(session, get_campaign(session, summary.id)) for summary in shown]
    return stats, len(summaries)


def campaign_stats(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> CampaignStats:
    with db.uow(read_only=True) as uow:
        campaign = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, VIEW)
        return stats_of(uow.session, campaign)


@dataclass(frozen=True)
class StatsReport:
    """What `/campaign stats` and the admin Home's Stats button show."""

    stats: CampaignStats
    texters_holding_unsent: int


def stats_report(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> StatsReport:
    with db.uow(read_only=True) as uow:
        campaign = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, VIEW)
        return StatsReport(
            stats_of(uow.session, campaign), texters_holding_unsent(uow.session, campaign_id)
        )


def texters_holding_unsent(session: Session, campaign_id: int) -> int:
    """How many texters still hold first texts they haven't sent (opted-out ones excluded)."""
    return (
        session.scalar(
            select(func.count(distinct(CampaignContact.assignment_id))).where(
                CampaignContact.campaign_id == campaign_id,
                CampaignContact.assignment_id.is_not(None),
                CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
                CampaignContact.is_opted_out.is_(False),
            )
        )
        or 0
    )
