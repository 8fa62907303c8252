"""Message Review (`/campaign review`, its Unassign button, the per-contact Unassign selected
and Reassign selected to…) and `/campaign reassign`: the Slack side of
core.services.message_review and core.services.reassign. Core checks every role."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from bot import ids
from bot.listeners.admin.steps import (
    MENTION,
    REVIEW_STATUSES,
    Subcommand,
    campaign_id_arg,
    mention_arg,
    status_key,
    usage_error,
)
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.render import admin
from bot.render import conversations_admin as render
from bot.render.common import escape
from bot.texter_notices import deliver_now
from core.errors import InvalidInput
from core.services import message_review
from core.services.reassign import ReassignResult, reassign_contacts
from core.statuses import MessageStatus

REVIEW_USAGE = "review CAMPAIGN_ID [@texter] [status]"
REVIEW_STATUS_WORDS = "needs-first-message, messaged, needs-response, convo, closed or all"
REASSIGN_USAGE = "reassign CAMPAIGN_ID @from @to [status]"
# Statuses /campaign reassign takes (Spoke's Message Review filter names).
REASSIGN_STATUSES = {k: v for k, v in REVIEW_STATUSES.items() if v is not None}


def register(app: App, deps: Deps) -> None:
    app.action(ids.ADMIN_UNASSIGN)(ack=ack_now, lazy=[lazy(unassign_clicked)])
    app.action(ids.REVIEW_UNASSIGN_SELECTED)(ack=ack_now, lazy=[lazy(unassign_selected)])
    app.action(ids.REVIEW_REASSIGN_SELECTED)(ack=ack_now, lazy=[lazy(reassign_selected)])
    # Ticking a contact's box needs no work: the buttons read the boxes when clicked.
    app.action(re.compile(f"^{ids.REVIEW_PICK}"))(ack_now)


# --- Message Review ------------------------------------------------------------------------


def parse_review_filters(args: list[str]) -> tuple[str | None, MessageStatus | None]:
    slack_id: str | None = None
    status: MessageStatus | None = MessageStatus.NEEDS_MESSAGE
    seen_status = False
    for word in args:
        if word.startswith("<@") or word.startswith("@"):
            if slack_id is not None:
                raise usage_error(REVIEW_USAGE, "Name at most one texter.")
            slack_id = mention_arg(REVIEW_USAGE, word)
            continue
        key = status_key(word)
        if key not in REVIEW_STATUSES or seen_status:
            raise usage_error(
                REVIEW_USAGE,
                f"`{escape(word)}` is not a status; use one of {REVIEW_STATUS_WORDS}.",
            )
        status, seen_status = REVIEW_STATUSES[key], True
    return slack_id, status


def campaign_review(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg(REVIEW_USAGE, args[0] if args else None)
    slack_id, status = parse_review_filters(args[1:])
    identity = turn.identity()
    page = message_review.review(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        status=status,
        texter_slack_user_id=slack_id,
        limit=admin.REVIEW_ROWS_SHOWN,
    )
    turn.reply(
        admin.review(
            campaign_id,
            page.title,
            page.rows,
            page.total,
            texter_user_id=page.texter_user_id,
            texter_label=f"<@{slack_id}>" if slack_id else None,
            status=status,
            slack_ids=page.slack_ids,
        )
    )


def unassign_clicked(turn: Turn) -> None:
    campaign_id, texter_user_id, status_value = ids.parse_admin_unassign_value(action_value(turn))
    try:
        status = MessageStatus(status_value) if status_value else None
    except ValueError:
        raise InvalidInput(
            "That button is out of date. Run the command again for a fresh one."
        ) from None
    identity = turn.identity()
    result = message_review.unassign(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        texter_user_id=texter_user_id,
        statuses=[status] if status else None,
    )
    turn.reply_or_dm(admin.unassigned(result), replace=True)


def _selected(turn: Turn) -> list[int]:
    """Contact ids ticked in the review message (every checkbox group on it)."""
    values = ((turn.body.get("state") or {}).get("values")) or {}
    chosen: list[int] = []
    for block in values.values():
        for action_id, element in block.items():
            if not str(action_id).startswith(ids.REVIEW_PICK):
                continue
            for option in element.get("selected_options") or []:
                contact_id = ids.parse_id(str(option.get("value", "")))
                if contact_id is not None:
                    chosen.append(contact_id)
    return chosen


def _action(turn: Turn) -> dict[str, Any]:
    return turn.body["actions"][0]


def unassign_selected(turn: Turn) -> None:
    campaign_id = ids.parse_campaign_value(action_value(turn))
    chosen = _selected(turn)
    if not chosen:
        turn.reply_or_dm(render.nothing_selected())
        return
    identity = turn.identity()
    result = message_review.unassign(
        turn.db, identity.user_id, identity.organization_id, campaign_id, contact_ids=chosen
    )
    turn.reply_or_dm(render.unassigned_selected(result.total, len(chosen)))


def reassign_selected(turn: Turn) -> None:
    """The user picker: the ticked contacts go to the person picked."""
    action = _action(turn)
    campaign_id = ids.parse_campaign_value(str(action.get("block_id", "")).split(":")[-1])
    target = str(action.get("selected_user") or "")
    chosen = _selected(turn)
    if not chosen or not MENTION.fullmatch(f"<@{target}>"):
        turn.reply_or_dm(render.nothing_selected())
        return
    identity = turn.identity()
    result = reassign_contacts(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        target,
        contact_ids=chosen,
    )
    turn.reply_or_dm(render.reassigned(result, None, None))
    hand_over(turn, result)


# --- /campaign reassign --------------------------------------------------------------------


def campaign_reassign(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg(REASSIGN_USAGE, args[0] if args else None)
    if len(args) < 3:
        raise usage_error(REASSIGN_USAGE, "Whose contacts, to whom? Mention both with @.")
    source = mention_arg(REASSIGN_USAGE, args[1])
    target = mention_arg(REASSIGN_USAGE, args[2])
    statuses = None
    if len(args) > 3:
        key = status_key(args[3])
        if key not in REASSIGN_STATUSES or len(args) > 4:
            raise usage_error(
                REASSIGN_USAGE,
                f"`{args[3]}` is not a status; use needs-first-message, needs-response, "
                "convo or messaged.",
            )
        statuses = [REASSIGN_STATUSES[key]]
    identity = turn.identity()
    result = reassign_contacts(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        target,
        from_slack_user_id=source,
        statuses=statuses,
    )
    turn.reply(render.reassigned(result, source, statuses[0] if statuses else None))
    hand_over(turn, result)


def hand_over(turn: Turn, result: ReassignResult) -> None:
    """After a reassign: the previous holders' threads say "moved to @to"; @to gets each
    conversation as a thread with its history, and a DM saying what they got."""
    if not result.moved:
        return
    # Queued with the move; posted now (what Slack refuses, or a crash leaves, the job posts).
    deliver_now(turn.db, turn.client, turn.deps.directory, result.moved_notices)
    deliver_now(turn.db, turn.client, turn.deps.directory, result.given_notices)
    deliver_now(turn.db, turn.client, turn.deps.directory, result.taken_notices)


SUBCOMMANDS = (
    Subcommand(
        "review",
        REVIEW_USAGE,
        "Message Review: contacts by status (default needs-first-message) and texter; Unassign",
        campaign_review,
    ),
    Subcommand(
        "reassign",
        REASSIGN_USAGE,
        "move the contacts @from holds (optionally one status) to @to, conversations with "
        "their history (supervolunteers and admins)",
        campaign_reassign,
    ),
)
