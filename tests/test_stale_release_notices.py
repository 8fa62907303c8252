"""A stale release's message to the texter is a texter notice queued with each release
(issue 17): the releasing tick posts one message per texter; if the process dies between the
release and Slack, or Slack refuses, the notices' job posts that one message later, once.
Through the app's workspaces and the loopback Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.app import workspaces_of
from bot.notify import SlackNotifier
from bot.texter_notices import NoticeSender
from core.db import Database
from core.services.stale import release_stale
from core.services.texter_notices import DOER_HEAD_START, notice_statuses
from core.timed_jobs.runner import Ticks
from tests.support.fake_slack import Call
from tests.support.scheduler import T0, Clock, replies, texter_in
from tests.support.slack_harness import SlackHarness
from tests.support.world import add_contacts, make_campaign, make_org
from tests.test_scheduler_stale import _assigned_at

TOLD = "Some of your contacts waited too long"


def _one_texter_two_campaigns(db: Database) -> None:
    """U1 holds an hour-old unanswered reply in Alpha and 2 two-hour-old first texts in Beta."""
    org_id = make_org(db, STALE_REPLY_RELEASE_MINUTES=60, STALE_INITIALS_RELEASE_HOURS=1)
    alpha = make_campaign(db, org_id, title="Alpha")
    beta = make_campaign(db, org_id, title="Beta")
    in_alpha, in_beta = texter_in(db, org_id, alpha, "U1"), texter_in(db, org_id, beta, "U1")
    replies(db, alpha, in_alpha, 1, T0 - timedelta(hours=2))
    unsent = add_contacts(db, beta, 2, assignment_id=in_beta.assignment_id, start=50)
    _assigned_at(db, unsent, T0 - timedelta(hours=2))


def _told(slack: SlackHarness) -> list[Call]:
    return [c for c in slack.fake.of("chat.postMessage") if TOLD in c.text()]


def _says_both(call: Call) -> None:
    assert call.params["channel"] == "DU1"
    assert "*Alpha*: 1 unanswered reply" in call.text()
    assert "*Beta*: 2 unsent first texts" in call.text()


def test_a_release_whose_process_died_is_told_once_by_the_job(slack: SlackHarness) -> None:
    _one_texter_two_campaigns(slack.db)
    [notice] = release_stale(slack.db, T0, {})  # released; the process dies before Slack
    assert len(notice.notice_ids) == 2 and notice_statuses(slack.db) == {"pending": 2}
    job = NoticeSender(slack.db, workspaces_of(slack.app))
    assert job.deliver_due(T0) == 0  # the releasing tick's head start
    assert job.deliver_due(T0 + DOER_HEAD_START + timedelta(seconds=1)) == 2
    assert job.deliver_due(T0 + timedelta(hours=1)) == 0
    [told] = _told(slack)  # one message for both campaigns, as the tick would have sent
    _says_both(told)
    assert notice_statuses(slack.db) == {"done": 2}


def test_a_tick_tells_once_and_leaves_the_job_nothing(slack: SlackHarness) -> None:
    _one_texter_two_campaigns(slack.db)
    notifier = SlackNotifier(slack.db, workspaces=workspaces_of(slack.app))
    result = Ticks(slack.db, notifier, Clock(T0), holder="p1", environ={}).stale_releases()
    assert result is not None and result.sent == 1
    assert notice_statuses(slack.db) == {"done": 2}
    job = NoticeSender(slack.db, workspaces_of(slack.app))
    assert job.deliver_due(T0 + timedelta(hours=1)) == 0
    [told] = _told(slack)
    _says_both(told)


def test_a_release_slack_refused_is_told_once_when_it_is_back(slack: SlackHarness) -> None:
    _one_texter_two_campaigns(slack.db)
    notifier = SlackNotifier(slack.db, workspaces=workspaces_of(slack.app))
    slack.fake.failures["chat.postMessage"] = "internal_error"
    result = Ticks(slack.db, notifier, Clock(T0), holder="p1", environ={}).stale_releases()
    assert result is not None and result.failed == 1
    assert notice_statuses(slack.db) == {"pending": 2}
    refused = len(slack.fake.of("chat.postMessage"))
    del slack.fake.failures["chat.postMessage"]
    job = NoticeSender(slack.db, workspaces_of(slack.app))
    assert job.deliver_due(T0 + timedelta(minutes=1)) == 2
    assert job.deliver_due(T0 + timedelta(hours=1)) == 0
    [told] = [c for c in slack.fake.of("chat.postMessage")[refused:] if TOLD in c.text()]
    _says_both(told)
    assert notice_statuses(slack.db) == {"done": 2}
