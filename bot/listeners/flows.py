"""Steps shared by commands and buttons: each is one core call plus rendering."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot import ids
from bot.listeners.common import Turn
from bot.listeners.texting import finish_first_links, present_batch
from bot.render import messages
from core.errors import NotAllowed, NotFound
from core.services.batches import request_batch
from core.services.organizations import organization_settings
from core.services.release import releasable, release_contacts
from core.services.slack_support import campaign_title_in_org
from core.services.texter_home import (
    TexterCampaign,
    archived_campaign_titles,
    request_prompt,
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
    identity = turn.identity()
    title = campaign_title_in_org(turn.db, campaign_id, identity.organization_id)
    result = request_batch(turn.db, campaign_id, identity.user_id)
    if result.refusal is not None:  # refusals are answers, not errors: log them here
        log.info(
            "refused: batch for user %s in campaign %s: %s",
            identity.user_id,
            campaign_id,
            result.refusal.reason.value,
        )
    notice = messages.batch_result(
        title,
        result,
        request_prompt(turn.db, campaign_id),
        finish_first_links(turn, campaign_id, result.refusal),
    )
    # With first texts to send, the first contact's send card carries the answer.
    if present_batch(turn, campaign_id, result, notice, replace=replace):
        return
    turn.show(notice, replace=replace, changed=bool(result.assigned))


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
