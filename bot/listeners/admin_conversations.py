"""`/campaign reassign` and `/campaign add-texters`, and Message Review's per-contact
Unassign selected / Reassign selected to… (the Slack side of core.services.reassign).

Importing this module adds the subcommands to /campaign's table; core checks every role.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.listeners.admin_commands import (
    MENTION,
    REVIEW_STATUSES,
    USAGE,
    campaign_id_arg,
    mention_arg,
    show,
)
from bot.listeners.commands import campaign_subcommand
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.notify import SlackTexterNotifier
from bot.render import conversations_admin as render
from bot.render import messages
from core.errors import InvalidInput
from core.services import admin_gate, admin_lookup, release
from core.services.reassign import ReassignResult, add_texters, reassign_contacts
from core.services.threads import ThreadRef

REASSIGN_USAGE = "reassign CAMPAIGN_ID @from @to [status]"
ADD_USAGE = "add-texters CAMPAIGN_ID @texter [@texter ...]"
# The shared argument parsers quote a subcommand's usage from this table.
USAGE.update({"reassign": REASSIGN_USAGE, "add-texters": ADD_USAGE})
# Statuses /campaign reassign takes (Spoke's Message Review filter names).
REASSIGN_STATUSES = {k: v for k, v in REVIEW_STATUSES.items() if v is not None}


def register(app: App, deps: Deps) -> None:
    app.action(ids.REVIEW_UNASSIGN_SELECTED)(ack=ack_now, lazy=[lazy(deps, unassign_selected)])
    app.action(ids.REVIEW_REASSIGN_SELECTED)(ack=ack_now, lazy=[lazy(deps, reassign_selected)])
    # Ticking a contact's box needs no work: the buttons read the boxes when clicked.
    app.action(re.compile(f"^{ids.REVIEW_PICK}"))(ack_now)


def _usage(usage: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{problem}\nUsage: `/campaign {usage}`")


@campaign_subcommand(
    "reassign",
    REASSIGN_USAGE,
    "move the contacts @from holds (optionally one status) to @to, conversations with their "
    "history (supervolunteers and admins)",
)
def campaign_reassign(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg("reassign", args[0] if args else None)
    if len(args) < 3:
        raise _usage(REASSIGN_USAGE, "Whose contacts, to whom? Mention both with @.")
    source = mention_arg("reassign", args[1])
    target = mention_arg("reassign", args[2])
    statuses = None
    if len(args) > 3:
        key = re.sub(r"[-_ ]", "", args[3].lower())
        if key not in REASSIGN_STATUSES or len(args) > 4:
            raise _usage(
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
    notifier = SlackTexterNotifier(turn.db, turn.client, turn.deps.directory)
    for moved in result.previous_threads:
        ref = ThreadRef(moved.contact_id, moved.user_id, moved.channel_id, moved.thread_ts)
        notifier.update_root(ref, moved_to=result.to_slack_user_id)
    try:
        channel = turn.deps.directory.dm_channel(turn.client, result.to_slack_user_id)
        turn.client.chat_postMessage(
            channel=channel, **render.you_were_given(result, turn.slack_user_id).as_kwargs()
        )
    except SlackApiError:
        pass  # the threads below still reach them; the admin's reply said what moved
    notifier.thread_taken_conversations(result.conversations, result.to_user_id)


@campaign_subcommand(
    "add-texters",
    ADD_USAGE,
    "join people to the campaign without the link, each gets Send First Texts (admins)",
)
def campaign_add_texters(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg("add-texters", args[0] if args else None)
    people = [mention_arg("add-texters", word) for word in args[1:]]
    if not people:
        raise _usage(ADD_USAGE, "Whom? Mention each person with @.")
    identity = turn.identity()
    named = [(p, turn.deps.directory.display_name(turn.client, p) or "") for p in people]
    result = add_texters(
        turn.db, identity.user_id, identity.organization_id, campaign_id, dict(named).items()
    )
    unreachable = []
    for slack_id in result.added:
        card = messages.campaign_card(
            result.campaign_id, result.campaign_title, "", already_joined=False
        )
        try:
            channel = turn.deps.directory.dm_channel(turn.client, slack_id)
            turn.client.chat_postMessage(channel=channel, **card.as_kwargs())
        except SlackApiError:
            unreachable.append(slack_id)
    turn.reply(render.texters_added(result, unreachable))


# --- Message Review: per-contact selection ------------------------------------------------


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
    campaign_id = ids.parse_campaign_value(str(_action(turn).get("value", "")))
    chosen = _selected(turn)
    if not chosen:
        show(turn, render.nothing_selected())
        return
    identity = turn.identity()
    admin_lookup.campaign_title(
        turn.db, identity.user_id, identity.organization_id, campaign_id, admin_gate.VIEW
    )
    result = release.unassign_contacts(turn.db, identity.user_id, campaign_id, contact_ids=chosen)
    show(turn, render.unassigned_selected(result.total, len(chosen)))


def reassign_selected(turn: Turn) -> None:
    """The user picker: the ticked contacts go to the person picked."""
    action = _action(turn)
    campaign_id = ids.parse_campaign_value(str(action.get("block_id", "")).split(":")[-1])
    target = str(action.get("selected_user") or "")
    chosen = _selected(turn)
    if not chosen or not MENTION.fullmatch(f"<@{target}>"):
        show(turn, render.nothing_selected())
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
    show(turn, render.reassigned(result, None, None))
    hand_over(turn, result)
