"""Many processes, one database: two schedulers ticking at once send each reminder once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from core.db import Database
from core.services.reminders import claim_reminder, due_reminders
from core.timed_jobs.runner import Ticks
from tests.support.scheduler import T0, Clock, RecordingNotifier, replies, texter_in
from tests.support.world import make_campaign, make_org

TEXTERS = 6


def _world(db: Database) -> None:
    org_id = make_org(db)
    campaign_id = make_campaign(db, org_id, texting_hours="9-21")
    for n in range(TEXTERS):
        texter = texter_in(db, org_id, campaign_id, f"U{n}")
        replies(db, campaign_id, texter, 2, T0, start=n * 10)


def _together(*actions: Callable[[], object]) -> list[object]:
    """Run the actions on threads released at the same instant."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = actions[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_schedulers_on_one_database_send_each_reminder_once(database_url: str) -> None:
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    try:
        _world(first)
        notifier, clock = RecordingNotifier(), Clock(T0 + timedelta(minutes=31))
        a = Ticks(first, notifier, clock, holder="process-a", environ={})
        b = Ticks(second, notifier, clock, holder="process-b", environ={})
        for _ in range(4):  # several ticks, both processes each time
            _together(a.reply_reminders, b.reply_reminders)
            clock.advance(minutes=15)
        counts = Counter(slack_id for slack_id, _ in notifier.reminders)
        assert counts == {f"U{n}": 1 for n in range(TEXTERS)}
    finally:
        first.dispose()
        second.dispose()


def test_claims_alone_keep_reminders_single_without_the_lease(database_url: str) -> None:
    """Even if two processes both ran the job (an expired lease mid-run), the claim is the
    arbiter: each reminder is won by exactly one of them."""
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    try:
        _world(first)
        now = T0 + timedelta(minutes=31)
        due_a, due_b = due_reminders(first, now, {}), due_reminders(second, now, {})
        assert len(due_a) == len(due_b) == TEXTERS
        won: Counter[str] = Counter()
        for left, right in zip(due_a, due_b, strict=True):
            results = _together(
                lambda left=left: claim_reminder(first, left, now),
                lambda right=right: claim_reminder(second, right, now),
            )
            claimed = [r for r in results if r is not None]
            assert len(claimed) == 1
            won[claimed[0].summary.slack_user_id] += 1
        assert won == {f"U{n}": 1 for n in range(TEXTERS)}

        # A stale view of the row (read before the other claim) loses the compare-and-swap.
        later = now + timedelta(hours=3)
        due_a, due_b = due_reminders(first, later, {}), due_reminders(second, later, {})
        assert claim_reminder(first, due_a[0], later) is not None
        assert claim_reminder(second, due_b[0], later) is None
    finally:
        first.dispose()
        second.dispose()


def test_two_schedulers_on_one_database_post_one_digest(database_url: str) -> None:
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    try:
        make_campaign(first, make_org(first, DIGEST_CHANNEL="C1"))
        notifier, clock = RecordingNotifier(), Clock(T0)
        a = Ticks(first, notifier, clock, holder="process-a", environ={})
        b = Ticks(second, notifier, clock, holder="process-b", environ={})
        for _ in range(3):
            _together(a.digest, b.digest)
            clock.advance(hours=1)
        assert [channel for channel, _ in notifier.digests] == ["C1"]
    finally:
        first.dispose()
        second.dispose()
