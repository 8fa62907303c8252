"""Taking conversations: Spoke's take-conversations sidebox with `vetted-takeconversations`.

A vetted texter takes up to the campaign's "conversations per take" unassigned, not opted
out contacts in conversation, oldest waiting reply first (needsResponse), then convo. The
claim is one statement, like the batch claim: `FOR UPDATE SKIP LOCKED` on PostgreSQL (two
texters taking at once never get the same contact, and neither waits for the other); SQLite
serialises writers with BEGIN IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, any_, bindparam, case, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from core.db import flushed_connection
from core.models import Assignment, Campaign, CampaignContact, Message, User, UserOrganization
from core.org_settings import effective_setting
from core.refusals import Refusal, RefusalReason, plural
from core.roles import Role
from core.services.campaigns import TAKE_STRATEGY
from core.services.contact_pool import status_in
from core.services.reassign import join_as_by_link, locked_assignment
from core.services.texter_notices import THREAD_TAKEN, NoticeToQueue, queue_notices
from core.statuses import Direction, MessageStatus
from strategies.registry import enabled_strategy_names

__all__ = [
    "DEFAULT_CONVERSATIONS_PER_TAKE",
    "TAKE_STRATEGY",
    "TakeResult",
    "TakeableCampaign",
    "allows_taking",
    "conversations_per_take",
    "conversations_to_take_in",
    "splits_assignments",
    "take_in",
    "takeable_campaigns_in",
    "vetters",
]

DEFAULT_CONVERSATIONS_PER_TAKE = 10
# Literal values, so PostgreSQL can use the conversations partial index (see contact_pool).
TAKEABLE = status_in(frozenset({MessageStatus.NEEDS_RESPONSE, MessageStatus.CONVO}))
Contact = CampaignContact


def conversations_per_take(campaign_settings: dict[str, Any] | None) -> int:
    value = (campaign_settings or {}).get("conversations_per_take")
    return value if isinstance(value, int) and value > 0 else DEFAULT_CONVERSATIONS_PER_TAKE


def splits_assignments(campaign_settings: dict[str, Any] | None) -> bool:
    """ "Replies go to the conversation team" (Spoke's outbound-unassign handler)."""
    return bool((campaign_settings or {}).get("split_assignments"))


def allows_taking(batch_strategies: list[str] | None, org_settings: dict[str, Any]) -> bool:
    """The campaign's enabled strategies include vetted-takeconversations, in any position."""
    org_list = effective_setting(org_settings, "DYNAMICASSIGNMENT_BATCHES")
    return TAKE_STRATEGY in enabled_strategy_names(batch_strategies, org_list)


@dataclass(frozen=True)
class TakeResult:
    campaign_id: int
    campaign_title: str
    contact_ids: list[int]
    refusal: Refusal | None = None
    cap_note: str | None = None  # fewer than the per-take number because of a cap
    notices: tuple[int, ...] = ()  # each taken conversation's thread, to post after the commit

    @property
    def taken(self) -> int:
        return len(self.contact_ids)


@dataclass(frozen=True)
class TakeableCampaign:
    campaign_id: int
    title: str
    joined: bool


def vetters(session: Session, organization_id: int, limit: int = 5) -> list[str]:
    """Names of the people who can vet a texter (admins and owners)."""
    names = session.scalars(
        select(User.name)
        .join(UserOrganization, UserOrganization.user_id == User.id)
        .where(
            UserOrganization.organization_id == organization_id,
            UserOrganization.role.in_([Role.ADMIN.value, Role.OWNER.value]),
        )
        .order_by(User.name)
        .limit(limit)
    ).all()
    return [n for n in names if n]


def _not_vetted(session: Session, organization_id: int) -> Refusal:
    who = vetters(session, organization_id)
    by = f" ({', '.join(who)})" if who else ""
    return Refusal(
        RefusalReason.NOT_VETTED,
        "Only vetted texters can take conversations. Ask an admin"
        f"{by} to vet you with `/campaign vet @you`.",
    )


def _unassigned_takeable(campaign_id: int | BindParameter[int]) -> tuple[ColumnElement[bool], ...]:
    """The campaign's contacts nobody holds, in conversation, not opted out."""
    return (
        Contact.campaign_id == campaign_id,
        Contact.assignment_id.is_(None),
        TAKEABLE,
        ~Contact.is_opted_out,
    )


def conversations_to_take_in(
    session: Session, campaign_ids: Sequence[int], up_to: int = 100
) -> dict[int, int]:
    """Each campaign's unassigned, not opted-out contacts in conversation, counted no further
    than `up_to`: one statement for them all."""
    if not campaign_ids:
        return {}
    ids = {f"campaign_{i}": cid for i, cid in enumerate(campaign_ids)}
    row = flushed_connection(session).execute(_to_take_query(len(ids), up_to), ids).one()
    return {cid: count or 0 for cid, count in zip(campaign_ids, row, strict=True)}


@lru_cache(maxsize=16)
def _to_take_query(campaigns: int, up_to: int) -> Select[Any]:
    """Built once per number of campaigns, their ids as parameters: a vetted texter's Home
    (after every batch click too) runs it, and building it anew cost more than running it."""
    counts = [
        select(func.count())
        .select_from(
            select(Contact.id)
            .where(*_unassigned_takeable(bindparam(f"campaign_{i}", type_=Integer)))
            .limit(up_to)
            .subquery()
        )
        .scalar_subquery()
        for i in range(campaigns)
    ]
    return select(*counts)


def takeable_campaigns_in(
    session: Session, organization_id: int, user_id: int, org_settings: dict[str, Any]
) -> list[TakeableCampaign]:
    """The organization's launched, not archived campaigns that let vetted texters take
    conversations, newest first (joined or not: taking joins the campaign)."""
    joined = set(
        session.scalars(select(Assignment.campaign_id).where(Assignment.user_id == user_id))
    )
    rows = session.execute(
        select(Campaign.id, Campaign.title, Campaign.batch_strategies)
        .where(
            Campaign.organization_id == organization_id,
            Campaign.is_archived.is_(False),
            Campaign.is_started.is_(True),
        )
        .order_by(Campaign.id.desc())
    ).all()
    return [
        TakeableCampaign(cid, title, cid in joined)
        for cid, title, strategies in rows
        if allows_taking(strategies, org_settings)
    ]


def take_in(
    session: Session,
    campaign: Campaign,
    user_id: int,
    role: Role | None,
    org_settings: dict[str, Any],
    now: datetime,
) -> TakeResult:
    """A vetted texter takes conversations, in the caller's transaction (the taker's role
    and the organization's settings already read): check, lock the texter's assignment
    (joining them if they haven't), claim. Refusals come back in the result, with a sentence
    for the texter; a refusal may leave a join behind, so the caller commits only a take."""
    campaign_id, title = campaign.id, campaign.title

    def refused(reason: RefusalReason, message: str, count: int | None = None) -> TakeResult:
        return TakeResult(campaign_id, title, [], Refusal(reason, message, count))

    if role is None or role == Role.SUSPENDED:
        return refused(
            RefusalReason.SUSPENDED,
            "Your account in this organization is suspended, so you can't take conversations.",
        )
    if campaign.is_archived:
        return refused(
            RefusalReason.CAMPAIGN_ARCHIVED,
            f"“{title}” has been archived, so its conversations can't be taken.",
        )
    if not allows_taking(campaign.batch_strategies, org_settings):
        return refused(
            RefusalReason.STRATEGY_NOT_ENABLED,
            f"“{title}” doesn't let texters take conversations (an admin can add "
            "“vetted-takeconversations” to its strategies in `/campaign settings`).",
        )
    if not role.at_least(Role.VETTED_TEXTER):
        return TakeResult(campaign_id, title, [], _not_vetted(session, campaign.organization_id))
    assignment = _assignment(session, campaign, user_id, org_settings)
    if assignment.max_contacts == 0:
        return refused(
            RefusalReason.CAP_ZERO,
            "An admin has set your max amount for this campaign to 0, so you can't take "
            "conversations.",
            0,
        )
    mine = Contact.assignment_id == assignment.id
    waiting = session.scalar(
        select(func.count()).where(
            mine,
            Contact.message_status == MessageStatus.NEEDS_RESPONSE.value,
            ~Contact.is_opted_out,
        )
    )
    if waiting:
        return refused(
            RefusalReason.WAITING_REPLIES,
            f"Answer your {plural(waiting, 'waiting reply', 'waiting replies')} first, "
            "then take more.",
            waiting,
        )
    number = conversations_per_take(campaign.settings)
    cap_note = None
    if assignment.max_contacts is not None:
        held = session.scalar(select(func.count()).where(mine)) or 0
        room = assignment.max_contacts - held
        if room <= 0:
            return refused(
                RefusalReason.CAP_REACHED,
                f"You have reached your limit of {assignment.max_contacts} contacts in "
                "this campaign.",
                assignment.max_contacts,
            )
        if room < number:
            number = room
            cap_note = f"Your limit of {assignment.max_contacts} contacts allowed {room}."
    claimed = _claim(session, campaign_id, assignment.id, number, now)
    if not claimed:
        return refused(
            RefusalReason.NO_CONVERSATIONS_LEFT,
            f"No conversations are waiting to be taken in “{title}” right now.",
        )
    # Queued with the claim, so a crash right after the commit can't lose the threads.
    notices = queue_notices(
        session,
        campaign.organization_id,
        [NoticeToQueue(THREAD_TAKEN, user_id, contact_id) for contact_id in claimed],
        now,
    )
    return TakeResult(campaign_id, title, claimed, None, cap_note, notices)


def _assignment(
    session: Session, campaign: Campaign, user_id: int, org_settings: dict[str, Any]
) -> Assignment:
    """The texter's assignment, locked like a batch request's; a vetted texter taking
    conversations in a campaign they never joined is joined to it (no link needed)."""
    assignment = locked_assignment(session, campaign.id, user_id)
    if assignment is None:
        assignment = join_as_by_link(session, campaign, user_id, org_settings)
    return assignment


def _claim(
    session: Session, campaign_id: int, assignment_id: int, count: int, now: datetime
) -> list[int]:
    if count <= 0:
        return []
    latest_reply = (
        select(func.max(Message.created_at))
        .where(
            Message.campaign_contact_id == Contact.id,
            Message.direction == Direction.INBOUND.value,
        )
        .correlate(Contact)
        .scalar_subquery()
    )
    chosen = (
        select(Contact.id)
        .where(*_unassigned_takeable(campaign_id))
        .order_by(
            case((Contact.message_status == MessageStatus.NEEDS_RESPONSE.value, 0), else_=1),
            latest_reply.is_(None),
            latest_reply,
            Contact.id,
        )
        .limit(count)
        .with_for_update(skip_locked=True)
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    # ARRAY(...) makes PostgreSQL run the locking subquery once, like the batch claim.
    picked = (
        Contact.id == any_(func.array(chosen.scalar_subquery()))
        if postgres
        else Contact.id.in_(chosen.scalar_subquery())
    )
    return sorted(
        session.connection().scalars(
            update(Contact)
            .where(picked, Contact.assignment_id.is_(None))
            .values(assignment_id=assignment_id, updated_at=now)
            .returning(Contact.id)
        )
    )
