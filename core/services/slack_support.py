"""What an admin posts as a campaign's join link.

Re-exported below until their callers import them from their own modules: claim_event
(core.services.slack_events), database_answers (core.services.health), campaign_title_in_org
(core.services.campaign_scope).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Database
from core.roles import Role
from core.services.authz import require_role
from core.services.campaign_scope import campaign_title_in_org
from core.services.campaigns import get_campaign
from core.services.health import database_answers
from core.services.slack_events import claim_event

__all__ = ["JoinLink", "campaign_title_in_org", "claim_event", "database_answers", "join_link_for"]


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
    campaign of another organization)."""
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, Role.ADMIN)
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
