"""The send card's next step inside the caller's unit of work: the texter's next contact to
send a first text to, or, when none can be offered now, what is still held and why.

One statement reads the texter's unsent contacts (at most a few batches), whole: both the
card and the count of what is left come from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.db import flushed_connection
from core.models import Campaign, CampaignContact
from core.services.campaigns import texting_hours_words
from core.services.send_card import CardCampaign, SendCard, card_for_contact
from core.services.send_queue import HeldLeft
from core.services.texting_rules import textable_at, zone_name
from core.statuses import MessageStatus


@dataclass(frozen=True)
class NextOnCard:
    card: SendCard | None
    left: HeldLeft | None = None  # without a card: what is still held (total 0: nothing)


# Built once (the assignment as a parameter): every batch and every Send walks the card. The
# columns the card shows, read as rows: loading entities cost more CPU than the read itself.
_ON_CARD = (
    select(
        CampaignContact.id,
        CampaignContact.timezone,
        CampaignContact.first_name,
        CampaignContact.last_name,
        CampaignContact.cell,
        CampaignContact.zip,
        CampaignContact.custom_fields,
    )
    .where(
        CampaignContact.assignment_id == bindparam("assignment_id"),
        CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
        CampaignContact.is_opted_out.is_(False),
    )
    .order_by(CampaignContact.id)
)


def next_on_card_in(
    session: Session,
    campaign: Campaign | CardCampaign,
    assignment_id: int,
    texter: str,
    after_contact_id: int | None,
    now: datetime,
) -> NextOnCard:
    """The texter's next unsent, not opted-out contact after `after_contact_id` that can be
    texted now; else what the card can't offer now (skipped, or outside texting hours)."""
    contacts = flushed_connection(session).execute(_ON_CARD, {"assignment_id": assignment_id}).all()
    after = after_contact_id if after_contact_id is not None else -1
    opens = {
        c.id: textable_at(campaign, zone_name(c.timezone, campaign.timezone), now) for c in contacts
    }
    chosen = next((c for c in contacts if c.id > after and opens[c.id] is None), None)
    if chosen is not None:
        card = card_for_contact(campaign, chosen, assignment_id, texter, len(contacts), now)
        return NextOnCard(card)
    openings = [when for when in opens.values() if when is not None]
    skipped = sum(1 for c in contacts if opens[c.id] is None and c.id <= after)
    return NextOnCard(
        None,
        HeldLeft(
            campaign_id=campaign.id,
            campaign_title=campaign.title,
            skipped=skipped,
            not_textable=len(openings),
            opens_at=min(openings) if openings else None,
            texting_hours=texting_hours_words(
                campaign.texting_hours_start, campaign.texting_hours_end, campaign.timezone
            ),
            timezone=campaign.timezone,
        ),
    )
