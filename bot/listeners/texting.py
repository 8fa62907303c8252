"""The texting loop in Slack: the send card (Send, Retry, Skip, Opt out, Edit), the Edit
modal, a contact's DM thread (Close, Opt out) and the texter's answers in it (message.im).

Each click re-checks on the server: core sends under the contact's row lock and refuses a
contact already sent, so a stale card's Send never sends twice; the card is then replaced
by the next contact with a sentence saying why.
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, Respond
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.notify import SlackTexterNotifier
from bot.permalinks import thread_links, waiting_reply_blocks
from bot.render import Reply
from bot.render import send_card as cards
from bot.render import threads as thread_render
from bot.render.common import text_reply
from bot.render.send_card import contact_name
from core.errors import Conflict, NotAllowed, NotFound, SpokebotError
from core.refusals import Refusal, RefusalReason, plural
from core.services.batches import BatchResult, can_request_more
from core.services.release import release_own_unsent
from core.services.send_card import SendCard, next_contact_to_send
from core.services.send_queue import held_left
from core.services.slack_support import campaign_title_in_org, claim_event
from core.services.texter_home import request_prompt, texter_campaigns
from core.services.texting import (
    SendResult,
    close_conversation,
    conversation,
    opt_out_contact,
    send_first_text,
    send_reply,
)
from core.services.threads import (
    ThreadRef,
    assignment_for,
    thread_at,
    thread_for,
)
from core.services.waiting_replies import waiting_replies

log = logging.getLogger("spokebot.texting")
SENT_REACTION = "white_check_mark"


def register(app: App, deps: Deps) -> None:
    handlers = {
        ids.SEND_TEXT: send_clicked,
        ids.RETRY_SEND: send_clicked,
        ids.SKIP_CONTACT: skip_clicked,
        ids.OPT_OUT_CONTACT: opt_out_clicked,
        ids.EDIT_TEXT: edit_clicked,
        ids.CARD_RESTART: restart_clicked,
        ids.RELEASE_HELD: release_held_clicked,
        ids.THREAD_CLOSE: thread_close_clicked,
        ids.THREAD_OPT_OUT: thread_opt_out_clicked,
        ids.THREAD_RETRY: thread_retry_clicked,
    }
    for action_id, work in handlers.items():
        app.action(action_id)(ack=ack_now, lazy=[lazy(deps, work)])
    app.view(ids.EDIT_TEXT_MODAL)(ack=ack_now, lazy=[lazy(deps, edit_submitted)])
    # Plain DM messages only: file_share (CSV uploads) and other subtypes belong elsewhere.
    app.event({"type": "message", "subtype": None})(ack=ack_now, lazy=[lazy(deps, dm_message)])


# ---------------------------------------------------------------------------- the send card


def _value(turn: Turn) -> str:
    return str(turn.body["actions"][0].get("value", ""))


def _assignment(turn: Turn, campaign_id: int) -> int:
    identity = turn.identity()
    campaign_title_in_org(turn.db, campaign_id, identity.organization_id)  # NotFound otherwise
    assignment_id = assignment_for(turn.db, campaign_id, identity.user_id)
    if assignment_id is None:
        raise NotFound("You haven't joined that campaign, so it has no texts of yours to send.")
    return assignment_id


def show_next(
    turn: Turn, campaign_id: int, after_contact_id: int | None, notice: str | None = None
) -> None:
    """Replace the card with the texter's next contact, or with Request More / Done For Now
    when the batch is done. Outside a message (a Home-tab click) it goes to their DMs."""
    assignment_id = _assignment(turn, campaign_id)
    card = next_contact_to_send(turn.db, assignment_id, after_contact_id)
    if card is not None:
        _present(turn, cards.send_card(card, notice))
        return
    left = held_left(turn.db, assignment_id, after_contact_id)
    if left.total:  # only skipped or not-textable contacts remain: say so, offer a way on
        _present(turn, cards.nothing_to_send_now(left, notice))
        return
    identity = turn.identity()
    title = campaign_title_in_org(turn.db, campaign_id, identity.organization_id)
    eligibility = can_request_more(turn.db, campaign_id, identity.user_id)
    request = request_prompt(turn.db, campaign_id)
    links = finish_first_links(turn, campaign_id, eligibility.refusal)
    _present(turn, cards.batch_done(campaign_id, title, eligibility, notice, request, links))
    turn.publish_home()


def finish_first_links(turn: Turn, campaign_id: int, refusal: Refusal | None) -> list[Any]:
    """Links to the replies a "finish your replies first" refusal is about."""
    if refusal is None or refusal.reason != RefusalReason.WAITING_REPLIES:
        return []
    identity = turn.identity()
    return waiting_reply_blocks(turn.db, turn.client, identity.user_id, campaign_id)


def _present(turn: Turn, message: Reply) -> None:
    if turn.respond is not None:
        turn.reply(message, replace=True)
    else:
        turn.direct_message(message)


def present_batch(
    turn: Turn, campaign_id: int, result: BatchResult, notice: Reply, *, replace: bool
) -> bool:
    """After Send First Texts / Request More: the first contact's card, headed by what the
    batch request said (a Home-tab click gets it in a DM, the sentence on Home). Taken
    conversations are threaded in the texter's DMs. False when there is nothing to send:
    the caller shows `notice` as before."""
    if result.contact_ids and not result.is_initials:
        identity = turn.identity()
        SlackTexterNotifier(turn.db, turn.client, turn.deps.directory).thread_taken_conversations(
            result.contact_ids, identity.user_id
        )
    if not result.unsent:
        return False
    assignment_id = result.eligibility.assignment_id or _assignment(turn, campaign_id)
    card = next_contact_to_send(turn.db, assignment_id)
    if card is not None:
        message = cards.send_card(card, notice.text)
    else:  # every first text held is outside texting hours
        message = cards.nothing_to_send_now(held_left(turn.db, assignment_id, None), notice.text)
    if turn.respond is None:
        turn.direct_message(message)
        turn.publish_home(notice=notice.text)
        return True
    if turn.body.get("command"):
        # A typed /sendfirsttexts: the card goes to the texter's DM with the bot, where it
        # stays (an ephemeral one vanishes on reload); elsewhere a private pointer to it.
        _card_in_dm(turn, message, notice.text)
        if result.assigned:
            turn.publish_home()
        return True
    turn.reply(message, replace=replace)
    if result.assigned:
        turn.publish_home()
    return True


def _card_in_dm(turn: Turn, message: Reply, notice: str) -> None:
    """Post the card in the DM; typed elsewhere, say privately what happened and where."""
    channel = turn.deps.directory.dm_channel(turn.client, turn.slack_user_id)
    turn.client.chat_postMessage(channel=channel, **message.as_kwargs())
    if turn.body.get("channel_id") != channel:
        link = f"https://slack.com/app_redirect?channel={channel}&team={turn.team_id}"
        turn.reply(
            text_reply(
                f"{notice}\nYour send card is in <{link}|your direct messages with me>: it "
                "stays there, and `/sendfirsttexts` brings it back any time."
            )
        )


def _card_for(turn: Turn, campaign_id: int, contact_id: int) -> SendCard | None:
    """This contact's card again (for Retry and Edit), if it is still unsent and theirs."""
    assignment_id = _assignment(turn, campaign_id)
    # Asking for "the one after contact_id - 1" yields contact_id itself when it is still
    # unsent, textable and held by this texter; anything else is a different contact.
    card = next_contact_to_send(turn.db, assignment_id, contact_id - 1)
    return card if card is not None and card.contact_id == contact_id else None


