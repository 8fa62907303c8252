"""Small role-checked reads and writes the Slack admin commands need beyond admin_gate/admin.

Kept in core so `bot/` never writes SQL. Every function re-checks the actor's role in the
organization, because the Slack layer hands in whatever a (possibly stale) button carried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select

from core.db import Database
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Assignment, CampaignContact, User
from core.org_settings import effective_setting, parse_setting
from core.roles import Role
from core.services import admin_gate
from core.services.admin import set_member_role
from core.services.authz import require_role
from core.services.campaigns import get_campaign
from core.services.conversations import conversations_per_take, splits_assignments
from core.services.organizations import (
    get_organization,
    membership,
    set_organization_setting,
)
from core.services.stats import CampaignStats
from core.statuses import MessageStatus
from strategies.registry import DEFAULT_STRATEGY

VIEW = admin_gate.VIEW
MANAGE = admin_gate.MANAGE

# Organization settings the campaign settings modal shows (they apply to every campaign).
MODAL_ORGANIZATION_SETTINGS = (
    "DONE_FOR_THE_DAY_ENABLED",
    "RELEASE_CONVERSATIONS_ALLOWED",
    "MAX_TEXTERS_PER_CAMPAIGN",
)


def campaign_title(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int, role: Role
) -> str:
    """The campaign's title after checking the actor's role and that the campaign belongs to
    the organization (another workspace's campaign is "not found", never acted on)."""
    with db.uow(read_only=True) as uow:
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        require_role(uow.session, actor_user_id, organization_id, role)
        return campaign.title


def member_user_id(
    db: Database, actor_user_id: int, organization_id: int, slack_user_id: str
) -> int:
    """The user id of a member named by Slack id (for @texter arguments)."""
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, VIEW)
        user = uow.session.scalar(select(User).where(User.slack_user_id == slack_user_id))
        if user is None or membership(uow.session, user.id, organization_id) is None:
            raise NotFound(f"<@{slack_user_id}> is not a member of this organization yet.")
        return user.id


