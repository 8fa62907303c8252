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
from core.errors import InvalidInput, NotAllowed
from core.refusals import plural
from core.services.card_sending import CardSend, CardStep, card_step, send_from_card
from core.services.send_card_changes import card_to_edit, opt_out_on_card, release_held
from core.services.texting import SendResult


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


def _edit_refused(turn: Turn, answer: CardSend) -> None:
    """An edit that can't go out (empty, too long): the same contact again, saying why."""
    why = answer.refusal or ""
    turn.set_identity(answer.step.identity)
    if turn.respond is None:  # no card to show it on: said as the error it is
        raise InvalidInput(why)
    if answer.edit_again is None:
        show_step(turn, answer.step, why)
    else:
        turn.reply_or_dm(cards.send_card(answer.edit_again, why), replace=True)


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
    if answer.edit_refused:
        _edit_refused(turn, answer)
        return
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


def skip_clicked(turn: Turn) -> None:
    campaign_id, contact_id = ids.parse_contact_value(action_value(turn))
    show_next(turn, campaign_id, contact_id, "Skipped; they'll come back after the others.")


def restart_clicked(turn: Turn) -> None:
    """Go through skipped: a fresh walk over what the texter holds."""
    show_next(turn, ids.parse_campaign_value(action_value(turn)), None)


def release_held_clicked(turn: Turn) -> None:
    # Confirmed by the button's dialog. Only unsent first texts go back to the pool.
    campaign_id = ids.parse_campaign_value(action_value(turn))
    held = release_held(turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id)
    turn.set_identity(held.identity)
    initials = held.released.initials
    notice = (
        f"Released {plural(initials, 'first text')} back to the pool."
        if initials
        else "You held no unsent first texts any more."
    )
    card = cards.batch_done(campaign_id, held.title, held.eligibility, notice, held.prompt)
    turn.reply_or_dm(card, replace=True)
    turn.redraw_home(held.home)


def opt_out_clicked(turn: Turn) -> None:
    # The button carries a Block Kit confirm dialog: a click here is already confirmed.
    campaign_id, contact_id = ids.parse_contact_value(action_value(turn))
    opted_out = opt_out_on_card(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id, contact_id
    )
    notice = f"{opted_out.contact_name} is opted out and won't be texted again."
    show_step(turn, opted_out.step, notice)


def edit_clicked(turn: Turn) -> None:
    campaign_id, contact_id = ids.parse_contact_value(action_value(turn))
    edit = card_to_edit(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id, contact_id
    )
    turn.set_identity(edit.identity)
    notice = "That contact can't be sent to right now."
    if edit.card is None:
        assert edit.step is not None
        show_step(turn, edit.step, notice)
        return
    if turn.respond is None:  # no card to update after the modal: the next step instead
        show_next(turn, campaign_id, contact_id, notice)
        return
    if not edit.card.can_edit:
        raise NotAllowed("This campaign doesn't allow editing the first text.")
    response_url = str(turn.body.get("response_url") or "")
    turn.client.views_open(
        trigger_id=turn.body["trigger_id"], view=cards.edit_modal(edit.card, response_url)
    )


def edit_submitted(turn: Turn) -> None:
    """The Edit modal's Send: the edited text goes out, and the card it came from (through
    its response_url, kept in private_metadata) moves on to the next contact."""
    campaign_id, contact_id, url, text = cards.parse_edit_submission(turn.body.get("view") or {})
    turn.respond = Respond(response_url=url) if url else None
    _send(turn, campaign_id, contact_id, text)
