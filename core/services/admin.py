"""Admin actions on a campaign: caps, manual assignment, settings, roles, archiving."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ascii_digits import MAX_INT32, parse_ascii_digits
from core.db import Database
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Assignment, Campaign, User
from core.roles import Role
from core.script_check import check_script
from core.services.authz import require_role
from core.services.campaigns import (
    contact_columns,
    get_campaign,
    parse_texting_hours,
    validate_batch_size,
    validate_conversations_per_take,
    validate_split_assignments,
    validate_strategies,
    validate_timezone,
)
from core.services.contact_pool import SqlContactPool, campaign_info
from core.services.organizations import membership
from strategies.base import DEFAULT_SELECTION

MANUAL_ASSIGNMENT_GUIDANCE = (
    "Dynamic assignment is on for this campaign, so texts can't be assigned by hand. "
    "Turn dynamic assignment off, assign the texts, then turn it back on."
)


def parse_max_contacts(raw: str) -> int | None:
    """The Texters panel's Max Amount: empty clears the cap, 0 stops further batches."""
    text = raw.strip()
    if text == "":
        return None
    value = parse_ascii_digits(text, MAX_INT32)  # the column is an integer
    if value is None:
        raise InvalidInput(
            f"Max amount must be a whole number of 0 or more, or empty; not {raw!r}."
        )
    return value


def set_max_contacts(
    db: Database, actor_user_id: int, campaign_id: int, texter_user_id: int, raw: str
) -> int | None:
    with db.uow() as uow:
        campaign = get_campaign(uow.session, campaign_id)
        require_role(uow.session, actor_user_id, campaign.organization_id, Role.ADMIN)
        value = set_cap_in(uow.session, campaign_id, texter_user_id, raw)
        uow.commit()
        return value


def set_cap_in(session: Session, campaign_id: int, texter_user_id: int, raw: str) -> int | None:
    """The texter's max amount, set in the caller's transaction (NotFound if not joined)."""
    value = parse_max_contacts(raw)
    assignment = session.scalar(
        select(Assignment).where(
            Assignment.campaign_id == campaign_id, Assignment.user_id == texter_user_id
        )
    )
    if assignment is None:
        raise NotFound("That texter has not joined this campaign.")
    assignment.max_contacts = value
    return value


def assign_manually(
    db: Database, actor_user_id: int, campaign_id: int, texter_user_id: int, count: int
) -> int:
    """Hand a texter `count` unassigned first texts; refused while dynamic assignment is on."""
    if count < 1:
        raise InvalidInput(f"The number of texts to assign must be 1 or more, not {count}.")
    with db.uow() as uow:
        session = uow.session
        campaign = session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).with_for_update()
        )
        if campaign is None:
            raise NotFound(f"no campaign with id {campaign_id}")
        require_role(session, actor_user_id, campaign.organization_id, Role.ADMIN)
        claimed = assign_in(session, campaign, texter_user_id, count)
        uow.commit()
        return claimed


def assign_in(session: Session, campaign: Campaign, texter_user_id: int, count: int) -> int:
    """assign_manually in the caller's transaction, the campaign locked and the role checked."""
    if count < 1:
        raise InvalidInput(f"The number of texts to assign must be 1 or more, not {count}.")
    if campaign.use_dynamic_assignment:
        raise Conflict(MANUAL_ASSIGNMENT_GUIDANCE)
    if campaign.is_archived:
        raise Conflict("This campaign is archived.")
    link = membership(session, texter_user_id, campaign.organization_id)
    if link is None or Role(link.role) == Role.SUSPENDED:
        raise Conflict("That person is not an active member of this organization.")
    assignment = session.scalar(
        select(Assignment).where(
            Assignment.campaign_id == campaign.id, Assignment.user_id == texter_user_id
        )
    )
    if assignment is None:
        assignment = Assignment(campaign_id=campaign.id, user_id=texter_user_id)
        session.add(assignment)
        session.flush()
    claimed = SqlContactPool(
        session.connection(), campaign_info(campaign), assignment.id, datetime.now(UTC)
    ).claim(DEFAULT_SELECTION, count)  # no holdings version: an admin's claim isn't checked
    return len(claimed or [])


@dataclass(frozen=True)
class CampaignSettingsChange:
    """Only the fields that are not None change."""

    use_dynamic_assignment: bool | None = None
    batch_size: int | None = None
    clear_batch_size: bool = False
    strategies: list[str] | None = None
    texting_hours: str | None = None  # "9-21", or "any" / "" to stop enforcing texting hours
    timezone: str | None = None
    title: str | None = None
    description: str | None = None
    script: str | None = None
    request_button_label: str | None = None
    request_message: str | None = None
    allow_edit_initial: bool | None = None
    conversations_per_take: int | None = None
    split_assignments: bool | None = None


