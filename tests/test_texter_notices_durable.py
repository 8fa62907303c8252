"""A taken conversation's thread and a reassigned one's "moved to @to" are texter notices
queued in the take's or reassign's own transaction (issue 17): the process that did the work
posts them at once; if it dies between its commit and Slack (the work done through core and
nothing posted), or Slack refuses, the scheduler's job posts them, each exactly once. Through
the real app and its loopback Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import ids
from bot.app import workspaces_of
from bot.slack_client import SlackDirectory
from bot.texter_notices import NoticeSender, deliver_now
from core.models import User
from core.services.batch_requests import request_texts
from core.services.conversation_requests import take_conversations_as
from core.services.reassign import reassign_contacts
from core.services.texter_notices import DOER_HEAD_START, notice_statuses
from core.services.threads import thread_for
from tests.support.admin import ADMIN, run
from tests.support.conversations import FIRST_TEAM, VETTED, Pool, conversation_pool
from tests.support.fake_slack import Call
from tests.support.slack_harness import TEAM, SlackHarness
from tests.support.world import make_assignment
from tests.test_slack_conversations import roots_for, take
from tests.test_slack_conversations_admin import held_by_fran

LATER = DOER_HEAD_START + timedelta(seconds=1)


def _user_of(slack: SlackHarness, slack_user_id: str) -> int:
    with slack.db.uow(read_only=True) as uow:
        user_id = uow.session.scalar(select(User.id).where(User.slack_user_id == slack_user_id))
    assert user_id is not None
    return user_id


def _job(slack: SlackHarness) -> NoticeSender:
    return NoticeSender(slack.db, workspaces_of(slack.app))


def _replies_posted(slack: SlackHarness, n: int) -> list[Call]:
    """Posts in a thread telling of "Reply number n" (the latest reply of a taken contact)."""
    return [
        c
        for c in slack.fake.of("chat.postMessage")
        if c.params.get("thread_ts") and f"Reply number {n}" in c.text()
    ]


def _given(slack: SlackHarness) -> list[Call]:
    """@to's DM saying what they were given."""
    return [r for r in roots_for(slack, VETTED) if "moved contacts of *GOTV* to you" in r.text()]


def _moved_redraws(slack: SlackHarness) -> list[Call]:
    return [c for c in slack.fake.of("chat.update") if "Moved to <@UVET>" in c.text()]


def test_taken_threads_left_by_a_dead_process_are_posted_once_by_the_job(
    slack: SlackHarness,
) -> None:
    pool = conversation_pool(slack, replies=2)
    # The take commits; the process dies before telling Slack anything.
    result = take_conversations_as(slack.db, TEAM, VETTED, None, pool.campaign_id).result
    assert result.taken == 2 and len(result.notices) == 2
    assert notice_statuses(slack.db) == {"pending": 2}
    assert not roots_for(slack, VETTED)
    now = datetime.now(UTC)
    assert _job(slack).deliver_due(now) == 0  # the doer's head start: the job waits
    assert _job(slack).deliver_due(now + LATER) == 2
    assert _job(slack).deliver_due(now + LATER * 10) == 0
    assert notice_statuses(slack.db) == {"done": 2}
    assert len(roots_for(slack, VETTED)) == 2  # one thread per conversation
    assert all(len(_replies_posted(slack, n)) == 1 for n in (0, 1))
    assert all(thread_for(slack.db, c, pool.vetted) for c in pool.contact_ids)
    # A late immediate delivery by the (revived) doer finds them posted: nothing twice.
    client = workspaces_of(slack.app).client_for_organization(pool.org_id)
    assert deliver_now(slack.db, client, SlackDirectory(), result.notices) == 0
    assert len(roots_for(slack, VETTED)) == 2


def test_a_take_posts_its_threads_once_and_leaves_the_job_nothing(slack: SlackHarness) -> None:
    pool = conversation_pool(slack, replies=2)
    assert "You took 2 conversations" in take(slack).text()
    assert notice_statuses(slack.db) == {"done": 2}
    assert _job(slack).deliver_due(datetime.now(UTC) + LATER * 10) == 0
    assert len(roots_for(slack, VETTED)) == 2
    assert all(len(_replies_posted(slack, n)) == 1 for n in (0, 1))
    assert all(thread_for(slack.db, c, pool.vetted) for c in pool.contact_ids)


def test_taken_threads_slack_refused_are_posted_once_when_it_is_back(
    slack: SlackHarness,
) -> None:
    pool = conversation_pool(slack, replies=2)
    slack.fake.failures["chat.postMessage"] = "internal_error"
    assert "You took 2 conversations" in take(slack).text()  # the answer goes regardless
    assert notice_statuses(slack.db) == {"pending": 2}
    refused = len(slack.fake.of("chat.postMessage"))
    del slack.fake.failures["chat.postMessage"]
    now = datetime.now(UTC)
    assert _job(slack).deliver_due(now + timedelta(minutes=1)) == 2
    assert _job(slack).deliver_due(now + timedelta(hours=1)) == 0
    posted = slack.fake.of("chat.postMessage")[refused:]
    roots = [c for c in posted if not c.params.get("thread_ts")]
    replies = [c for c in posted if c.params.get("thread_ts") and "Reply number" in c.text()]
    assert len(roots) == 2 and len(replies) == 2
    assert all(thread_for(slack.db, c, pool.vetted) for c in pool.contact_ids)


