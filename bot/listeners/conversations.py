"""Conversations in Slack: /takeconversations and the Take conversations button, the links
to waiting replies (Open, Show all replies)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.listeners.steps import choose_campaign
from bot.permalinks import thread_links
from bot.render import conversations as render
from bot.texter_notices import deliver_now
from core.refusals import RefusalReason
from core.services.campaign_scope import campaign_title_in_org
from core.services.conversations import take_conversations, takeable_campaigns
from core.services.waiting_replies import waiting_replies

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
    identity = turn.identity()
    argument = str(turn.body.get("text") or "").strip()
    campaigns = takeable_campaigns(turn.db, identity.organization_id, identity.user_id)
    if not campaigns:
        turn.reply(render.no_takeable_campaigns())
        return
    chosen = choose_campaign(campaigns, argument)
    if chosen is None:
        turn.reply(render.pick_takeable(campaigns, argument))
        return
    take(turn, chosen.campaign_id, replace=False)


def take_clicked(turn: Turn) -> None:
    take(turn, ids.parse_campaign_value(action_value(turn)), replace=True)


def take(turn: Turn, campaign_id: int, *, replace: bool) -> None:
    identity = turn.identity()
    campaign_title_in_org(turn.db, campaign_id, identity.organization_id)  # NotFound otherwise
    result = take_conversations(turn.db, campaign_id, identity.user_id)
    now = datetime.now(UTC)
    if result.refusal is not None:
        log.info(
            "refused: take conversations for user %s in campaign %s: %s",
            identity.user_id,
            campaign_id,
            result.refusal.reason.value,
        )
        replies = []
        if result.refusal.reason == RefusalReason.WAITING_REPLIES:
            replies = waiting_replies(turn.db, identity.user_id, campaign_ids=[campaign_id])
        message = render.take_refused(result, replies, thread_links(turn.client, replies), now)
        turn.show(message, replace=replace, changed=False)
        return
    # Queued with the take; posted now (what Slack refuses, or a crash leaves, the job posts).
    deliver_now(turn.db, turn.client, turn.deps.directory, result.notices)
    replies = waiting_replies(turn.db, identity.user_id, contact_ids=result.contact_ids)
    message = render.taken(result, replies, thread_links(turn.client, replies), now)
    turn.show(message, replace=replace, changed=True)


def show_replies_clicked(turn: Turn) -> None:
    """Every waiting reply of the campaign (0: of every campaign), as links, in the DM."""
    campaign_id = ids.parse_id(action_value(turn))
    identity = turn.identity()
    replies = waiting_replies(
        turn.db,
        identity.user_id,
        organization_id=identity.organization_id,
        campaign_ids=[campaign_id] if campaign_id else None,
    )
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
