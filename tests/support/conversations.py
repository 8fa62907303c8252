"""Set-up for conversation tests: a campaign whose strategies let vetted texters take
conversations, and contacts already in conversation with a texter who let them go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from core.db import Database
from core.models import Campaign, Message
from core.roles import Role
from core.statuses import MessageStatus
from tests.support.slack_harness import SlackHarness
from tests.support.world import Member, add_contacts, build_world

TAKE = ["finished-replies", "vetted-takeconversations"]
VETTED = "UVET"
FIRST_TEAM = "UFIRST"
START = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)


@dataclass
class Pool:
    org_id: int
    campaign_id: int
    first_texter: int  # who sent the first texts, then let the conversations go
    vetted: int
    contact_ids: list[int]


def set_campaign_settings(db: Database, campaign_id: int, **values: Any) -> None:
    with db.uow() as uow:
        campaign = uow.session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.settings = {**(campaign.settings or {}), **values}
        uow.commit()


def add_history(
    db: Database, contact_id: int, sender: int, replied_at: datetime, text: str = "Who is this?"
) -> None:
    """A first text from `sender` an hour before the contact's reply at `replied_at`."""
    with db.uow() as uow:
        uow.session.execute(
            insert(Message),
            [
                {
                    "campaign_contact_id": contact_id,
                    "user_id": sender,
                    "direction": "outbound",
                    "text": "Hi, it's Fran from the campaign!",
                    "status": "delivered",
                    "created_at": replied_at - timedelta(hours=1),
                },
                {
                    "campaign_contact_id": contact_id,
                    "user_id": None,
                    "direction": "inbound",
                    "text": text,
                    "status": "received",
                    "created_at": replied_at,
                },
            ],
        )
        uow.commit()


def conversation_pool(
    slack: SlackHarness | Database,
    *,
    replies: int = 3,
    convos: int = 0,
    strategies: list[str] | None = None,
    vetted_role: Role = Role.VETTED_TEXTER,
) -> Pool:
    """`replies` unassigned needsResponse contacts (the later ids replied earlier) and
    `convos` unassigned convo contacts, all first texted by Fran."""
    db = slack.db if isinstance(slack, SlackHarness) else slack
    built = build_world(
        db,
        members=[
            Member(FIRST_TEAM, "Fran"),
            Member(VETTED, "Vera", vetted_role, joined=False),
            Member("UADMIN", "Ada", Role.ADMIN, joined=False),
        ],
        contacts=replies,
        contact_status=MessageStatus.NEEDS_RESPONSE,
        strategies=strategies or TAKE,
        batch_size=5,
    )
    org, campaign_id = built.org_id, built.campaign_id
    first, vetted = built.user(FIRST_TEAM), built.user(VETTED)
    ids = list(built.contact_ids)
    if convos:
        ids += add_contacts(db, campaign_id, convos, status=MessageStatus.CONVO, start=replies)
    for n, contact_id in enumerate(ids):
        add_history(db, contact_id, first, START - timedelta(minutes=n), f"Reply number {n}")
    return Pool(org, campaign_id, first, vetted, ids)
