"""Reply reminders with a controlled clock: timing, repeats, texting hours, failures, leases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.db import Database
from core.models import ReplyReminder
from core.statuses import MessageStatus
from core.timed_jobs.runner import Ticks
from tests.support.scheduler import (
    T0,
    Clock,
    RecordingNotifier,
    add_inbound,
    replies,
    texter_in,
)
from tests.support.world import make_campaign, make_org, set_status


def _setup(db: Database, **org_settings: object) -> tuple[int, int]:
    org_id = make_org(db, **org_settings)
    return org_id, make_campaign(db, org_id, texting_hours="9-21", title="GOTV")


def _ticks(db: Database, clock: Clock, notifier: RecordingNotifier, holder: str = "p1") -> Ticks:
    return Ticks(db, notifier, clock, holder=holder, environ={})


def test_reminder_sent_once_replies_wait_longer_than_the_threshold(db: Database) -> None:
    org_id, campaign_id = _setup(db)
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 3, T0)
    clock, notifier = Clock(T0 + timedelta(minutes=20)), RecordingNotifier()
    ticks = _ticks(db, clock, notifier)

    assert ticks.reply_reminders().sent == 0  # 20 minutes: not yet
    clock.advance(minutes=15)  # 35 minutes
    result = ticks.reply_reminders()

    assert result.sent == 1
    [(slack_id, summary)] = notifier.reminders
    assert slack_id == "U1"
    assert summary.total == 3
    [campaign] = summary.campaigns
    assert (campaign.campaign_id, campaign.title, campaign.waiting) == (campaign_id, "GOTV", 3)
    assert campaign.oldest_reply_at == T0


def test_same_replies_not_repeated_within_the_window_then_repeated_after(db: Database) -> None:
    org_id, campaign_id = _setup(db)
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 2, T0)
    clock, notifier = Clock(T0 + timedelta(minutes=31)), RecordingNotifier()
    ticks = _ticks(db, clock, notifier)
    ticks.reply_reminders()
    sent_at = clock.now

    # Every 15 minutes up to the 120-minute repeat window: nothing new is sent.
    while clock.now + timedelta(minutes=15) < sent_at + timedelta(minutes=120):
        clock.advance(minutes=15)
        ticks.reply_reminders()
    assert len(notifier.reminders) == 1

    clock.now = sent_at + timedelta(minutes=120)
    assert ticks.reply_reminders().sent == 1
    assert len(notifier.reminders) == 2
    assert notifier.reminders[1][1].total == 2


def test_a_new_reply_brings_a_fresh_reminder(db: Database) -> None:
    org_id, campaign_id = _setup(db)
    texter = texter_in(db, org_id, campaign_id, "U1")
    [first] = replies(db, campaign_id, texter, 1, T0)
    clock, notifier = Clock(T0 + timedelta(minutes=31)), RecordingNotifier()
    ticks = _ticks(db, clock, notifier)
    ticks.reply_reminders()

    # Another contact replies; once it has waited long enough, the texter hears again.
    replies(db, campaign_id, texter, 1, clock.now, start=10)
    clock.advance(minutes=15)
    ticks.reply_reminders()
    assert len(notifier.reminders) == 1  # the new reply is only 15 minutes old
    clock.advance(minutes=15)
    ticks.reply_reminders()
    assert len(notifier.reminders) == 2
    assert notifier.reminders[1][1].total == 2

    # The first contact writes again: a new waiting reply from a contact already reminded.
    add_inbound(db, first, clock.now)
    clock.advance(minutes=30)
    ticks.reply_reminders()
    assert len(notifier.reminders) == 3


def test_answered_replies_shrink_without_a_new_reminder(db: Database) -> None:
    org_id, campaign_id = _setup(db)
    texter = texter_in(db, org_id, campaign_id, "U1")
    ids = replies(db, campaign_id, texter, 3, T0)
    clock, notifier = Clock(T0 + timedelta(minutes=31)), RecordingNotifier()
    ticks = _ticks(db, clock, notifier)
    ticks.reply_reminders()

    set_status(db, ids[:1], MessageStatus.CONVO)  # the texter answered one
    clock.advance(minutes=15)
    ticks.reply_reminders()
    assert len(notifier.reminders) == 1


def test_no_reminder_outside_texting_hours_contact_zone_first(db: Database) -> None:
    org_id, campaign_id = _setup(db)  # 9-21, campaign in New York
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 2, T0)  # campaign zone (New York)
    replies(db, campaign_id, texter, 1, T0, start=10, timezone="America/Los_Angeles")
    # 22:30 in New York, 19:30 in Los Angeles: only the Los Angeles contact may be texted.
    clock = Clock(T0 + timedelta(hours=10, minutes=30))
    notifier = RecordingNotifier()
    _ticks(db, clock, notifier).reply_reminders()
    [(_, summary)] = notifier.reminders
    assert summary.total == 1

    # 03:00 in New York, midnight in Los Angeles: no reminder at all.
    clock2 = Clock(T0 + timedelta(hours=15))
    notifier2 = RecordingNotifier()
    other = _ticks(db, clock2, notifier2, holder="p2")
    assert other.reply_reminders().ran
    assert notifier2.reminders == []


def test_opted_out_unassigned_and_unlaunched_are_left_out(db: Database) -> None:
    from sqlalchemy import update

    from core.models import CampaignContact

    org_id, campaign_id = _setup(db)
    draft = make_campaign(db, org_id, started=False, title="Draft")
    texter = texter_in(db, org_id, campaign_id, "U1")
    ids = replies(db, campaign_id, texter, 2, T0)
    replies(db, draft, texter_in(db, org_id, draft, "U1"), 1, T0, start=50)
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact).where(CampaignContact.id == ids[0]).values(is_opted_out=True)
        )
        uow.session.execute(
            update(CampaignContact).where(CampaignContact.id == ids[1]).values(assignment_id=None)
        )
        uow.commit()
    notifier = RecordingNotifier()
    _ticks(db, Clock(T0 + timedelta(hours=1)), notifier).reply_reminders()
    assert notifier.reminders == []


def test_one_dm_per_texter_grouped_per_campaign_and_org_settings_win(db: Database) -> None:
    org_id = make_org(db, REPLY_REMINDER_AFTER_MINUTES=60)
    a = make_campaign(db, org_id, title="Alpha")
    b = make_campaign(db, org_id, title="Beta")
    u1a, u1b = texter_in(db, org_id, a, "U1"), texter_in(db, org_id, b, "U1")
    u2 = texter_in(db, org_id, a, "U2")
    replies(db, a, u1a, 2, T0)
    replies(db, b, u1b, 1, T0, start=10)
    replies(db, a, u2, 1, T0, start=20)
    clock, notifier = Clock(T0 + timedelta(minutes=45)), RecordingNotifier()
    ticks = _ticks(db, clock, notifier)
    ticks.reply_reminders()
    assert notifier.reminders == []  # the organization waits 60 minutes, not 30

    clock.advance(minutes=15)
    ticks.reply_reminders()
    by_user = dict(notifier.reminders)
    assert set(by_user) == {"U1", "U2"}
    assert [(c.title, c.waiting) for c in by_user["U1"].campaigns] == [("Alpha", 2), ("Beta", 1)]
    assert by_user["U2"].total == 1


def test_failed_send_is_retried_next_tick_and_nothing_is_lost(db: Database) -> None:
    org_id, campaign_id = _setup(db)
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 2, T0)
    clock, notifier = Clock(T0 + timedelta(minutes=31)), RecordingNotifier(failing=True)
    ticks = _ticks(db, clock, notifier)

    result = ticks.reply_reminders()
    assert (result.sent, result.failed) == (0, 1)
    with db.uow(read_only=True) as uow:
        row = uow.session.scalar(select(ReplyReminder))
        assert row is not None and row.last_sent_at is None  # the claim was undone

    notifier.failing = False
    clock.advance(minutes=15)
    assert ticks.reply_reminders().sent == 1
    clock.advance(minutes=15)
    assert ticks.reply_reminders().sent == 0
    assert [s for s, _ in notifier.reminders] == ["U1"]


def test_failure_after_an_earlier_reminder_restores_it(db: Database) -> None:
    org_id, campaign_id = _setup(db)
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 1, T0)
    clock, notifier = Clock(T0 + timedelta(minutes=31)), RecordingNotifier()
    ticks = _ticks(db, clock, notifier)
    ticks.reply_reminders()
    replies(db, campaign_id, texter, 1, clock.now, start=10)
    clock.advance(minutes=30)
    notifier.failing = True
    assert ticks.reply_reminders().failed == 1
    notifier.failing = False
    clock.advance(minutes=15)
    assert ticks.reply_reminders().sent == 1
    assert notifier.reminders[-1][1].total == 2


def test_a_second_process_skips_the_tick_and_a_restart_keeps_state(db: Database) -> None:
    org_id, campaign_id = _setup(db)
    texter = texter_in(db, org_id, campaign_id, "U1")
    replies(db, campaign_id, texter, 1, T0)
    clock, notifier = Clock(T0 + timedelta(minutes=31)), RecordingNotifier()
    assert _ticks(db, clock, notifier, "p1").reply_reminders().sent == 1
    clock.advance(seconds=20)
    assert _ticks(db, clock, notifier, "p2").reply_reminders().ran is False

    # A restarted process (new holder) on the next tick: the reminder is remembered.
    clock.advance(minutes=15)
    restarted = _ticks(Database(db.engine), clock, notifier, "p3")
    result = restarted.reply_reminders()
    assert result.ran and result.sent == 0
    assert len(notifier.reminders) == 1


def test_a_crashing_tick_is_logged_not_raised(db: Database, mocker, caplog) -> None:
    mocker.patch("core.timed_jobs.jobs.due_reminders", side_effect=RuntimeError("boom"))
    ticks = _ticks(db, Clock(), RecordingNotifier())
    assert ticks.reply_reminders() is None
    assert "reply_reminders failed (RuntimeError)" in caplog.text
