"""Assignment Management settings: `/campaign settings`, the admin Home's Settings button,
and the settings form's submission (answered in the ack: every invalid field gets its
error under it, and a refusal saves nothing)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.admin.steps import (
    Subcommand,
    checked_in,
    choice_of,
    metadata_ids,
    modal_state,
    only_campaign_id,
    open_modal,
    text_of,
)
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy, view_submission
from bot.render import admin_modals
from core.errors import SpokebotError
from core.services.admin import CampaignSettingsChange, validate_settings_change
from core.services.campaign_settings import (
    save_settings,
    settings_form,
    validate_organization_settings,
)
from core.services.campaigns import DEFAULT_BATCH_SIZE

SETTINGS_USAGE = "settings CAMPAIGN_ID"

# Field of CampaignSettingsChange / organization setting -> the modal block showing it.
CHANGE_BLOCKS = {
    "batch_size": ids.ADMIN_SETTING_BATCH_SIZE,
    "strategies": ids.ADMIN_SETTING_STRATEGY,
    "request_button_label": ids.ADMIN_SETTING_REQUEST_LABEL,
    "request_message": ids.ADMIN_SETTING_REQUEST_MESSAGE,
    "conversations_per_take": ids.ADMIN_SETTING_PER_TAKE,
    "split_assignments": ids.ADMIN_SETTING_SPLIT,
    "DONE_FOR_THE_DAY_ENABLED": ids.ADMIN_SETTING_DONE_FOR_THE_DAY,
    "RELEASE_CONVERSATIONS_ALLOWED": ids.ADMIN_SETTING_RELEASE_CONVERSATIONS,
    "MAX_TEXTERS_PER_CAMPAIGN": ids.ADMIN_SETTING_MAX_TEXTERS,
}


def register(app: App, deps: Deps) -> None:
    app.action(ids.ADMIN_HOME_SETTINGS)(ack=ack_now, lazy=[lazy(home_settings_clicked)])
    app.view(ids.ADMIN_SETTINGS_MODAL)(view_submission(submit_settings))


def open_settings(turn: Turn, campaign_id: int) -> None:
    identity = turn.identity()
    form = settings_form(turn.db, identity.user_id, identity.organization_id, campaign_id)
    open_modal(turn, admin_modals.settings_modal(form))


def campaign_settings(turn: Turn, args: list[str]) -> None:
    open_settings(turn, only_campaign_id(SETTINGS_USAGE, args))


def home_settings_clicked(turn: Turn) -> None:
    open_settings(turn, ids.parse_campaign_value(action_value(turn)))


def _settings_change(state: dict[str, dict[str, Any]]) -> tuple[CampaignSettingsChange, str]:
    """The campaign part of the form, and the raw batch size (checked separately, because
    an empty or non-numeric one never reaches the dataclass's int field)."""
    raw_batch = text_of(state, ids.ADMIN_SETTING_BATCH_SIZE).strip()
    strategy = choice_of(state, ids.ADMIN_SETTING_STRATEGY)
    strategies = [strategy] if strategy else []
    if strategy != admin_modals.SECONDARY_STRATEGY and admin_modals.SECONDARY_STRATEGY in (
        checked_in(state, ids.ADMIN_SETTING_TAKE_CONVERSATIONS)
    ):
        strategies.append(admin_modals.SECONDARY_STRATEGY)
    label = text_of(state, ids.ADMIN_SETTING_REQUEST_LABEL).strip()
    raw_per_take = text_of(state, ids.ADMIN_SETTING_PER_TAKE).strip()
    change = CampaignSettingsChange(
        conversations_per_take=ids.parse_id(raw_per_take) if raw_per_take else None,
        split_assignments=admin_modals.ON in checked_in(state, ids.ADMIN_SETTING_SPLIT),
        use_dynamic_assignment=choice_of(state, ids.ADMIN_SETTING_DYNAMIC) == admin_modals.ON,
        batch_size=ids.parse_id(raw_batch),  # "²".isdigit() is True, int() refuses it
        strategies=strategies or None,
        request_button_label=label or None,
        request_message=text_of(state, ids.ADMIN_SETTING_REQUEST_MESSAGE).strip(),
    )
    return change, raw_batch


def settings_errors(
    change: CampaignSettingsChange,
    raw_batch: str,
    organization: dict[str, str],
    state: dict[str, dict[str, Any]] | None = None,
) -> dict[str, str]:
    """block_id -> what is wrong, for every field at once."""
    errors = {
        CHANGE_BLOCKS.get(field, ids.ADMIN_SETTING_DYNAMIC): message
        for field, message in validate_settings_change(change).items()
    }
    if ids.parse_id(raw_batch) is None:
        errors[ids.ADMIN_SETTING_BATCH_SIZE] = (
            f"The batch size must be a whole number of 1 or more (Spoke's default is "
            f"{DEFAULT_BATCH_SIZE}), not “{raw_batch}”."
            if raw_batch
            else f"Give a batch size (Spoke's default is {DEFAULT_BATCH_SIZE})."
        )
    raw_per_take = text_of(state, ids.ADMIN_SETTING_PER_TAKE).strip() if state else ""
    if raw_per_take and ids.parse_id(raw_per_take) is None:
        errors[ids.ADMIN_SETTING_PER_TAKE] = (
            f"Conversations per take must be a whole number of 1 or more, not “{raw_per_take}”."
        )
    for key, message in validate_organization_settings(organization).items():
        errors[CHANGE_BLOCKS[key]] = message
    return errors


def submit_settings(turn: Turn, ack: Ack) -> None:
    state = modal_state(turn)
    change, raw_batch = _settings_change(state)
    organization = {
        "DONE_FOR_THE_DAY_ENABLED": _boolean(choice_of(state, ids.ADMIN_SETTING_DONE_FOR_THE_DAY)),
        "RELEASE_CONVERSATIONS_ALLOWED": _boolean(
            choice_of(state, ids.ADMIN_SETTING_RELEASE_CONVERSATIONS)
        ),
        "MAX_TEXTERS_PER_CAMPAIGN": text_of(state, ids.ADMIN_SETTING_MAX_TEXTERS),
    }
    errors = settings_errors(change, raw_batch, organization, state)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        (campaign_id,) = metadata_ids(turn, 1)
        identity = turn.identity()
        title = save_settings(
            turn.db, identity.user_id, identity.organization_id, campaign_id, change, organization
        )
    except SpokebotError as error:
        ack(response_action="errors", errors={ids.ADMIN_SETTING_DYNAMIC: error.message})
        return
    ack(
        response_action="update",
        view=admin_modals.done_modal("Settings saved", f"The settings of “{title}” are saved."),
    )


def _boolean(choice: str) -> str:
    return "true" if choice == admin_modals.ON else "false"


SUBCOMMANDS = (
    Subcommand(
        "settings",
        SETTINGS_USAGE,
        "Assignment Management settings in a form (admins)",
        campaign_settings,
    ),
)
