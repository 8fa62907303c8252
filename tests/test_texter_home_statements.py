"""Home's data comes from one set of queries, not one check per campaign: a texter in five
campaigns costs Home no more statements than a texter in one (while each campaign's
eligibility is settled by what they hold), and identity writes nothing when nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from core.db import Database
from core.roles import Role
from core.services.batches import request_batch
from core.services.identity import identify
from core.services.texter_home import open_home
from core.statuses import MessageStatus
from tests.support.conversations import TAKE
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

TEXTER = "UHOME"


@contextmanager
def statements_run(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _holding_in(db: Database, org: int, user_id: int, campaigns: int) -> None:
    for i in range(campaigns):
        campaign_id = make_campaign(db, org, batch_size=2, title=f"Campaign {i}")
        add_contacts(db, campaign_id, 4, prefix=f"+1202{i:03d}")
        make_assignment(db, campaign_id, user_id)
        assert request_batch(db, campaign_id, user_id).assigned == 2


def _home_statements(db: Database, campaigns: int) -> int:
    org = make_org(db, team=f"T{campaigns}")
    user_id = make_texter(db, org, f"{TEXTER}{campaigns}", name="Ada")
    _holding_in(db, org, user_id, campaigns)
    with statements_run(db) as seen:
        home = open_home(db, f"T{campaigns}", f"{TEXTER}{campaigns}", "Ada")
    assert len(home.campaigns) == campaigns
    assert all(c.unsent == 2 and not c.eligibility.can_request for c in home.campaigns)
    return len(seen)


def test_home_reads_every_campaign_with_the_same_statements(db: Database) -> None:
    assert _home_statements(db, 5) == _home_statements(db, 1)


def _vetted_home_statements(db: Database, campaigns: int) -> int:
    """A vetted texter in `campaigns` campaigns that let them take conversations."""
    org = make_org(db, team=f"V{campaigns}")
    user_id = make_texter(db, org, f"UVET{campaigns}", Role.VETTED_TEXTER, name="Vera")
    for i in range(campaigns):
        campaign_id = make_campaign(db, org, title=f"Campaign {i}", strategies=TAKE)
        add_contacts(db, campaign_id, i + 1, status=MessageStatus.NEEDS_RESPONSE)
        # Holding first texts, so each campaign's eligibility is settled by what they hold.
        held = make_assignment(db, campaign_id, user_id)
        add_contacts(db, campaign_id, 2, assignment_id=held, start=10)
    with statements_run(db) as seen:
        home = open_home(db, f"V{campaigns}", f"UVET{campaigns}", "Vera")
    assert [c.waiting_to_take for c in home.campaigns] == list(range(campaigns, 0, -1))
    assert all(c.can_take_conversations for c in home.campaigns)
    return len(seen)


def test_conversations_to_take_cost_home_the_same_statements(db: Database) -> None:
    assert _vetted_home_statements(db, 3) == _vetted_home_statements(db, 1)


def test_identity_writes_only_when_something_changed(db: Database) -> None:
    org = make_org(db)
    make_texter(db, org, TEXTER, name="Ada")
    with statements_run(db) as seen:
        identity = identify(db, "T1", TEXTER, "Ada")
    assert identity.name == "Ada"
    assert not [s for s in seen if s.split()[0].upper() in ("INSERT", "UPDATE")]
    assert not [s for s in seen if "IMMEDIATE" in s.upper()]  # SQLite: no write lock taken
    with statements_run(db) as seen:
        assert identify(db, "T1", TEXTER, "Ada L.").name == "Ada L."
    assert [s for s in seen if s.split()[0].upper() == "UPDATE"]
    with statements_run(db) as seen:
        newcomer = identify(db, "T1", "UNEW", "Grace")
    assert newcomer.role is None and newcomer.created
    assert [s for s in seen if s.split()[0].upper() == "INSERT"]
    assert identify(db, "T1", "UNEW", "Grace").user_id == newcomer.user_id
