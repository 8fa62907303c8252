"""Helpers for the texting loop's core tests (tests/test_texting_service_*.py): one texter
holding a few contacts of a launched campaign, and reading contacts and messages back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from core.db import Database
from core.models import CampaignContact, Message
from tests.support.world import (
    Member,
    add_contacts,
    build_world,
)

# 15:00 UTC on a Monday in November is 10:00 in New York and 07:00 in Los Angeles.
MORNING_NY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@dataclass
class Texting:
    db: Database
    org_id: int
    campaign_id: int
    user_id: int
    assignment_id: int
    contact_ids: list[int]


def service_world(
    db: Database, contacts: int = 3, texting_hours: str | None = None, **contact_options
) -> Texting:
    built = build_world(
        db, members=[Member("UTEXTER", "Ada Lovelace")], texting_hours=texting_hours
    )
    assignment_id = built.assignment("UTEXTER")
    campaign_id = built.campaign_id
    ids = add_contacts(db, campaign_id, contacts, assignment_id=assignment_id, **contact_options)
    return Texting(db, built.org_id, campaign_id, built.user("UTEXTER"), assignment_id, ids)


def contact_row(db: Database, contact_id: int) -> CampaignContact:
    with db.uow(read_only=True) as uow:
        contact = uow.session.get(CampaignContact, contact_id)
        assert contact is not None
        return contact


def stored_messages(db: Database, contact_id: int) -> list[Message]:
    with db.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(Message)
                .where(Message.campaign_contact_id == contact_id)
                .order_by(Message.id)
            )
        )
