"""Each scheduled-job failure is one log line naming the job, the organization or setting
involved and when it is retried."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from core.db import Database
from core.errors import InvalidInput
from core.timed_jobs.runner import Ticks
from tests.support.scheduler import T0, Clock, RecordingNotifier, replies, texter_in
from tests.support.world import make_campaign, make_org


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_failed_reminder_names_job_organization_and_retry(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    org_id = make_org(db)
    campaign_id = make_campaign(db, org_id)
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 2, T0)
    clock = Clock(T0 + timedelta(minutes=31))
    ticks = Ticks(db, RecordingNotifier(failing=True), clock, holder="p1", environ={})
    with caplog.at_level(logging.WARNING, "spokebot.scheduler"):
        assert ticks.reply_reminders().failed == 1
    assert _lines(caplog) == [
        f"reply_reminders: reply reminder to user {texter.user_id} of organization {org_id} "
        "failed (ConnectionError); next retry at 2026-03-10 16:46 UTC"
    ]


def test_a_failed_tick_names_the_setting_and_the_next_run(
    db: Database, mocker, caplog: pytest.LogCaptureFixture
) -> None:
    problem = InvalidInput("environment variable REPLY_REMINDER_AFTER_MINUTES is invalid")
    mocker.patch("core.timed_jobs.jobs.due_reminders", side_effect=problem)
    ticks = Ticks(db, RecordingNotifier(), Clock(T0), holder="p1", environ={})
    with caplog.at_level(logging.WARNING, "spokebot.scheduler"):
        assert ticks.reply_reminders() is None
    assert _lines(caplog) == [
        "scheduled job reply_reminders failed (InvalidInput: environment variable "
        "REPLY_REMINDER_AFTER_MINUTES is invalid); next retry at 2026-03-10 16:15 UTC "
        "(REMINDER_INTERVAL_MINUTES=15)"
    ]
    assert "Traceback" not in caplog.text


def test_a_failed_release_notice_names_the_campaign(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    org_id = make_org(db, STALE_REPLY_RELEASE_MINUTES=60)
    campaign_id = make_campaign(db, org_id)
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 1, T0)
    ticks = Ticks(
        db, RecordingNotifier(failing=True), Clock(T0 + timedelta(hours=2)), "p1", environ={}
    )
    with caplog.at_level(logging.WARNING, "spokebot.scheduler"):
        assert ticks.stale_releases().failed == 1
    assert _lines(caplog) == [
        f"stale_releases: release notice to user {texter.user_id} about campaign {campaign_id} "
        "failed (ConnectionError); the texter notices' job retries it"
    ]
