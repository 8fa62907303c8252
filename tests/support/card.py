"""What the send card offers a texter, asked the way a click asks: through the card's use
case (`card_step`), by workspace, Slack user and campaign."""

from __future__ import annotations

from datetime import datetime

from core.db import Database
from core.services.card_sending import card_step
from core.services.send_card import SendCard
from core.services.send_queue import HeldLeft


def card_offered(
    db: Database,
    campaign_id: int,
    slack_user_id: str,
    after_contact_id: int | None = None,
    now: datetime | None = None,
    team: str = "T1",
) -> SendCard | None:
    """The card after `after_contact_id` (None: a fresh walk, what a restarted card offers);
    None when the walk is over."""
    step = card_step(db, team, slack_user_id, None, campaign_id, after_contact_id, now)
    return step.next_on_card.card


def held_on_card(
    db: Database,
    campaign_id: int,
    slack_user_id: str,
    after_contact_id: int | None = None,
    now: datetime | None = None,
    team: str = "T1",
) -> HeldLeft:
    """What the texter holds that the card can't offer now (skipped, outside texting hours)."""
    step = card_step(db, team, slack_user_id, None, campaign_id, after_contact_id, now)
    assert step.next_on_card.card is None and step.next_on_card.left is not None
    return step.next_on_card.left
