"""Conversations with DM threads, ready for thread answers (the durable inbox's tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select

from core.db import Database
from core.models import Message, SlackInbox
from core.services.threads import save_thread
from core.statuses import MessageStatus
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import TEAM, event_envelope, serve_env
from tests.support.world import Member, build_world

TEXTER = "UTEXTER1"
DM = "D" + TEXTER


@dataclass
class Conversations:
    contact_ids: list[int]
    thread_ts: list[str]


def conversations(db: Database, count: int) -> Conversations:
    built = build_world(
        db,
        members=[Member(TEXTER, "Ada")],
        contacts=count,
        contact_status=MessageStatus.NEEDS_RESPONSE,
        contacts_held_by=TEXTER,
    )
    ids, user_id = built.contact_ids, built.user(TEXTER)
    stamps = []
    for i, contact_id in enumerate(ids):
        ts = f"1700000000.{i:06d}"
        save_thread(db, contact_id, user_id, DM, ts)
        stamps.append(ts)
    return Conversations(ids, stamps)


def thread_answer(thread_ts: str, text: str, event_id: str) -> bytes:
    """A signed-ready Events API body: the texter answering in a contact's thread."""
    ts = f"{time.time():.6f}"
    event = {
        "type": "message",
        "channel": DM,
        "channel_type": "im",
        "user": TEXTER,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "team": TEAM,
    }
    return event_envelope(event, event_id)


def replies_per_contact(db: Database) -> dict[int, int]:
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(Message.campaign_contact_id, func.count())
            .where(Message.direction == "outbound")
            .group_by(Message.campaign_contact_id)
        ).all()
        return {contact_id: count for contact_id, count in rows}


def inbox_statuses(db: Database) -> dict[str, int]:
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(SlackInbox.status, func.count()).group_by(SlackInbox.status)
        ).all()
        return {status: count for status, count in rows}


def inbox_serve_env(database_url: str, fake_slack: FakeSlack, **settings: str) -> dict[str, str]:
    """serve_env for a `spokebot serve` that tests stop or kill mid-work: a few inbox workers,
    a 3 s lease (what a killed process held is worked again soon) and a long drain."""
    return serve_env(
        database_url,
        fake_slack,
        INBOX_WORKERS="4",
        INBOX_LEASE_SECONDS="3",
        SHUTDOWN_DRAIN_SECONDS="20",
        **settings,
    )
