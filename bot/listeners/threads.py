"""A contact's DM thread in Slack: its Close, Opt out and Retry buttons, and the texter's
answers typed in it (message.im; the answering is bot.listeners.steps's dm_message, which the
durable inbox also runs, as is the helpful answer to anything else typed in the DM)."""

from __future__ import annotations

from slack_bolt import App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.listeners.steps import dm_message
from bot.notify import SlackTexterNotifier
from bot.render import Reply
from bot.render import threads as thread_render
from core.errors import NotFound
from core.services.texting import (
    close_conversation,
    conversation,
    opt_out_contact,
    send_reply,
)
from core.services.threads import thread_for


def register(app: App, deps: Deps) -> None:
    handlers = {
        ids.THREAD_CLOSE: thread_close_clicked,
        ids.THREAD_OPT_OUT: thread_opt_out_clicked,
        ids.THREAD_RETRY: thread_retry_clicked,
    }
    for action_id, work in handlers.items():
        app.action(action_id)(ack=ack_now, lazy=[lazy(work)])
    # Plain DM messages only: file_share (CSV uploads) and other subtypes belong elsewhere.
    app.event({"type": "message", "subtype": None})(ack=ack_now, lazy=[lazy(dm_message)])


def _thread_root(turn: Turn, contact_id: int, user_id: int) -> Reply:
    """The thread's first message as the notifier draws it (who sent what, and when)."""
    thread = conversation(turn.db, contact_id, user_id)
    return SlackTexterNotifier(turn.db, turn.client, turn.deps.directory).root(thread, user_id)


def thread_close_clicked(turn: Turn) -> None:
    contact_id = ids.parse_thread_value(action_value(turn))
    identity = turn.identity()
    close_conversation(turn.db, contact_id, identity.user_id)
    turn.reply(_thread_root(turn, contact_id, identity.user_id), replace=True)


def thread_opt_out_clicked(turn: Turn) -> None:
    contact_id = ids.parse_thread_value(action_value(turn))
    identity = turn.identity()
    opt_out_contact(turn.db, contact_id, identity.user_id)
    turn.reply(_thread_root(turn, contact_id, identity.user_id), replace=True)


def thread_retry_clicked(turn: Turn) -> None:
    """Retry a failed answer: the same text again, from whoever holds the contact now."""
    contact_id, message_id = ids.parse_retry_value(action_value(turn))
    identity = turn.identity()
    thread = conversation(turn.db, contact_id, identity.user_id)
    failed = next((m for m in thread.messages if m.id == message_id), None)
    if failed is None:
        raise NotFound("That text no longer exists, so it can't be sent again.")
    ref = thread_for(turn.db, contact_id, identity.user_id)
    service = turn.deps.message_service
    result = send_reply(turn.db, contact_id, identity.user_id, failed.text, service)
    first = thread.first_name or thread.cell
    if result.sent:
        turn.reply(thread_render.retried(first), replace=True)
        if ref is not None:
            SlackTexterNotifier(turn.db, turn.client, turn.deps.directory).update_root(ref)
        return
    if result.pending:
        turn.reply(
            thread_render.refused(thread_render.pending_notice(first, result.error)), replace=True
        )
        return
    turn.reply(
        thread_render.reply_failed(first, result.error, contact_id, result.message_id),
        replace=True,
    )
