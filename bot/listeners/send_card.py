"""The texting loop in Slack: the send card (Send, Retry, Skip, Opt out, Edit, Go through
skipped, Release them) and the Edit modal.

Each click re-checks on the server: core sends under the contact's row lock and refuses a
contact already sent, so a stale card's Send never sends twice; the card is then replaced
by the next contact with a sentence saying why.
"""

from __future__ import annotations

from slack_bolt import App, Respond

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.permalinks import reply_link_blocks
from bot.render import send_card as cards
from bot.render import threads as thread_render
from bot.render.send_card import contact_name
from core.errors import NotAllowed, NotFound, SpokebotError
from core.refusals import NOT_JOINED_CAMPAIGN, plural
from core.services.batches import can_request_more
from core.services.campaign_scope import campaign_title_in_org
from core.services.card_sending import CardStep, card_step, send_from_card
from core.services.release import release_own_unsent
from core.services.send_card import SendCard, next_contact_to_send
from core.services.texter_home import request_prompt
from core.services.texting import (
    SendResult,
    conversation,
    opt_out_contact,
)
from core.services.threads import (
    assignment_for,
)


def register(app: App, deps: Deps) -> None:
    handlers = {
        ids.SEND_TEXT: send_clicked,
        ids.RETRY_SEND: send_clicked,
        ids.SKIP_CONTACT: skip_clicked,
        ids.OPT_OUT_CONTACT: opt_out_clicked,
        ids.EDIT_TEXT: edit_clicked,
        ids.CARD_RESTART: restart_clicked,
        ids.RELEASE_HELD: release_held_clicked,
    }
    for action_id, work in handlers.items():
        app.action(action_id)(ack=ack_now, lazy=[lazy(work)])
    app.view(ids.EDIT_TEXT_MODAL)(ack=ack_now, lazy=[lazy(edit_submitted)])


# ---------------------------------------------------------------------------- the send card


def _assignment(turn: Turn, campaign_id: int) -> int:
    identity = turn.identity()
    campaign_title_in_org(turn.db, campaign_id, identity.organization_id)  # NotFound otherwise
    assignment_id = assignment_for(turn.db, campaign_id, identity.user_id)
    if assignment_id is None:
        raise NotFound(NOT_JOINED_CAMPAIGN)
    return assignment_id


def show_next(
    turn: Turn, campaign_id: int, after_contact_id: int | None, notice: str | None = None
) -> None:
    """Replace the card with the texter's next contact, or with Request More / Done For Now
    when the batch is done. Outside a message (a Home-tab click) it goes to their DMs."""
    step = card_step(
        turn.db,
        turn.team_id,
        turn.slack_user_id,
        turn.display_name(),
        campaign_id,
        after_contact_id,
    )
    show_step(turn, step, notice)


def show_step(turn: Turn, step: CardStep, notice: str | None) -> None:
    turn.set_identity(step.identity)
    upcoming = step.next_on_card
    if upcoming.card is not None:
        turn.reply_or_dm(cards.send_card(upcoming.card, notice), replace=True)
        return
    if step.eligibility is None:  # only skipped or not-textable contacts remain
        assert upcoming.left is not None
        turn.reply_or_dm(cards.nothing_to_send_now(upcoming.left, notice), replace=True)
        return
    links = reply_link_blocks(turn.client, step.waiting, step.campaign_id)
    turn.reply_or_dm(
        cards.batch_done(
            step.campaign_id, step.title, step.eligibility, notice, step.prompt, links
        ),
        replace=True,
    )
    turn.redraw_home(step.home)


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
    campaign_id, contact_id = ids.parse_contact_value(action_value(turn))
    _send(turn, campaign_id, contact_id, None)


def _send(turn: Turn, campaign_id: int, contact_id: int, text: str | None) -> None:
    answer = send_from_card(
        turn.db,
        turn.team_id,
        turn.slack_user_id,
        turn.display_name(),
        campaign_id,
        contact_id,
        turn.deps.message_service,
        text,
    )
    result = answer.result
    if answer.refusal is not None or result is None:
        # Outside texting hours (says until when), already sent (a stale card), reassigned,
        # opted out: say so and move on to the next contact.
        show_step(turn, answer.step, answer.refusal)
        return
    if result.sent:
        show_step(turn, answer.step, _sent_notice(answer.contact_name, result))
        return
    if result.pending:
        # The provider's answer was lost: no Send or Retry for this contact until the outbox
        # has asked the provider whether it went out (never twice to a voter).
        notice = thread_render.pending_notice(answer.contact_name, result.error)
        show_step(turn, answer.step, notice)
        return
    # The provider failed: the contact stays with the texter, with a Retry button.
    why = f"⚠️ The text was *not sent*: {result.error or 'the message service failed'}."
    if answer.retry_card is None or answer.retry_card.card is None:
        show_step(turn, answer.step, why)
        return
    card = cards.send_card(answer.retry_card.card, why + " Try again?", retry=True)
    turn.reply_or_dm(card, replace=True)


def _name_of(turn: Turn, contact_id: int, user_id: int) -> str:
    thread = conversation(turn.db, contact_id, user_id)
    return contact_name(thread.first_name, thread.last_name, thread.cell)


def skip_clicked(turn: Turn) -> None:
    campaign_id, contact_id = ids.parse_contact_value(action_value(turn))
    show_next(turn, campaign_id, contact_id, "Skipped; they'll come back after the others.")


def restart_clicked(turn: Turn) -> None:
    """Go through skipped: a fresh walk over what the texter holds."""
    show_next(turn, ids.parse_campaign_value(action_value(turn)), None)


def release_held_clicked(turn: Turn) -> None:
    # Confirmed by the button's dialog. Only unsent first texts go back to the pool.
    campaign_id = ids.parse_campaign_value(action_value(turn))
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
    turn.reply_or_dm(
        cards.batch_done(campaign_id, title, eligibility, notice, request), replace=True
    )
    turn.publish_home()


def opt_out_clicked(turn: Turn) -> None:
    # The button carries a Block Kit confirm dialog: a click here is already confirmed.
    campaign_id, contact_id = ids.parse_contact_value(action_value(turn))
    identity = turn.identity()
    name = _name_of(turn, contact_id, identity.user_id)
    opt_out_contact(turn.db, contact_id, identity.user_id)
    show_next(turn, campaign_id, contact_id, f"{name} is opted out and won't be texted again.")


def edit_clicked(turn: Turn) -> None:
    campaign_id, contact_id = ids.parse_contact_value(action_value(turn))
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
            turn.reply_or_dm(cards.send_card(card, refusal.message), replace=True)
