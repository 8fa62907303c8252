"""`/campaign create`, `/campaign edit ID` and `/campaign copy ID`, and the campaign form's
submissions: an admin creates, fixes and copies campaigns from Slack alone.

Submissions are answered in the ack itself (only the ack can put errors under a field):
invalid input, an unknown script field once contacts exist, or a refusal come back inline
with nothing saved; a save turns the form into its confirmation.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.admin.steps import (
    Subcommand,
    choice_of,
    exactly,
    metadata_ids,
    modal_state,
    only_campaign_id,
    open_modal,
    text_of,
)
from bot.listeners.common import Deps, Turn, view_submission
from bot.render import campaign_forms
from core.errors import SpokebotError
from core.services.admin import CampaignSettingsChange, ScriptRefused, validate_settings_change
from core.services.campaign_editing import (
    campaign_form,
    copy_with_report,
    create_checked,
    edit_campaign,
    new_campaign_form,
)
from core.services.campaigns import DEFAULT_BATCH_SIZE, CampaignSpec, parse_texting_hours

CREATE_USAGE = "create"
EDIT_USAGE = "edit CAMPAIGN_ID"
COPY_USAGE = "copy CAMPAIGN_ID"

# CampaignSettingsChange field -> the form block showing it.
FIELD_BLOCKS = {
    "title": ids.CAMPAIGN_FIELD_TITLE,
    "description": ids.CAMPAIGN_FIELD_DESCRIPTION,
    "script": ids.CAMPAIGN_FIELD_SCRIPT,
    "batch_size": ids.CAMPAIGN_FIELD_BATCH_SIZE,
    "strategies": ids.CAMPAIGN_FIELD_STRATEGY,
    "texting_hours": ids.CAMPAIGN_FIELD_TEXTING_HOURS,
    "timezone": ids.CAMPAIGN_FIELD_TIMEZONE,
}


def register(app: App, deps: Deps) -> None:
    app.view(ids.ADMIN_CREATE_MODAL)(view_submission(submit_create))
    app.view(ids.ADMIN_EDIT_MODAL)(view_submission(submit_edit))


# --- subcommands ---------------------------------------------------------------------------


def campaign_create(turn: Turn, args: list[str]) -> None:
    exactly(CREATE_USAGE, args, 0)
    identity = turn.identity()
    form = new_campaign_form(turn.db, identity.user_id, identity.organization_id)
    open_modal(turn, campaign_forms.campaign_modal(form))


def campaign_edit(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id(EDIT_USAGE, args)
    identity = turn.identity()
    form = campaign_form(turn.db, identity.user_id, identity.organization_id, campaign_id)
    open_modal(turn, campaign_forms.campaign_modal(form))


def campaign_copy(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id(COPY_USAGE, args)
    identity = turn.identity()
    copied = copy_with_report(turn.db, identity.user_id, identity.organization_id, campaign_id)
    turn.reply(campaign_forms.copied(copied.source_title, copied.copy))


# --- the form's submissions ----------------------------------------------------------------


def _form_change(state: dict[str, dict[str, Any]]) -> tuple[CampaignSettingsChange, str, str]:
    """The form as a change (every field set), the raw batch size and the chosen strategy
    ('' for the organization's default)."""
    raw_batch = text_of(state, ids.CAMPAIGN_FIELD_BATCH_SIZE).strip()
    change = CampaignSettingsChange(
        title=text_of(state, ids.CAMPAIGN_FIELD_TITLE).strip(),
        description=text_of(state, ids.CAMPAIGN_FIELD_DESCRIPTION).strip(),
        script=text_of(state, ids.CAMPAIGN_FIELD_SCRIPT),
        batch_size=ids.parse_id(raw_batch),
        texting_hours=text_of(state, ids.CAMPAIGN_FIELD_TEXTING_HOURS).strip(),
        timezone=text_of(state, ids.CAMPAIGN_FIELD_TIMEZONE).strip(),
    )
    strategy = choice_of(state, ids.CAMPAIGN_FIELD_STRATEGY)
    return change, raw_batch, "" if strategy == campaign_forms.ORG_DEFAULT else strategy


def _form_errors(change: CampaignSettingsChange, raw_batch: str) -> dict[str, str]:
    errors = {
        FIELD_BLOCKS.get(field, ids.CAMPAIGN_FIELD_TITLE): message
        for field, message in validate_settings_change(change).items()
    }
    if change.batch_size is None or change.batch_size < 1:
        errors[ids.CAMPAIGN_FIELD_BATCH_SIZE] = (
            f"The batch size must be a whole number of 1 or more (Spoke's default is "
            f"{DEFAULT_BATCH_SIZE}), not “{raw_batch}”."
            if raw_batch
            else f"Give a batch size (Spoke's default is {DEFAULT_BATCH_SIZE})."
        )
    return errors


def submit_create(turn: Turn, ack: Ack) -> None:
    change, raw_batch, strategy = _form_change(modal_state(turn))
    errors = _form_errors(change, raw_batch)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        identity = turn.identity()
        spec = CampaignSpec(
            organization_id=identity.organization_id,
            title=change.title or "",
            script=change.script or "",
            description=change.description or "",
            batch_size=change.batch_size,
            strategies=[strategy] if strategy else None,
            texting_hours=parse_texting_hours(change.texting_hours or ""),
            timezone=change.timezone or "",
        )
        report = create_checked(turn.db, spec, identity.user_id)
    except SpokebotError as error:
        ack(response_action="errors", errors={ids.CAMPAIGN_FIELD_TITLE: error.message})
        return
    ack(
        response_action="update",
        view=campaign_forms.confirmation_modal("Campaign created", campaign_forms.created(report)),
    )


def submit_edit(turn: Turn, ack: Ack) -> None:
    change, raw_batch, strategy = _form_change(modal_state(turn))
    errors = _form_errors(change, raw_batch)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        (campaign_id,) = metadata_ids(turn, 1)
        identity = turn.identity()
        report = edit_campaign(
            turn.db, identity.user_id, identity.organization_id, campaign_id, change, strategy
        )
    except ScriptRefused as refusal:
        ack(response_action="errors", errors={ids.CAMPAIGN_FIELD_SCRIPT: refusal.message})
        return
    except SpokebotError as error:
        ack(response_action="errors", errors={ids.CAMPAIGN_FIELD_TITLE: error.message})
        return
    ack(
        response_action="update",
        view=campaign_forms.confirmation_modal("Campaign saved", campaign_forms.edited(report)),
    )


SUBCOMMANDS = (
    Subcommand("create", CREATE_USAGE, "a new campaign, in a form (admins)", campaign_create),
    Subcommand(
        "edit",
        EDIT_USAGE,
        "title, description, script, hours, time zone, batch size (admins)",
        campaign_edit,
    ),
    Subcommand(
        "copy",
        COPY_USAGE,
        "same settings and script, no contacts, a new join link (admins)",
        campaign_copy,
    ),
)
