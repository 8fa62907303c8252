"""When texting opens: the sentence a texter gets when contacts are left but none of them
may be texted now ("Texting hours for GOTV are 9 AM-9 PM America/New_York: you can send
from 9 AM, in 3 h 15 min")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.models import Campaign
from core.refusals import Refusal, RefusalReason
from core.services.campaigns import TextingHours, clock_hour
from core.services.contact_pool import Contact, SqlContactPool, unassigned_conditions
from core.texting_hours import next_window_start
from strategies.base import ContactSelection

# The soonest opening is looked for among this many of the contacts left.
MAX_CONTACTS_READ = 2000


def duration_words(seconds: float) -> str:
    """'3 h 15 min', '45 min', '2 h' (rounded up to the minute)."""
    minutes = max(int(-(-seconds // 60)), 1)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def opening_sentence(title: str, hours: str, timezone: str, opens: datetime, now: datetime) -> str:
    """'Texting hours for GOTV are 9 AM-9 PM America/New_York: you can send from 9 AM, in
    3 h 15 min' (the clock in the campaign's time zone)."""
    zone = ZoneInfo(timezone)
    local_open, local_now = opens.astimezone(zone), now.astimezone(zone)
    clock = clock_hour(local_open.hour)
    if local_open.minute:
        clock = clock.replace(" ", f":{local_open.minute:02d} ", 1)
    days = (local_open.date() - local_now.date()).days
    day = "" if days == 0 else " tomorrow" if days == 1 else f" on {local_open:%A}"
    wait = duration_words((opens - now).total_seconds())
    return f"Texting hours for {title} are {hours}: you can send from {clock}{day}, in {wait}."


def outside_hours_refusal(pool: SqlContactPool, selection: ContactSelection) -> Refusal | None:
    """When a claim found nothing: if contacts are left that only texting hours keep back,
    the refusal saying when texting opens (for the soonest of their zones); else None."""
    campaign = pool.campaign
    if not campaign.enforces_texting_hours:
        return None
    start, end = campaign.texting_hours_start, campaign.texting_hours_end
    assert start is not None and end is not None
    conditions = unassigned_conditions(
        pool.dialect, Contact.campaign_id == campaign.id, selection.statuses, False
    )
    # Bounded: the zones of the first few thousand contacts left, never a scan of a
    # million-contact campaign on every Home refresh at night.
    sample = select(Contact.timezone).where(*conditions).limit(MAX_CONTACTS_READ).subquery()
    zones = pool.connection.scalars(select(sample.c.timezone).distinct()).all()
    if not zones:
        return None
    openings = []
    for zone in zones:
        try:
            openings.append(next_window_start(start, end, zone or campaign.timezone, pool.now))
        except (KeyError, ValueError):  # an unknown zone is never textable: skip it
            continue
    if not openings:
        return None
    opens = min(openings)
    title = pool.connection.scalar(select(Campaign.title).where(Campaign.id == campaign.id)) or ""
    hours = TextingHours(start, end).describe(campaign.timezone)
    sentence = opening_sentence(title, hours, campaign.timezone, opens, pool.now)
    return Refusal(RefusalReason.OUTSIDE_TEXTING_HOURS, sentence)
