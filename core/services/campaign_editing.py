"""Creating (with the script checked), copying and describing campaigns for the people who
set them up, from the CLI or Slack. Edits go through `admin.update_campaign_settings`."""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Database
from core.models import Campaign
from core.roles import Role
from core.script_check import check_script, preview
from core.services.authz import require_role
from core.services.campaigns import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_TEXTING_HOURS,
    DEFAULT_TIMEZONE,
    CampaignSpec,
    contact_columns,
    create_campaign,
    first_contact_fields,
    get_campaign,
    new_join_token,
    texting_hours_words,
)


@dataclass(frozen=True)
class ScriptReport:
    """What a confirmation says about a campaign's script: a warning ('' when none), the
    first text rendered for the first contact (fields shown as [name] before any import)."""

    campaign_id: int
    title: str
    warning: str
    preview: str
    has_contacts: bool
    texting_hours: str


def script_report(
    db: Database, campaign_id: int, organization_id: int | None = None
) -> ScriptReport:
    with db.uow(read_only=True) as uow:
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        columns = contact_columns(uow.session, campaign_id)
        check = check_script(campaign.script, columns)
        fields = first_contact_fields(uow.session, campaign_id) if columns is not None else None
        return ScriptReport(
            campaign_id=campaign.id,
            title=campaign.title,
            warning=check.sentence(),
            preview=preview(campaign.script, fields),
            has_contacts=columns is not None,
            texting_hours=texting_hours_words(
                campaign.texting_hours_start, campaign.texting_hours_end, campaign.timezone
            ),
        )


def create_checked(
    db: Database, spec: CampaignSpec, actor_user_id: int | None = None
) -> ScriptReport:
    """Create the campaign (an admin's, when `actor_user_id` is given) and report on its
    script: before any import an unknown field is only a warning."""
    if actor_user_id is not None:
        with db.uow(read_only=True) as uow:
            require_role(uow.session, actor_user_id, spec.organization_id, Role.ADMIN)
    campaign_id = create_campaign(db, spec)
    return script_report(db, campaign_id)


def copy_campaign(
    db: Database,
    campaign_id: int,
    actor_user_id: int | None = None,
    organization_id: int | None = None,
) -> int:
    """Spoke's Copy Campaign: same settings and script, no contacts, not launched, not
    archived, a new join link. Returns the copy's id."""
    with db.uow() as uow:
        source = get_campaign(uow.session, campaign_id, organization_id)
        if actor_user_id is not None:
            require_role(uow.session, actor_user_id, source.organization_id, Role.ADMIN)
        copy = Campaign(
            organization_id=source.organization_id,
            title=f"COPY - {source.title}"[:255],
            description=source.description,
            script=source.script,
            is_started=False,
            is_archived=False,
            use_dynamic_assignment=source.use_dynamic_assignment,
            batch_size=source.batch_size,
            join_token=new_join_token(),
            batch_strategies=list(source.batch_strategies) if source.batch_strategies else None,
            texting_hours_start=source.texting_hours_start,
            texting_hours_end=source.texting_hours_end,
            timezone=source.timezone,
            due_by=source.due_by,
            settings=dict(source.settings or {}),
        )
        uow.session.add(copy)
        uow.session.flush()
        uow.commit()
        return copy.id


@dataclass(frozen=True)
class CampaignForm:
    """What the create and edit modals start from."""

    campaign_id: int | None  # None: a new campaign
    title: str
    description: str
    script: str
    batch_size: int | None
    strategies: list[str]
    texting_hours: str  # "9-21", or "any"
    timezone: str


def new_campaign_form(db: Database, actor_user_id: int, organization_id: int) -> CampaignForm:
    """The create modal's defaults (Spoke's: batch 200, 9 AM-9 PM New York); admins only."""
    with db.uow(read_only=True) as uow:
        require_role(uow.session, actor_user_id, organization_id, Role.ADMIN)
    hours = DEFAULT_TEXTING_HOURS
    return CampaignForm(
        None, "", "", "", DEFAULT_BATCH_SIZE, [], f"{hours.start}-{hours.end}", DEFAULT_TIMEZONE
    )


def campaign_form(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> CampaignForm:
    """The edit modal's values: the campaign as it is; admins only."""
    with db.uow(read_only=True) as uow:
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        require_role(uow.session, actor_user_id, organization_id, Role.ADMIN)
        start, end = campaign.texting_hours_start, campaign.texting_hours_end
        return CampaignForm(
            campaign.id,
            campaign.title,
            campaign.description,
            campaign.script,
            campaign.batch_size,
            list(campaign.batch_strategies or []),
            "any" if start is None or end is None else f"{start}-{end}",
            campaign.timezone,
        )
