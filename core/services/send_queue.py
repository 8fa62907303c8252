"""What is left on a texter's send card when no contact can be sent right now.

The card walks the texter's unsent first texts once, lowest id first: a skipped contact is
one the walk has passed (its id is below the card's position), so Skip moves a contact to
the end once and needs no stored state. Reopening the card starts a fresh walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
