"""The admin digest: once per organization per day, from DIGEST_HOUR, with the right figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core.db import Database
from core.models import Campaign
from core.statuses import MessageStatus
from core.timed_jobs.runner import Ticks
from tests.support.scheduler import Clock, RecordingNotifier, texter_in
from tests.support.world import add_contacts, make_campaign, make_org

MORNING = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def _campaign_with_figures(db: Database, org_id: int) -> int:
    campaign_id = make_campaign(db, org_id, title="GOTV")
    a, b = texter_in(db, org_id, campaign_id, "UA"), texter_in(db, org_id, campaign_id, "UB")
    texter_in(db, org_id, campaign_id, "UC")  # joined, holds nothing: not active
    add_contacts(db, campaign_id, 4)  # unsent, in the pool
    add_contacts(db, campaign_id, 2, assignment_id=a.assignment_id, start=10)  # unsent, held
    status = MessageStatus
    add_contacts(
        db, campaign_id, 2, assignment_id=a.assignment_id, start=20, status=status.MESSAGED
    )
    add_contacts(
        db, campaign_id, 1, assignment_id=b.assignment_id, start=30, status=status.NEEDS_RESPONSE
    )
    add_contacts(db, campaign_id, 1, start=40, opted_out=True)
    return campaign_id


def test_posted_once_per_day_from_the_digest_hour_with_the_figures(db: Database) -> None:
    org_id = make_org(db, DIGEST_CHANNEL="C123", DIGEST_HOUR=9)
    campaign_id = _campaign_with_figures(db, org_id)
    draft = make_campaign(db, org_id, started=False, title="Draft")
    archived = make_campaign(db, org_id, title="Old")
    with db.uow() as uow:
        uow.session.execute(
            update(Campaign).where(Campaign.id == archived).values(is_archived=True)
        )
        uow.commit()
    make_campaign(db, make_org(db, team="T2"), title="No channel")  # no DIGEST_CHANNEL
    clock, notifier = Clock(MORNING), RecordingNotifier()
    ticks = Ticks(db, notifier, clock, holder="p1", environ={})

    assert ticks.digest().sent == 0  # 08:00: not yet
    clock.advance(hours=1)
    assert ticks.digest().sent == 1
    for _ in range(14):  # the rest of the day, hourly
        clock.advance(hours=1)
        ticks.digest()
    assert len(notifier.digests) == 1

    [(channel, digest)] = notifier.digests
    assert channel == "C123"
    assert digest.day == MORNING.date()
    [figures] = digest.campaigns
    assert figures.campaign_id == campaign_id and draft != campaign_id
    assert figures.textable == 9  # 10 contacts, one opted out
    assert figures.first_texts_sent == 3  # 9 textable - 6 unsent
    assert abs(figures.progress - 1 / 3) < 1e-9
    assert figures.texters_active == 2
    assert figures.unsent_held == 2
    assert figures.replies_waiting == 1

    clock.now = MORNING + timedelta(days=1, hours=1, minutes=4)  # the next day at 09:04
    assert ticks.digest().sent == 1
    assert [d.day for _, d in notifier.digests] == [MORNING.date(), MORNING.date() + timedelta(1)]


def test_a_failed_post_is_retried_next_hour(db: Database) -> None:
    org_id = make_org(db, DIGEST_CHANNEL="C123", DIGEST_HOUR=9)
    _campaign_with_figures(db, org_id)
    clock, notifier = Clock(MORNING + timedelta(hours=1)), RecordingNotifier(failing=True)
    ticks = Ticks(db, notifier, clock, holder="p1", environ={})
    assert ticks.digest().failed == 1
    notifier.failing = False
    clock.advance(hours=1)
    assert ticks.digest().sent == 1
    clock.advance(hours=1)
    assert ticks.digest().sent == 0
    assert len(notifier.digests) == 1


def test_a_process_started_after_the_hour_catches_up_and_nothing_in_progress_posts_nothing(
    db: Database,
) -> None:
    org_id = make_org(db, DIGEST_CHANNEL="C123", DIGEST_HOUR=9)
    clock, notifier = Clock(MORNING + timedelta(hours=5)), RecordingNotifier()
    ticks = Ticks(db, notifier, clock, holder="p1", environ={})
    assert ticks.digest().sent == 0  # no campaign in progress
    _campaign_with_figures(db, org_id)
    clock.advance(hours=1)
    assert ticks.digest().sent == 0  # today is done
    clock.now = MORNING + timedelta(days=1, hours=5)
    assert ticks.digest().sent == 1


def test_environment_supplies_the_channel_when_the_organization_does_not(db: Database) -> None:
    org_id = make_org(db)
    _campaign_with_figures(db, org_id)
    notifier = RecordingNotifier()
    env = {"DIGEST_CHANNEL": "CENV", "DIGEST_HOUR": "7"}
    Ticks(db, notifier, Clock(MORNING), holder="p1", environ=env).digest()
    assert [channel for channel, _ in notifier.digests] == ["CENV"]
