"""Send on the send card as one use case: the claim (who clicked, every check, the text
recorded as sending) committed before the provider is called, then the provider's answer
settled together with everything the next card needs: two transactions.

Skip and Restart are `card_step`, one transaction (read only unless the identity changed),
through `read_on_card`; Opt out, Release them and Edit are in core.services.send_card_changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.messaging.base import MessageService
from core.models import Assignment, Campaign
from core.refusals import NOT_JOINED_CAMPAIGN
from core.services.batches import Eligibility, eligibility_in
from core.services.card_walk import NextOnCard, next_on_card_in
from core.services.identity import (
    Identity,
    identify_in_campaign,
    known_identity_in_campaign,
)
from core.services.outbox import SendResult, pending_result, send_safely, settle_in
from core.services.send_card import SendCard
from core.services.texter_home import RequestPrompt, TexterHome, home_in, request_prompt_of
from core.services.texting import claim_first_text_in
from core.services.waiting_replies import WaitingReply, replies_holding_back

T = TypeVar("T")


@dataclass(frozen=True)
class CardStep:
    """What replaces the card: the next contact, what is held but can't be offered now, or
    (the batch done) whether more can be had, with the texter's Home."""

    identity: Identity
    campaign_id: int
    title: str
    next_on_card: NextOnCard
    eligibility: Eligibility | None = None  # the batch is done
    prompt: RequestPrompt = field(default_factory=RequestPrompt)
    waiting: list[WaitingReply] = field(default_factory=list)  # "finish your replies first"
    home: TexterHome | None = None  # the batch is done: Home changed

    @property
    def batch_done(self) -> bool:
        return self.eligibility is not None


@dataclass(frozen=True)
class CardSend:
    """A Send click: the contact's name, what happened, and the card's next step."""

    step: CardStep
    contact_name: str = ""
    result: SendResult | None = None
    refusal: str | None = None  # not sent, and why (already sent, opted out, outside hours)
    retry_card: NextOnCard | None = None  # the provider failed: this contact again
    # An edited text that can't go out (empty, too long): not sent, and this contact's card
    # again when it is still theirs to send (else the step moves on).
    edit_refused: bool = False
    edit_again: SendCard | None = None


def send_from_card(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    contact_id: int,
    service: MessageService,
    text: str | None = None,
    now: datetime | None = None,
) -> CardSend:
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        identity, campaign, assignment_id = identify_in_campaign(
            session, slack_team_id, slack_user_id, name, campaign_id
        )
        campaign, assignment_id = require_joined(campaign_id, campaign, assignment_id)
        try:
            claim, contact_name = claim_first_text_in(
                session,
                contact_id,
                identity.user_id,
                text,
                now,
                texter=identity.name,
                role=identity.role,
                own_assignment_id=assignment_id,
            )
        except (Conflict, NotAllowed, NotFound) as refusal:
            # Outside texting hours, already sent (a stale card), reassigned, opted out: say
            # so and move on to the next contact.
            step = card_step_in(session, identity, campaign, assignment_id, contact_id, now, db)
            uow.commit()  # a new user or a new name is kept
            return CardSend(step, refusal=refusal.message)
        except InvalidInput as invalid:
            if text is None:  # the campaign's own script: not something the texter can fix
                raise
            step, again = _after_send(
                session, identity, campaign, assignment_id, contact_id, None, now, db
            )
            uow.commit()
            card = again.card if again is not None else None
            return CardSend(step, refusal=invalid.message, edit_refused=True, edit_again=card)
        uow.commit()
    outcome = send_safely(service, claim.cell, claim.text)
    try:
        with db.uow() as uow:
            session = uow.session
            # Read in the claim's transaction and unchanged by it: attached without a statement.
            campaign = session.merge(campaign, load=False)
            result = settle_in(session, claim.message_id, outcome, claim.contact_id)
            answer = _after_send(
                session, identity, campaign, assignment_id, contact_id, result, now, db
            )
            uow.commit()
    except SQLAlchemyError:
        # The database went away after the provider answered: the message stays `sending`
        # and the reconciler settles it from the provider's record.
        result = pending_result(claim, outcome.error)
        answer = None
    if answer is None:
        with db.uow(read_only=True) as uow:
            campaign, assignment_id = _own_campaign(uow.session, identity, campaign_id)
            answer = _after_send(
                uow.session, identity, campaign, assignment_id, contact_id, result, now, db
            )
    return CardSend(answer[0], contact_name, result, retry_card=answer[1])


