"""The batch request runs a fixed set of statements: few per request, and the same SQL texts
every time, so SQLAlchemy's compiled cache and psycopg's prepared statements apply.

Texting hours are on and the clock moves 5 minutes a request: the zones inside texting hours
change every 15 minutes, so a statement that rendered them as a list (an expanding IN) would
show up as a new SQL text, and as hundreds of parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from core.db import Database
from core.refusals import RefusalReason
from core.services.batch_inputs import KNOWN_ASSIGNMENTS
from core.services.batches import request_batch
from core.services.claim_floor import claim_floors
from core.statuses import MessageStatus
from tests.support.world import (
    add_contacts,
    make_assignment,
    make_campaign,
    make_org,
    make_texter,
    set_status,
)

REQUESTS = 50
BATCH = 5
# 15:00 UTC is 10:00 in New York (inside 9-21) and midnight in Tokyo (outside); 50 requests
# 5 minutes apart stay inside New York's hours and outside Tokyo's.
START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
# Lock, read and count what the texter holds; count the replies waiting within texting hours
# (one waits); claim. SQLite adds its BEGIN IMMEDIATE, which goes through the cursor too.
STATEMENTS = {"postgresql": 3, "sqlite": 4}
# With no reply waiting there is nothing to count within texting hours.
STATEMENTS_NOTHING_WAITING = {"postgresql": 2, "sqlite": 3}
MOST_PARAMETERS = 10


@contextmanager
def statements_run(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.mark.parametrize("strategy", ["finished-replies", "finished-replies-tz"])
def test_batch_requests_run_the_same_few_statements(db: Database, strategy: str) -> None:
    org = make_org(db)
    campaign_id = make_campaign(
        db, org, batch_size=BATCH, strategies=[strategy], texting_hours="9-21"
    )
    add_contacts(db, campaign_id, REQUESTS * BATCH)
    texter = make_texter(db, org, "UTEXTER")
    assignment_id = make_assignment(db, campaign_id, texter)
    # A reply waiting in Tokyo, where it is night: it must not block a batch, so the request
    # has to count replies within texting hours, not all of them.
    add_contacts(
        db,
        campaign_id,
        1,
        status=MessageStatus.NEEDS_RESPONSE,
        assignment_id=assignment_id,
        timezone="Asia/Tokyo",
        start=9000,
    )
    # As after an earlier request in this process: every request then claims from the floor
    # and knows the texter's assignment, so even the first runs the statements all later run.
    claim_floors(db.engine).reached(campaign_id, frozenset({MessageStatus.NEEDS_MESSAGE}), 0)
    KNOWN_ASSIGNMENTS.remember(campaign_id, texter, assignment_id)

    per_request: list[list[tuple[str, Any]]] = []
    for i in range(REQUESTS):
        with statements_run(db) as seen:
            result = request_batch(db, campaign_id, texter, now=START + timedelta(minutes=5 * i))
        assert result.assigned == BATCH, result.refusal
        per_request.append(seen)
        set_status(db, result.contact_ids, MessageStatus.MESSAGED)  # the texter sends them

    budget = STATEMENTS[db.engine.dialect.name]
    assert [len(seen) for seen in per_request] == [budget] * REQUESTS
    first_texts = {statement for statement, _ in per_request[0]}
    for i, seen in enumerate(per_request[1:], start=2):
        new = {statement for statement, _ in seen} - first_texts
        assert not new, f"request {i} ran SQL the first did not: {new}"
    for seen in per_request:
        for statement, parameters in seen:
            assert len(parameters or ()) <= MOST_PARAMETERS, statement

    # And all of it was for nothing once the campaign is drained: told so, same statements.
    with statements_run(db) as seen:
        drained = request_batch(db, campaign_id, texter, now=START)
    assert drained.refusal is not None
    assert drained.refusal.reason == RefusalReason.NO_INITIALS_LEFT
    assert {statement for statement, _ in seen} - first_texts <= _claim_from_start(
        seen
    ) | _opening_lookup(seen)


def test_a_texter_with_nothing_waiting_costs_two_statements(db: Database) -> None:
    """The common request: nothing held, no reply waiting. The first of a process looks the
    assignment up by campaign and user and counts what the texter holds on its own; every
    later one locks, reads and counts in one statement, then claims."""
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=BATCH, texting_hours="9-21")
    add_contacts(db, campaign_id, 5 * BATCH)
    texter = make_texter(db, org, "UTEXTER")
    make_assignment(db, campaign_id, texter)
    KNOWN_ASSIGNMENTS.forget(campaign_id, texter)
    claim_floors(db.engine).reached(campaign_id, frozenset({MessageStatus.NEEDS_MESSAGE}), 0)

    counts = []
    for i in range(5):
        with statements_run(db) as seen:
            result = request_batch(db, campaign_id, texter, now=START + timedelta(minutes=i))
        assert result.assigned == BATCH, result.refusal
        counts.append(len(seen))
        set_status(db, result.contact_ids, MessageStatus.MESSAGED)
    budget = STATEMENTS_NOTHING_WAITING[db.engine.dialect.name]
    assert counts == [budget + 1] + [budget] * 4


def _claim_from_start(seen: list[tuple[str, Any]]) -> set[str]:
    """A short claim above the floor looks again from the campaign's start: that one more
    statement is expected when nothing is left."""
    return {statement for statement, _ in seen if "UPDATE" in statement.upper()}


def _opening_lookup(seen: list[tuple[str, Any]]) -> set[str]:
    """A campaign with texting hours whose claim found nothing asks whether contacts are left
    that only the hours keep back (to say when texting opens): one bounded read of their
    zones, only on that refusal."""
    return {
        statement
        for statement, _ in seen
        if statement.upper().startswith("SELECT DISTINCT") and "timezone" in statement
    }


def test_unsent_count_keeps_its_index_scan_after_analyze(db: Database) -> None:
    """A texter handed many contacts (all sent) makes the column-by-column estimate of their
    unsent contacts large; without the (assignment_id, message_status) statistics the planner
    then picks a bitmap scan, which reads every dead index entry of their sent contacts on
    every request (migration 0011)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=BATCH, texting_hours="9-21")
    texter = make_texter(db, org, "UTEXTER")
    assignment_id = make_assignment(db, campaign_id, texter)
    handed = add_contacts(db, campaign_id, 2000, assignment_id=assignment_id)
    set_status(db, handed, MessageStatus.MESSAGED)
    add_contacts(db, campaign_id, 8000, prefix="+1202556")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE campaign_contact")
    KNOWN_ASSIGNMENTS.remember(campaign_id, texter, assignment_id)  # the counts' statement

    with statements_run(db) as seen:
        request_batch(db, campaign_id, texter, now=START)
    held_work = [
        (statement, parameters)
        for statement, parameters in seen
        if "needsMessage" in statement and not statement.upper().startswith("WITH")
    ]
    assert len(held_work) == 1, [statement for statement, _ in seen]
    statement, parameters = held_work[0]
    with db.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
    nodes = list(_plan_nodes(plan[0]["Plan"]))
    unsent = [
        node
        for node in nodes
        if "needsMessage" in str(node.get("Index Cond", "") or node.get("Recheck Cond", ""))
    ]
    assert unsent, plan
    assert all(node["Node Type"] == "Index Scan" for node in unsent), [
        (node["Node Type"], node.get("Plan Rows")) for node in unsent
    ]


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)
