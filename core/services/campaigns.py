"""Creating, configuring, launching and listing campaigns."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Campaign, CampaignContact
from core.script_check import check_script
from core.services.organizations import get_organization
from strategies.registry import validate_strategy_names

# 192 bits: well past the 128-bit floor for an unguessable link.
JOIN_TOKEN_BYTES = 24
DEFAULT_BATCH_SIZE = 200
EN_DASH = "\N{EN DASH}"
DEFAULT_TIMEZONE = "America/New_York"


def new_join_token() -> str:
    return secrets.token_urlsafe(JOIN_TOKEN_BYTES)


@dataclass(frozen=True)
class TextingHours:
    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> TextingHours:
        # [0-9], not \d: \d also matches "٩", which int() reads (core.ascii_digits).
        match = re.fullmatch(r"\s*([0-9]{1,2})\s*-\s*([0-9]{1,2})\s*", text)
        if not match:
            raise InvalidInput(f"texting hours {text!r} should look like 9-21 (start-end, 0-24)")
        start, end = int(match[1]), int(match[2])
        if not (0 <= start < end <= 24):
            raise InvalidInput(
                f"texting hours {text!r}: the start must be before the end, both within 0-24"
            )
        return cls(start, end)

    def describe(self, timezone: str) -> str:
        """'9 AM-9 PM America/New_York' (with an en dash)."""
        return f"{clock_hour(self.start)}{EN_DASH}{clock_hour(self.end)} {timezone}"


# Spoke's default: a campaign texts from 9 AM to 9 PM in its time zone unless told otherwise.
DEFAULT_TEXTING_HOURS = TextingHours(9, 21)
NO_LIMIT_WORDS = ("any", "none", "all")


def parse_texting_hours(text: str) -> TextingHours | None:
    """'9-21' -> 9 to 21; 'any' (or empty) -> no limit."""
    if text.strip().lower() in ("", *NO_LIMIT_WORDS):
        return None
    return TextingHours.parse(text)


def clock_hour(hour: int) -> str:
    """0 -> '12 AM', 9 -> '9 AM', 21 -> '9 PM', 24 -> '12 AM' (midnight)."""
    hour %= 24
    return f"{hour % 12 or 12} {'AM' if hour < 12 else 'PM'}"


def texting_hours_words(start: int | None, end: int | None, timezone: str) -> str:
    """How a campaign's texting hours read to people: '9 AM-9 PM America/New_York', or
    'any time (no texting hours)'."""
    if start is None or end is None:
        return "any time (no texting hours)"
    return TextingHours(start, end).describe(timezone)


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r}; use an IANA name like America/New_York"
        ) from None
    return name


def validate_batch_size(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InvalidInput(f"batch size must be 1 or more, not {value}")
    return value


MAX_CONVERSATIONS_PER_TAKE = 1000
TAKE_STRATEGY = "vetted-takeconversations"


def validate_conversations_per_take(value: int) -> int:
    if not 1 <= value <= MAX_CONVERSATIONS_PER_TAKE:
        raise InvalidInput(
            f"conversations per take must be 1 to {MAX_CONVERSATIONS_PER_TAKE}, not {value}"
        )
    return value


def validate_split_assignments(on: bool, strategies: Sequence[str] | None) -> bool:
    """Split assignments only make sense when someone can take the replies."""
    if on and TAKE_STRATEGY not in (strategies or []):
        raise InvalidInput(
            "replies can go to the conversation team only when the campaign's strategies "
            f"include {TAKE_STRATEGY} (vetted texters take the replies)"
        )
    return on


def validate_strategies(names: Sequence[str] | None) -> list[str] | None:
    if not names:
        return None
    try:
        return validate_strategy_names(names)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


@dataclass(frozen=True)
class CampaignSpec:
    organization_id: int
    title: str
    script: str
    description: str = ""
    batch_size: int | None = DEFAULT_BATCH_SIZE
    use_dynamic_assignment: bool = True
    strategies: Sequence[str] | None = None
    texting_hours: TextingHours | None = None
    timezone: str = "America/New_York"
    settings: dict[str, object] = field(default_factory=dict)
    conversations_per_take: int | None = None  # None: the default (10)
    split_assignments: bool = False  # replies go to the conversation team


def create_campaign(db: Database, spec: CampaignSpec) -> int:
    with db.uow() as uow:
        campaign = add_campaign(uow.session, spec)
        uow.commit()
        return campaign.id


def add_campaign(session: Session, spec: CampaignSpec) -> Campaign:
    """A new campaign in the caller's transaction (flushed, so it has its id)."""
    title = spec.title.strip()
    if not title:
        raise InvalidInput("a campaign needs a title")
    settings = dict(spec.settings)
    if spec.conversations_per_take is not None:
        settings["conversations_per_take"] = validate_conversations_per_take(
            spec.conversations_per_take
        )
    if spec.split_assignments:
        validate_split_assignments(True, spec.strategies)
        settings["split_assignments"] = True
    get_organization(session, spec.organization_id)
    campaign = Campaign(
        organization_id=spec.organization_id,
        title=title,
        description=spec.description.strip(),
        script=spec.script,
        batch_size=validate_batch_size(spec.batch_size),
        use_dynamic_assignment=spec.use_dynamic_assignment,
        batch_strategies=validate_strategies(spec.strategies),
        texting_hours_start=spec.texting_hours.start if spec.texting_hours else None,
        texting_hours_end=spec.texting_hours.end if spec.texting_hours else None,
        timezone=validate_timezone(spec.timezone),
        join_token=new_join_token(),
        settings=settings,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(
    session: Session, campaign_id: int, organization_id: int | None = None
) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or (
        organization_id is not None and campaign.organization_id != organization_id
    ):
        raise NotFound(f"no campaign with id {campaign_id}")
    return campaign


def launch_campaign(db: Database, campaign_id: int, organization_id: int | None = None) -> None:
    with db.uow() as uow:
        start_campaign(uow.session, get_campaign(uow.session, campaign_id, organization_id))
        uow.commit()


def start_campaign(session: Session, campaign: Campaign) -> None:
    """Launch, in the caller's transaction; Conflict when it isn't ready."""
    campaign_id = campaign.id
    if campaign.is_archived:
        raise Conflict(f"campaign {campaign_id} is archived and can't be launched")
    if not campaign.script.strip():
        raise Conflict(f"campaign {campaign_id} has no script; add the first text first")
    columns = contact_columns(session, campaign_id)
    if columns is None:
        raise Conflict(f"campaign {campaign_id} has no contacts; import some first")
    check = check_script(campaign.script, columns)
    if check.unknown:
        raise Conflict(
            f"campaign {campaign_id} can't be launched: {check.sentence()} Fix the script first."
        )
    campaign.is_started = True


def rotate_join_token(db: Database, campaign_id: int, organization_id: int | None = None) -> str:
    """A new token; every earlier join link stops working."""
    with db.uow() as uow:
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        campaign.join_token = new_join_token()
        uow.commit()
        return campaign.join_token


@dataclass(frozen=True)
class CampaignSummary:
    id: int
    organization_id: int
    title: str
    is_started: bool
    is_archived: bool
    use_dynamic_assignment: bool
    batch_size: int | None
    texting_hours_start: int | None = None
    texting_hours_end: int | None = None
    timezone: str = "America/New_York"

    @property
    def texting_hours(self) -> str:
        return texting_hours_words(self.texting_hours_start, self.texting_hours_end, self.timezone)

    @property
    def status(self) -> str:
        if self.is_archived:
            return "archived"
        return "launched" if self.is_started else "not launched"


def campaign_summary(campaign: Campaign) -> CampaignSummary:
    return CampaignSummary(
        campaign.id,
        campaign.organization_id,
        campaign.title,
        campaign.is_started,
        campaign.is_archived,
        campaign.use_dynamic_assignment,
        campaign.batch_size,
        campaign.texting_hours_start,
        campaign.texting_hours_end,
        campaign.timezone,
    )


def list_campaigns(db: Database, organization_id: int | None = None) -> list[CampaignSummary]:
    with db.uow(read_only=True) as uow:
        return campaign_summaries(uow.session, organization_id)


def campaign_summaries(
    session: Session, organization_id: int | None = None
) -> list[CampaignSummary]:
    query = select(Campaign).order_by(Campaign.id)
    if organization_id is not None:
        query = query.where(Campaign.organization_id == organization_id)
    return [campaign_summary(c) for c in session.scalars(query)]


def contact_columns(session: Session, campaign_id: int) -> list[str] | None:
    """The custom columns the campaign's contacts carry; None before any import.

    Every row of one import has the same columns, so the first and the last contact stand
    for the imports (reading every row's keys would scan a million-contact campaign)."""
    first_last = session.execute(
        select(func.min(CampaignContact.id), func.max(CampaignContact.id)).where(
            CampaignContact.campaign_id == campaign_id
        )
    ).one()
    if first_last[0] is None:
        return None
    rows = session.scalars(
        select(CampaignContact.custom_fields).where(CampaignContact.id.in_(set(first_last)))
    )
    return sorted({str(key) for fields in rows for key in (fields or {})})


def first_contact_fields(session: Session, campaign_id: int) -> dict[str, Any] | None:
    """The script fields of the campaign's first contact (for previews); None if none."""
    contact = session.scalar(
        select(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id)
        .order_by(CampaignContact.id)
        .limit(1)
    )
    if contact is None:
        return None
    fields: dict[str, Any] = dict(contact.custom_fields or {})
    fields.update(
        firstName=contact.first_name, lastName=contact.last_name, zip=contact.zip, cell=contact.cell
    )
    return fields
