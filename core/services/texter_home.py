"""What a texter sees across their campaigns: work held and whether more can be had."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.orm import Session

from core.db import Database, flushed_connection
from core.models import Assignment, Campaign, CampaignContact
from core.org_settings import effective_setting
from core.roles import Role
from core.services.batch_inputs import HeldWork, TexterInCampaign
from core.services.batches import Eligibility, eligibility_in
from core.services.campaign_progress import campaigns_with_stats_in
from core.services.campaigns import texting_hours_words
from core.services.contact_pool import CAMPAIGN_INFO_COLUMNS, campaign_info, status_in
from core.services.conversations import allows_taking, conversations_to_take_in
from core.services.identified import read_as
from core.services.identity import Identity
from core.services.joining import campaign_org_settings
from core.services.organizations import member_role
from core.services.send_card import CardCampaign
from core.services.stats import CampaignStats
from core.services.waiting_replies import WaitingReply, waiting_replies_in
from core.statuses import MessageStatus


@dataclass(frozen=True)
class TexterCampaign:
    campaign_id: int
    title: str
    description: str
    settings: dict[str, object]
    eligibility: Eligibility
    holds_any: bool = True  # False before the texter's first batch: "Send First Texts"
    texting_hours: str = ""  # '9 AM-9 PM America/New_York', or 'any time (no texting hours)'
    # The campaign lets texters take conversations and this texter is vetted (or above).
    can_take_conversations: bool = False
    waiting_to_take: int = 0  # conversations waiting in the pool (counted up to 100)

    @property
    def unsent(self) -> int:
        return self.eligibility.unsent

    @property
    def waiting_replies(self) -> int:
        return self.eligibility.waiting_replies


@dataclass(frozen=True)
class JoinedCampaign:
    """A joined, not archived campaign as one statement reads it for all of them."""

    texter: TexterInCampaign
    title: str
    description: str
    settings: dict[str, object]
    holds_any: bool
    # Read with the rest so /sendfirsttexts's card needs no read of the campaign of its own.
    script: str = ""

    @property
    def campaign_id(self) -> int:
        return self.texter.campaign.id

    def card_campaign(self) -> CardCampaign:
        """The campaign as a batch's reply and its card show it, from what was read here."""
        info = self.texter.campaign
        return CardCampaign(
            info.id,
            info.organization_id,
            self.title,
            self.script,
            self.settings,
            info.texting_hours_start,
            info.texting_hours_end,
            info.timezone,
        )


def _joined_query() -> Select[Any]:
    holds_any = (
        select(CampaignContact.id)
        .where(CampaignContact.assignment_id == Assignment.id)
        .limit(1)
        .exists()
    )
    return (
        select(
            Assignment.id.label("assignment_id"),
            Assignment.max_contacts,
            *CAMPAIGN_INFO_COLUMNS,
            Campaign.batch_strategies,
            Campaign.title,
            Campaign.description,
            Campaign.settings,
            holds_any.label("holds_any"),
            Campaign.script,
        )
        .join(Assignment, Assignment.campaign_id == Campaign.id)
        .where(
            Assignment.user_id == bindparam("user_id"),
            Campaign.organization_id == bindparam("organization_id"),
            Campaign.is_archived.is_(False),
        )
        .order_by(Campaign.id.desc())
    )


JOINED = _joined_query()


def joined_campaigns_in(session: Session, identity: Identity) -> list[JoinedCampaign]:
    """The texter's joined, not archived campaigns of the organization, newest first, with
    what their eligibility needs: one statement, however many campaigns."""
    rows = (
        flushed_connection(session)
        .execute(JOINED, {"user_id": identity.user_id, "organization_id": identity.organization_id})
        .all()
    )
    return [
        JoinedCampaign(
            TexterInCampaign(
                assignment_id=row.assignment_id,
                max_contacts=row.max_contacts,
                campaign=campaign_info(row),
                batch_strategies=row.batch_strategies,
                role=identity.role,
                org_settings=dict(identity.org_settings),
            ),
            row.title,
            row.description or "",
            dict(row.settings or {}),
            bool(row.holds_any),
            row.script,
        )
        for row in rows
    ]


