"""The send card's other clicks as use cases, each one transaction: Opt out, Release them
(what the texter holds but can't send now) and Edit (this contact's card again, to edit).

Each identifies the texter and reads the button's campaign and their assignment in it in
one statement, does the work, and gathers everything its reply renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.db import Database
from core.errors import NotFound
from core.models import Campaign
from core.services.batches import Eligibility, eligibility_in
from core.services.card_sending import CardStep, card_step_in, read_on_card, require_joined
from core.services.card_walk import next_on_card_in
from core.services.identity import Identity, identify_in_campaign
from core.services.opt_outs import opt_out_cell
from core.services.release import ReleaseResult, commit_release, release_unsent_in
from core.services.send_card import SendCard
from core.services.texter_home import RequestPrompt, TexterHome, home_in, request_prompt_of
from core.services.texting_rules import (
    UNKNOWN,
    campaign_of,
    display_name,
    load_contact,
    require_owner,
)


@dataclass(frozen=True)
class CardOptOut:
    """Opt out on the card: whom, and the card's next step."""

    contact_name: str
    step: CardStep


def opt_out_on_card(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    contact_id: int,
    reason: str = "texter",
    now: datetime | None = None,
) -> CardOptOut:
    """The card's Opt out (confirmed in Slack): the number is opted out in every live
    campaign of the organization and never texted again; the card moves on."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        identity, campaign, assignment_id = identify_in_campaign(
            session, slack_team_id, slack_user_id, name, campaign_id
        )
        contact = load_contact(session, contact_id, lock=True)
        contacts_campaign = campaign_of(session, contact)
        same_org = contacts_campaign.organization_id == identity.organization_id
        require_owner(
            session,
            contact,
            contacts_campaign,
            identity.user_id,
            staff_ok=True,
            known_role=identity.role if same_org else UNKNOWN,
            own_assignment_id=assignment_id,
        )
        campaign, assignment_id = require_joined(campaign_id, campaign, assignment_id)
        opt_out_cell(
            session,
            contacts_campaign.organization_id,
            contact.cell,
            reason.strip() or "texter",
            now,
        )
        step = card_step_in(session, identity, campaign, assignment_id, contact_id, now, db)
        uow.commit()
    return CardOptOut(display_name(contact), step)


@dataclass(frozen=True)
class HeldRelease:
    """Release them: what went back to the pool, and the batch-done card with Home."""

    identity: Identity
    campaign_id: int
    title: str
    released: ReleaseResult
    eligibility: Eligibility
    prompt: RequestPrompt
    home: TexterHome


def release_held(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    now: datetime | None = None,
) -> HeldRelease:
    """The card's Release them (confirmed in Slack): the texter's unsent first texts go back
    to the pool (their conversations stay), then whether they can request more."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        identity, campaign, _ = identify_in_campaign(
            session, slack_team_id, slack_user_id, name, campaign_id
        )
        if campaign is None:
            raise NotFound(f"no campaign with id {campaign_id}")
        released = release_unsent_in(session, campaign_id, identity.user_id)
        home = home_in(session, identity, now, db)
        eligibility = _eligibility(session, home, campaign, identity, now)
        prompt = request_prompt_of(dict(campaign.settings or {}))
        commit_release(uow, campaign_id)
    return HeldRelease(identity, campaign_id, campaign.title, released, eligibility, prompt, home)


def _eligibility(
    session: Session, home: TexterHome, campaign: Campaign, identity: Identity, now: datetime
) -> Eligibility:
    shown = next((c.eligibility for c in home.campaigns if c.campaign_id == campaign.id), None)
    return shown or eligibility_in(session.connection(), campaign.id, identity.user_id, now=now)


@dataclass(frozen=True)
class CardEdit:
    """Edit: this contact's card if it is still unsent, textable now and theirs; otherwise
    the card's next step."""

    identity: Identity
    card: SendCard | None
    step: CardStep | None = None


def card_to_edit(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    contact_id: int,
    now: datetime | None = None,
) -> CardEdit:
    at = now or datetime.now(UTC)

    def edit(session: Session, identity: Identity, campaign: Campaign, assignment: int) -> CardEdit:
        # The walk from just before this contact yields it when it is still unsent, textable
        # and held by this texter; anything else is a different contact.
        again = next_on_card_in(session, campaign, assignment, identity.name, contact_id - 1, at)
        if again.card is not None and again.card.contact_id == contact_id:
            return CardEdit(identity, again.card)
        step = card_step_in(session, identity, campaign, assignment, contact_id, at, db)
        return CardEdit(identity, None, step)

    return read_on_card(db, slack_team_id, slack_user_id, name, campaign_id, edit)
