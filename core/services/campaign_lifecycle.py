"""A campaign's life as its admins run it from Slack: its join link, launching, rotating
the link and archiving. Each use case checks the role and does the work in one
transaction."""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Database
from core.services.authz import require_role
from core.services.campaign_access import MANAGE, campaign_for
from core.services.campaign_editing import ScriptReport, report_on
from core.services.campaigns import get_campaign, new_join_token, start_campaign


@dataclass(frozen=True)
class JoinLink:
    campaign_id: int
    title: str
    description: str
    join_token: str
    is_started: bool
    use_dynamic_assignment: bool
    is_archived: bool


def join_link_for(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> JoinLink:
    """What an admin posts as a campaign's join link (NotAllowed below ADMIN, NotFound for a
    campaign of another organization); the role is checked first."""
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, MANAGE)
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        return JoinLink(
            campaign.id,
            campaign.title,
            campaign.description,
            campaign.join_token,
            campaign.is_started,
            campaign.use_dynamic_assignment,
            campaign.is_archived,
        )


def launch_campaign(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> ScriptReport:
    """Launch (Conflict when archived, without a script or contacts, or when the script
    uses fields the contacts don't have); the reply reports on the script."""
    with db.uow() as uow:
        campaign = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, MANAGE)
        start_campaign(uow.session, campaign)
        report = report_on(uow.session, campaign)
        uow.commit()
        return report


def rotate_join_link(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> None:
    """Every earlier join link stops working; the new token is not returned (nothing is
    posted), the admin posts a fresh link when they want one."""
    with db.uow() as uow:
        campaign = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, MANAGE)
        campaign.join_token = new_join_token()
        uow.commit()


def archive_campaign(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> str:
    """Archive (its join link and batches close); returns the campaign's title."""
    with db.uow() as uow:
        campaign = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, MANAGE)
        campaign.is_archived = True
        uow.commit()
        return campaign.title
