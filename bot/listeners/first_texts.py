"""First texts in Slack: Send First Texts and Request More (buttons, `/sendfirsttexts`, the
campaign picker), the first card of a batch, Done For Now, and Done for the Day (its buttons
and `/doneforday`). Each request is one core use case; its answer is rendered here.

A batch request never doubles a held batch: core decides, under the texter's lock."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.permalinks import reply_link_blocks
from bot.render import Reply, messages
from bot.render import send_card as cards
from bot.render.common import text_reply
from bot.texter_notices import deliver_now
from core.services import end_of_shift
from core.services.batch_requests import TextsAnswer, request_first_texts, request_texts
from core.services.campaign_choice import CampaignQuestion
from core.services.end_of_shift import (
    DayToConfirm,
    day_question_by_campaign_name,
    day_question_for_campaign,
    end_the_day,
)

log = logging.getLogger("spokebot.bot")

# The slash commands these listeners answer (manifest.yml lists them).
COMMANDS = (ids.CMD_SEND_FIRST_TEXTS, ids.CMD_DONE_FOR_DAY)


def register(app: App, deps: Deps) -> None:
    buttons = {
        ids.REQUEST_MORE: request_more,
        ids.DONE_FOR_NOW: done_for_now,
        ids.DONE_FOR_THE_DAY: done_for_the_day_clicked,
        ids.DONE_FOR_THE_DAY_CONFIRM: done_for_the_day_confirmed,
        ids.DONE_FOR_THE_DAY_CANCEL: done_for_the_day_cancelled,
        ids.DONE_FOR_THE_DAY_CONFIRM_INITIALS: done_for_the_day_initials,
        ids.PICK_CAMPAIGN: pick_campaign,
    }
    for action_id, work in buttons.items():
        app.action(action_id)(ack=ack_now, lazy=[lazy(work)])
    # Named as before (the command's is too): the durable inbox replays by these names.
    clicked = lazy(send_first_texts_clicked, name="send_first_texts")
    app.action(ids.SEND_FIRST_TEXTS)(ack=ack_now, lazy=[clicked])
    app.command(ids.CMD_SEND_FIRST_TEXTS)(ack=ack_now, lazy=[lazy(send_first_texts)])
    app.command(ids.CMD_DONE_FOR_DAY)(ack=ack_now, lazy=[lazy(done_for_day)])


# ---------------------------------------------------------------------------- batches


def send_first_texts_clicked(turn: Turn) -> None:
    ask_for_batch(turn, ids.parse_campaign_value(action_value(turn)), replace=True)


def request_more(turn: Turn) -> None:
    ask_for_batch(turn, ids.parse_campaign_value(action_value(turn)), replace=True)


def send_first_texts(turn: Turn) -> None:
    first_texts_command(turn, turn.body.get("text", ""))


def pick_campaign(turn: Turn) -> None:
    purpose, campaign_id = ids.parse_pick_value(action_value(turn))
    if purpose == ids.PICK_FOR_SEND:
        ask_for_batch(turn, campaign_id, replace=True)
        return
    answer = day_question_for_campaign(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id
    )
    confirm_done_for_the_day(turn, answer, replace=True)


def ask_for_batch(turn: Turn, campaign_id: int, *, replace: bool) -> None:
    """Send First Texts / Request More: core decides; a held batch is never doubled."""
    answer = request_texts(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id
    )
    present_texts(turn, answer, replace=replace)


def first_texts_command(turn: Turn, argument: str) -> None:
    """`/sendfirsttexts [campaign]`: the batch, or which campaign was meant."""
    answer = request_first_texts(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), argument
    )
    if isinstance(answer, TextsAnswer):
        present_texts(turn, answer, replace=False)
        return
    ask_which_campaign(turn, answer, ids.PICK_FOR_SEND, "Which campaign do you want texts for?")


def ask_which_campaign(turn: Turn, answer: CampaignQuestion, purpose: str, question: str) -> None:
    """A command's argument named no one campaign: there are none (or only archived ones),
    it names none of them, or the texter picks one."""
    turn.set_identity(answer.identity)
    if not answer.campaigns:
        archived = answer.archived_titles
        turn.reply(messages.only_archived(archived) if archived else messages.no_campaigns())
    elif answer.argument.strip():
        turn.reply(messages.no_such_campaign(answer.argument, answer.campaigns))
    else:
        turn.reply(messages.pick_campaign(purpose, answer.campaigns, question))


def present_texts(turn: Turn, answer: TextsAnswer, *, replace: bool) -> None:
    turn.set_identity(answer.identity)
    result = answer.result
    if result.refusal is not None:  # refusals are answers, not errors: log them here
        log.info(
            "refused: batch for user %s in campaign %s: %s",
            answer.identity.user_id,
            answer.campaign_id,
            result.refusal.reason.value,
        )
    links = reply_link_blocks(turn.client, answer.waiting, answer.campaign_id)
    notice = cards.batch_result(answer.title, result, answer.prompt, links)
    # With first texts to send, the first contact's card carries the answer.
    if present_batch(turn, answer, notice, replace=replace):
        return
    turn.show(notice, replace=replace, changed=bool(result.assigned), home=answer.home)


def present_batch(turn: Turn, answer: TextsAnswer, notice: Reply, *, replace: bool) -> bool:
    """After Send First Texts / Request More: the first contact's card, headed by what the
    batch request said (a Home-tab click gets it in a DM, the sentence on Home). Taken
    conversations are threaded in the texter's DMs: their notices, queued with the batch,
    posted now (what Slack refuses, or a crash leaves, the job posts). False when there is
    nothing to send: the caller shows `notice` as before."""
    result = answer.result
    deliver_now(turn.db, turn.client, turn.deps.directory, answer.notices)
    step = answer.next_on_card
    if not result.unsent or step is None:
        return False
    if step.card is not None:
        message = cards.send_card(step.card, notice.text)
    else:  # every first text held is outside texting hours
        assert step.left is not None
        message = cards.nothing_to_send_now(step.left, notice.text)
    if turn.respond is None:
        turn.direct_message(message)
        turn.redraw_home(answer.home, notice=notice.text)
        return True
    if turn.body.get("command"):
        # A typed /sendfirsttexts: the card goes to the texter's DM with the bot, where it
        # stays (an ephemeral one vanishes on reload); elsewhere a private pointer to it.
        _card_in_dm(turn, message, notice.text)
        if result.assigned:
            turn.redraw_home(answer.home)
        return True
    turn.reply(message, replace=replace)
    if result.assigned:
        turn.redraw_home(answer.home)
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


# ---------------------------------------------------------------------------- done


def done_for_now(turn: Turn) -> None:
    answer = end_of_shift.done_for_now(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name()
    )
    turn.set_identity(answer.identity)
    turn.show_home(answer.home)
    links = reply_link_blocks(turn.client, answer.replies, None)
    turn.reply(messages.done_for_now(turn.home_link(), links, answer.takers), replace=True)


def done_for_day(turn: Turn) -> None:
    argument = turn.body.get("text", "")
    answer = day_question_by_campaign_name(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), argument
    )
    if isinstance(answer, DayToConfirm):
        confirm_done_for_the_day(turn, answer, replace=False)
        return
    ask_which_campaign(turn, answer, ids.PICK_FOR_DONE, "Which campaign are you done with?")


def done_for_the_day_clicked(turn: Turn) -> None:
    # The Home button carries a Block Kit confirm dialog (saying first texts only): a click
    # here is already confirmed. `/doneforday` offers conversations too where allowed.
    done_for_the_day(turn, ids.parse_campaign_value(action_value(turn)), with_conversations=False)


def done_for_the_day_initials(turn: Turn) -> None:
    done_for_the_day(turn, ids.parse_campaign_value(action_value(turn)), with_conversations=False)


def done_for_the_day_confirmed(turn: Turn) -> None:
    done_for_the_day(turn, ids.parse_campaign_value(action_value(turn)))


def done_for_the_day_cancelled(turn: Turn) -> None:
    turn.reply(messages.cancelled(), replace=True)


def confirm_done_for_the_day(turn: Turn, answer: DayToConfirm, *, replace: bool) -> None:
    turn.set_identity(answer.identity)
    held = answer.held
    turn.reply(
        messages.confirm_done_for_the_day(
            answer.campaign_id,
            answer.title,
            held.initials,
            held.conversations,
            held.may_release_conversations,
        ),
        replace=replace,
    )


def done_for_the_day(turn: Turn, campaign_id: int, with_conversations: bool | None = None) -> None:
    """After the confirmation: release the texter's contacts and show what went back."""
    answer = end_the_day(
        turn.db,
        turn.team_id,
        turn.slack_user_id,
        turn.display_name(),
        campaign_id,
        with_conversations,
    )
    turn.set_identity(answer.identity)
    message = messages.released(answer.title, answer.result)
    turn.show(message, replace=True, changed=True, home=answer.home)
