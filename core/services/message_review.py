"""Message Review for supervolunteers and admins: a campaign's contacts by status and
texter, and unassigning them. Each use case is one transaction, role check included."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from core.db import Database
from core.services.campaign_access import VIEW, campaign_for
from core.services.members import member_in, slack_ids_of
from core.services.release import ReleaseResult, commit_release, unassign_in
from core.services.stats import ContactRow, contact_page
from core.statuses import MessageStatus

REVIEW_ROWS_SHOWN = 20


def search_contacts(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    *,
    status: MessageStatus | None = MessageStatus.NEEDS_MESSAGE,
    texter_user_id: int | None = None,
    limit: int = REVIEW_ROWS_SHOWN,
) -> tuple[list[ContactRow], int]:
    with db.uow(read_only=True) as uow:
        campaign_for(uow.session, actor_user_id, organization_id, campaign_id, VIEW)
        return contact_page(
            uow.session, campaign_id, status=status, texter_user_id=texter_user_id, limit=limit
        )


@dataclass(frozen=True)
class ReviewPage:
    campaign_id: int
    title: str
    rows: list[ContactRow]
    total: int
    status: MessageStatus | None
    texter_user_id: int | None
    slack_ids: dict[int, str]  # user id -> Slack id of every texter holding a row shown


def review(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    *,
    status: MessageStatus | None = MessageStatus.NEEDS_MESSAGE,
    texter_slack_user_id: str | None = None,
    limit: int = REVIEW_ROWS_SHOWN,
) -> ReviewPage:
    """`/campaign review`: the contacts with `status` (None: all), held by one texter when
    named."""
    with db.uow(read_only=True) as uow:
        session = uow.session
        campaign = campaign_for(session, actor_user_id, organization_id, campaign_id, VIEW)
        texter_user_id = (
            member_in(session, organization_id, texter_slack_user_id).id
            if texter_slack_user_id
            else None
        )
        rows, total = contact_page(
            session, campaign_id, status=status, texter_user_id=texter_user_id, limit=limit
        )
        holders = slack_ids_of(session, {r.texter_user_id for r in rows if r.texter_user_id})
        return ReviewPage(campaign_id, campaign.title, rows, total, status, texter_user_id, holders)


def unassign(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    *,
    texter_user_id: int | None = None,
    statuses: Collection[MessageStatus] | None = None,
    contact_ids: Collection[int] | None = None,
) -> ReleaseResult:
    """Message Review's Unassign (everything matching texter and statuses) and Unassign
    selected (the ticked contacts): they go back to the pool."""
    with db.uow() as uow:
        campaign_for(uow.session, actor_user_id, organization_id, campaign_id, VIEW)
        result = unassign_in(
            uow.session,
            campaign_id,
            texter_user_id=texter_user_id,
            statuses=statuses,
            contact_ids=contact_ids,
        )
        commit_release(uow, campaign_id)
        return result
