"""Builders for test data, going through the real services and the real database.

`build_world` makes a campaign world (an organization, its members, a campaign and its
contacts) with options; the single-row builders below (`make_org`, `make_campaign`, ...) are
what it is made of, for tests that need one more row or an unusual shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from core.db import Database
from core.models import Assignment, Campaign, CampaignContact
from core.roles import Role
from core.services.campaigns import CampaignSpec, TextingHours, create_campaign
from core.services.organizations import add_member, create_organization
from core.statuses import MessageStatus


@dataclass(frozen=True)
class Member:
    """A person of the organization: a Slack user with a role, who may have joined the campaign."""

    slack_id: str
    name: str = ""  # "" for "Texter <slack id>"
    role: Role = Role.TEXTER
    joined: bool = True  # holds an assignment in the campaign
    max_contacts: int | None = None  # the assignment's cap


@dataclass
class World:
    db: Database
    org_id: int
    campaign_id: int
    users: dict[str, int] = field(default_factory=dict)  # Slack id -> user id, every member
    assignments: dict[str, int] = field(default_factory=dict)  # Slack id -> assignment id
    contact_ids: list[int] = field(default_factory=list)

    def user(self, slack_id: str) -> int:
        return self.users[slack_id]

    def assignment(self, slack_id: str) -> int:
        return self.assignments[slack_id]


def build_world(
    db: Database,
    *,
    members: Sequence[Member | str] = (),
    contacts: int = 0,
    contact_status: MessageStatus = MessageStatus.NEEDS_MESSAGE,
    contacts_held_by: str | None = None,
    team: str = "T1",
    org_settings: dict[str, Any] | None = None,
    **campaign: Any,
) -> World:
    """An organization of workspace `team`, one campaign (options as `make_campaign`), its
    `members` in order (a bare Slack id is a texter who joined), then `contacts` contacts in
    `contact_status`, held by `contacts_held_by`'s assignment when given."""
    org_id = make_org(db, team, **(org_settings or {}))
    campaign_id = make_campaign(db, org_id, **campaign)
    world = World(db, org_id, campaign_id)
    for member in members:
        person = Member(member) if isinstance(member, str) else member
        user_id = make_texter(db, org_id, person.slack_id, person.role, name=person.name)
        world.users[person.slack_id] = user_id
        if person.joined:
            world.assignments[person.slack_id] = make_assignment(
                db, campaign_id, user_id, person.max_contacts
            )
    if contacts:
        holder = world.assignments[contacts_held_by] if contacts_held_by else None
        world.contact_ids = add_contacts(
            db, campaign_id, contacts, status=contact_status, assignment_id=holder
        )
    return world


def make_org(db: Database, team: str = "T1", **settings: Any) -> int:
    from core.services.organizations import set_organization_setting

    org_id = create_organization(db, f"Org {team}", team)
    for key, value in settings.items():
        set_organization_setting(db, org_id, key, str(value))
    return org_id


def make_campaign(
    db: Database,
    org_id: int,
    *,
    started: bool = True,
    batch_size: int | None = 200,
    strategies: list[str] | None = None,
    dynamic: bool = True,
    texting_hours: str | None = None,
    timezone: str = "America/New_York",
    title: str = "GOTV",
    script: str = "Hi {firstName}, it's {texterFirstName}. Can we count on your vote?",
) -> int:
    campaign_id = create_campaign(
        db,
        CampaignSpec(
            organization_id=org_id,
            title=title,
            script=script,
            description="Get out the vote",
            batch_size=batch_size if batch_size is not None else 1,
            use_dynamic_assignment=dynamic,
            strategies=strategies,
            texting_hours=TextingHours.parse(texting_hours) if texting_hours else None,
            timezone=timezone,
        ),
    )
    if batch_size is None or started:
        from core.models import Campaign

        with db.uow() as uow:
            campaign = uow.session.get(Campaign, campaign_id)
            assert campaign is not None
            campaign.batch_size = batch_size
            campaign.is_started = started
            uow.commit()
    return campaign_id


def add_contacts(
    db: Database,
    campaign_id: int,
    count: int,
    *,
    status: MessageStatus = MessageStatus.NEEDS_MESSAGE,
    assignment_id: int | None = None,
    opted_out: bool = False,
    timezone: str | None = None,
    start: int = 0,
    prefix: str = "+1202555",
) -> list[int]:
    rows: Iterable[dict[str, Any]] = [
        {
            "campaign_id": campaign_id,
            "assignment_id": assignment_id,
            "first_name": f"Contact{start + i}",
            "last_name": "Test",
            "cell": f"{prefix}{start + i:04d}",
            "zip": "10001",
            "custom_fields": {},
            "timezone": timezone,
            "message_status": status.value,
            "is_opted_out": opted_out,
        }
        for i in range(count)
    ]
    with db.uow() as uow:
        ids = list(
            uow.session.scalars(insert(CampaignContact).returning(CampaignContact.id), list(rows))
        )
        if status != MessageStatus.NEEDS_MESSAGE:
            # Contacts made as already texted: their numbers were texted (as a send records).
            from core.services.outbox import remember_texted

            org_id = uow.session.get(Campaign, campaign_id).organization_id
            for contact_id, i in zip(ids, range(count), strict=True):
                cell = f"{prefix}{start + i:04d}"
                remember_texted(uow.session, cell, contact_id, org_id, datetime.now(UTC))
        uow.commit()
    return ids


def make_texter(
    db: Database, org_id: int, slack_user_id: str, role: Role = Role.TEXTER, name: str = ""
) -> int:
    return add_member(db, org_id, slack_user_id, name or f"Texter {slack_user_id}", role).user_id


def make_assignment(
    db: Database, campaign_id: int, user_id: int, max_contacts: int | None = None
) -> int:
    with db.uow() as uow:
        assignment = Assignment(campaign_id=campaign_id, user_id=user_id, max_contacts=max_contacts)
        uow.session.add(assignment)
        uow.session.flush()
        uow.commit()
        return assignment.id


def set_status(db: Database, contact_ids: list[int], status: MessageStatus) -> None:
    """Move contacts to a status directly, standing in for sends and replies."""
    from sqlalchemy import update

    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id.in_(contact_ids))
            .values(message_status=status.value)
        )
        uow.commit()
