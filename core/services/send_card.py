"""The send card: the texter's next contact to send a first text to, within texting hours.
What the card can't offer now is counted by core.services.send_queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import NotFound
from core.models import Assignment, Campaign, CampaignContact
from core.script_render import render_script
from core.services.texting_rules import (
    can_edit,
    contact_fields,
    hours_note,
    textable_at,
    texter_name,
    zone_name,
)
from core.statuses import MessageStatus


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


def assignment_and_campaign(session: Session, assignment_id: int) -> tuple[Assignment, Campaign]:
    """The assignment and its campaign; NotFound when the assignment is gone."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("That assignment no longer exists.")
    campaign = session.get(Campaign, assignment.campaign_id)
    assert campaign is not None  # the foreign key guarantees it
    return assignment, campaign


def unsent_first_texts(
    session: Session, assignment_id: int
) -> Sequence[Row[tuple[int, str | None]]]:
    """Id and time zone of the assignment's unsent, not opted-out contacts, lowest id first.
    A texter holds at most a few batches of them: reading their ids and zones is cheap and
    lets texting hours be judged per contact."""
    return session.execute(
        select(CampaignContact.id, CampaignContact.timezone)
        .where(
            CampaignContact.assignment_id == assignment_id,
            CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
            CampaignContact.is_opted_out.is_(False),
        )
        .order_by(CampaignContact.id)
    ).all()


def next_contact_to_send(
    db: Database,
    assignment_id: int,
    after_contact_id: int | None = None,
    now: datetime | None = None,
) -> SendCard | None:
    """The texter's next unsent, not opted-out contact after `after_contact_id` that can be
    texted now. None when there is none: the card's walk is over (see send_queue.held_left
    for what, skipped or outside texting hours, is still held)."""
    now = now or datetime.now(UTC)
    with db.uow(read_only=True) as uow:
        session = uow.session
        assignment, campaign = assignment_and_campaign(session, assignment_id)
        unsent = unsent_first_texts(session, assignment_id)
        if not unsent:
            return None
        after = after_contact_id if after_contact_id is not None else -1

        def opens_at(zone: str | None) -> datetime | None:
            return textable_at(campaign, zone_name(zone, campaign.timezone), now)

        chosen = next(
            (row for row in unsent if row.id > after and opens_at(row.timezone) is None), None
        )
        if chosen is None:
            return None
        contact = session.get(CampaignContact, chosen.id)
        assert contact is not None
        texter = texter_name(session, assignment.user_id)
        return card_for_contact(campaign, contact, assignment_id, texter, len(unsent), now)


def card_for_contact(
    campaign: Campaign,
    contact: CampaignContact,
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
