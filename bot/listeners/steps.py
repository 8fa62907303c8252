"""Steps the texter listeners share (not a listener: it registers nothing and imports no
listener module): the two events the durable inbox (bot.inbox) also works without Bolt, a
message typed in the bot's DM (an answer in a contact's thread, or anything else) and the
Home tab opening."""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.listeners.common import Turn
from bot.notify import SlackTexterNotifier
from bot.permalinks import thread_links
from bot.render import threads as thread_render
from bot.render.home import unknown_workspace_view
from core.errors import NotFound, SpokebotError
from core.services.outbox import recheck
from core.services.slack_events import claim_event
from core.services.texter_home import texter_campaigns
from core.services.texting import SendResult, conversation, send_reply
from core.services.threads import ThreadRef, thread_at
from core.services.waiting_replies import waiting_replies

log = logging.getLogger("spokebot.texting")
SENT_REACTION = "white_check_mark"


# ---------------------------------------------------------------------------- Home opened


def home_opened(turn: Turn) -> None:
    event = turn.body["event"]
    if event.get("tab", "home") != "home":
        return
    # A redelivery (X-Slack-Retry-Num) carries the same event_id: act once.
    event_id = turn.body.get("event_id")
    if not turn.from_inbox and event_id and not claim_event(turn.db, event_id):
        return
    try:
        turn.publish_home()
    except NotFound as error:  # the workspace isn't connected: say so where they look
        turn.client.views_publish(
            user_id=turn.slack_user_id, view=unknown_workspace_view(error.message)
        )


# ---------------------------------------------------------------------------- the bot's DM


def dm_message(turn: Turn) -> None:
    """The texter answers a contact by replying in the contact's DM thread. Anything else
    typed in the DM gets an answer saying where answers go (nothing is silently dropped)."""
    event: dict[str, Any] = turn.body.get("event") or {}
    thread_ts = event.get("thread_ts")
    if event.get("bot_id") or event.get("subtype") or event.get("channel_type", "im") != "im":
        return  # the bot's own posts, edits, file shares (CSV imports) and channels
    channel = str(event.get("channel", ""))
    ref = thread_at(turn.db, channel, str(thread_ts)) if thread_ts else None
    event_id = turn.body.get("event_id")
    if not turn.from_inbox and event_id and not claim_event(turn.db, event_id):
        return  # Slack redelivered it: answered once already
    if ref is None or thread_ts == event.get("ts"):
        dm_help(turn, channel, str(thread_ts or ""))
        return
    text = _sms_text(event.get("text") or "")
    identity = turn.identity()
    notifier = SlackTexterNotifier(turn.db, turn.client, turn.deps.directory)
    try:
        service = turn.deps.message_service
        # The event id keys the text: an inbox retry after a crash never texts it twice.
        key = f"slack:{event_id}" if event_id else None
        result = send_reply(
            turn.db, ref.contact_id, identity.user_id, text, service, idempotency_key=key
        )
        # Pending: a timed-out call, or a dead process's attempt this retry took over.
        result = recheck(turn.db, service, result)
    except SpokebotError as refusal:
        notifier.post(ref, thread_render.refused(refusal.message))
        return
    confirm_answer(turn, notifier, ref, result, str(event.get("ts", "")))


def confirm_answer(
    turn: Turn, notifier: SlackTexterNotifier, ref: ThreadRef, result: SendResult, ts: str
) -> None:
    """A sent answer: ✅ on the texter's message and the thread's first message says
    "answered" (no new bot message). A failed one: said in the thread, with Retry."""
    if result.sent:
        notifier.update_root(ref)
        if ts:
            try:
                turn.client.reactions_add(channel=ref.channel_id, timestamp=ts, name=SENT_REACTION)
            except SlackApiError:
                log.warning("could not mark an answer as sent in %s", ref.channel_id)
        return
    thread = conversation(turn.db, ref.contact_id, ref.user_id)
    first = thread.first_name or thread.cell
    if result.pending:  # the provider's answer was lost: checked, never offered again
        notifier.post(ref, thread_render.refused(thread_render.pending_notice(first, result.error)))
        return
    notifier.post(
        ref, thread_render.reply_failed(first, result.error, ref.contact_id, result.message_id)
    )


def dm_help(turn: Turn, channel: str, thread_ts: str) -> None:
    """A message at the top level of the DM (or in a thread that isn't a conversation):
    replies waiting get their links; otherwise what the texter can do next."""
    identity = turn.identity()
    replies = waiting_replies(turn.db, identity.user_id, organization_id=identity.organization_id)
    links = thread_links(turn.client, replies)
    campaigns = texter_campaigns(turn.db, identity.organization_id, identity.user_id)
    message = thread_render.dm_help(replies, links, campaigns, datetime.now(UTC))
    kwargs = {"thread_ts": thread_ts} if thread_ts else {}
    turn.client.chat_postMessage(channel=channel, **kwargs, **message.as_kwargs())


def _sms_text(slack_text: str) -> str:
    """Slack escapes &, < and > in message text; the contact should get what was typed."""
    return html.unescape(slack_text).strip()
