"""The send card for one contact: its first text rendered, and whether it can be sent now.
Which contact comes next, and what is left when none can, is core.services.card_walk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.models import Campaign
from core.script_render import render_script
from core.services.texting_rules import (
    ContactOnCard,
    can_edit,
    contact_fields,
    hours_note,
    zone_name,
)


@dataclass(frozen=True)
class CardCampaign:
    """What a batch's reply and the send card show of their campaign: a Campaign's columns,
    read without loading the Campaign (its load was a fair share of a batch click's CPU)."""

    id: int
    organization_id: int
    title: str
    script: str
    settings: dict[str, Any]
    texting_hours_start: int | None
    texting_hours_end: int | None
    timezone: str


# The columns CardCampaign holds, for statements that select them beside others.
CARD_CAMPAIGN_COLUMNS = (
    Campaign.id,
    Campaign.organization_id,
    Campaign.title,
    Campaign.script,
    Campaign.settings,
    Campaign.texting_hours_start,
    Campaign.texting_hours_end,
    Campaign.timezone,
)


def card_campaign_of(values: Sequence[Any]) -> CardCampaign:
    """The values of CARD_CAMPAIGN_COLUMNS, in their order, as a CardCampaign."""
    id_, organization_id, title, script, settings, start, end, timezone = values
    return CardCampaign(
        id_, organization_id, title, script, dict(settings or {}), start, end, timezone
    )


@dataclass(frozen=True)
class SendCard:
    """One contact to send a first text to, as the send card shows it."""

    contact_id: int
    assignment_id: int
    campaign_id: int
    campaign_title: str
    first_name: str
    last_name: str
    cell: str
    zip: str
    custom_fields: dict[str, str]
    text: str
    can_edit: bool
    textable_now: bool
    textable_at: datetime | None  # when texting hours open for this contact, if not now
    timezone: str
    remaining: int  # unsent first texts the texter holds, this one included
    hours_note: str | None = None  # outside texting hours: the sentence saying until when


def card_for_contact(
    campaign: Campaign | CardCampaign,
    contact: ContactOnCard,
    assignment_id: int,
    texter: str,
    remaining: int,
    now: datetime,
) -> SendCard:
    """The card for one contact (`remaining`: unsent first texts held, this one included)."""
    zone = zone_name(contact.timezone, campaign.timezone)
    note = hours_note(campaign, contact, now)
    return SendCard(
        contact_id=contact.id,
        assignment_id=assignment_id,
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        first_name=contact.first_name,
        last_name=contact.last_name,
        cell=contact.cell,
        zip=contact.zip,
        custom_fields={
            str(k): str(v) for k, v in (contact.custom_fields or {}).items() if v not in ("", None)
        },
        text=render_script(campaign.script, contact_fields(contact), texter),
        can_edit=can_edit(campaign),
        textable_now=note is None,
        textable_at=note[1] if note else None,
        timezone=zone,
        remaining=remaining,
        hours_note=note[0] if note else None,
    )
