"""Joining a campaign: the Join button under a campaign's join link in a channel. The
campaign's card goes to the texter's DM (ephemeral where no DM is possible), and Home."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.render import messages
from core.services.link_joining import join_by_link


def register(app: App, deps: Deps) -> None:
    app.action(ids.JOIN)(ack=ack_now, lazy=[lazy(join)])


def join(turn: Turn) -> None:
    campaign_id, token = ids.parse_join_value(action_value(turn))
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