def _sent_notice(card_name: str, result: SendResult) -> str:
    return f"✓ Sent to {card_name}."


def send_clicked(turn: Turn) -> None:
    campaign_id, contact_id = ids.parse_contact_value(_value(turn))
    _send(turn, campaign_id, contact_id, None)


def _send(turn: Turn, campaign_id: int, contact_id: int, text: str | None) -> None:
    identity = turn.identity()
    try:
        # Read before sending: with split assignments the contact is no longer theirs after.
        name = _name_of(turn, contact_id, identity.user_id)
        result = send_first_text(
            turn.db, contact_id, identity.user_id, turn.deps.message_service, text_override=text
        )
    except (Conflict, NotAllowed, NotFound) as refusal:
        # Outside texting hours (says until when), already sent (a stale card), reassigned,
        # opted out: say so and move on to the next contact.
        show_next(turn, campaign_id, contact_id, refusal.message)
        return
    if result.sent:
        show_next(turn, campaign_id, contact_id, _sent_notice(name, result))
        return
    if result.pending:
        # The provider's answer was lost: no Send or Retry for this contact until the outbox
        # has asked the provider whether it went out (never twice to a voter).
        name = _name_of(turn, contact_id, identity.user_id)
        show_next(turn, campaign_id, contact_id, pending_notice(name, result.error))
        return
    # The provider failed: the contact stays with the texter, with a Retry button.
    card = _card_for(turn, campaign_id, contact_id)
    why = f"⚠️ The text was *not sent*: {result.error or 'the message service failed'}."
    if card is None:
        show_next(turn, campaign_id, contact_id, why)
        return
    _present(turn, cards.send_card(card, why + " Try again?", retry=True))


def pending_notice(name: str, error: str | None) -> str:
    why = f" ({error})" if error else ""
    return (
        f"⏳ Checking whether this went out to {name}: the message service didn't answer{why}. "
        "It won't be sent again unless it didn't go out; you'll see it here if it needs sending."
    )


