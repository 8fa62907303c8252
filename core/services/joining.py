"""Joining a campaign by its link (Spoke's joinOrganization), with the reasons told apart:
the steps inside the Join button's use case (core.services.link_joining)."""

from __future__ import annotations

import enum
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import SpokebotError
from core.models import Assignment, Campaign, Organization, UserOrganization
from core.org_settings import effective_setting
from core.roles import Role
from core.services.campaigns import texting_hours_words
from core.services.identity import Identity

JOIN_ATTEMPTS = 3  # a concurrent first join of the same new user can collide once


class JoinRefusal(enum.StrEnum):
    INVALID_LINK = "invalid_link"
    NOT_LAUNCHED = "not_launched"
    DYNAMIC_ASSIGNMENT_OFF = "dynamic_assignment_off"
    ARCHIVED = "archived"
    TOO_MANY_TEXTERS = "too_many_texters"
    MEMBERS_ONLY = "members_only"
    SUSPENDED = "suspended"


class JoinRefused(SpokebotError):
    def __init__(self, reason: JoinRefusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class JoinResult:
    campaign_id: int
    campaign_title: str
    user_id: int
    assignment_id: int
    already_joined: bool
    max_contacts: int | None
    description: str = ""  # for the join DM: what the campaign is about
    texting_hours: str = ""  # '9 AM-9 PM America/New_York' or 'any time (no texting hours)'


def _check_member(
    is_member: bool, role: Role | None, org_settings: dict[str, Any], env: Mapping[str, str]
) -> None:
    if not is_member and effective_setting(
        org_settings, "CAMPAIGN_INVITES_CURRENT_USERS_ONLY", env
    ):
        raise JoinRefused(
            JoinRefusal.MEMBERS_ONLY,
            "This campaign only admits people who are already members of the "
            "organization. Ask an admin to add you, then click the link again.",
        )
    if is_member and role == Role.SUSPENDED:
        raise JoinRefused(
            JoinRefusal.SUSPENDED,
            "Your account in this organization is suspended, so you can't join campaigns. "
            "Contact an admin if you think this is a mistake.",
        )


def _check_room(
    session: Session, campaign: Campaign, org_settings: dict[str, Any], env: Mapping[str, str]
) -> None:
    max_texters = effective_setting(org_settings, "MAX_TEXTERS_PER_CAMPAIGN", env)
    if max_texters is not None:
        texters = session.scalar(select(func.count()).where(Assignment.campaign_id == campaign.id))
        if (texters or 0) >= max_texters:
            raise JoinRefused(
                JoinRefusal.TOO_MANY_TEXTERS,
                f"This campaign already has its maximum of {max_texters} texters. "
                "Ask an admin whether there is another campaign you can join.",
            )


def locked_campaign(session: Session, campaign_id: int) -> Campaign | None:
    """The campaign row, locked: joins of one campaign are serialised (PostgreSQL); SQLite
    writers are already serialised by BEGIN IMMEDIATE."""
    return session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())


def join_as(
    session: Session,
    identity: Identity,
    campaign_id: int,
    join_token: str,
    new_user: bool,
    env: Mapping[str, str],
) -> JoinResult:
    """Join by link as an identity read in the same transaction (`new_user`: created in it,
    so it holds no assignment yet)."""
    campaign = locked_campaign(session, campaign_id)
    if campaign is not None and campaign.organization_id != identity.organization_id:
        raise JoinRefused(
            JoinRefusal.INVALID_LINK,
            "This join link belongs to another workspace's organization, so it can't be used "
            "from here.",
        )
    _check_link(campaign, join_token)
    assert campaign is not None
    org_settings = dict(identity.org_settings)
    is_member = identity.role is not None
    _check_member(is_member, identity.role, org_settings, env)
    if not new_user:
        existing = session.execute(
            select(Assignment.id, Assignment.max_contacts).where(
                Assignment.campaign_id == campaign.id, Assignment.user_id == identity.user_id
            )
        ).one_or_none()
        if existing is not None:
            return JoinResult(
                campaign.id,
                campaign.title,
                identity.user_id,
                existing[0],
                True,
                existing[1],
                *_details(campaign),
            )
    _check_room(session, campaign, org_settings, env)
    if not is_member:
        session.add(
            UserOrganization(
                user_id=identity.user_id,
                organization_id=campaign.organization_id,
                role=Role.TEXTER.value,
            )
        )
    max_contacts = effective_setting(org_settings, "MAX_CONTACTS_PER_TEXTER", env)
    assignment = Assignment(
        campaign_id=campaign.id, user_id=identity.user_id, max_contacts=max_contacts
    )
    session.add(assignment)
    session.flush()
    return JoinResult(
        campaign.id,
        campaign.title,
        identity.user_id,
        assignment.id,
        False,
        max_contacts,
        *_details(campaign),
    )


def _details(campaign: Campaign) -> tuple[str, str]:
    hours = texting_hours_words(
        campaign.texting_hours_start, campaign.texting_hours_end, campaign.timezone
    )
    return campaign.description or "", hours


def _check_link(campaign: Campaign | None, join_token: str) -> None:
    if campaign is None or not hmac.compare_digest(
        campaign.join_token.encode(), join_token.encode()
    ):
        raise JoinRefused(
            JoinRefusal.INVALID_LINK,
            "This join link is not valid: it may be mistyped or an admin may have replaced it "
            "with a new one. Ask an admin for the current link.",
        )
    if campaign.is_archived:
        raise JoinRefused(JoinRefusal.ARCHIVED, f"“{campaign.title}” has been archived.")
    if not campaign.use_dynamic_assignment:
        raise JoinRefused(
            JoinRefusal.DYNAMIC_ASSIGNMENT_OFF,
            f"“{campaign.title}” does not have dynamic assignment turned on, so it can't be "
            "joined by link. An admin needs to turn it on (and save) in the campaign settings.",
        )
    if not campaign.is_started:
        raise JoinRefused(
            JoinRefusal.NOT_LAUNCHED,
            f"“{campaign.title}” hasn't been launched yet. Try the link again once an admin "
            "launches it.",
        )


def campaign_org_settings(session: Session, organization_id: int) -> dict[str, Any]:
    """The organization's stored settings (effective_setting adds env and defaults)."""
    org = session.get(Organization, organization_id)
    return dict(org.settings or {}) if org else {}
