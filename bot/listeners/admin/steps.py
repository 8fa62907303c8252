"""Steps the admin listeners share (not a listener): a `/campaign` subcommand's shape, its
argument parsers, and reading a modal's state (answering privately is Turn.reply_or_dm).

Every parser raises InvalidInput quoting the subcommand's usage, so the admin sees at once
what was expected."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import ids
from bot.listeners.common import Turn
from bot.render.common import escape
from core.errors import InvalidInput
from core.statuses import MessageStatus


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str  # after "/campaign "
    description: str
    run: Callable[[Turn, list[str]], None]


# Slack sends a mention as <@U123|name> (or <@U123>) when the command escapes mentions.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

REVIEW_STATUSES: dict[str, MessageStatus | None] = {
    "needsfirstmessage": MessageStatus.NEEDS_MESSAGE,
    "needsmessage": MessageStatus.NEEDS_MESSAGE,
    "messaged": MessageStatus.MESSAGED,
    "needsresponse": MessageStatus.NEEDS_RESPONSE,
    "convo": MessageStatus.CONVO,
    "conversation": MessageStatus.CONVO,
    "closed": MessageStatus.CLOSED,
    "all": None,
}


def status_key(word: str) -> str:
    """A status as typed (needs-response, needs_response, NeedsResponse) as a table key."""
    return re.sub(r"[-_ ]", "", word.lower())


# --- /campaign arguments --------------------------------------------------------------------


def usage_error(usage: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{problem}\nUsage: `/campaign {usage}`")


def campaign_id_arg(usage: str, word: str | None) -> int:
    if word is None:
        raise usage_error(usage, "Which campaign? Give its id.")
    campaign_id = ids.parse_id(word)
    if campaign_id is None:
        raise usage_error(usage, f"`{escape(word)}` is not a campaign id (a number).")
    return campaign_id


def mention_arg(usage: str, word: str | None) -> str:
    if word is None:
        raise usage_error(usage, "Whom? Mention them with @.")
    match = MENTION.fullmatch(word)
    if match is None:
        raise usage_error(
            usage,
            f"`{escape(word)}` is not a mention: pick the person from Slack's @ list so "
            "the command carries their id.",
        )
    return match[1]


def exactly(usage: str, args: list[str], count: int) -> None:
    if len(args) > count:
        extra = " ".join(args[count:])
        raise usage_error(usage, f"Unexpected `{escape(extra)}`.")


def only_campaign_id(usage: str, args: list[str]) -> int:
    """A subcommand whose one argument is a campaign id."""
    campaign_id = campaign_id_arg(usage, args[0] if args else None)
    exactly(usage, args, 1)
    return campaign_id


# --- buttons and modals ---------------------------------------------------------------------


def modal_state(turn: Turn) -> dict[str, dict[str, Any]]:
    """block_id -> the one input's state, from a submitted modal."""
    values = turn.body["view"]["state"]["values"]
    return {block_id: next(iter(actions.values()), {}) for block_id, actions in values.items()}


def text_of(state: dict[str, dict[str, Any]], block_id: str) -> str:
    return str((state.get(block_id) or {}).get("value") or "")


def choice_of(state: dict[str, dict[str, Any]], block_id: str) -> str:
    return str(((state.get(block_id) or {}).get("selected_option") or {}).get("value") or "")


def checked_in(state: dict[str, dict[str, Any]], block_id: str) -> set[str]:
    options = (state.get(block_id) or {}).get("selected_options") or []
    return {str(option.get("value")) for option in options}


def metadata_ids(turn: Turn, count: int) -> list[int]:
    """The ids a modal carries in its private_metadata ("12" or "12:34")."""
    parts = [
        ids.parse_id(p) for p in str(turn.body["view"].get("private_metadata") or "").split(":")
    ]
    numbers = [p for p in parts if p is not None]
    if len(parts) != count or len(numbers) != count:
        raise InvalidInput("This form is out of date. Run the command again for a fresh one.")
    return numbers


def open_modal(turn: Turn, view: Any) -> None:
    turn.client.views_open(trigger_id=turn.body["trigger_id"], view=view)