def texters_holding_unsent(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> int:
    """How many texters still hold first texts they haven't sent (opted-out ones excluded)."""
    with db.uow(read_only=True) as uow:
        get_campaign(uow.session, campaign_id, organization_id)
        require_role(uow.session, actor_user_id, organization_id, VIEW)
        return (
            uow.session.scalar(
                select(func.count(distinct(CampaignContact.assignment_id))).where(
                    CampaignContact.campaign_id == campaign_id,
                    CampaignContact.assignment_id.is_not(None),
                    CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
                    CampaignContact.is_opted_out.is_(False),
                )
            )
            or 0
        )


def campaigns_with_stats(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    *,
    include_archived: bool = True,
    limit: int | None = None,
) -> tuple[list[CampaignStats], int]:
    """The organization's campaigns, newest first, with their counts (for `list` and the
    admin Home), and how many campaigns there are. Counts are only computed for the first
    `limit` ones: Home is published often and each campaign's counts cost a few queries."""
    summaries = [
        summary
        for summary in admin_gate.list_campaigns(db, actor_user_id, organization_id)
        if include_archived or not summary.is_archived
    ]
    summaries.sort(key=lambda summary: summary.id, reverse=True)
    shown = summaries if limit is None else summaries[:limit]
    stats = [
        admin_gate.campaign_stats(db, actor_user_id, organization_id, summary.id)
        for summary in shown
    ]
    return stats, len(summaries)


@dataclass(frozen=True)
class CampaignSettingsForm:
    """What the settings modal starts from: the campaign's values and the org's settings."""

    campaign_id: int
    title: str
    use_dynamic_assignment: bool
    batch_size: int | None
    strategies: list[str]
    request_button_label: str
    request_message: str
    done_for_the_day_enabled: bool
    release_conversations_allowed: bool
    max_texters: int | None
    per_take: int = 10  # conversations a vetted texter takes at a time
    split_assignments: bool = False


def settings_form(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> CampaignSettingsForm:
    with db.uow(read_only=True) as uow:
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        require_role(uow.session, actor_user_id, organization_id, MANAGE)
        stored = get_organization(uow.session, organization_id).settings
        strategies = list(campaign.batch_strategies or [])
        if not strategies:
            org_list = effective_setting(stored, "DYNAMICASSIGNMENT_BATCHES") or []
            strategies = [org_list[0] if org_list else DEFAULT_STRATEGY]
        labels: dict[str, Any] = dict(campaign.settings or {})
        return CampaignSettingsForm(
            campaign_id=campaign.id,
            title=campaign.title,
            use_dynamic_assignment=campaign.use_dynamic_assignment,
            batch_size=campaign.batch_size,
            strategies=strategies,
            request_button_label=str(labels.get("request_button_label") or ""),
            request_message=str(labels.get("request_message") or ""),
            done_for_the_day_enabled=bool(effective_setting(stored, "DONE_FOR_THE_DAY_ENABLED")),
            release_conversations_allowed=bool(
                effective_setting(stored, "RELEASE_CONVERSATIONS_ALLOWED")
            ),
            max_texters=effective_setting(stored, "MAX_TEXTERS_PER_CAMPAIGN"),
            per_take=conversations_per_take(labels),
            split_assignments=splits_assignments(labels),
        )


def validate_organization_settings(values: dict[str, str]) -> dict[str, str]:
    """Setting key -> what is wrong with its raw value (empty when all are valid)."""
    errors: dict[str, str] = {}
    for key, raw in values.items():
        try:
            parse_setting(key, raw)
        except InvalidInput as error:
            errors[key] = error.message
    return errors


def set_organization_settings(
    db: Database, actor_user_id: int, organization_id: int, values: dict[str, str]
) -> None:
    """ADMIN only; every value is validated before any is saved, and only values that
    differ from the effective ones are stored (so saving a form never pins a value that
    today comes from the environment or a default)."""
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, MANAGE)
        stored = get_organization(uow.session, organization_id).settings
    errors = validate_organization_settings(values)
    if errors:
        raise InvalidInput("; ".join(errors.values()))
    for key, raw in values.items():
        if parse_setting(key, raw) != effective_setting(stored, key):
            set_organization_setting(db, organization_id, key, raw)


def change_vetting(
    db: Database, actor_user_id: int, organization_id: int, slack_user_id: str, vetted: bool
) -> str:
    """vet: TEXTER -> VETTED_TEXTER; unvet: VETTED_TEXTER -> TEXTER. Other roles are left
    alone (unvetting an admin must never demote them). Returns the member's name."""
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, MANAGE)
        user = uow.session.scalar(select(User).where(User.slack_user_id == slack_user_id))
        link = membership(uow.session, user.id, organization_id) if user else None
        if user is None or link is None:
            raise NotFound(f"<@{slack_user_id}> is not a member of this organization yet.")
        current = Role(link.role)
        name = user.name or slack_user_id
    wanted, expected = (
        (Role.VETTED_TEXTER, Role.TEXTER) if vetted else (Role.TEXTER, Role.VETTED_TEXTER)
    )
    if current == wanted:
        state = "already vetted" if vetted else "not vetted"
        raise Conflict(f"<@{slack_user_id}> is {state}; nothing changed.")
    if current != expected:
        raise Conflict(
            f"<@{slack_user_id}> is {current.value}, not {expected.value}; "
            f"`{'vet' if vetted else 'unvet'}` only changes texters, so nothing changed."
        )
    set_member_role(db, actor_user_id, organization_id, slack_user_id, wanted)
    return name


@dataclass(frozen=True)
class TexterCap:
    name: str
    slack_user_id: str
    max_contacts: int | None


def texter_cap(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    texter_user_id: int,
    role: Role,
) -> TexterCap:
    """A texter of the campaign, their name and max amount (for the panel's actions)."""
    with db.uow(read_only=True) as uow:
        get_campaign(uow.session, campaign_id, organization_id)
        require_role(uow.session, actor_user_id, organization_id, role)
        row = uow.session.execute(
            select(User.name, User.slack_user_id, Assignment.max_contacts)
            .join(Assignment, Assignment.user_id == User.id)
            .where(Assignment.campaign_id == campaign_id, User.id == texter_user_id)
        ).first()
        if row is None:
            raise NotFound("That texter has not joined this campaign.")
        name, slack_user_id, max_contacts = row
        return TexterCap(name or slack_user_id, slack_user_id, max_contacts)


def slack_user_ids(
    db: Database, actor_user_id: int, organization_id: int, user_ids: Iterable[int]
) -> dict[int, str]:
    """Slack ids of users (to mention the texters holding contacts in Message Review)."""
    wanted = set(user_ids)
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, VIEW)
        if not wanted:
            return {}
        rows = uow.session.execute(
            select(User.id, User.slack_user_id).where(User.id.in_(wanted))
        ).all()
        return {user_id: slack_id for user_id, slack_id in rows}
