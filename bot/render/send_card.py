"""The send card: what a batch request (Send First Texts, Request More) answered, then one
contact at a time, its first text, Send / Skip / Opt out / Edit; the batch done prompt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)

from bot import ids
from bot.render.common import (
    MAX_SECTION_TEXT,
    Reply,
    actions,
    button,
    clip,
    confirm,
    context,
    escape,
    reply,
    section,
    text_reply,
)
from core.refusals import plural
from core.services.batches import BatchResult, Eligibility
from core.services.send_card import SendCard
from core.services.send_queue import HeldLeft
from core.services.texter_home import RequestPrompt
from core.services.texting_rules import MAX_SMS_LENGTH
from core.services.texting_window import opening_sentence

MAX_FIELDS_SHOWN = 10  # custom fields on the card; the rest are still in the script
MAX_FIELD_VALUE = 150
MAX_NAME = 150
MAX_MODAL_TITLE = 24
MAX_PRIVATE_METADATA = 3000


def batch_result(
    title: str,
    result: BatchResult,
    prompt: RequestPrompt | None = None,
    reply_links: Sequence[Any] = (),
) -> Reply:
    """What a texter sees after asking for first texts (`reply_links`: the replies to
    finish first, when that is the refusal)."""
    name = escape(title)
    if result.assigned:
        got = plural(result.assigned, "first text")
        if result.unsent == result.assigned:  # one fact, one sentence
            return text_reply(f"You got {got} in *{name}*.")
        return text_reply(f"You got {got} in *{name}*. You now hold {result.unsent} to send.")
    refusal = result.refusal
    reason = refusal.message if refusal else "No first texts are available right now."
    if result.unsent:
        return text_reply(f"*{name}*: {reason}")
    return finished_prompt(
        result.eligibility.campaign_id,
        title,
        result.eligibility,
        reason,
        prompt=prompt,
        reply_links=reply_links,
    )


def finished_prompt(
    campaign_id: int,
    title: str,
    eligibility: Eligibility,
    reason: str | None = None,
    *,
    prompt: RequestPrompt | None = None,
    reply_links: Sequence[Any] = (),
) -> Reply:
    """Spoke's popup after a batch: Request More (the campaign's label and message, and only
    when a request could succeed) or Done For Now; when replies must be finished first, links
    to them."""
    prompt = prompt or RequestPrompt()
    lines = [f"You have no first texts left to send in *{escape(title)}*."]
    if reason:
        lines.append(reason)
    elif eligibility.refusal:
        lines.append(eligibility.refusal.message)
    if eligibility.waiting_replies:
        lines.append(f"{plural(eligibility.waiting_replies, 'reply', 'replies')} waiting.")
    refusal = eligibility.refusal
    buttons = []
    if refusal is None:
        if prompt.message:
            lines.append(escape(prompt.message))
        buttons.append(
            button(prompt.label, ids.REQUEST_MORE, ids.campaign_value(campaign_id), style="primary")
        )
    buttons.append(button("Done For Now", ids.DONE_FOR_NOW, ids.campaign_value(campaign_id)))
    text = "\n".join(lines)
    return reply(text, [section(text), *reply_links, actions(*buttons)])


def contact_name(first_name: str, last_name: str, cell: str = "") -> str:
    return f"{first_name} {last_name}".strip() or cell or "(no name)"


def quoted(text: str) -> str:
    """The message as a mrkdwn quote, escaped (it goes out as SMS exactly as written)."""
    body = escape(text) if text.strip() else "_(empty)_"
    return clip("\n".join(f"> {line}" for line in body.splitlines() or [""]), MAX_SECTION_TEXT)


def send_card(card: SendCard, notice: str | None = None, *, retry: bool = False) -> Reply:
    """One contact. `notice` says what just happened (sent, skipped, refused); `retry` turns
    Send into Retry after a provider failure."""
    name = contact_name(card.first_name, card.last_name, card.cell)
    blocks: list[Any] = []
    if notice:
        blocks.append(section(notice))
    left = plural(card.remaining, "first text")
    blocks.append(context(f"*{escape(card.campaign_title)}* · {left} to send"))
    details = [f"*{escape(clip(name, MAX_NAME))}*"]
    fields = sorted(card.custom_fields.items())
    for key, value in fields[:MAX_FIELDS_SHOWN]:
        details.append(f"{escape(clip(key, MAX_NAME))}: {escape(clip(value, MAX_FIELD_VALUE))}")
    if len(fields) > MAX_FIELDS_SHOWN:
        details.append(f"…and {plural(len(fields) - MAX_FIELDS_SHOWN, 'more field')}")
    blocks.append(section("\n".join(details)))
    blocks.append(section(quoted(card.text)))
    if card.hours_note:
        blocks.append(context(card.hours_note))
    value = ids.contact_value(card.campaign_id, card.contact_id)
    buttons = []
    if card.textable_now:
        if retry:
            buttons.append(button("Retry", ids.RETRY_SEND, value, style="primary"))
        else:
            buttons.append(button("Send", ids.SEND_TEXT, value, style="primary"))
    buttons.append(button("Skip", ids.SKIP_CONTACT, value))
    buttons.append(
        button(
            "Opt out",
            ids.OPT_OUT_CONTACT,
            value,
            style="danger",
            confirmation=confirm(
                f"Opt out {name}?",
                f"{escape(name)} will never be texted again by any campaign of this organization.",
                "Opt out",
            ),
        )
    )
    if card.can_edit and card.textable_now:
        buttons.append(button("Edit", ids.EDIT_TEXT, value))
    blocks.append(ActionsBlock(block_id=ids.fresh_block_id(ids.SEND_CARD_BLOCK), elements=buttons))
    fallback = f"{notice}\n" if notice else ""
    return reply(f"{fallback}Next: {name} ({left} to send)", blocks)


def nothing_to_send_now(left: HeldLeft, notice: str | None = None) -> Reply:
    """The card when every first text still held was skipped or is outside texting hours:
    says so, and offers a way on (go through the skipped ones, keep them, give them back)."""
    lines = [notice] if notice else []
    lines.append(
        f"You still hold {plural(left.total, 'first text')} in *{escape(left.campaign_title)}*, "
        "but none you can send right now."
    )
    if left.skipped:
        lines.append(f"You skipped {plural(left.skipped, 'of them', 'of them')}.")
    if left.not_textable and left.opens_at is not None:
        lines.append(
            f"{plural(left.not_textable, 'contact')} can't be texted now. "
            + opening_sentence(
                escape(left.campaign_title),
                left.texting_hours,
                left.timezone,
                left.opens_at,
                datetime.now(UTC),
            )
        )
    value = ids.campaign_value(left.campaign_id)
    buttons = []
    if left.skipped:
        buttons.append(button("Go through skipped", ids.CARD_RESTART, value, style="primary"))
    buttons.append(button("Done for now", ids.DONE_FOR_NOW, value))
    buttons.append(
        button(
            "Release them",
            ids.RELEASE_HELD,
            value,
            confirmation=confirm(
                "Release them?",
                f"Your {plural(left.total, 'unsent first text')} go back to the pool for other "
                "texters. Your conversations stay with you.",
                "Release them",
            ),
        )
    )
    text = "\n".join(lines)
    blocks = [
        section(text),
        ActionsBlock(block_id=ids.fresh_block_id(ids.SEND_CARD_BLOCK), elements=buttons),
    ]
    return reply(text, blocks)


def batch_done(
    campaign_id: int,
    title: str,
    eligibility: Eligibility,
    notice: str | None = None,
    request: RequestPrompt | None = None,
    reply_links: Sequence[Any] = (),
) -> Reply:
    """The card's last state: Request More / Done For Now, after what just happened."""
    prompt = finished_prompt(
        campaign_id, title, eligibility, prompt=request, reply_links=reply_links
    )
    if not notice:
        return prompt
    return Reply(f"{notice}\n{prompt.text}", [section(notice).to_dict(), *prompt.blocks])


