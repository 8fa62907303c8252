"""Role-checked entry points for admin views and actions in Slack.

The set-up services (campaigns, contact_import, stats) trust their caller, as the operator's
CLI does; Slack requests come through here so every one is checked against the actor's role
in the campaign's own organization (a campaign id from another workspace is "not found").
"""

from __future__ import annotations

from typing import TextIO

from core.db import Database
from core.roles import Role
from core.services import campaigns, contact_import, stats
from core.services.authz import require_role
from core.services.campaigns import CampaignSummary
from core.services.contact_import import ImportReport
from core.services.stats import CampaignStats, ContactRow, TexterRow
from core.statuses import MessageStatus

VIEW = Role.SUPERVOLUNTEER  # see, review and release
MANAGE = Role.ADMIN  # configure, launch, import, assign


def _check(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int, role: Role
) -> None:
    with db.uow(read_only=True) as uow:
        campaigns.get_campaign(uow.session, campaign_id, organization_id)
        require_role(uow.session, actor_user_id, organization_id, role)


def list_campaigns(db: Database, actor_user_id: int, organization_id: int) -> list[CampaignSummary]:
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, VIEW)
    return campaigns.list_campaigns(db, organization_id)


def campaign_stats(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> CampaignStats:
    _check(db, actor_user_id, organization_id, campaign_id, VIEW)
    return stats.campaign_stats(db, campaign_id, organization_id)


def texter_rows(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[TexterRow], int]:
    _check(db, actor_user_id, organization_id, campaign_id, VIEW)
    return stats.texter_rows(db, campaign_id, offset, limit)


def search_contacts(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    *,
    status: MessageStatus | None = MessageStatus.NEEDS_MESSAGE,
    texter_user_id: int | None = None,
    limit: int = 20,
) -> tuple[list[ContactRow], int]:
    _check(db, actor_user_id, organization_id, campaign_id, VIEW)
    return stats.search_contacts(
        db, campaign_id, status=status, texter_user_id=texter_user_id, limit=limit
    )


def launch_campaign(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> None:
    _check(db, actor_user_id, organization_id, campaign_id, MANAGE)
    campaigns.launch_campaign(db, campaign_id, organization_id)


def rotate_join_link(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> None:
    """Every earlier join link stops working; the new token is not returned (nothing is
    posted), the admin posts a fresh link when they want one."""
    _check(db, actor_user_id, organization_id, campaign_id, MANAGE)
    campaigns.rotate_join_token(db, campaign_id, organization_id)


def import_contacts(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    source: TextIO,
    region: str = "US",
) -> ImportReport:
    _check(db, actor_user_id, organization_id, campaign_id, MANAGE)
    return contact_import.import_contacts(db, campaign_id, source, region)
