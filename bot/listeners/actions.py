"""Buttons. Values say which campaign; who clicked always comes from the payload."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.listeners.flows import ask_for_batch, confirm_done_for_the_day, done_for_the_day
from bot.permalinks import waiting_reply_blocks
from bot.render import messages
from core.errors import NotFound
from core.services.link_joining import join_by_link
from core.services.texter_home import texter_campaigns


def register(app: App, deps: Deps) -> None:
    handlers = {
        ids.JOIN: join,
        ids.SEND_FIRST_TEXTS: send_first_texts,
        ids.REQUEST_MORE: request_more,
        ids.DONE_FOR_NOW: done_for_now,
        ids.DONE_FOR_THE_DAY: done_for_the_day_clicked,
        ids.DONE_FOR_THE_DAY_CONFIRM: done_for_the_day_confirmed,
        ids.DONE_FOR_THE_DAY_CANCEL: done_for_the_day_cancelled,
        ids.DONE_FOR_THE_DAY_CONFIRM_INITIALS: done_for_the_day_initials,
        ids.PICK_CAMPAIGN: pick_campaign,
    }
    for action_id, work in handlers.items():
        app.action(action_id)(ack=ack_now, lazy=[lazy(deps, work)])


def _value(turn: Turn) -> str:
    return str(turn.body["actions"][0].get("value", ""))


def join(turn: Turn) -> None:
    campaign_id, token = ids.parse_join_value(_value(turn))
    # An unknown workspace: NotFound with a sentence for the user.
    answer = join_by_link(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id, token
    )
    turn.set_identity(answer.identity)
    result = answer.result
    card = messages.campaign_card(
        result.campaign_id,
        result.campaign_title,
        result.description,
        already_joined=result.already_joined,
        texting_hours=result.texting_hours,
    )
    try:
        turn.direct_message(card)
    except SlackApiError:
        turn.reply(card)  # no DM possible (e.g. messages tab off): the card stays ephemeral
    else:
        turn.reply(messages.joined_elsewhere(result.campaign_title))
    turn.show_home(answer.home)


def send_first_texts(turn: Turn) -> None:
    ask_for_batch(turn, ids.parse_campaign_value(_value(turn)), replace=True)


def request_more(turn: Turn) -> None:
    ask_for_batch(turn, ids.parse_campaign_value(_value(turn)), replace=True)


def done_for_now(turn: Turn) -> None:
    turn.publish_home()
    identity = turn.identity()
    links = waiting_reply_blocks(
        turn.db, turn.client, identity.user_id, None, organization_id=identity.organization_id
    )
    campaigns = texter_campaigns(turn.db, identity.organization_id, identity.user_id)
    takers = [c for c in campaigns if c.can_take_conversations and c.waiting_to_take]
    turn.reply(messages.done_for_now(turn.home_link(), links, takers), replace=True)


def done_for_the_day_clicked(turn: Turn) -> None:
    # The Home button carries a Block Kit confirm dialog (saying first texts only): a click
    # here is already confirmed. `/doneforday` offers conversations too where allowed.
    done_for_the_day(turn, ids.parse_campaign_value(_value(turn)), with_conversations=False)


def done_for_the_day_initials(turn: Turn) -> None:
    done_for_the_day(turn, ids.parse_campaign_value(_value(turn)), with_conversations=False)


def done_for_the_day_confirmed(turn: Turn) -> None:
    done_for_the_day(turn, ids.parse_campaign_value(_value(turn)))


def done_for_the_day_cancelled(turn: Turn) -> None:
    turn.reply(messages.cancelled(), replace=True)


def pick_campaign(turn: Turn) -> None:
    purpose, campaign_id = ids.parse_pick_value(_value(turn))
    if purpose == ids.PICK_FOR_SEND:
        ask_for_batch(turn, campaign_id, replace=True)
        return
    identity = turn.identity()
    campaigns = texter_campaigns(turn.db, identity.organization_id, identity.user_id)
    chosen = next((c for c in campaigns if c.campaign_id == campaign_id), None)
    if chosen is None:
        raise NotFound("You haven't joined that campaign (or it has been archived).")
    confirm_done_for_the_day(turn, chosen, replace=True)
