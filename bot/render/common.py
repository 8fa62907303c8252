"""Block Kit building blocks with Slack's limits applied (text is clipped, never rejected)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

# Slack's limits (https://api.slack.com/reference/block-kit).
MAX_MESSAGE_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
MAX_CONTEXT_TEXT = 2000
MAX_FALLBACK_TEXT = 4000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def escape(text: str) -> str:
    """Slack mrkdwn escaping for text that came from people (titles, descriptions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Reply:
    """A message: the notification/fallback text plus its blocks (as dicts)."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": clip(self.text, MAX_FALLBACK_TEXT), "blocks": self.blocks}


def reply(text: str, blocks: list[Block]) -> Reply:
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        blocks = [*blocks[: MAX_MESSAGE_BLOCKS - 1], context("(more not shown)")]
    return Reply(text, [b.to_dict() for b in blocks])


def text_reply(text: str) -> Reply:
    return reply(text, [section(text)])


def section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(mrkdwn, MAX_SECTION_TEXT)))


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER_TEXT)))


def context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(mrkdwn, MAX_CONTEXT_TEXT))])


def divider() -> DividerBlock:
    return DividerBlock()


def confirm(title: str, text: str, yes: str, no: str = "Cancel") -> ConfirmObject:
    return ConfirmObject(
        title=clip(title, MAX_CONFIRM_TITLE),
        text=MarkdownTextObject(text=clip(text, MAX_CONFIRM_TEXT)),
        confirm=clip(yes, MAX_CONFIRM_BUTTON),
        deny=clip(no, MAX_CONFIRM_BUTTON),
    )


def button(
    label: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirmation: ConfirmObject | None = None,
) -> ButtonElement:
    if len(value) > MAX_BUTTON_VALUE:
        raise ValueError(f"button value of {len(value)} characters exceeds {MAX_BUTTON_VALUE}")
    return ButtonElement(
        text=PlainTextObject(text=clip(label, MAX_BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
        confirm=confirmation,
    )


def actions(*elements: ButtonElement) -> ActionsBlock:
    return ActionsBlock(elements=list(elements))