def _name_of(turn: Turn, contact_id: int, user_id: int) -> str:
    thread = conversation(turn.db, contact_id, user_id)
    return contact_name(thread.first_name, thread.last_name, thread.cell)


def skip_clicked(turn: Turn) -> None:
    campaign_id, contact_id = ids.parse_contact_value(_value(turn))
    show_next(turn, campaign_id, contact_id, "Skipped; they'll come back after the others.")


def restart_clicked(turn: Turn) -> None:
    """Go through skipped: a fresh walk over what the texter holds."""
    show_next(turn, ids.parse_campaign_value(_value(turn)), None)


def release_held_clicked(turn: Turn) -> None:
    # Confirmed by the button's dialog. Only unsent first texts go back to the pool.
    campaign_id = ids.parse_campaign_value(_value(turn))
    identity = turn.identity()
    title = campaign_title_in_org(turn.db, campaign_id, identity.organization_id)
    result = release_own_unsent(turn.db, campaign_id, identity.user_id)
    eligibility = can_request_more(turn.db, campaign_id, identity.user_id)
    notice = (
        f"Released {plural(result.initials, 'first text')} back to the pool."
        if result.initials
        else "You held no unsent first texts any more."
    )
    request = request_prompt(turn.db, campaign_id)
    _present(turn, cards.batch_done(campaign_id, title, eligibility, notice, request))
    turn.publish_home()


def opt_out_clicked(turn: Turn) -> None:
    # The button carries a Block Kit confirm dialog: a click here is already confirmed.
    campaign_id, contact_id = ids.parse_contact_value(_value(turn))
    identity = turn.identity()
    name = _name_of(turn, contact_id, identity.user_id)
    opt_out_contact(turn.db, contact_id, identity.user_id)
    show_next(turn, campaign_id, contact_id, f"{name} is opted out and won't be texted again.")


def edit_clicked(turn: Turn) -> None:
    campaign_id, contact_id = ids.parse_contact_value(_value(turn))
    card = _card_for(turn, campaign_id, contact_id)
    if card is None or turn.respond is None:
        show_next(turn, campaign_id, contact_id, "That contact can't be sent to right now.")
        return
    if not card.can_edit:
        raise NotAllowed("This campaign doesn't allow editing the first text.")
    response_url = str(turn.body.get("response_url") or "")
    turn.client.views_open(
        trigger_id=turn.body["trigger_id"], view=cards.edit_modal(card, response_url)
    )


def edit_submitted(turn: Turn) -> None:
    """The Edit modal's Send: the edited text goes out, and the card it came from (through
    its response_url, kept in private_metadata) moves on to the next contact."""
    campaign_id, contact_id, url, text = cards.parse_edit_submission(turn.body.get("view") or {})
    turn.respond = Respond(response_url=url) if url else None
    try:
        _send(turn, campaign_id, contact_id, text)
    except SpokebotError as refusal:
        if turn.respond is None:
            raise
        # An edit that can't go out (empty, too long): the same contact again, saying why.
        card = _card_for(turn, campaign_id, contact_id)
        if card is None:
            show_next(turn, campaign_id, contact_id, refusal.message)
        else:
            _present(turn, cards.send_card(card, refusal.message))


# ---------------------------------------------------------------------------- DM threads


def _thread_root(turn: Turn, contact_id: int, user_id: int) -> Reply:
    """The thread's first message as the notifier draws it (who sent what, and when)."""
    thread = conversation(turn.db, contact_id, user_id)
    return SlackTexterNotifier(turn.db, turn.client, turn.deps.directory).root(thread, user_id)


def thread_close_clicked(turn: Turn) -> None:
    contact_id = ids.parse_thread_value(_value(turn))
    identity = turn.identity()
    close_conversation(turn.db, contact_id, identity.user_id)
    turn.reply(_thread_root(turn, contact_id, identity.user_id), replace=True)


def thread_opt_out_clicked(turn: Turn) -> None:
    contact_id = ids.parse_thread_value(_value(turn))
    identity = turn.identity()
    opt_out_contact(turn.db, contact_id, identity.user_id)
    turn.reply(_thread_root(turn, contact_id, identity.user_id), replace=True)


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
        notifier.post(ref, thread_render.refused(pending_notice(first, result.error)))
        return
    notifier.post(
        ref, thread_render.reply_failed(first, result.error, ref.contact_id, result.message_id)
    )


def thread_retry_clicked(turn: Turn) -> None:
    """Retry a failed answer: the same text again, from whoever holds the contact now."""
    contact_id, message_id = ids.parse_retry_value(_value(turn))
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
        turn.reply(thread_render.refused(pending_notice(first, result.error)), replace=True)
        return
    turn.reply(
        thread_render.reply_failed(first, result.error, contact_id, result.message_id),
        replace=True,
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
