"""Calling the Slack-facing use cases from tests that know people by their database ids: the
workspace and Slack user a use case identifies are read back for the user and campaign."""

from __future__ import annotations

from sqlalchemy import select

from core.db import Database
from core.models import Campaign, Organization, User
from core.services.end_of_shift import end_the_day
from core.services.release import ReleaseResult


def slack_ids(db: Database, campaign_id: int, user_id: int) -> tuple[str, str]:
    """(workspace, Slack user) of the user, in the campaign's organization."""
    with db.uow(read_only=True) as uow:
        team = uow.session.scalar(
            select(Organization.slack_team_id)
            .join(Campaign, Campaign.organization_id == Organization.id)
            .where(Campaign.id == campaign_id)
        )
        user = uow.session.scalar(select(User.slack_user_id).where(User.id == user_id))
    assert team is not None and user is not None
    return team, user


def end_day(
    db: Database, campaign_id: int, user_id: int, with_conversations: bool | None = None
) -> ReleaseResult:
    """Done for the Day confirmed by the texter, through its use case: what was released."""
    team, user = slack_ids(db, campaign_id, user_id)
    return end_the_day(db, team, user, None, campaign_id, with_conversations).result
