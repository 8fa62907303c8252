"""Items the receiving process works at once (issue 15's inbox allowance: one INSERT, one
transaction): stored `running` under that process's lease, never claimable by another until
it ends; their done-marks written later with another item's INSERT; on stop, the ones never
started go back to pending at once. A controlled clock, both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from core.db import Database
from core.services import inbox as core_inbox
from tests.support.inbox import inbox_statuses

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _record_running(db: Database, slack_id: str, done: tuple[int, ...] = ()) -> int:
    item_id = core_inbox.record(
        db, slack_id, "T1", "thread_answer", "{}", NOW, lease=LEASE, done=done
    )
    assert item_id is not None
    return item_id


def test_an_item_stored_running_is_its_process_s_until_the_lease_ends(db: Database) -> None:
    item_id = _record_running(db, "EvRUN")
    assert inbox_statuses(db) == {"running": 1}
    assert core_inbox.claim(db, NOW + LEASE - timedelta(seconds=1)) == []
    # The process died with it: another takes it over, as its second attempt.
    [resumed] = core_inbox.claim(db, NOW + LEASE + timedelta(seconds=1))
    assert resumed.id == item_id and resumed.attempts == 2
    # The first process's late renewal loses: the item is no longer its own.
    assert not core_inbox.renew(db, item_id, 1, NOW + LEASE, lease=LEASE)
    assert core_inbox.renew(db, item_id, 2, NOW + LEASE, lease=LEASE)


def test_done_marks_ride_in_the_next_insert_and_only_when_it_commits(db: Database) -> None:
    first = _record_running(db, "EvA")
    second = _record_running(db, "EvB")
    # A redelivery stores nothing, and the marks it carried are not written either.
    assert (
        core_inbox.record(db, "EvA", "T1", "thread_answer", "{}", NOW, lease=LEASE, done=(first,))
        is None
    )
    assert inbox_statuses(db) == {"running": 2}
    _record_running(db, "EvC", done=(first, second))
    assert inbox_statuses(db) == {"done": 2, "running": 1}
    [marked] = [i for i in core_inbox.list_items(db, "done") if i.id == first]
    assert marked.status == "done"


def test_a_done_mark_never_overwrites_a_failure(db: Database) -> None:
    item_id = _record_running(db, "EvFAILED")
    assert core_inbox.fail(db, item_id, "SlackApiError: ratelimited", NOW) == "pending"
    core_inbox.finish(db, [item_id], NOW)
    assert inbox_statuses(db) == {"pending": 1}


def test_items_never_started_go_back_to_pending_on_stop(db: Database) -> None:
    started = _record_running(db, "EvSTARTED")
    waiting = _record_running(db, "EvWAITING")
    core_inbox.release(db, [waiting])
    # Any process takes it at once, as a first attempt; the started one stays held.
    [claimed] = core_inbox.claim(db, NOW)
    assert claimed.id == waiting and claimed.attempts == 1
    assert core_inbox.claim(db, NOW) == [] and started != waiting


def test_done_marks_of_any_count_are_one_sql_text_on_postgresql(db: Database) -> None:
    texts: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE SLACK_INBOX"):
            texts.append(statement)

    finished = [_record_running(db, f"EvN{n}") for n in range(6)]
    event.listen(db.engine, "before_cursor_execute", executed)
    try:
        _record_running(db, "EvD1", done=tuple(finished[:1]))
        _record_running(db, "EvD2", done=tuple(finished[1:3]))
        _record_running(db, "EvD3", done=tuple(finished[3:]))
    finally:
        event.remove(db.engine, "before_cursor_execute", executed)
    assert inbox_statuses(db) == {"done": 6, "running": 3}
    assert len(texts) == 3
    # PostgreSQL binds the ids as one array; SQLite expands them into the text.
    assert len(set(texts)) == (1 if db.engine.dialect.name == "postgresql" else 3)
