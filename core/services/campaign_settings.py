"""Assignment Management settings (Spoke's campaign settings plus the organization's
settings the same form shows): what the form starts from, and saving it. Admins only; each
use case is one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from core.db import Database
from core.errors import InvalidInput
from core.org_settings import effective_setting, parse_setting
from core.services.admin import (
    CampaignSettingsChange,
    apply_settings_change,
    validate_settings_change,
)
from core.services.campaign_access import MANAGE, campaign_for
from core.services.campaigns import TAKE_STRATEGY
from core.services.conversations import conversations_per_take, splits_assignments
from core.services.organizations import get_organization
from strategies.registry import DEFAULT_STRATEGY

# Organization settings the campaign settings modal shows (they apply to every campaign).
MODAL_ORGANIZATION_SETTINGS = (
    "DONE_FOR_THE_DAY_ENABLED",
    "RELEASE_CONVERSATIONS_ALLOWED",
    "MAX_TEXTERS_PER_CAMPAIGN",
)


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
        session = uow.session
        campaign = campaign_for(session, actor_user_id, organization_id, campaign_id, MANAGE)
        stored = get_organization(session, organization_id).settings
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


def save_settings(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    change: CampaignSettingsChange,
    organization_values: dict[str, str],
) -> str:
    """The settings form's save, already validated field by field: role first (nothing
    saved when refused), then the campaign, then the organization, all in one transaction.
    Returns the campaign's title."""
    errors = validate_organization_settings(organization_values)
    if errors:
        raise InvalidInput("; ".join(errors.values()))
    with db.uow() as uow:
        session = uow.session
        campaign = campaign_for(session, actor_user_id, organization_id, campaign_id, MANAGE)
        current = list(campaign.batch_strategies or [])
        change = replace(change, strategies=kept_strategies(change.strategies or [], current))
        problems = validate_settings_change(change)
        if problems:
            raise InvalidInput("; ".join(f"{name}: {text}" for name, text in problems.items()))
        apply_settings_change(session, campaign, change)
        _save_organization_settings(session, organization_id, organization_values)
        uow.commit()
        return campaign.title


def kept_strategies(chosen: list[str], current: list[str]) -> list[str] | None:
    """The form's primary (and secondary) strategy, then every other strategy the campaign
    lists that the form doesn't show: saving never drops them."""
    merged = list(chosen)
    merged += [name for name in current[1:] if name not in merged and name != TAKE_STRATEGY]
    return merged or None


def _save_organization_settings(
    session: Session, organization_id: int, values: dict[str, str]
) -> None:
    """Only values that differ from the effective ones are stored (so saving a form never
    pins a value that today comes from the environment or a default)."""
    organization = get_organization(session, organization_id)
    changed = {
        key.strip().upper(): value
        for key, value in ((key, parse_setting(key, raw)) for key, raw in values.items())
        if value != effective_setting(organization.settings, key)
    }
    if changed:
        organization.settings = {**(organization.settings or {}), **changed}
