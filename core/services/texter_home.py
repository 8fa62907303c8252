"""What a texter sees across their campaigns: work held and whether more can be had."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from core.db import Database
from core.models import Assignment, Campaign, CampaignContact
from core.roles import Role
from core.services.batches import Eligibility, can_request_more
from core.services.campaigns import texting_hours_words
from core.services.conversations import allows_taking, conversations_to_take
from core.services.joining import campaign_org_settings
from core.services.organizations import member_role


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


def texter_campaigns(
    db: Database, organization_id: int, user_id: int, now: datetime | None = None
) -> list[TexterCampaign]:
    """The texter's joined, not archived campaigns of the organization, newest first."""
    now = now or datetime.now(UTC)
    with db.uow(read_only=True) as uow:
        holds_any = (
            select(CampaignContact.id)
            .where(CampaignContact.assignment_id == Assignment.id)
            .limit(1)
            .exists()
        )
        role = member_role(uow.session, user_id, organization_id)
        vetted = role is not None and role.at_least(Role.VETTED_TEXTER)
        org_settings = campaign_org_settings(uow.session, organization_id)
        rows = uow.session.execute(
            select(
                Campaign.id,
                Campaign.title,
                Campaign.description,
                Campaign.settings,
                holds_any,
                Campaign.texting_hours_start,
                Campaign.texting_hours_end,
                Campaign.timezone,
                Campaign.batch_strategies,
            )
            .join(Assignment, Assignment.campaign_id == Campaign.id)
            .where(
                Assignment.user_id == user_id,
                Campaign.organization_id == organization_id,
                Campaign.is_archived.is_(False),
            )
            .order_by(Campaign.id.desc())
        ).all()
    campaigns = []
    for cid, title, description, settings, holds, start, end, zone, strategies in rows:
        can_take = vetted and allows_taking(strategies, org_settings)
        campaigns.append(
            TexterCampaign(
                cid,
                title,
                description,
                dict(settings or {}),
                can_request_more(db, cid, user_id, now=now),
                holds_any=bool(holds),
                texting_hours=texting_hours_words(start, end, zone),
                can_take_conversations=can_take,
                waiting_to_take=conversations_to_take(db, cid) if can_take else 0,
            )
        )
    return campaigns


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


def request_prompt(db: Database, campaign_id: int) -> RequestPrompt:
    with db.uow(read_only=True) as uow:
        settings = uow.session.scalar(select(Campaign.settings).where(Campaign.id == campaign_id))
    return request_prompt_of(dict(settings or {}))


def archived_campaign_titles(db: Database, organization_id: int, user_id: int) -> list[str]:
    """Titles of the archived campaigns the texter joined, newest first (to name them when
    no live campaign is left, instead of "you haven't joined any")."""
    with db.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(Campaign.title)
                .join(Assignment, Assignment.campaign_id == Campaign.id)
                .where(
                    Assignment.user_id == user_id,
                    Campaign.organization_id == organization_id,
                    Campaign.is_archived.is_(True),
                )
                .order_by(Campaign.id.desc())
            )
        )
