"""What admins (and the people they move contacts to) are told about reassigning and adding
texters, and Message Review's per-contact selection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    CheckboxesElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    UserSelectElement,
)

from bot import ids
from bot.render.common import Reply, actions, button, confirm, escape, reply, section, text_reply
from core.refusals import plural
from core.services.reassign import AddTextersResult, GivenContacts, ReassignResult
from core.statuses import MessageStatus

PER_CHECKBOX_GROUP = 10  # Slack's most options in one checkboxes element


def reassigned(result: ReassignResult, source: str | None, status: MessageStatus | None) -> Reply:
    title = escape(result.campaign_title)
    to = f"<@{result.to_slack_user_id}>"
    if not result.moved:
        whose = f"<@{source}> holds no contacts" if source else "None of those contacts can move"
        which = f" with status {status.value}" if status else ""
        return text_reply(f"{whose}{which} in *{title}*; nothing was moved.")
    parts = []
    if result.initials:
        parts.append(plural(len(result.initials), "unsent first text"))
    if result.conversations:
        parts.append(plural(len(result.conversations), "conversation"))
    if result.others:
        parts.append(f"{result.others} finished or opted out")
    origin = f" from <@{source}>" if source else ""
    lines = [
        f"Moved {plural(result.moved, 'contact')}{origin} to {to} in *{title}*: "
        f"{', '.join(parts)}. Conversations keep their history in {to}'s threads."
    ]
    if result.joined:
        lines.append(f"{to} was not in the campaign and has joined it.")
    if result.over_cap is not None:
        lines.append(
            f"Note: {to} now holds more than their max amount of {result.over_cap} contacts "
            "(an admin's reassign is not limited by it)."
        )
    return text_reply("\n".join(lines))


def you_were_given(given: GivenContacts) -> Reply:
    title = escape(given.campaign_title)
    parts = []
    if given.initials:
        parts.append(f"{plural(given.initials, 'first text')} to send")
    if given.conversations:
        parts.append(
            f"{plural(given.conversations, 'conversation')} (each a thread below, with "
            "its history: reply in the thread to text them)"
        )
    if given.others:
        parts.append(f"{given.others} finished")
    text = f"<@{given.by_slack_user_id}> moved contacts of *{title}* to you: {'; '.join(parts)}."
    blocks: list[Any] = [section(text)]
    if given.initials:
        blocks.append(
            actions(
                button(
                    "Send First Texts",
                    ids.SEND_FIRST_TEXTS,
                    ids.campaign_value(given.campaign_id),
                    style="primary",
                )
            )
        )
    return reply(text, blocks)


def texters_added(result: AddTextersResult, unreachable: Sequence[str]) -> Reply:
    title = escape(result.campaign_title)

    def who(people: Sequence[str]) -> str:
        return ", ".join(f"<@{p}>" for p in people)

    lines = []
    if result.added:
        lines.append(
            f"Added {who(result.added)} to *{title}*; each got the Send First Texts card "
            "by direct message."
        )
    if result.already:
        lines.append(f"Already in *{title}*: {who(result.already)}.")
    for person, why in result.refused.items():
        lines.append(f"Not added: <@{person}> {why}.")
    if unreachable:
        lines.append(f"I couldn't send a direct message to {who(unreachable)}.")
    if result.max_texters is not None:
        lines.append(
            f"Note: the campaign now has {result.texters} texters, more than the "
            f"organization's limit of {result.max_texters} (texters joining by link are "
            "still held to it)."
        )
    return text_reply("\n".join(lines) or "Nobody to add.")


def nothing_selected() -> Reply:
    return text_reply("Tick the contacts first (the boxes above), then choose what to do.")


def unassigned_selected(moved: int, chosen: int) -> Reply:
    if not moved:
        return text_reply("None of the ticked contacts is assigned any more; nothing changed.")
    rest = f" ({chosen - moved} were already unassigned)" if chosen > moved else ""
    return text_reply(f"Unassigned {plural(moved, 'contact')}{rest}; they are back in the pool.")


def selection_blocks(campaign_id: int, options: Sequence[tuple[int, str]]) -> list[Any]:
    """Checkboxes for the contacts shown (id, line), then Unassign selected and the
    Reassign selected to… user picker."""
    blocks: list[Any] = []
    for start in range(0, len(options), PER_CHECKBOX_GROUP):
        group = options[start : start + PER_CHECKBOX_GROUP]
        blocks.append(
            ActionsBlock(
                elements=[
                    CheckboxesElement(
                        action_id=f"{ids.REVIEW_PICK}{start // PER_CHECKBOX_GROUP}",
                        options=[
                            Option(value=str(cid), text=MarkdownTextObject(text=line))
                            for cid, line in group
                        ],
                    )
                ]
            )
        )
    if options:
        value = ids.campaign_value(campaign_id)
        blocks.append(
            ActionsBlock(
                block_id=f"{ids.REVIEW_SELECTED_BLOCK}:{campaign_id}",
                elements=[
                    button(
                        "Unassign selected",
                        ids.REVIEW_UNASSIGN_SELECTED,
                        value,
                        confirmation=confirm(
                            "Unassign the ticked contacts?",
                            "They go back to the pool.",
                            "Unassign",
                        ),
                    ),
                    UserSelectElement(
                        action_id=ids.REVIEW_REASSIGN_SELECTED,
                        placeholder=PlainTextObject(text="Reassign selected to…"),
                        confirm=confirm(
                            "Reassign the ticked contacts?",
                            "Conversations move with their history to the person chosen.",
                            "Reassign",
                        ),
                    ),
                ],
            )
        )
    return blocks


def conversation_settings(per_take: int, split_assignments: bool) -> list[Any]:
    """The settings form's two conversation fields: conversations per take, and split
    assignments (with, under it, when it is valid)."""
    split = Option(value="on", label="Replies go to the conversation team")
    return [
        InputBlock(
            block_id=ids.ADMIN_SETTING_PER_TAKE,
            label=PlainTextObject(text="Conversations per take"),
            element=PlainTextInputElement(
                action_id=ids.ADMIN_SETTING_PER_TAKE, initial_value=str(per_take), max_length=4
            ),
            hint=PlainTextObject(
                text="How many unassigned conversations a vetted texter takes at a time "
                "(/takeconversations or Take conversations). Default 10."
            ),
        ),
        InputBlock(
            block_id=ids.ADMIN_SETTING_SPLIT,
            label=PlainTextObject(text="Split assignments"),
            element=CheckboxesElement(
                action_id=ids.ADMIN_SETTING_SPLIT,
                options=[split],
                initial_options=[split] if split_assignments else None,
            ),
            hint=PlainTextObject(
                text="Valid only with the secondary strategy above: each contact is "
                "unassigned when its first text is sent, so replies wait for vetted "
                "texters to take them, never for the first-text sender."
            ),
            optional=True,
        ),
    ]
