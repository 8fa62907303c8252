"""Steps shared by commands and buttons: each is one core call plus rendering."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot import ids
from bot.listeners.common import Turn
from bot.listeners.texting import present_batch
from bot.permalinks import reply_link_blocks
from bot.render import messages
from core.errors import NotAllowed, NotFound
from core.services.batch_requests import TextsAnswer, request_first_texts, request_texts
from core.services.campaign_scope import campaign_title_in_org
from core.services.organizations import organization_settings
from core.services.release import releasable, release_contacts
from core.services.texter_home import (
    TexterCampaign,
    archived_campaign_titles,
    texter_campaigns,
)

log = logging.getLogger("spokebot.bot")


def choose_campaign(campaigns: Sequence[TexterCampaign], argument: str) -> TexterCampaign | None:
    """The campaign an argument names (id, or title ignoring case, or a unique part of a
    title); with no argument, the only campaign. None when it names none or is ambiguous."""
    argument = argument.strip()
    if not argument:
        return campaigns[0] if len(campaigns) == 1 else None
    if argument.isdigit():
        wanted_id = ids.parse_id(argument)  # "²".isdigit() is True, but int() refuses it
        return next((c for c in campaigns if c.campaign_id == wanted_id), None)
    wanted = argument.casefold()
    exact = [c for c in campaigns if c.title.casefold() == wanted]
    if len(exact) == 1:
        return exact[0]
    partial = [c for c in campaigns if wanted in c.title.casefold()]
    return partial[0] if len(partial) == 1 else None


def with_campaign(turn: Turn, purpose: str, argument: str, question: str) -> TexterCampaign | None:
    """Resolve a command's campaign argument, telling the texter when it can't be."""
    identity = turn.identity()
    campaigns = texter_campaigns(turn.db, identity.organization_id, identity.user_id)
    if not campaigns:
        archived = archived_campaign_titles(turn.db, identity.organization_id, identity.user_id)
        turn.reply(messages.only_archived(archived) if archived else messages.no_campaigns())
        return None
    chosen = choose_campaign(campaigns, argument)
    if chosen is not None:
        return chosen
    if argument.strip():
        turn.reply(messages.no_such_campaign(argument, campaigns))
    else:
        turn.reply(messages.pick_campaign(purpose, campaigns, question))
    return None


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
    turn.set_identity(answer.identity)
    if not answer.campaigns:
        archived = answer.archived_titles
        turn.reply(messages.only_archived(archived) if archived else messages.no_campaigns())
    elif argument.strip():
        turn.reply(messages.no_such_campaign(argument, answer.campaigns))
    else:
        question = "Which campaign do you want texts for?"
        turn.reply(messages.pick_campaign(ids.PICK_FOR_SEND, answer.campaigns, question))


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
    notice = messages.batch_result(answer.title, result, answer.prompt, links)
    # With first texts to send, the first contact's card carries the answer.
    if present_batch(turn, answer, notice, replace=replace):
        return
    turn.show(notice, replace=replace, changed=bool(result.assigned), home=answer.home)


def confirm_done_for_the_day(turn: Turn, campaign: TexterCampaign, *, replace: bool) -> None:
    identity = turn.identity()
    settings = organization_settings(turn.db, identity.organization_id)
    if not settings.get("DONE_FOR_THE_DAY_ENABLED", True):
        raise NotAllowed("Done for the Day is turned off in this organization.")
    held = releasable(turn.db, campaign.campaign_id, identity.user_id)
    turn.reply(
        messages.confirm_done_for_the_day(
            campaign.campaign_id,
            campaign.title,
            held.initials,
            held.conversations,
            held.may_release_conversations,
        ),
        replace=replace,
    )


def done_for_the_day(turn: Turn, campaign_id: int, with_conversations: bool | None = None) -> None:
    """After the confirmation: release the texter's contacts and show what went back."""
    identity = turn.identity()
    title = campaign_title_in_org(turn.db, campaign_id, identity.organization_id)
    try:
        result = release_contacts(turn.db, campaign_id, identity.user_id, with_conversations)
    except NotFound:
        raise NotFound(
            f"You haven't joined “{title}”, so there is nothing of yours to release."
        ) from None
    turn.show(messages.released(title, result), replace=True, changed=True)
