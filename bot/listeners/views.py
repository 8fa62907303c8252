"""`/campaign create`, `/campaign edit ID` and `/campaign copy ID`, and the campaign form's
submissions: an admin creates, fixes and copies campaigns from Slack alone.

Submissions are answered in the ack itself (only the ack can put errors under a field):
invalid input, an unknown script field once contacts exist, or a refusal come back inline
with nothing saved; a save turns the form into its confirmation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.admin_actions import _choice, _metadata_ids, _state, _text
from bot.listeners.admin_commands import USAGE, exactly, only_campaign_id
from bot.listeners.commands import campaign_subcommand
from bot.listeners.common import Deps, Turn, view_submission
from bot.render import campaign_forms
from core.errors import SpokebotError
from core.services.admin import (
    CampaignSettingsChange,
    ScriptRefused,
    update_campaign_settings,
    validate_settings_change,
)
from core.services.campaign_editing import (
    campaign_form,
    copy_campaign,
    create_checked,
    new_campaign_form,
    script_report,
)
from core.services.campaigns import DEFAULT_BATCH_SIZE, CampaignSpec, parse_texting_hours

USAGE.update({"create": "create", "edit": "edit CAMPAIGN_ID", "copy": "copy CAMPAIGN_ID"})

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
    app.view(ids.ADMIN_CREATE_MODAL)(view_submission(deps, submit_create))
    app.view(ids.ADMIN_EDIT_MODAL)(view_submission(deps, submit_edit))


# --- subcommands ---------------------------------------------------------------------------


@campaign_subcommand("create", USAGE["create"], "a new campaign, in a form (admins)")
def campaign_create(turn: Turn, args: list[str]) -> None:
    exactly("create", args, 0)
    identity = turn.identity()
    form = new_campaign_form(turn.db, identity.user_id, identity.organization_id)
    turn.client.views_open(
        trigger_id=turn.body["trigger_id"], view=campaign_forms.campaign_modal(form)
    )


@campaign_subcommand(
    "edit", USAGE["edit"], "title, description, script, hours, time zone, batch size (admins)"
)
def campaign_edit(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("edit", args)
    identity = turn.identity()
    form = campaign_form(turn.db, identity.user_id, identity.organization_id, campaign_id)
    turn.client.views_open(
        trigger_id=turn.body["trigger_id"], view=campaign_forms.campaign_modal(form)
    )


@campaign_subcommand(
    "copy", USAGE["copy"], "same settings and script, no contacts, a new join link (admins)"
)
def campaign_copy(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("copy", args)
    identity = turn.identity()
    org = identity.organization_id
    source = script_report(turn.db, campaign_id, org)  # NotFound for another workspace's
    copy_id = copy_campaign(turn.db, campaign_id, identity.user_id, org)
    turn.reply(campaign_forms.copied(source.title, script_report(turn.db, copy_id, org)))


# --- the form's submissions ----------------------------------------------------------------


def _form_change(state: dict[str, dict[str, Any]]) -> tuple[CampaignSettingsChange, str, str]:
    """The form as a change (every field set), the raw batch size and the chosen strategy."""
    raw_batch = _text(state, ids.CAMPAIGN_FIELD_BATCH_SIZE).strip()
    change = CampaignSettingsChange(
        title=_text(state, ids.CAMPAIGN_FIELD_TITLE).strip(),
        description=_text(state, ids.CAMPAIGN_FIELD_DESCRIPTION).strip(),
        script=_text(state, ids.CAMPAIGN_FIELD_SCRIPT),
        batch_size=ids.parse_id(raw_batch),
        texting_hours=_text(state, ids.CAMPAIGN_FIELD_TEXTING_HOURS).strip(),
        timezone=_text(state, ids.CAMPAIGN_FIELD_TIMEZONE).strip(),
    )
    return change, raw_batch, _choice(state, ids.CAMPAIGN_FIELD_STRATEGY)


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
    change, raw_batch, strategy = _form_change(_state(turn))
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
            strategies=None if strategy in ("", campaign_forms.ORG_DEFAULT) else [strategy],
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
    change, raw_batch, strategy = _form_change(_state(turn))
    errors = _form_errors(change, raw_batch)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        (campaign_id,) = _metadata_ids(turn, 1)
        identity = turn.identity()
        org = identity.organization_id
        current = campaign_form(turn.db, identity.user_id, org, campaign_id).strategies
        change = replace(change, strategies=_strategies_after(current, strategy))
        update_campaign_settings(turn.db, identity.user_id, campaign_id, change, org)
        report = script_report(turn.db, campaign_id, org)
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


def _strategies_after(current: list[str], chosen: str) -> list[str] | None:
    """The campaign's strategy list after the form: the chosen one replaces the first,
    the others are kept (the form shows only the first); None when nothing changes, [] for the
    organization's default."""
    if chosen in ("", campaign_forms.ORG_DEFAULT):
        return [] if current else None
    if current and current[0] == chosen:
        return None
    return [chosen, *(name for name in current[1:] if name != chosen)]
