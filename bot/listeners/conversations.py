"""Conversations in Slack: /takeconversations and the Take conversations button, the links
to waiting replies (Open, Show all replies)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.permalinks import thread_links
from bot.render import conversations as render
from bot.texter_notices import deliver_now
from core.services.conversation_requests import (
    TakeAnswer,
    take_conversations_as,
    take_conversations_by_campaign_name,
    waiting_replies_as,
)
from core.services.threads import ThreadRef
from core.services.waiting_replies import WaitingReply

log = logging.getLogger("spokebot.conversations")

# The slash commands these listeners answer (manifest.yml lists them).
COMMANDS = (ids.CMD_TAKE_CONVERSATIONS,)


def register(app: App, deps: Deps) -> None:
    app.command(ids.CMD_TAKE_CONVERSATIONS)(ack=ack_now, lazy=[lazy(take_command)])
    app.action(ids.TAKE_CONVERSATIONS)(ack=ack_now, lazy=[lazy(take_clicked)])
    app.action(ids.SHOW_REPLIES)(ack=ack_now, lazy=[lazy(show_replies_clicked)])
    app.action(ids.OPEN_THREAD)(open_clicked)


def open_clicked(ack: Ack) -> None:
    """A link button: Slack opens its url and still tells the app; nothing more to do."""
    ack()


def take_command(turn: Turn) -> None:
    argument = str(turn.body.get("text") or "").strip()
    answer = take_conversations_by_campaign_name(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), argument
    )
    turn.set_identity(answer.identity)
    if isinstance(answer, TakeAnswer):
        present_take(turn, answer, replace=False)
    elif not answer.campaigns:
        turn.reply(render.no_takeable_campaigns())
    else:
        turn.reply(render.pick_takeable(answer.campaigns, argument))


def take_clicked(turn: Turn) -> None:
    campaign_id = ids.parse_campaign_value(action_value(turn))
    answer = take_conversations_as(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id
    )
    turn.set_identity(answer.identity)
    present_take(turn, answer, replace=True)


def present_take(turn: Turn, answer: TakeAnswer, *, replace: bool) -> None:
    result, now = answer.result, datetime.now(UTC)
    if result.refusal is not None:
        log.info(
            "refused: take conversations for user %s in campaign %s: %s",
            answer.identity.user_id,
            result.campaign_id,
            result.refusal.reason.value,
        )
        replies = answer.replies
        message = render.take_refused(result, replies, thread_links(turn.client, replies), now)
        turn.show(message, replace=replace, changed=False)
        return
    # Queued with the take; posted now (what Slack refuses, or a crash leaves, the job posts).
    threads: dict[int, ThreadRef] = {}
    deliver_now(turn.db, turn.client, turn.deps.directory, result.notices, threads=threads)
    replies = _in_threads(answer.replies, threads)
    message = render.taken(result, replies, thread_links(turn.client, replies), now)
    home = answer.home
    if home is not None:
        home = dataclasses.replace(home, replies=_in_threads(home.replies, threads))
    turn.show(message, replace=replace, changed=True, home=home)


def _in_threads(replies: list[WaitingReply], threads: dict[int, ThreadRef]) -> list[WaitingReply]:
    """The replies with the threads just posted for them (the take read them before)."""
    return [
        dataclasses.replace(reply, channel_id=ref.channel_id, thread_ts=ref.thread_ts)
        if (ref := threads.get(reply.contact_id)) is not None
        else reply
        for reply in replies
    ]


def show_replies_clicked(turn: Turn) -> None:
    """Every waiting reply of the campaign (0: of every campaign), as links, in the DM."""
    campaign_id = ids.parse_id(action_value(turn))
    answer = waiting_replies_as(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id
    )
    turn.set_identity(answer.identity)
    replies = answer.replies
    heading = (
        f"Your {len(replies)} waiting {'reply' if len(replies) == 1 else 'replies'}, "
        "longest waiting first:"
        if replies
        else "No replies are waiting for you. 🎉"
    )
    message = render.replies_list(
        replies, thread_links(turn.client, replies), datetime.now(UTC), heading
    )
    turn.reply_or_dm(message)
