"""A batch request decides on counts it read without a lock; its claim goes ahead only if what
the texter holds has not changed since (the assignment's holdings_version).

These tests hold the assignment's lock in another transaction that changes the holdings (a
double click's first claim; a reassign to the texter), make a request's claim wait behind it
(seen in pg_stat_activity), let the first commit, and check what the waiting request decided.
PostgreSQL only: SQLite runs one writer at a time, so nobody decides on stale counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import Database
from core.models import Assignment
from core.refusals import RefusalReason
from core.services.batch_inputs import KNOWN_ASSIGNMENTS, read_texter_in_campaign
from core.services.batches import BatchResult, request_batch, request_batch_in
from core.services.claim_floor import claim_floors
from core.services.contact_pool import SqlContactPool
from core.services.holdings import lock_holdings
from core.statuses import MessageStatus
from strategies.base import DEFAULT_SELECTION
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

BATCH = 3
INITIALS = frozenset({MessageStatus.NEEDS_MESSAGE})
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@pytest.fixture
def pg(db: Database) -> Database:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and snapshots are PostgreSQL's")
    return db


def _world(db: Database) -> tuple[int, int, int]:
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=BATCH)
    add_contacts(db, campaign_id, 20)
    texter = make_texter(db, org, "UTEXTER")
    assignment_id = make_assignment(db, campaign_id, texter)
    # As in a running process: the assignment is known, so the request counts what the
    # texter holds in its first statement.
    KNOWN_ASSIGNMENTS.remember(campaign_id, texter, assignment_id)
    return campaign_id, texter, assignment_id


def _in_a_transaction(db: Database, campaign_id: int, texter: int) -> BatchResult:
    # As a Slack click's use case runs it: inside the click's one transaction.
    with db.engine.connect() as connection:
        result = request_batch_in(connection, campaign_id, texter, now=NOW)
        connection.commit()
        return result


def _alone(db: Database, campaign_id: int, texter: int) -> BatchResult:
    return request_batch(db, campaign_id, texter, now=NOW)


@pytest.fixture(params=[_alone, _in_a_transaction], ids=["alone", "in-a-transaction"])
def waiter(request: pytest.FixtureRequest) -> Callable[[Database, int, int], BatchResult]:
    return request.param


def _request_behind(
    db: Database, campaign_id: int, texter: int, waiter: Callable[[Database, int, int], BatchResult]
) -> tuple[threading.Thread, list]:
    results: list[BatchResult] = []
    thread = threading.Thread(target=lambda: results.append(waiter(db, campaign_id, texter)))
    thread.start()
    deadline = time.monotonic() + 10
    with db.engine.connect() as conn:
        while True:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            conn.rollback()
            if waiting:
                return thread, results
            assert time.monotonic() < deadline, "the request never waited for the lock"
            time.sleep(0.01)


def _held(db: Database, assignment_id: int) -> int:
    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM campaign_contact WHERE assignment_id = :a"),
            {"a": assignment_id},
        ).scalar_one()


def test_a_double_clicks_second_request_sees_the_batch_the_first_claimed(
    pg: Database, waiter: Callable[[Database, int, int], BatchResult]
) -> None:
    campaign_id, texter, assignment_id = _world(pg)
    with pg.engine.connect() as first:
        got = request_batch_in(first, campaign_id, texter, now=NOW)  # holds the lock
        assert got.assigned == BATCH
        thread, results = _request_behind(pg, campaign_id, texter, waiter)
        first.commit()
    thread.join(10)
    (second,) = results
    assert second.assigned == 0
    assert second.refusal is not None
    assert second.refusal.reason == RefusalReason.UNSENT_INITIALS_HELD
    assert _held(pg, assignment_id) == BATCH


def test_a_request_behind_a_reassign_to_the_texter_sees_what_it_gave(
    pg: Database, waiter: Callable[[Database, int, int], BatchResult]
) -> None:
    campaign_id, texter, assignment_id = _world(pg)
    with Session(pg.engine) as session:
        # What a reassign to this texter does under the lock: take it, hand contacts over.
        assert lock_holdings(
            session, Assignment.campaign_id == campaign_id, Assignment.user_id == texter
        )
        given = session.scalars(
            text(
                "UPDATE campaign_contact SET assignment_id = :a WHERE id IN "
                "(SELECT id FROM campaign_contact WHERE campaign_id = :c ORDER BY id LIMIT 2) "
                "RETURNING id"
            ),
            {"a": assignment_id, "c": campaign_id},
        ).all()
        thread, results = _request_behind(pg, campaign_id, texter, waiter)
        session.commit()
    thread.join(10)
    (request,) = results
    assert request.assigned == 0
    assert request.refusal is not None
    assert request.refusal.reason == RefusalReason.UNSENT_INITIALS_HELD
    assert request.refusal.message.startswith("You still have 2 first texts")
    assert _held(pg, assignment_id) == len(given) == 2


def test_a_claim_refused_for_a_moved_version_gives_its_share_back(pg: Database) -> None:
    """A claim books its share past the claims in flight; refused (the holdings moved), it
    took nothing there, so the next claim starts from the floor again, not past a gap."""
    campaign_id, texter, assignment_id = _world(pg)
    floors = claim_floors(pg.engine)
    floors.reached(campaign_id, INITIALS, 0)
    with pg.engine.connect() as connection:
        info = read_texter_in_campaign(connection, campaign_id, texter)
        assert info is not None
        texter_in_campaign, _ = info
        stale = SqlContactPool(
            connection, texter_in_campaign.campaign, assignment_id, NOW, holdings_version=-1
        )
        assert stale.claim(DEFAULT_SELECTION, BATCH) is None
        connection.rollback()
    assert floors.starts(campaign_id, INITIALS, BATCH) == (0, 0)
    assert _held(pg, assignment_id) == 0
