"""Send First Texts and Request More, as one use case each: who is asking, the batch, the
first contact's card and the texter's Home, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database, flushed_connection
from core.errors import NotFound
from core.models import Assignment
from core.refusals import NOT_JOINED_CAMPAIGN
from core.services.batch_inputs import HeldWork
from core.services.batches import BatchResult, request_batch_in
from core.services.campaign_choice import CampaignQuestion, joined_campaign_named_in
from core.services.card_walk import NextOnCard, next_on_card_in
from core.services.identity import Identity, identify_in, identify_with_card_campaign_in
from core.services.send_card import CardCampaign
from core.services.texter_home import (
    JoinedCampaign,
    RequestPrompt,
    TexterHome,
    home_in,
    joined_campaigns_in,
    request_prompt_of,
)
from core.services.texter_notices import THREAD_TAKEN, NoticeToQueue, queue_notices
from core.services.waiting_replies import WaitingReply, replies_holding_back


@dataclass(frozen=True)
class TextsAnswer:
    """What a batch request did and everything its reply shows."""

    identity: Identity
    campaign_id: int
    title: str
    result: BatchResult
    prompt: RequestPrompt
    # The first contact's card (or what is held but not textable now) when there are first
    # texts to send; None otherwise.
    next_on_card: NextOnCard | None
    home: TexterHome | None  # when contacts were assigned: Home changed
    # A "finish your replies first" refusal: the replies it is about.
    waiting: list[WaitingReply] = field(default_factory=list)
    # Handed-out conversations: their THREAD_TAKEN notices, queued with the batch, for the
    # caller to post after the commit (bot.texter_notices.deliver_now).
    notices: tuple[int, ...] = ()


def request_texts(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    now: datetime | None = None,
) -> TextsAnswer:
    """Send First Texts / Request More on a campaign's button."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        # A button from another workspace's message can't act on this one's campaigns.
        identity, campaign = identify_with_card_campaign_in(
            uow.session, slack_team_id, slack_user_id, name, campaign_id
        )
        answer = _request_in(uow.session, identity, campaign, now, db)
        uow.commit()
        return answer


def request_first_texts(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    argument: str,
    now: datetime | None = None,
) -> TextsAnswer | CampaignQuestion:
    """`/sendfirsttexts [campaign]`: the campaign the argument names (or the only one)."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        identity = identify_in(session, slack_team_id, slack_user_id, name)
        joined = joined_campaigns_in(session, identity)
        chosen = joined_campaign_named_in(session, identity, joined, argument)
        if isinstance(chosen, CampaignQuestion):
            uow.commit()  # a new user or a new name is kept
            return chosen
        answer = _request_in(session, identity, chosen.card_campaign(), now, db, joined)
        uow.commit()
        return answer


def _request_in(
    session: Session,
    identity: Identity,
    campaign: CardCampaign,
    now: datetime,
    db: Database,
    joined: list[JoinedCampaign] | None = None,
) -> TextsAnswer:
    campaign_id = campaign.id
    result = request_batch_in(flushed_connection(session), campaign_id, identity.user_id, now=now)
    refusal = result.refusal
    waiting = replies_holding_back(session, refusal, identity.user_id, campaign_id)
    next_on_card = None
    if result.unsent:
        assignment_id = result.eligibility.assignment_id or _assignment_id(
            session, campaign_id, identity.user_id
        )
        next_on_card = next_on_card_in(session, campaign, assignment_id, identity.name, None, now)
    home = None
    if result.assigned:
        if joined is not None:  # read before the claim: the campaign now holds some
            joined = [
                replace(c, holds_any=True) if c.campaign_id == campaign_id else c for c in joined
            ]
        home = home_in(session, identity, now, db, joined, known_held=_held_after(result, campaign))
    notices: tuple[int, ...] = ()
    if result.contact_ids and not result.is_initials:
        # Queued with the batch, so a crash right after the commit can't lose the threads.
        notices = queue_notices(
            session,
            identity.organization_id,
            [NoticeToQueue(THREAD_TAKEN, identity.user_id, c) for c in result.contact_ids],
            now,
        )
    return TextsAnswer(
        identity,
        campaign_id,
        campaign.title,
        result,
        request_prompt_of(campaign.settings),
        next_on_card,
        home,
        waiting,
        notices,
    )


def _held_after(result: BatchResult, campaign: CardCampaign) -> dict[int, HeldWork]:
    """What the texter holds in the campaign after a batch of first texts: the live counts the
    batch decided on (its claim checked they still held) plus the batch, so Home needn't count
    them again. Only where Home would count them with its one statement for all campaigns
    (uncapped, no texting hours; texter_home.held_together): elsewhere it reads more."""
    eligibility = result.eligibility
    if (
        not result.is_initials
        or eligibility.assignment_id is None
        or eligibility.max_contacts is not None
        or campaign.texting_hours_start is not None
    ):
        return {}
    held = HeldWork(result.unsent, eligibility.waiting_replies, holds_any=True, total_held=None)
    return {eligibility.assignment_id: held}


def _assignment_id(session: Session, campaign_id: int, user_id: int) -> int:
    found = session.scalar(
        select(Assignment.id).where(
            Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
        )
    )
    if found is None:
        raise NotFound(NOT_JOINED_CAMPAIGN)
    return found
