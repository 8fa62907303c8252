"""The inbox's done-marks under concurrent requests: each finished item's mark is carried by
one INSERT transaction at a time (two carrying the same rows deadlocked on PostgreSQL under
load, and Slack got a 500), and a transaction that doesn't commit hands its marks on to the
next. The listener's work runs in this process on the request as it came. Both engines."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot.inbox import Inbox
from bot.listeners.common import Deps
from bot.workspaces import SingleWorkspace
from core.db import Database
from core.services import inbox as core_inbox
from tests.support.inbox import inbox_statuses
from tests.support.texting import wait_until


def _click(n: int) -> dict[str, Any]:
    return {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": f"U{n}"}}


def _inbox(db: Database) -> Inbox:
    return Inbox(db, Deps(db), SingleWorkspace(WebClient()), workers=2)


def test_concurrent_requests_never_carry_the_same_done_marks(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = _inbox(db)
    go = threading.Event()
    for n in range(3):  # worked here once all three are stored; marked done later
        inbox.accept_listener("work", _click(n), "http", "T1", run=lambda: go.wait(10))
    go.set()
    wait_until(lambda: len(inbox._finished) == 3)
    carried: list[frozenset[int]] = []
    first_inside, release_first = threading.Event(), threading.Event()
    real_record = core_inbox.record

    def record(*args: Any, done: Collection[int] = (), **kwargs: Any) -> int | None:
        carried.append(frozenset(done))
        if len(carried) == 1:  # the first request's transaction is still open ...
            first_inside.set()
            release_first.wait(10)
        return real_record(*args, done=done, **kwargs)

    monkeypatch.setattr(core_inbox, "record", record)
    first = threading.Thread(
        target=inbox.accept_listener,
        args=("work", _click(3), "http", "T1"),
        kwargs={"run": lambda: None},
    )
    first.start()
    assert first_inside.wait(10)
    # ... while the second request is recorded.
    inbox.accept_listener("work", _click(4), "http", "T1", run=lambda: None)
    release_first.set()
    first.join(10)
    assert len(carried[0]) == 3 and carried[1] == frozenset()
    assert inbox_statuses(db)["done"] == 3
    inbox.stop(5)


def test_done_marks_a_failed_insert_carried_go_with_the_next(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = _inbox(db)
    worked: list[int] = []
    inbox.accept_listener("work", _click(0), "http", "T1", run=lambda: worked.append(0))
    wait_until(lambda: len(inbox._finished) == 1)
    real_record = core_inbox.record

    def outage(*_args: Any, **_kwargs: Any) -> int | None:
        raise OperationalError("INSERT INTO slack_inbox", {}, Exception("connection refused"))

    monkeypatch.setattr(core_inbox, "record", outage)
    with pytest.raises(OperationalError):  # not recorded: Bolt answers 500, never the 200
        inbox.accept_listener("work", _click(1), "http", "T1")
    monkeypatch.setattr(core_inbox, "record", real_record)
    assert inbox_statuses(db) == {"running": 1}
    inbox.accept_listener("work", _click(2), "http", "T1", run=lambda: worked.append(2))
    assert inbox_statuses(db)["done"] == 1
    wait_until(lambda: worked == [0, 2])
    inbox.stop(5)
