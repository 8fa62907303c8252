"""The admin modals: campaign settings (Spoke's Assignment Management), a texter's max
amount, what a modal becomes after a save, and the pieces campaign_forms builds with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.render.common import clip, divider, escape, section
from bot.render.conversations_admin import conversation_settings
from core.services.campaign_settings import CampaignSettingsForm
from core.services.campaigns import DEFAULT_BATCH_SIZE
from strategies.registry import available_strategies

MAX_MODAL_TITLE = 24
MAX_INPUT_LENGTH = 3000
ON, OFF = "on", "off"

# Spoke's primary strategies, in the order its Assignment Management offers them; the
# experimental vetted-takeconversations is only ever added as the secondary one.
PRIMARY_STRATEGIES = ("finished-replies", "vetted-texters", "all-texters", "finished-replies-tz")
SECONDARY_STRATEGY = "vetted-takeconversations"


def modal(
    callback_id: str,
    title: str,
    blocks: Sequence[Block],
    metadata: str,
    submit: str | None = "Save",
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=clip(title, MAX_MODAL_TITLE)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text="Cancel" if submit else "Close"),
        blocks=list(blocks),
        private_metadata=metadata,
    )
    return view.to_dict()


def text_input(
    block_id: str,
    label: str,
    initial: str,
    *,
    hint: str | None = None,
    multiline: bool = False,
    optional: bool = True,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id=block_id,
            initial_value=clip(initial, MAX_INPUT_LENGTH) if initial else None,
            multiline=multiline,
            max_length=MAX_INPUT_LENGTH,
        ),
        hint=PlainTextObject(text=hint) if hint else None,
        optional=optional,
    )


def on_off(block_id: str, label: str, on: bool, on_text: str, off_text: str) -> InputBlock:
    options = [
        Option(value=ON, label=on_text),
        Option(value=OFF, label=off_text),
    ]
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=RadioButtonsElement(
            action_id=block_id, options=options, initial_option=options[0 if on else 1]
        ),
    )


def max_amount_modal(
    campaign_id: int, texter_user_id: int, name: str, current: int | None
) -> dict[str, Any]:
    blocks = [
        section(f"How many first texts may *{escape(name)}* get through dynamic assignment?"),
        text_input(
            ids.ADMIN_MAX_INPUT,
            "Max amount",
            "" if current is None else str(current),
            hint="Empty: no cap. 0: no further batches.",
        ),
    ]
    return modal(ids.ADMIN_MAX_MODAL, "Set max amount", blocks, f"{campaign_id}:{texter_user_id}")


def settings_modal(form: CampaignSettingsForm) -> dict[str, Any]:
    """Spoke's Assignment Management section plus the organization's texter settings."""
    strategies = available_strategies()
    primary = [name for name in PRIMARY_STRATEGIES if name in strategies]
    # A strategy set elsewhere (the CLI, a plugin) is offered too, so it shows and survives.
    primary += [
        name
        for i, name in enumerate(form.strategies)
        if name not in primary and (i == 0 or name != SECONDARY_STRATEGY)
    ]
    options = [strategy_option(name, strategies) for name in primary]
    chosen = form.strategies[0] if form.strategies else primary[0]
    initial = next((o for o in options if o.value == chosen), options[0])
    take = Option(
        value=SECONDARY_STRATEGY,
        label="Also let vetted texters take unassigned conversations",
    )
    take_element = CheckboxesElement(
        action_id=ids.ADMIN_SETTING_TAKE_CONVERSATIONS,
        options=[take],
        initial_options=[take] if SECONDARY_STRATEGY in form.strategies[1:] else None,
    )
    blocks: list[Block] = [
        section(f"*{escape(form.title)}*: Assignment Management"),
        on_off(
            ids.ADMIN_SETTING_DYNAMIC,
            "Dynamic assignment for initials",
            form.use_dynamic_assignment,
            "On: texters join by link and request batches",
            "Off: assign texts by hand",
        ),
        batch_size_input(
            ids.ADMIN_SETTING_BATCH_SIZE, "How large should this batch size be?", form.batch_size
        ),
        strategy_select(ids.ADMIN_SETTING_STRATEGY, options, initial),
        InputBlock(
            block_id=ids.ADMIN_SETTING_TAKE_CONVERSATIONS,
            label=PlainTextObject(text="Secondary strategy (experimental)"),
            element=take_element,
            optional=True,
        ),
        *conversation_settings(form.per_take, form.split_assignments),
        text_input(
            ids.ADMIN_SETTING_REQUEST_LABEL,
            "Request button label (texters see it)",
            form.request_button_label,
            hint="Empty: “Request More Texts”.",
        ),
        text_input(
            ids.ADMIN_SETTING_REQUEST_MESSAGE,
            "Message shown with the request button",
            form.request_message,
            multiline=True,
        ),
        divider(),
        section("*Organization-wide* (every campaign of this organization)"),
        on_off(
            ids.ADMIN_SETTING_DONE_FOR_THE_DAY,
            "Done for the Day",
            form.done_for_the_day_enabled,
            "Allowed",
            "Not allowed",
        ),
        on_off(
            ids.ADMIN_SETTING_RELEASE_CONVERSATIONS,
            "Done for the Day releases conversations too",
            form.release_conversations_allowed,
            "Yes",
            "No, only unsent first texts",
        ),
        text_input(
            ids.ADMIN_SETTING_MAX_TEXTERS,
            "Max texters per campaign",
            "" if form.max_texters is None else str(form.max_texters),
            hint="Empty: no limit.",
        ),
    ]
    return modal(ids.ADMIN_SETTINGS_MODAL, "Campaign settings", blocks, str(form.campaign_id))


def done_modal(title: str, text: str) -> dict[str, Any]:
    """What a modal turns into after a successful save."""
    return modal(ids.ADMIN_DONE_MODAL, title, [section(text)], "", submit=None)


def strategy_option(name: str, strategies: Mapping[str, Any]) -> Option:
    """A strategy as the forms list it: its display name and its name (Slack: 75 chars)."""
    label = strategies[name].display_name if name in strategies else name
    return Option(value=name, label=clip(f"{label} ({name})", 75))


def batch_size_input(block_id: str, label: str, batch_size: int | None) -> InputBlock:
    return text_input(
        block_id,
        label,
        "" if batch_size is None else str(batch_size),
        hint=f"First texts per request (Spoke's default: {DEFAULT_BATCH_SIZE}).",
        optional=False,
    )


def strategy_select(block_id: str, options: list[Option], initial: Option) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text="When may texters request another batch?"),
        element=StaticSelectElement(action_id=block_id, options=options, initial_option=initial),
    )
