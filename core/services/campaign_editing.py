"""Creating (with the script checked), editing, copying and describing campaigns for the
people who set them up, from the CLI or Slack (the Slack use cases check the admin role and
answer with everything the confirmation shows, in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from core.db import Database
from core.errors import InvalidInput
from core.models import Campaign
from core.roles import Role
from core.script_check import check_script, preview
from core.services.admin import (
    CampaignSettingsChange,
    apply_settings_change,
    validate_settings_change,
)
from core.services.authz import require_role
from core.services.campaign_access import MANAGE, campaign_for
from core.services.campaigns import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_TEXTING_HOURS,
    DEFAULT_TIMEZONE,
    CampaignSpec,
    add_campaign,
    contact_columns,
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
        return report_on(uow.session, get_campaign(uow.session, campaign_id, organization_id))


def report_on(session: Session, campaign: Campaign) -> ScriptReport:
    """script_report in the caller's transaction."""
    columns = contact_columns(session, campaign.id)
    check = check_script(campaign.script, columns)
    fields = first_contact_fields(session, campaign.id) if columns is not None else None
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
    script, in one transaction: before any import an unknown field is only a warning."""
    with db.uow() as uow:
        if actor_user_id is not None:
            require_role(uow.session, actor_user_id, spec.organization_id, Role.ADMIN)
        campaign = add_campaign(uow.session, spec)
        report = report_on(uow.session, campaign)
        uow.commit()
        return report


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
        copy = _copy_of(uow.session, source)
        uow.commit()
        return copy.id


@dataclass(frozen=True)
class CampaignCopied:
    source_title: str
    copy: ScriptReport


def copy_with_report(
    db: Database, actor_user_id: int, organization_id: int, campaign_id: int
) -> CampaignCopied:
    """`/campaign copy`: an admin copies one of the organization's campaigns; the reply
    reports on the copy's script. One transaction."""
    with db.uow() as uow:
        source = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, MANAGE)
        copy = _copy_of(uow.session, source)
        copied = CampaignCopied(source.title, report_on(uow.session, copy))
        uow.commit()
        return copied


def _copy_of(session: Session, source: Campaign) -> Campaign:
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
    session.add(copy)
    session.flush()
    return copy


def edit_campaign(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    change: CampaignSettingsChange,
    chosen_strategy: str | None,
) -> ScriptReport:
    """The edit form's save: `chosen_strategy` replaces the first of the campaign's
    strategies ('' for the organization's default, None to keep them). Validated, saved and
    reported on in one transaction; ScriptRefused with nothing saved when the
    script uses fields the contacts don't have."""
    with db.uow() as uow:
        campaign = campaign_for(uow.session, actor_user_id, organization_id, campaign_id, MANAGE)
        if chosen_strategy is not None:
            strategies = strategies_after(list(campaign.batch_strategies or []), chosen_strategy)
            change = replace(change, strategies=strategies)
        errors = validate_settings_change(change)
        if errors:
            raise InvalidInput("; ".join(f"{name}: {text}" for name, text in errors.items()))
        apply_settings_change(uow.session, campaign, change)
        uow.session.flush()
        report = report_on(uow.session, campaign)
        uow.commit()
        return report


def strategies_after(current: list[str], chosen: str) -> list[str] | None:
    """The campaign's strategy list after the form: the chosen one replaces the first,
    the others are kept (the form shows only the first); None when nothing changes, [] for the
    organization's default ('')."""
    if not chosen:
        return [] if current else None
    if current and current[0] == chosen:
        return None
    return [chosen, *(name for name in current[1:] if name != chosen)]


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
