"""Admin buttons (Texters panel, Message Review Unassign, admin Home) and modal submissions.

Button values only say which campaign, texter or page; the actor is re-identified from the
payload's user and team, and core checks the role, so a stale or forwarded message can be
clicked safely. Modal submissions are answered in the ack itself: invalid input and
refusals come back inline (response_action "errors") with nothing saved.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.admin_commands import open_settings, show, show_stats, texters_page
from bot.listeners.common import Deps, Turn, ack_now, lazy, view_submission
from bot.render import admin, admin_modals
from core.errors import InvalidInput, SpokebotError
from core.services import admin_gate, admin_lookup, release
from core.services.admin import (
    CampaignSettingsChange,
    set_max_contacts,
    update_campaign_settings,
    validate_settings_change,
)
from core.services.campaigns import DEFAULT_BATCH_SIZE
from core.statuses import MessageStatus


def register(app: App, deps: Deps) -> None:
    handlers = {
        ids.ADMIN_TEXTERS_PAGE: texters_page_clicked,
        ids.ADMIN_SET_MAX: set_max_clicked,
        ids.ADMIN_REMOVE_UNSENT: remove_unsent_clicked,
        ids.ADMIN_RELEASE_ALL: release_all_clicked,
        ids.ADMIN_UNASSIGN: unassign_clicked,
        ids.ADMIN_HOME_STATS: home_stats_clicked,
        ids.ADMIN_HOME_TEXTERS: home_texters_clicked,
        ids.ADMIN_HOME_SETTINGS: home_settings_clicked,
    }
    for action_id, work in handlers.items():
        app.action(action_id)(ack=ack_now, lazy=[lazy(deps, work)])

    # Submissions are validated and saved inside the ack: only the ack can put errors
    # under the fields, and the work is a few quick queries.
    app.view(ids.ADMIN_MAX_MODAL)(view_submission(deps, submit_max_amount))
    app.view(ids.ADMIN_SETTINGS_MODAL)(view_submission(deps, submit_settings))


def _value(turn: Turn) -> str:
    return str(turn.body["actions"][0].get("value", ""))


# --- Texters panel -------------------------------------------------------------------------


def texters_page_clicked(turn: Turn) -> None:
    campaign_id, offset = ids.parse_admin_page_value(_value(turn))
    show(turn, texters_page(turn, campaign_id, offset), replace=True)


def set_max_clicked(turn: Turn) -> None:
    campaign_id, texter_user_id, _offset = ids.parse_admin_texter_value(_value(turn))
    identity = turn.identity()
    texter = admin_lookup.texter_cap(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        texter_user_id,
        admin_gate.MANAGE,
    )
    turn.client.views_open(
        trigger_id=turn.body["trigger_id"],
        view=admin_modals.max_amount_modal(
            campaign_id, texter_user_id, texter.name, texter.max_contacts
        ),
    )


def _release_clicked(turn: Turn, *, everything: bool) -> None:
    campaign_id, texter_user_id, offset = ids.parse_admin_texter_value(_value(turn))
    identity = turn.identity()
    texter = admin_lookup.texter_cap(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        texter_user_id,
        admin_gate.VIEW,
    )
    work = release.release_all if everything else release.remove_unsent
    result = work(turn.db, identity.user_id, campaign_id, texter_user_id)
    notice = admin.admin_release_sentence(texter.name, result, everything=everything)
    show(turn, texters_page(turn, campaign_id, offset, notice=notice), replace=True)


def remove_unsent_clicked(turn: Turn) -> None:
    _release_clicked(turn, everything=False)


def release_all_clicked(turn: Turn) -> None:
    _release_clicked(turn, everything=True)


# --- Message Review ------------------------------------------------------------------------


def unassign_clicked(turn: Turn) -> None:
    campaign_id, texter_user_id, status_value = ids.parse_admin_unassign_value(_value(turn))
    try:
        status = MessageStatus(status_value) if status_value else None
    except ValueError:
        raise InvalidInput(
            "That button is out of date. Run the command again for a fresh one."
        ) from None
    identity = turn.identity()
    admin_lookup.campaign_title(
        turn.db, identity.user_id, identity.organization_id, campaign_id, admin_gate.VIEW
    )
    result = release.unassign_contacts(
        turn.db,
        identity.user_id,
        campaign_id,
        texter_user_id=texter_user_id,
        statuses=[status] if status else None,
    )
    show(turn, admin.unassigned(result), replace=True)


# --- admin Home ----------------------------------------------------------------------------


def home_stats_clicked(turn: Turn) -> None:
    show_stats(turn, ids.parse_campaign_value(_value(turn)))


def home_texters_clicked(turn: Turn) -> None:
    show(turn, texters_page(turn, ids.parse_campaign_value(_value(turn)), 0))


def home_settings_clicked(turn: Turn) -> None:
    open_settings(turn, ids.parse_campaign_value(_value(turn)))


# --- modal submissions ---------------------------------------------------------------------


def _state(turn: Turn) -> dict[str, dict[str, Any]]:
    values = turn.body["view"]["state"]["values"]
    return {block_id: next(iter(actions.values()), {}) for block_id, actions in values.items()}


def _text(state: dict[str, dict[str, Any]], block_id: str) -> str:
    return str((state.get(block_id) or {}).get("value") or "")


def _choice(state: dict[str, dict[str, Any]], block_id: str) -> str:
    return str(((state.get(block_id) or {}).get("selected_option") or {}).get("value") or "")


def _checked(state: dict[str, dict[str, Any]], block_id: str) -> set[str]:
    options = (state.get(block_id) or {}).get("selected_options") or []
    return {str(option.get("value")) for option in options}


def _metadata_ids(turn: Turn, count: int) -> list[int]:
    parts = [
        ids.parse_id(p) for p in str(turn.body["view"].get("private_metadata") or "").split(":")
    ]
    numbers = [p for p in parts if p is not None]
    if len(parts) != count or len(numbers) != count:
        raise InvalidInput("This form is out of date. Run the command again for a fresh one.")
    return numbers


def submit_max_amount(turn: Turn, ack: Ack) -> None:
    raw = _text(_state(turn), ids.ADMIN_MAX_INPUT)
    try:
        campaign_id, texter_user_id = _metadata_ids(turn, 2)
        identity = turn.identity()
        texter = admin_lookup.texter_cap(
            turn.db,
            identity.user_id,
            identity.organization_id,
            campaign_id,
            texter_user_id,
            admin_gate.MANAGE,
        )
        saved = set_max_contacts(turn.db, identity.user_id, campaign_id, texter_user_id, raw)
    except SpokebotError as error:
        ack(response_action="errors", errors={ids.ADMIN_MAX_INPUT: error.message})
        return
    ack(
        response_action="update",
        view=admin_modals.done_modal(
            "Max amount saved",
            f"{texter.name}'s max amount is now {admin.max_amount_words(saved)}.",
        ),
    )


def _settings_change(state: dict[str, dict[str, Any]]) -> tuple[CampaignSettingsChange, str]:
    """The campaign part of the form, and the raw batch size (checked separately, because
    an empty or non-numeric one never reaches the dataclass's int field)."""
    raw_batch = _text(state, ids.ADMIN_SETTING_BATCH_SIZE).strip()
    strategy = _choice(state, ids.ADMIN_SETTING_STRATEGY)
    strategies = [strategy] if strategy else []
    if strategy != admin_modals.SECONDARY_STRATEGY and admin_modals.SECONDARY_STRATEGY in _checked(
        state, ids.ADMIN_SETTING_TAKE_CONVERSATIONS
    ):
        strategies.append(admin_modals.SECONDARY_STRATEGY)
    label = _text(state, ids.ADMIN_SETTING_REQUEST_LABEL).strip()
    raw_per_take = _text(state, ids.ADMIN_SETTING_PER_TAKE).strip()
    change = CampaignSettingsChange(
        conversations_per_take=ids.parse_id(raw_per_take) if raw_per_take else None,
        split_assignments=admin_modals.ON in _checked(state, ids.ADMIN_SETTING_SPLIT),
        use_dynamic_assignment=_choice(state, ids.ADMIN_SETTING_DYNAMIC) == admin_modals.ON,
        batch_size=ids.parse_id(raw_batch),  # "²".isdigit() is True, int() refuses it
        strategies=strategies or None,
        request_button_label=label or None,
        request_message=_text(state, ids.ADMIN_SETTING_REQUEST_MESSAGE).strip(),
    )
    return change, raw_batch


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
    raw_per_take = _text(state, ids.ADMIN_SETTING_PER_TAKE).strip() if state else ""
    if raw_per_take and ids.parse_id(raw_per_take) is None:
        errors[ids.ADMIN_SETTING_PER_TAKE] = (
            f"Conversations per take must be a whole number of 1 or more, not “{raw_per_take}”."
        )
    for key, message in admin_lookup.validate_organization_settings(organization).items():
        errors[CHANGE_BLOCKS[key]] = message
    return errors


def submit_settings(turn: Turn, ack: Ack) -> None:
    state = _state(turn)
    change, raw_batch = _settings_change(state)
    organization = {
        "DONE_FOR_THE_DAY_ENABLED": _boolean(_choice(state, ids.ADMIN_SETTING_DONE_FOR_THE_DAY)),
        "RELEASE_CONVERSATIONS_ALLOWED": _boolean(
            _choice(state, ids.ADMIN_SETTING_RELEASE_CONVERSATIONS)
        ),
        "MAX_TEXTERS_PER_CAMPAIGN": _text(state, ids.ADMIN_SETTING_MAX_TEXTERS),
    }
    errors = settings_errors(change, raw_batch, organization, state)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        (campaign_id,) = _metadata_ids(turn, 1)
        identity = turn.identity()
        actor, org = identity.user_id, identity.organization_id
        title = admin_lookup.campaign_title(turn.db, actor, org, campaign_id, admin_gate.MANAGE)
        # Role first (nothing saved when refused), then the campaign, then the organization.
        current = admin_lookup.settings_form(turn.db, actor, org, campaign_id).strategies
        change = replace(change, strategies=kept_strategies(change.strategies or [], current))
        update_campaign_settings(turn.db, actor, campaign_id, change)
        admin_lookup.set_organization_settings(turn.db, actor, org, organization)
    except SpokebotError as error:
        ack(response_action="errors", errors={ids.ADMIN_SETTING_DYNAMIC: error.message})
        return
    ack(
        response_action="update",
        view=admin_modals.done_modal("Settings saved", f"The settings of “{title}” are saved."),
    )


def kept_strategies(chosen: list[str], current: list[str]) -> list[str] | None:
    """The form's primary (and secondary) strategy, then every other strategy the campaign
    lists that the form doesn't show: saving never drops them."""
    merged = list(chosen)
    merged += [
        name
        for name in current[1:]
        if name not in merged and name != admin_modals.SECONDARY_STRATEGY
    ]
    return merged or None


def _boolean(choice: str) -> str:
    return "true" if choice == admin_modals.ON else "false"
