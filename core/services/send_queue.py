"""What is left on a texter's send card when no contact can be sent right now.

The card walks the texter's unsent first texts once, lowest id first: a skipped contact is
one the walk has passed (its id is below the card's position), so Skip moves a contact to
the end once and needs no stored state. Reopening the card starts a fresh walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.db import Database
from core.services.campaigns import texting_hours_words
from core.services.send_card import assignment_and_campaign, unsent_first_texts
from core.services.texting_rules import textable_at, zone_name


@dataclass(frozen=True)
class HeldLeft:
    """The texter's unsent first texts that the card can't offer now."""

    campaign_id: int
    campaign_title: str
    skipped: int  # textable now, but passed over in this walk
    not_textable: int  # outside texting hours in their own time zone
    opens_at: datetime | None  # the soonest of the not-textable ones
    texting_hours: str  # '9 AM-9 PM America/New_York'
    timezone: str

    @property
    def total(self) -> int:
        return self.skipped + self.not_textable


def held_left(
    db: Database,
    assignment_id: int,
    after_contact_id: int | None,
    now: datetime | None = None,
) -> HeldLeft:
    now = now or datetime.now(UTC)
    with db.uow(read_only=True) as uow:
        session = uow.session
        _, campaign = assignment_and_campaign(session, assignment_id)
        rows = unsent_first_texts(session, assignment_id)
        after = after_contact_id if after_contact_id is not None else -1
        skipped = not_textable = 0
        openings: list[datetime] = []
        for row in rows:
            when = textable_at(campaign, zone_name(row.timezone, campaign.timezone), now)
            if when is not None:
                not_textable += 1
                openings.append(when)
            elif row.id <= after:
                skipped += 1
        return HeldLeft(
            campaign_id=campaign.id,
            campaign_title=campaign.title,
            skipped=skipped,
            not_textable=not_textable,
            opens_at=min(openings) if openings else None,
            texting_hours=texting_hours_words(
                campaign.texting_hours_start, campaign.texting_hours_end, campaign.timezone
            ),
            timezone=campaign.timezone,
        )