def _batch_of_conversations(slack: SlackHarness) -> Pool:
    """A campaign whose batches hand out conversations, Vera joined to it."""
    pool = conversation_pool(slack, replies=2, strategies=["vetted-takeconversations"])
    make_assignment(slack.db, pool.campaign_id, pool.vetted)
    return pool


def test_a_batchs_conversations_left_by_a_dead_process_are_posted_once_by_the_job(
    slack: SlackHarness,
) -> None:
    pool = _batch_of_conversations(slack)
    # The batch commits; the process dies before telling Slack anything.
    answer = request_texts(slack.db, TEAM, VETTED, "Vera", pool.campaign_id)
    assert not answer.result.is_initials and answer.result.assigned == 2
    assert len(answer.notices) == 2 and notice_statuses(slack.db) == {"pending": 2}
    assert not roots_for(slack, VETTED)
    now = datetime.now(UTC)
    assert _job(slack).deliver_due(now) == 0  # the doer's head start: the job waits
    assert _job(slack).deliver_due(now + LATER) == 2
    assert _job(slack).deliver_due(now + LATER * 10) == 0
    assert notice_statuses(slack.db) == {"done": 2}
    assert len(roots_for(slack, VETTED)) == 2  # one thread per conversation
    assert all(len(_replies_posted(slack, n)) == 1 for n in (0, 1))
    assert all(thread_for(slack.db, c, pool.vetted) for c in pool.contact_ids)


def test_a_batch_posts_its_conversations_once_and_leaves_the_job_nothing(
    slack: SlackHarness,
) -> None:
    pool = _batch_of_conversations(slack)
    slack.command(ids.CMD_SEND_FIRST_TEXTS, user=VETTED)
    _until_all_done(slack, 2)
    assert _job(slack).deliver_due(datetime.now(UTC) + LATER * 10) == 0
    assert len(roots_for(slack, VETTED)) == 2
    assert all(len(_replies_posted(slack, n)) == 1 for n in (0, 1))
    assert all(thread_for(slack.db, c, pool.vetted) for c in pool.contact_ids)


def test_a_reassign_left_by_a_dead_process_is_shown_once_by_the_job(
    slack: SlackHarness,
) -> None:
    pool, _initials = held_by_fran(slack)
    result = reassign_contacts(
        slack.db,
        _user_of(slack, ADMIN),
        pool.org_id,
        pool.campaign_id,
        VETTED,
        from_slack_user_id=FIRST_TEAM,
    )
    assert len(result.moved_notices) == 2 and len(result.taken_notices) == 2
    assert len(result.given_notices) == 1
    assert not slack.fake.of("chat.update") and not roots_for(slack, VETTED)
    now = datetime.now(UTC)
    assert _job(slack).deliver_due(now) == 0
    assert _job(slack).deliver_due(now + LATER) == 5
    assert _job(slack).deliver_due(now + LATER * 10) == 0
    assert notice_statuses(slack.db) == {"done": 5}
    [given] = _given(slack)
    assert "2 first texts to send; 2 conversations" in given.text()
    assert sorted(c.params["ts"] for c in _moved_redraws(slack)) == ["1.0", "1.1"]
    threads = [r for r in roots_for(slack, VETTED) if "Conversation with" in r.text()]
    assert len(threads) == 2
    assert all(len(_replies_posted(slack, n)) == 1 for n in (0, 1))


def test_a_reassign_shows_each_move_once_and_leaves_the_job_nothing(
    slack: SlackHarness,
) -> None:
    pool, _initials = held_by_fran(slack)
    answer = run(slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}|fran> <@{VETTED}|vera>")
    assert "Moved 4 contacts" in answer.text()
    _until_all_done(slack, 5)
    assert _job(slack).deliver_due(datetime.now(UTC) + LATER * 10) == 0
    assert len(_given(slack)) == 1
    assert sorted(c.params["ts"] for c in _moved_redraws(slack)) == ["1.0", "1.1"]
    threads = [r for r in roots_for(slack, VETTED) if "Conversation with" in r.text()]
    assert len(threads) == 2
    assert all(len(_replies_posted(slack, n)) == 1 for n in (0, 1))


def _until_all_done(slack: SlackHarness, count: int) -> None:
    """The listener posts after its answer: wait until it marked every notice delivered."""
    deadline = time.monotonic() + 10
    while notice_statuses(slack.db) != {"done": count}:
        assert time.monotonic() < deadline, notice_statuses(slack.db)
        time.sleep(0.05)
