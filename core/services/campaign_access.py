"""Who may see and run a campaign: the check every admin use case starts with.

The set-up services (campaigns, contact_import, stats) trust their caller, as the operator's
CLI does; every Slack admin use case checks the actor's role in the campaign's own
organization first, inside its own transaction (a campaign id from another workspace is
"not found", never acted on).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.models import Campaign
from core.roles import Role
from core.services.authz import require_role
from core.services.campaigns import get_campaign

VIEW = Role.SUPERVOLUNTEER  # see, review and release
MANAGE = Role.ADMIN  # configure, launch, import, assign


def campaign_for(
    session: Session,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    role: Role,
    *,
    for_update: bool = False,
) -> Campaign:
    """The campaign, once it is known to be the organization's and the actor holds `role`.

    The campaign is looked up first: an unknown id is "not found" for everyone."""
    if for_update:  # the lock a manual assignment takes, as a batch request does
        session.get(Campaign, campaign_id, with_for_update=True)
    campaign = get_campaign(session, campaign_id, organization_id)
    require_role(session, actor_user_id, organization_id, role)
    return campaign