# Texter-facing labels and switches kept in campaign.settings.
SETTINGS_KEYS = (
    "request_button_label",
    "request_message",
    "allow_edit_initial",
    "conversations_per_take",
    "split_assignments",
)
MAX_LABEL = 75  # Slack's button text limit


class ScriptRefused(InvalidInput):
    """The script uses fields the campaign's contacts don't have."""


def update_campaign_settings(
    db: Database,
    actor_user_id: int | None,
    campaign_id: int,
    change: CampaignSettingsChange,
    organization_id: int | None = None,
) -> dict[str, Any]:
    """Validate every field first, then save them together; returns the saved values.
    Raises InvalidInput naming the field (ScriptRefused for the script), with nothing saved.
    `actor_user_id` None is the operator's CLI, which is trusted like the other set-up
    commands; anyone else must be an admin of the campaign's organization."""
    errors = validate_settings_change(change)
    if errors:
        raise InvalidInput("; ".join(f"{field}: {message}" for field, message in errors.items()))
    with db.uow() as uow:
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        if actor_user_id is not None:
            require_role(uow.session, actor_user_id, campaign.organization_id, Role.ADMIN)
        saved = apply_settings_change(uow.session, campaign, change)
        uow.commit()
        return saved


def apply_settings_change(
    session: Session, campaign: Campaign, change: CampaignSettingsChange
) -> dict[str, Any]:
    """Save a validated change in the caller's transaction; returns the saved values.
    ScriptRefused when the script uses fields the contacts don't have."""
    if change.script is not None:
        check = check_script(change.script, contact_columns(session, campaign.id))
        if check.refused:
            raise ScriptRefused(check.sentence())
    saved: dict[str, Any] = {}
    for item in fields(change):
        value = getattr(change, item.name)
        if value is None or item.name in {"clear_batch_size"}:
            continue
        saved[item.name] = value
        if item.name in SETTINGS_KEYS:
            campaign.settings = {**(campaign.settings or {}), item.name: value}
        elif item.name == "strategies":
            campaign.batch_strategies = value or None
        elif item.name == "texting_hours":
            hours = parse_texting_hours(value)
            campaign.texting_hours_start = hours.start if hours else None
            campaign.texting_hours_end = hours.end if hours else None
        else:
            setattr(campaign, item.name, value)
    if change.clear_batch_size:
        campaign.batch_size = None
        saved["batch_size"] = None
    return saved


def validate_settings_change(change: CampaignSettingsChange) -> dict[str, str]:
    """Field name -> what is wrong with it (empty when everything is valid)."""
    errors: dict[str, str] = {}

    def check(name: str, validate: Any, value: Any) -> None:
        if value is None:
            return
        try:
            validate(value)
        except InvalidInput as exc:
            errors[name] = exc.message

    check("batch_size", validate_batch_size, change.batch_size)
    check("strategies", validate_strategies, change.strategies)
    check("timezone", validate_timezone, change.timezone)
    check("conversations_per_take", validate_conversations_per_take, change.conversations_per_take)
    if change.split_assignments and change.strategies is not None:
        check(
            "split_assignments",
            lambda on: validate_split_assignments(on, change.strategies),
            change.split_assignments,
        )
    if change.texting_hours is not None:
        check("texting_hours", parse_texting_hours, change.texting_hours)
    if change.title is not None and not change.title.strip():
        errors["title"] = "a campaign needs a title"
    if change.script is not None and not change.script.strip():
        errors["script"] = "the first text can't be empty"
    for name in ("request_button_label",):
        value = getattr(change, name)
        if value is not None and not 0 < len(value.strip()) <= MAX_LABEL:
            errors[name] = f"must be 1 to {MAX_LABEL} characters"
    return errors


def set_member_role(
    db: Database, actor_user_id: int, organization_id: int, slack_user_id: str, role: Role
) -> Role:
    """vet / unvet and other role changes; admins can't hand out roles above their own."""
    with db.uow() as uow:
        set_role_in(uow.session, actor_user_id, organization_id, slack_user_id, role)
        uow.commit()
        return role


def set_role_in(
    session: Session, actor_user_id: int, organization_id: int, slack_user_id: str, role: Role
) -> Role:
    """set_member_role in the caller's transaction."""
    actor_role = require_role(session, actor_user_id, organization_id, Role.ADMIN)
    if role.rank > actor_role.rank:
        raise InvalidInput(f"You can't give a role above your own ({actor_role.value}).")
    user = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
    link = membership(session, user.id, organization_id) if user else None
    if link is None:
        raise NotFound("That person is not a member of this organization yet.")
    if Role(link.role).rank > actor_role.rank:
        raise InvalidInput("You can't change the role of someone above you.")
    link.role = role.value
    return role


def set_archived(db: Database, actor_user_id: int, campaign_id: int, archived: bool = True) -> None:
    with db.uow() as uow:
        campaign = get_campaign(uow.session, campaign_id)
        require_role(uow.session, actor_user_id, campaign.organization_id, Role.ADMIN)
        campaign.is_archived = archived
        uow.commit()
