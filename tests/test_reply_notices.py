"""A reply's arrival is told to its texter through a texter notice queued with the stored
reply (issue 17): the webhook's process posts it at once, claiming it first, so a Twilio
redelivery racing that post tells no one twice; if the process dies before posting, the
notices' job posts it once. On SQLite and PostgreSQL, against the loopback Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.notify import SlackNotifier
from bot.texter_notices import NoticeSender
from bot.timed_jobs import renotify_replies
from bot.workspaces import SingleWorkspace
from core.db import Database
from core.models import CampaignContact
from core.services.inbound import receive_inbound
from core.services.texter_notices import DOER_HEAD_START, claim_notices, notice_statuses
from tests.support.fake_slack import FakeSlack
from tests.support.inbox import conversations

TEXT = "Are you still there?"


def _setup(db: Database, fake_slack: FakeSlack) -> tuple[str, str, SingleWorkspace]:
    convo = conversations(db, 1)
    with db.uow(read_only=True) as uow:
        contact = uow.session.get(CampaignContact, convo.contact_ids[0])
        assert contact is not None
        cell = contact.cell
    workspace = SingleWorkspace(WebClient(token="xoxb-test", base_url=fake_slack.api_url))
    return cell, convo.thread_ts[0], workspace


def _told(fake_slack: FakeSlack) -> list:
    return [c for c in fake_slack.of("chat.postMessage") if TEXT in c.text()]


def test_a_reply_whose_process_died_is_told_once_by_the_job(
    db: Database, fake_slack: FakeSlack
) -> None:
    cell, thread_ts, workspace = _setup(db, fake_slack)
    now = datetime.now(UTC)
    # Stored (and its notice queued); the process dies before telling Slack.
    result = receive_inbound(db, cell, TEXT, service_id="SMdied", now=now)
    assert result.notice_id is not None and notice_statuses(db) == {"pending": 1}
    job = NoticeSender(db, workspace)
    assert job.deliver_due(now) == 0  # the webhook's head start
    renotify_replies(db, workspace)  # the older job leaves replies with notices alone
    assert not _told(fake_slack)
    assert job.deliver_due(now + DOER_HEAD_START + timedelta(seconds=1)) == 1
    [told] = _told(fake_slack)
    assert told.params["thread_ts"] == thread_ts
    # Twilio redelivers: answered as a duplicate already told; the jobs post nothing more.
    again = receive_inbound(db, cell, TEXT, service_id="SMdied", now=now)
    assert again.duplicate and again.notified
    assert job.deliver_due(now + timedelta(hours=1)) == 0
    renotify_replies(db, workspace)
    assert len(_told(fake_slack)) == 1 and notice_statuses(db) == {"done": 1}


def test_a_reply_is_told_once_by_its_webhook_and_leaves_the_jobs_nothing(
    db: Database, fake_slack: FakeSlack
) -> None:
    cell, thread_ts, workspace = _setup(db, fake_slack)
    notifier = SlackNotifier(db, workspaces=workspace)
    notifier.notify_inbound(receive_inbound(db, cell, TEXT, service_id="SMok"))
    assert notice_statuses(db) == {"done": 1}
    assert NoticeSender(db, workspace).deliver_due(datetime.now(UTC) + timedelta(hours=1)) == 0
    renotify_replies(db, workspace)
    [told] = _told(fake_slack)
    assert told.params["thread_ts"] == thread_ts


def test_a_redelivery_racing_the_first_post_tells_no_one_twice(
    db: Database, fake_slack: FakeSlack
) -> None:
    cell, _thread_ts, workspace = _setup(db, fake_slack)
    first = receive_inbound(db, cell, TEXT, service_id="SMslow")
    assert first.notice_id is not None
    [_in_flight] = claim_notices(db, [first.notice_id])  # the first webhook is still posting
    again = receive_inbound(db, cell, TEXT, service_id="SMslow")  # Twilio gave up waiting
    assert again.duplicate and not again.notified and again.notice_id == first.notice_id
    SlackNotifier(db, workspaces=workspace).notify_inbound(again)
    assert not _told(fake_slack)  # the first one tells them; the redelivery doesn't


def test_a_reply_slack_refused_is_told_once_when_it_is_back(
    db: Database, fake_slack: FakeSlack
) -> None:
    cell, _thread_ts, workspace = _setup(db, fake_slack)
    fake_slack.failures["chat.postMessage"] = "internal_error"
    notifier = SlackNotifier(db, workspaces=workspace)
    result = receive_inbound(db, cell, TEXT, service_id="SMrefused")
    with pytest.raises(SlackApiError):  # the webhook logs it and answers Twilio 200
        notifier.notify_inbound(result)
    assert notice_statuses(db) == {"pending": 1}
    refused = len(fake_slack.of("chat.postMessage"))
    del fake_slack.failures["chat.postMessage"]
    job = NoticeSender(db, workspace)
    assert job.deliver_due(datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert job.deliver_due(datetime.now(UTC) + timedelta(hours=1)) == 0
    renotify_replies(db, workspace)
    assert len([c for c in fake_slack.of("chat.postMessage")[refused:] if TEXT in c.text()]) == 1
