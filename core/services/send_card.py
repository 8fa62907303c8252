"""The send card for one contact: its first text rendered, and whether it can be sent now.
Which contact comes next, and what is left when none can, is core.services.card_walk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from core.errors import NotFound
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


# Built once (values as parameters): every batch click reads it.
_CARD_CAMPAIGN = select(
    Campaign.id,
    Campaign.organization_id,
    Campaign.title,
    Campaign.script,
    Campaign.settings,
    Campaign.texting_hours_start,
    Campaign.texting_hours_end,
    Campaign.timezone,
).where(
    Campaign.id == bindparam("campaign_id"),
    Campaign.organization_id == bindparam("organization_id"),
)


def card_campaign_in(
    connection: Connection, campaign_id: int, organization_id: int
) -> CardCampaign:
    """The campaign as its card shows it; NotFound unless it is the organization's."""
    row = connection.execute(
        _CARD_CAMPAIGN, {"campaign_id": campaign_id, "organization_id": organization_id}
    ).one_or_none()
    if row is None:
        raise NotFound(f"no campaign with id {campaign_id}")
    return CardCampaign(
        id=row.id,
        organization_id=row.organization_id,
        title=row.title,
        script=row.script,
        settings=dict(row.settings or {}),
        texting_hours_start=row.texting_hours_start,
        texting_hours_end=row.texting_hours_end,
        timezone=row.timezone,
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
