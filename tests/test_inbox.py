"""The durable inbox in-process (issue 17, reproductions 2 and 3): a thread answer is recorded
before the ack, a database outage gets no 200, each event is worked once by its id, failures
are retried then dead-lettered (`spokebot inbox list|retry`), and items a dead process held
are picked up. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.cli import cli
from core.db import Database
from core.services import inbox as core_inbox
from tests.support.inbox import (
    conversations,
    inbox_statuses,
    replies_per_contact,
    thread_answer,
)
from tests.support.slack_harness import SlackHarness
from tests.support.texting import wait_until


def _post(slack: SlackHarness, body: bytes, **headers: str):
    return slack.post(body, "application/json", headers=headers or None)


def test_a_thread_answer_during_a_database_outage_is_not_acked(
    texting_slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    convo = conversations(texting_slack.db, 1)
    body = thread_answer(convo.thread_ts[0], "See you Tuesday", "EvOUTAGE1")

    def outage(*_args, **_kwargs):
        raise OperationalError("INSERT INTO slack_inbox", {}, Exception("connection refused"))

    monkeypatch.setattr(core_inbox, "record", outage)
    answer = _post(texting_slack, body)
    assert answer.status == 503  # Slack retries what it didn't get a 200 for
    monkeypatch.undo()
    assert replies_per_contact(texting_slack.db) == {} and inbox_statuses(texting_slack.db) == {}
    # Slack's retry, once the database is back: recorded, acked, answered.
    retried = _post(texting_slack, body, **{"X-Slack-Retry-Num": "1"})
    assert retried.status == 200 and retried.seconds < 3
    wait_until(lambda: inbox_statuses(texting_slack.db) == {"done": 1})
    assert replies_per_contact(texting_slack.db) == {convo.contact_ids[0]: 1}


def test_a_redelivered_event_is_worked_once(texting_slack: SlackHarness, sms) -> None:
    convo = conversations(texting_slack.db, 1)
    body = thread_answer(convo.thread_ts[0], "Thanks!", "EvTWICE")
    assert _post(texting_slack, body).status == 200
    assert _post(texting_slack, body, **{"X-Slack-Retry-Num": "1"}).status == 200
    wait_until(lambda: inbox_statuses(texting_slack.db) == {"done": 1})
    assert replies_per_contact(texting_slack.db) == {convo.contact_ids[0]: 1}
    assert len(sms.sent) == 1


def test_failures_are_retried_then_dead_lettered_and_retried_by_an_admin(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    item_id = core_inbox.record(db, "EvFAIL", "T1", "thread_answer", "{}", now)
    assert item_id is not None
    assert core_inbox.record(db, "EvFAIL", "T1", "thread_answer", "{}", now) is None
    for attempt in range(1, core_inbox.MAX_ATTEMPTS + 1):
        [item] = core_inbox.claim(db, now)
        assert item.attempts == attempt
        assert core_inbox.claim(db, now) == []  # held by this worker
        status = core_inbox.fail(db, item.id, "SlackApiError: ratelimited", now)
        # Backing off: not claimable until its time comes.
        assert core_inbox.claim(db, now) == []
        now += core_inbox.BACKOFF * attempt
    assert status == core_inbox.DEAD
    assert core_inbox.claim(db, now + timedelta(hours=1)) == []
    monkeypatch.setenv("DATABASE_URL", database_url)
    listed = CliRunner().invoke(cli, ["inbox", "list"])
    assert listed.exit_code == 0, listed.output
    assert "EvFAIL" in listed.output and "dead" in listed.output and "ratelimited" in listed.output
    retried = CliRunner().invoke(cli, ["inbox", "retry", str(item_id)])
    assert retried.exit_code == 0 and "1 item" in retried.output
    [again] = core_inbox.claim(db, now)
    assert again.id == item_id and again.attempts == 1
    missing = CliRunner().invoke(cli, ["inbox", "retry", "999"])
    assert missing.exit_code == 2 and "No dead inbox item 999" in missing.output


def test_items_a_dead_process_held_are_picked_up_when_its_lease_ends(db: Database) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    core_inbox.record(db, "EvHELD", "T1", "thread_answer", "{}", now)
    [held] = core_inbox.claim(db, now, lease=timedelta(seconds=30))  # then kill -9
    assert core_inbox.claim(db, now + timedelta(seconds=29)) == []
    [resumed] = core_inbox.claim(db, now + timedelta(seconds=31))
    assert resumed.id == held.id and resumed.attempts == 2


def test_a_retried_thread_answer_never_texts_twice(texting_slack: SlackHarness, sms) -> None:
    """A worker dies after the text was claimed and sent: the retry finds it by event id."""
    convo = conversations(texting_slack.db, 1)
    body = thread_answer(convo.thread_ts[0], "On my way", "EvCRASH")
    assert _post(texting_slack, body).status == 200
    wait_until(lambda: inbox_statuses(texting_slack.db) == {"done": 1})
    with texting_slack.db.uow() as uow:  # as if the worker died before marking it done
        from sqlalchemy import update

        from core.models import SlackInbox

        uow.session.execute(update(SlackInbox).values(status="pending", lease_until=None))
        uow.commit()
    wait_until(lambda: inbox_statuses(texting_slack.db) == {"done": 1}, timeout=15)
    assert replies_per_contact(texting_slack.db) == {convo.contact_ids[0]: 1}
    assert len(sms.sent) == 1


def test_an_answer_sent_by_a_worker_that_died_before_recording_it_is_confirmed(
    texting_slack: SlackHarness, sms
) -> None:
    """The provider took the text, then the worker died (the message left `sending`): the
    retry asks the provider at once, records it as sent and puts the ✅ on the answer."""
    from sqlalchemy import update

    from core.models import Message, SlackInbox

    convo = conversations(texting_slack.db, 1)
    body = thread_answer(convo.thread_ts[0], "On my way", "EvDIED")
    assert _post(texting_slack, body).status == 200
    wait_until(lambda: inbox_statuses(texting_slack.db) == {"done": 1})
    with texting_slack.db.uow() as uow:  # as if the worker died between provider and record
        uow.session.execute(
            update(Message)
            .where(Message.text == "On my way")
            .values(status="sending", service_id=None)
        )
        uow.session.execute(update(SlackInbox).values(status="pending", lease_until=None))
        uow.commit()
    before = len(texting_slack.fake.of("reactions.add"))
    wait_until(lambda: inbox_statuses(texting_slack.db) == {"done": 1}, timeout=15)
    wait_until(lambda: len(texting_slack.fake.of("reactions.add")) == before + 1)
    with texting_slack.db.uow(read_only=True) as uow:
        statuses = uow.session.scalars(select(Message.status).where(Message.text == "On my way"))
        assert list(statuses) == ["delivered"]
    assert len(sms.sent) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SERVE_CONNECTION_LIMIT", "lots"),
        ("SERVE_CHANNEL_TIMEOUT_SECONDS", "0"),
        ("SHUTDOWN_DRAIN_SECONDS", "-1"),
        ("INBOX_WORKERS", "1000"),
    ],
)
def test_bad_serve_limits_are_named_before_starting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert name in result.output and len(result.output.strip().splitlines()) == 1


def test_a_reply_nobody_was_told_of_is_notified_by_the_scheduler(db: Database, fake_slack) -> None:
    """The notifications' outbox: a reply stored, its Slack post lost (kill -9, Slack down)."""
    from slack_sdk import WebClient

    from bot.texter_notices import deliver_notices
    from bot.timed_jobs import renotify_replies
    from bot.workspaces import SingleWorkspace
    from core.services.inbound import receive_inbound

    convo = conversations(db, 1)
    with db.uow(read_only=True) as uow:
        from core.models import CampaignContact

        cell = uow.session.get(CampaignContact, convo.contact_ids[0]).cell
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    receive_inbound(db, cell, "Are you still there?", service_id="SMlost", now=long_ago)
    client = SingleWorkspace(WebClient(token="xoxb-test", base_url=fake_slack.api_url))

    def scheduler_ticks() -> None:  # the reply's texter notice is the notices' job's
        renotify_replies(db, client)
        deliver_notices(db, client)

    scheduler_ticks()
    [posted] = [c for c in fake_slack.of("chat.postMessage") if "Are you still there?" in c.text()]
    assert posted.params.get("thread_ts") == convo.thread_ts[0]
    scheduler_ticks()  # told once: not again
    assert len([c for c in fake_slack.of("chat.postMessage") if "still there" in c.text()]) == 1
