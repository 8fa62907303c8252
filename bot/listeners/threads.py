"""A contact's DM thread in Slack: its Close, Opt out and Retry buttons, and the texter's
answers typed in it (message.im; the answering is bot.listeners.steps's dm_message, which the
durable inbox also runs, as is the helpful answer to anything else typed in the DM)."""

from __future__ import annotations

from slack_bolt import App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.listeners.steps import dm_message
from bot.notify import SlackTexterNotifier, draw_root
from bot.render import Reply
from bot.render import threads as thread_render
from core.services.conversation_changes import (
    ThreadState,
    close_conversation_as,
    opt_out_contact_as,
    retry_failed_text_as,
)


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


def thread_root(state: ThreadState, user_id: int) -> Reply:
    """The thread's first message as the notifier draws it, from the use case's state."""
    return draw_root(state.thread, state.campaign_title, user_id, state.names)


def thread_close_clicked(turn: Turn) -> None:
    contact_id = ids.parse_thread_value(action_value(turn))
    answer = close_conversation_as(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), contact_id
    )
    turn.set_identity(answer.identity)
    turn.reply(thread_root(answer.state, answer.identity.user_id), replace=True)


def thread_opt_out_clicked(turn: Turn) -> None:
    contact_id = ids.parse_thread_value(action_value(turn))
    answer = opt_out_contact_as(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), contact_id
    )
    turn.set_identity(answer.identity)
    turn.reply(thread_root(answer.state, answer.identity.user_id), replace=True)


def thread_retry_clicked(turn: Turn) -> None:
    """Retry a failed answer: the same text again, from whoever holds the contact now."""
    contact_id, message_id = ids.parse_retry_value(action_value(turn))
    answer = retry_failed_text_as(
        turn.db,
        turn.team_id,
        turn.slack_user_id,
        turn.display_name(),
        contact_id,
        message_id,
        turn.deps.message_service,
    )
    turn.set_identity(answer.identity)
    result, first = answer.result, answer.first_name
    if result.sent:
        turn.reply(thread_render.retried(first), replace=True)
        if answer.ref is not None and answer.state is not None:
            drawn = thread_root(answer.state, answer.identity.user_id)
            notifier = SlackTexterNotifier(turn.db, turn.client, turn.deps.directory)
            notifier.update_root(answer.ref, drawn=drawn)
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