def campaigns_in(
    session: Session,
    identity: Identity,
    now: datetime,
    joined: list[JoinedCampaign] | None = None,
    db: Database | None = None,
    known_held: Mapping[int, HeldWork] | None = None,
) -> list[TexterCampaign]:
    """Each joined campaign with whether more can be had (its eligibility reads only what
    the texter holds and whether the pool has one more, never the campaign again). `db` is
    no longer used: everything is read in the caller's unit of work."""
    if joined is None:
        joined = joined_campaigns_in(session, identity)
    vetted = identity.has_role(Role.VETTED_TEXTER)
    connection = session.connection()
    held_by_assignment = {**held_together(connection, joined, known_held), **(known_held or {})}
    campaigns = []
    takers = [
        item.campaign_id
        for item in joined
        if vetted and allows_taking(item.texter.batch_strategies, item.texter.org_settings)
    ]
    to_take = conversations_to_take_in(session, takers)
    for item in joined:
        info = item.texter.campaign
        can_take = info.id in to_take
        held = held_by_assignment.get(item.texter.assignment_id)
        eligibility = eligibility_in(
            connection, info.id, identity.user_id, now=now, texter=item.texter, held=held
        )
        campaigns.append(
            TexterCampaign(
                info.id,
                item.title,
                item.description,
                item.settings,
                eligibility,
                holds_any=item.holds_any,
                texting_hours=texting_hours_words(
                    info.texting_hours_start, info.texting_hours_end, info.timezone
                ),
                can_take_conversations=can_take,
                waiting_to_take=to_take.get(info.id, 0),
            )
        )
    return campaigns


def held_together(
    connection: Connection,
    joined: list[JoinedCampaign],
    known: Mapping[int, HeldWork] | None = None,
) -> dict[int, HeldWork]:
    """What the texter holds in each campaign, for every campaign at once: one statement
    counting their live work (first texts to send, replies to answer) by assignment. A capped
    assignment (its total counted too) or a campaign with texting hours (replies textable now)
    is left out: its eligibility reads its own, as a batch request does."""
    wanted = {
        item.texter.assignment_id: item
        for item in joined
        if item.texter.assignment_id not in (known or {})
        and item.texter.max_contacts is None
        and item.texter.campaign.texting_hours_start is None
    }
    if not wanted:
        return {}
    rows = connection.execute(HELD_TOGETHER, {"assignment_ids": list(wanted)}).all()
    counts: dict[tuple[int, str], int] = {(row[0], row[1]): row[2] for row in rows}
    return {
        assignment_id: HeldWork(
            unsent=counts.get((assignment_id, MessageStatus.NEEDS_MESSAGE.value), 0),
            waiting_replies=counts.get((assignment_id, MessageStatus.NEEDS_RESPONSE.value), 0),
            holds_any=item.holds_any,
            total_held=None,
        )
        for assignment_id, item in wanted.items()
    }


# Live work only, so the count never grows with what the texter has finished (a range of
# ix_campaign_contact_assignment_status per assignment and status).
HELD_TOGETHER = (
    select(CampaignContact.assignment_id, CampaignContact.message_status, func.count())
    .where(
        CampaignContact.assignment_id.in_(bindparam("assignment_ids", expanding=True)),
        status_in(frozenset({MessageStatus.NEEDS_MESSAGE, MessageStatus.NEEDS_RESPONSE})),
        CampaignContact.is_opted_out.is_(False),
    )
    .group_by(CampaignContact.assignment_id, CampaignContact.message_status)
)