def card_step(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    after_contact_id: int | None,
    now: datetime | None = None,
) -> CardStep:
    """The card's next step after `after_contact_id` (Skip; Restart with None)."""
    at = now or datetime.now(UTC)

    def step(session: Session, identity: Identity, campaign: Campaign, assignment: int) -> CardStep:
        return card_step_in(session, identity, campaign, assignment, after_contact_id, at, db)

    return read_on_card(db, slack_team_id, slack_user_id, name, campaign_id, step)


def read_on_card(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    work: Callable[[Session, Identity, Campaign, int], T],
) -> T:
    """`work` on the clicking texter's campaign and assignment, in one transaction: read only
    (identity, campaign and assignment in one statement) unless the identity needs writing
    (a new user, a new name). NotFound when the campaign isn't theirs to text in."""
    with db.uow(read_only=True) as uow:
        found = known_identity_in_campaign(
            uow.session, slack_team_id, slack_user_id, name, campaign_id
        )
        if found is not None:
            identity, campaign, assignment_id = found
            joined = require_joined(campaign_id, campaign, assignment_id)
            return work(uow.session, identity, *joined)
    with db.uow() as uow:
        identity, campaign, assignment_id = identify_in_campaign(
            uow.session, slack_team_id, slack_user_id, name, campaign_id
        )
        joined = require_joined(campaign_id, campaign, assignment_id)
        result = work(uow.session, identity, *joined)
        uow.commit()  # the new user or new name is kept
        return result


def _own_campaign(session: Session, identity: Identity, campaign_id: int) -> tuple[Campaign, int]:
    """The campaign (NotFound unless it is the organization's) and the texter's assignment
    in it (NotFound unless they joined), in one statement."""
    row = session.execute(
        select(Campaign, Assignment.id)
        .outerjoin(
            Assignment,
            and_(Assignment.campaign_id == Campaign.id, Assignment.user_id == identity.user_id),
        )
        .where(Campaign.id == campaign_id)
    ).one_or_none()
    if row is None or row[0].organization_id != identity.organization_id:
        return require_joined(campaign_id, None, None)
    return require_joined(campaign_id, row[0], row[1])


def require_joined(
    campaign_id: int, campaign: Campaign | None, assignment_id: int | None
) -> tuple[Campaign, int]:
    if campaign is None:
        raise NotFound(f"no campaign with id {campaign_id}")
    if assignment_id is None:
        raise NotFound(NOT_JOINED_CAMPAIGN)
    return campaign, assignment_id


def _after_send(
    session: Session,
    identity: Identity,
    campaign: Campaign,
    assignment_id: int,
    contact_id: int,
    result: SendResult | None,
    now: datetime,
    db: Database,
) -> tuple[CardStep, NextOnCard | None]:
    if result is None or (not result.sent and not result.pending):
        # The provider failed (or the edit was refused): the contact stays with the texter,
        # with a Retry button (or the Edit again).
        again = next_on_card_in(
            session, campaign, assignment_id, identity.name, contact_id - 1, now
        )
        if again.card is not None and again.card.contact_id == contact_id:
            step = CardStep(identity, campaign.id, campaign.title, again)
            return step, again
    step = card_step_in(session, identity, campaign, assignment_id, contact_id, now, db)
    return step, None


def card_step_in(
    session: Session,
    identity: Identity,
    campaign: Campaign,
    assignment_id: int,
    after_contact_id: int | None,
    now: datetime,
    db: Database,
) -> CardStep:
    step = next_on_card_in(session, campaign, assignment_id, identity.name, after_contact_id, now)
    if step.card is not None or (step.left is not None and step.left.total):
        return CardStep(identity, campaign.id, campaign.title, step)
    home = home_in(session, identity, now, db)
    eligibility = next(
        (c.eligibility for c in home.campaigns if c.campaign_id == campaign.id), None
    ) or eligibility_in(session.connection(), campaign.id, identity.user_id, now=now)
    waiting = replies_holding_back(session, eligibility.refusal, identity.user_id, campaign.id)
    prompt = request_prompt_of(dict(campaign.settings or {}))
    return CardStep(identity, campaign.id, campaign.title, step, eligibility, prompt, waiting, home)
