"""The APScheduler wiring: the jobs, their timers, and a real start running the first tick."""

from __future__ import annotations

import time
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.db import Database
from core.timed_jobs.jobs import DIGEST_JOB, REMINDERS_JOB, STALE_JOB
from core.timed_jobs.runner import build_scheduler
from tests.support.scheduler import T0, Clock, RecordingNotifier, replies, texter_in
from tests.support.world import make_campaign, make_org


def test_jobs_and_timers(db: Database) -> None:
    scheduler = build_scheduler(db, RecordingNotifier(), environ={"REMINDER_INTERVAL_MINUTES": "5"})
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {REMINDERS_JOB, STALE_JOB, DIGEST_JOB}
    for name in (REMINDERS_JOB, STALE_JOB):
        trigger = jobs[name].trigger
        assert isinstance(trigger, IntervalTrigger)
        assert trigger.interval == timedelta(minutes=5)
    assert isinstance(jobs[DIGEST_JOB].trigger, CronTrigger)
    assert build_scheduler(db, RecordingNotifier(), environ={}).get_jobs()[0].trigger.interval == (
        timedelta(minutes=15)
    )


def test_a_started_scheduler_runs_the_first_tick_at_once(db: Database) -> None:
    org_id = make_org(db)
    campaign_id = make_campaign(db, org_id, texting_hours="9-21")
    replies(db, campaign_id, texter_in(db, org_id, campaign_id, "U1"), 1, T0)
    notifier = RecordingNotifier()
    scheduler = build_scheduler(db, notifier, Clock(T0 + timedelta(minutes=31)), environ={})
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while not notifier.reminders and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert [slack_id for slack_id, _ in notifier.reminders] == ["U1"]