def edit_modal(card: SendCard, response_url: str) -> dict[str, Any]:
    """A modal to change this one message before sending. private_metadata carries which
    card to update when it is submitted (Slack returns it unchanged)."""
    name = contact_name(card.first_name, card.last_name, card.cell)
    metadata = json.dumps(
        {"campaign": card.campaign_id, "contact": card.contact_id, "url": response_url}
    )
    if len(metadata) > MAX_PRIVATE_METADATA:
        raise ValueError("response_url too long for private_metadata")
    return {
        "type": "modal",
        "callback_id": ids.EDIT_TEXT_MODAL,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": clip("Edit first text", MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"Your first text to *{escape(name)}*, for this contact only:").to_dict(),
            InputBlock(
                block_id=ids.EDIT_TEXT_BLOCK,
                label=PlainTextObject(text="Message"),
                element=PlainTextInputElement(
                    action_id=ids.EDIT_TEXT_INPUT,
                    multiline=True,
                    initial_value=card.text[:MAX_SMS_LENGTH],
                    max_length=MAX_SMS_LENGTH,
                ),
            ).to_dict(),
        ],
    }


def parse_edit_submission(view: dict[str, Any]) -> tuple[int, int, str, str]:
    """(campaign id, contact id, response_url, text) from a submitted Edit modal."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        campaign_id, contact_id, url = int(meta["campaign"]), int(meta["contact"]), meta["url"]
    except (ValueError, KeyError, TypeError):
        raise ids._stale() from None
    values = (view.get("state") or {}).get("values") or {}
    text = (values.get(ids.EDIT_TEXT_BLOCK) or {}).get(ids.EDIT_TEXT_INPUT) or {}
    return campaign_id, contact_id, str(url), str(text.get("value") or "")
