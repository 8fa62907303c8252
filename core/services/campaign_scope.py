"""A campaign as one organization may see it: a button's campaign id is checked here, so a
button from another workspace's message can't act on this one's campaigns."""

from __future__ import annotations

from core.db import Database
from core.services.campaigns import get_campaign


def campaign_title_in_org(db: Database, campaign_id: int, organization_id: int) -> str:
    """The campaign's title if it belongs to the organization; NotFound otherwise."""
    with db.uow(read_only=True) as uow:
        return get_campaign(uow.session, campaign_id, organization_id).title
