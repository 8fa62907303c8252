"""The replies a texter owes, each with where its conversation lives in Slack.

Home, the reminder, the "finish your replies first" refusals, Done For Now and the DM's
top-level answers all link to these threads. Only replies that can be answered count: not
opted out, not closed, in a campaign that is not archived.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session

from core.db import Database, flushed_connection
from core.models import Assignment, Campaign, CampaignContact, Message, SlackThread, User
from core.refusals import Refusal, RefusalReason
from core.statuses import Direction, MessageStatus

__all__ = [
    "WaitingReply",
    "texter_names",
    "texter_names_in",
    "waiting_replies",
    "waiting_replies_in",
]

Contact = CampaignContact


@dataclass(frozen=True)
class WaitingReply:
    contact_id: int
    campaign_id: int
    campaign_title: str
    contact_name: str
    text: str  # the contact's latest message
    since: datetime | None  # when it arrived
    channel_id: str | None  # the contact's DM thread with this texter, if one was started
    thread_ts: str | None


def waiting_replies(
    db: Database,
    user_id: int,
    *,
    organization_id: int | None = None,
    campaign_ids: Collection[int] | None = None,
    contact_ids: Collection[int] | None = None,
    limit: int = 500,
) -> list[WaitingReply]:
    """The texter's waiting replies (or these contacts, whatever their status), longest
    waiting first."""
    with db.uow(read_only=True) as uow:
        return waiting_replies_in(
            uow.session,
            user_id,
            organization_id=organization_id,
            campaign_ids=campaign_ids,
            contact_ids=contact_ids,
            limit=limit,
        )


@cache
def _query(by_contacts: bool, by_organization: bool, by_campaigns: bool) -> Select[Any]:
    """The statement, built once per shape with its values as parameters: Home runs it after
    every batch, and building it (and its cache key) anew cost more CPU than running it."""
    latest = (
        select(Message.id)
        .where(
            Message.campaign_contact_id == Contact.id,
            Message.direction == Direction.INBOUND.value,
        )
        .order_by(Message.id.desc())
        .limit(1)
        .correlate(Contact)
        .scalar_subquery()
    )
    user_id = bindparam("user_id")
    query = (
        select(
            Contact.id,
            Contact.campaign_id,
            Campaign.title,
            Contact.first_name,
            Contact.last_name,
            Contact.cell,
            Message.text,
            Message.created_at,
            SlackThread.channel_id,
            SlackThread.thread_ts,
        )
        .join(Assignment, Assignment.id == Contact.assignment_id)
        .join(Campaign, Campaign.id == Contact.campaign_id)
        .outerjoin(Message, Message.id == latest)
        .outerjoin(
            SlackThread,
            (SlackThread.campaign_contact_id == Contact.id) & (SlackThread.user_id == user_id),
        )
        .where(Assignment.user_id == user_id, Campaign.is_archived.is_(False))
        .order_by(Message.created_at.is_(None), Message.created_at, Contact.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if by_contacts:
        query = query.where(Contact.id.in_(bindparam("contact_ids", expanding=True)))
    else:
        query = query.where(
            Contact.message_status == MessageStatus.NEEDS_RESPONSE.value,
            Contact.is_opted_out.is_(False),
        )
    if by_organization:
        query = query.where(Campaign.organization_id == bindparam("organization_id"))
    if by_campaigns:
        query = query.where(Contact.campaign_id.in_(bindparam("campaign_ids", expanding=True)))
    return query


def waiting_replies_in(
    session: Session,
    user_id: int,
    *,
    organization_id: int | None = None,
    campaign_ids: Collection[int] | None = None,
    contact_ids: Collection[int] | None = None,
    limit: int = 500,
) -> list[WaitingReply]:
    """waiting_replies inside the caller's unit of work."""
    query = _query(contact_ids is not None, organization_id is not None, campaign_ids is not None)
    parameters: dict[str, object] = {"user_id": user_id, "limit": limit}
    if contact_ids is not None:
        parameters["contact_ids"] = list(contact_ids)
    if organization_id is not None:
        parameters["organization_id"] = organization_id
    if campaign_ids is not None:
        parameters["campaign_ids"] = list(campaign_ids)
    rows = flushed_connection(session).execute(query, parameters).all()
    return [
        WaitingReply(
            contact_id=row[0],
            campaign_id=row[1],
            campaign_title=row[2],
            contact_name=f"{row[3]} {row[4]}".strip() or row[5],
            text=row[6] or "",
            since=row[7],
            channel_id=row[8],
            thread_ts=row[9],
        )
        for row in rows
    ]


def texter_names(db: Database, user_ids: Collection[int]) -> dict[int, str]:
    """Display names of texters (who sent each message of a conversation)."""
    if not user_ids:
        return {}
    with db.uow(read_only=True) as uow:
        return texter_names_in(uow.session, user_ids)


def texter_names_in(session: Session, user_ids: Collection[int]) -> dict[int, str]:
    """texter_names inside the caller's unit of work."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(list(user_ids)))).all()
    return {uid: name or "another texter" for uid, name in rows}


def replies_holding_back(
    session: Session, refusal: Refusal | None, user_id: int, campaign_id: int
) -> list[WaitingReply]:
    """The replies a "finish your replies first" refusal is about (none for other refusals),
    so the texter is shown the way to them."""
    if refusal is None or refusal.reason != RefusalReason.WAITING_REPLIES:
        return []
    return waiting_replies_in(session, user_id, campaign_ids=[campaign_id])
