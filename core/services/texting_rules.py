"""What every send checks: who may act on a contact, whether the contact may be texted now
(texting hours in their own time zone), and what one text may carry."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import Assignment, Campaign, CampaignContact, User
from core.roles import Role
from core.services.opt_outs import is_cell_opted_out
from core.services.organizations import member_role
from core.texting_hours import is_textable_now, next_window_start

if TYPE_CHECKING:
    from core.services.send_card import CardCampaign

# A contact as the send card reads it: the entity, or a row of its columns (card_walk).
ContactOnCard = CampaignContact | Row[Any]

MAX_SMS_LENGTH = 1600  # Twilio's limit for one message body
STAFF = Role.SUPERVOLUNTEER  # may read threads, close and opt out contacts they don't own


class OutsideTextingHours(Conflict):
    """The contact's local time is outside the campaign's texting hours."""

    def __init__(self, message: str, textable_at: datetime) -> None:
        super().__init__(message)
        self.textable_at = textable_at


def contact_fields(contact: ContactOnCard) -> dict[str, Any]:
    """The fields a script may use; the standard ones win over same-named custom columns."""
    fields: dict[str, Any] = dict(contact.custom_fields or {})
    fields.update(
        firstName=contact.first_name,
        lastName=contact.last_name,
        zip=contact.zip,
        cell=contact.cell,
    )
    return fields


def display_name(contact: ContactOnCard) -> str:
    return f"{contact.first_name} {contact.last_name}".strip() or contact.cell


def zone_name(contact_zone: str | None, campaign_zone: str) -> str:
    for name in (contact_zone, campaign_zone):
        if name:
            try:
                ZoneInfo(name)
                return name
            except (ZoneInfoNotFoundError, ValueError):
                continue  # an unknown zone falls back to the campaign's, never crashes a send
    return "UTC"


def textable_at(campaign: Campaign | CardCampaign, zone: str, now: datetime) -> datetime | None:
    """None when the contact may be texted now, else when texting hours next open."""
    start, end = campaign.texting_hours_start, campaign.texting_hours_end
    if start is None or end is None or is_textable_now(start, end, zone, now):
        return None
    return next_window_start(start, end, zone, now)


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'AM' if moment.hour < 12 else 'PM'}"


def hours_note(
    campaign: Campaign | CardCampaign, contact: ContactOnCard, now: datetime
) -> tuple[str, datetime] | None:
    """None inside texting hours; else the sentence saying until when, and that moment."""
    zone = zone_name(contact.timezone, campaign.timezone)
    when = textable_at(campaign, zone, now)
    if when is None:
        return None
    day = (
        "today" if when.date() == now.astimezone(when.tzinfo).date() else f"{when:%A %B} {when.day}"
    )
    sentence = (
        f"It's outside texting hours for {display_name(contact)} "
        f"({campaign.texting_hours_start}:00-{campaign.texting_hours_end}:00 their time). "
        f"You can text them from {_clock(when)} {day} ({zone})."
    )
    return sentence, when


def check_texting_hours(campaign: Campaign, contact: CampaignContact, now: datetime) -> None:
    note = hours_note(campaign, contact, now)
    if note is not None:
        raise OutsideTextingHours(*note)


def load_contact(session: Session, contact_id: int, lock: bool) -> CampaignContact:
    query = select(CampaignContact).where(CampaignContact.id == contact_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        # Serialises two clicks on the same contact; SQLite's BEGIN IMMEDIATE already does.
        query = query.with_for_update()
    contact = session.scalar(query)
    if contact is None:
        raise NotFound("That contact no longer exists.")
    return contact


def campaign_of(session: Session, contact: CampaignContact) -> Campaign:
    campaign = session.get(Campaign, contact.campaign_id)
    if campaign is None:  # impossible through the foreign key; a clear error if it happens
        raise NotFound("That contact's campaign no longer exists.")
    return campaign


class Unknown:
    """Not read yet (None is a meaningful role: not a member)."""


UNKNOWN = Unknown()


def require_owner(
    session: Session,
    contact: CampaignContact,
    campaign: Campaign,
    user_id: int,
    staff_ok: bool,
    *,
    known_role: Role | Unknown | None = UNKNOWN,
    own_assignment_id: int | None = None,
) -> Assignment | None:
    """The contact's assignment if `user_id` owns it; staff may act on any contact of their
    organization when `staff_ok`. Suspended members may do nothing. A caller that already
    read the role in the organization, or the user's assignment in the campaign, says so."""
    role = (
        member_role(session, user_id, campaign.organization_id)
        if isinstance(known_role, Unknown)
        else known_role
    )
    if role is None or role == Role.SUSPENDED:
        raise NotAllowed("You're not an active member of this campaign's organization.")
    if own_assignment_id is not None and contact.assignment_id == own_assignment_id:
        return None  # theirs (the caller holds the assignment)
    assignment = session.get(Assignment, contact.assignment_id) if contact.assignment_id else None
    if assignment is not None and assignment.user_id == user_id:
        return assignment
    if staff_ok and role.at_least(STAFF):
        return assignment
    raise NotAllowed(
        f"{display_name(contact)} is not assigned to you anymore, so you can't text them."
    )


def refuse_opted_out(session: Session, contact: CampaignContact, campaign: Campaign) -> None:
    if contact.is_opted_out or is_cell_opted_out(session, campaign.organization_id, contact.cell):
        raise Conflict(f"{display_name(contact)} has opted out; they can't be texted again.")


def refuse_archived(campaign: Campaign) -> None:
    if campaign.is_archived:
        raise Conflict("This campaign is archived, so no more texts can be sent in it.")


def checked_text(text: str, what: str) -> str:
    body = text.strip()
    if not body:
        raise InvalidInput(f"The {what} can't be empty.")
    if len(body) > MAX_SMS_LENGTH:
        raise InvalidInput(
            f"The {what} is {len(body)} characters; the most one text can carry is "
            f"{MAX_SMS_LENGTH}."
        )
    return body


def texter_name(session: Session, user_id: int) -> str:
    return session.scalar(select(User.name).where(User.id == user_id)) or ""


def can_edit(campaign: Campaign | CardCampaign) -> bool:
    return bool((campaign.settings or {}).get("allow_edit_initial", True))