@dataclass(frozen=True)
class CampaignsRun:
    """Home's part for supervolunteers and admins: the newest campaigns not archived, with
    their counts, and how many there are."""

    campaigns: list[CampaignStats]
    total: int
    can_manage: bool  # an admin: the campaigns' set-up buttons too


@dataclass(frozen=True)
class TexterHome:
    """Everything the texter's Home tab shows, read in one transaction."""

    identity: Identity
    campaigns: list[TexterCampaign]
    replies: list[WaitingReply]
    done_for_the_day_enabled: bool
    campaigns_run: CampaignsRun | None = None  # a supervolunteer or above


HOME_REPLIES = 200
HOME_CAMPAIGNS_RUN = 10  # the admin part of Home shows this many campaigns


def campaigns_run_in(session: Session, identity: Identity) -> CampaignsRun | None:
    """The campaigns a supervolunteer or admin runs, for Home (None for texters)."""
    if not identity.has_role(Role.SUPERVOLUNTEER):
        return None
    stats, total = campaigns_with_stats_in(
        session, identity.organization_id, include_archived=False, limit=HOME_CAMPAIGNS_RUN
    )
    return CampaignsRun(stats, total, identity.has_role(Role.ADMIN))


def home_in(
    session: Session,
    identity: Identity,
    now: datetime,
    db: Database | None = None,
    joined: list[JoinedCampaign] | None = None,
    *,
    known_held: Mapping[int, HeldWork] | None = None,
    replies: list[WaitingReply] | None = None,
) -> TexterHome:
    """Home's data inside the caller's unit of work; what the caller already knows (what a
    new assignment holds, a new user's replies) isn't read again."""
    if replies is None:
        replies = waiting_replies_in(
            session, identity.user_id, organization_id=identity.organization_id, limit=HOME_REPLIES
        )
    return TexterHome(
        identity,
        campaigns_in(session, identity, now, joined, db, known_held),
        replies,
        bool(effective_setting(dict(identity.org_settings), "DONE_FOR_THE_DAY_ENABLED")),
        campaigns_run_in(session, identity),
    )


def open_home(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None = None,
    now: datetime | None = None,
) -> TexterHome:
    """The texter opened Home (or it is redrawn): who they are and what it shows, in one
    read-only transaction (a write one only for a new user or a new name)."""
    moment = now or datetime.now(UTC)
    return read_as(
        db,
        slack_team_id,
        slack_user_id,
        name,
        lambda session, identity: home_in(session, identity, moment, db),
    )


def texter_campaigns(
    db: Database, organization_id: int, user_id: int, now: datetime | None = None
) -> list[TexterCampaign]:
    """The texter's joined, not archived campaigns of the organization, newest first."""
    now = now or datetime.now(UTC)
    with db.uow(read_only=True) as uow:
        role = member_role(uow.session, user_id, organization_id)
        identity = Identity(
            organization_id,
            user_id,
            "",
            "",
            role,
            campaign_org_settings(uow.session, organization_id),
        )
        return campaigns_in(uow.session, identity, now, db=db)


DEFAULT_REQUEST_LABEL = "Request More Texts"


@dataclass(frozen=True)
class RequestPrompt:
    """The campaign's request button label and the message shown above it (Spoke's
    Assignment Management settings)."""

    label: str = DEFAULT_REQUEST_LABEL
    message: str = ""


def request_prompt_of(settings: dict[str, object]) -> RequestPrompt:
    label = str(settings.get("request_button_label") or "").strip() or DEFAULT_REQUEST_LABEL
    return RequestPrompt(label, str(settings.get("request_message") or "").strip())


def archived_campaign_titles_in(session: Session, identity: Identity) -> list[str]:
    return list(
        session.scalars(
            select(Campaign.title)
            .join(Assignment, Assignment.campaign_id == Campaign.id)
            .where(
                Assignment.user_id == identity.user_id,
                Campaign.organization_id == identity.organization_id,
                Campaign.is_archived.is_(True),
            )
            .order_by(Campaign.id.desc())
        )
    )
