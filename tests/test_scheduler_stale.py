"""Stale releases: old unhandled replies and old unsent first texts go back to the pool."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.db import Database
from core.models import CampaignContact
from core.services.stale import release_stale
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
from tests.support.world import add_contacts, make_campaign, make_org


def _holders(db: Database, ids: list[int]) -> dict[int, int | None]:
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(CampaignContact.id, CampaignContact.assignment_id).where(
                CampaignContact.id.in_(ids)
            )
        ).all()
    return dict(rows)


def _assigned_at(db: Database, ids: list[int], at: datetime) -> None:
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact).where(CampaignContact.id.in_(ids)).values(updated_at=at)
        )
        uow.commit()


def test_off_by_default(db: Database) -> None:
    org_id = make_org(db)
    campaign_id = make_campaign(db, org_id)
    texter = texter_in(db, org_id, campaign_id, "U1")
    ids = replies(db, campaign_id, texter, 2, T0 - timedelta(days=3))
    unsent = add_contacts(db, campaign_id, 2, assignment_id=texter.assignment_id, start=10)
    _assigned_at(db, unsent, T0 - timedelta(days=3))
    assert release_stale(db, T0, {}) == []
    assert set(_holders(db, ids + unsent).values()) == {texter.assignment_id}


def test_stale_replies_go_back_to_the_pool_and_the_texter_is_told(db: Database) -> None:
    org_id = make_org(db, STALE_REPLY_RELEASE_MINUTES=60)
    campaign_id = make_campaign(db, org_id, title="GOTV")
    u1, u2 = texter_in(db, org_id, campaign_id, "U1"), texter_in(db, org_id, campaign_id, "U2")
    stale = replies(db, campaign_id, u1, 2, T0 - timedelta(minutes=61))
    fresh = replies(db, campaign_id, u1, 1, T0 - timedelta(minutes=30), start=10)
    rewrote = replies(db, campaign_id, u2, 1, T0 - timedelta(minutes=90), start=20)
    add_inbound(db, rewrote[0], T0 - timedelta(minutes=5))  # wrote again: not stale
    answered = replies(db, campaign_id, u2, 1, T0 - timedelta(minutes=90), start=30)
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id.in_(answered))
            .values(message_status=MessageStatus.CONVO.value)
        )
        uow.commit()

    notifier = RecordingNotifier()
    result = Ticks(db, notifier, Clock(T0), holder="p1", environ={}).stale_releases()

    assert result is not None and result.sent == 1
    holders = _holders(db, stale + fresh + rewrote + answered)
    assert [holders[i] for i in stale] == [None, None]
    assert holders[fresh[0]] == u1.assignment_id
    assert holders[rewrote[0]] == u2.assignment_id
    assert holders[answered[0]] == u2.assignment_id
    [(slack_id, notice)] = notifier.notices
    assert slack_id == "U1"
    assert (notice.replies, notice.initials) == (2, 0)
    assert [(c.campaign_id, c.title) for c in notice.campaigns] == [(campaign_id, "GOTV")]
    with db.uow(read_only=True) as uow:
        statuses = uow.session.scalars(
            select(CampaignContact.message_status).where(CampaignContact.id.in_(stale))
        ).all()
    assert set(statuses) == {MessageStatus.NEEDS_RESPONSE.value}  # still a reply to take


def test_unsent_first_texts_held_too_long_are_released(db: Database) -> None:
    org_id = make_org(db, STALE_INITIALS_RELEASE_HOURS=2)
    campaign_id = make_campaign(db, org_id)
    texter = texter_in(db, org_id, campaign_id, "U1")
    old = add_contacts(db, campaign_id, 3, assignment_id=texter.assignment_id)
    recent = add_contacts(db, campaign_id, 2, assignment_id=texter.assignment_id, start=10)
    sent = add_contacts(
        db,
        campaign_id,
        1,
        assignment_id=texter.assignment_id,
        start=20,
        status=MessageStatus.MESSAGED,
    )
    _assigned_at(db, old + sent, T0 - timedelta(hours=3))
    _assigned_at(db, recent, T0 - timedelta(hours=1))

    [notice] = release_stale(db, T0, {})

    assert (notice.slack_user_id, notice.initials, notice.replies) == ("U1", 3, 0)
    holders = _holders(db, old + recent + sent)
    assert [holders[i] for i in old] == [None] * 3
    assert {holders[i] for i in recent + sent} == {texter.assignment_id}
    assert release_stale(db, T0 + timedelta(minutes=15), {}) == []  # nothing twice


def test_both_kinds_in_one_notice_per_texter_and_a_failed_notice_keeps_the_release(
    db: Database,
) -> None:
    org_id = make_org(db, STALE_REPLY_RELEASE_MINUTES=60, STALE_INITIALS_RELEASE_HOURS=1)
    a = make_campaign(db, org_id, title="Alpha")
    b = make_campaign(db, org_id, title="Beta")
    ta, tb = texter_in(db, org_id, a, "U1"), texter_in(db, org_id, b, "U1")
    stale = replies(db, a, ta, 1, T0 - timedelta(hours=2))
    unsent = add_contacts(db, b, 2, assignment_id=tb.assignment_id, start=50)
    _assigned_at(db, unsent, T0 - timedelta(hours=2))

    notifier = RecordingNotifier(failing=True)
    result = Ticks(db, notifier, Clock(T0), holder="p1", environ={}).stale_releases()

    assert result is not None and result.failed == 1
    assert set(_holders(db, stale + unsent).values()) == {None}
    assert release_stale(db, T0, {}) == []  # released once; the notice is not retried


def test_archived_campaigns_are_left_alone(db: Database) -> None:
    from core.models import Campaign

    org_id = make_org(db, STALE_REPLY_RELEASE_MINUTES=60)
    campaign_id = make_campaign(db, org_id)
    texter = texter_in(db, org_id, campaign_id, "U1")
    ids = replies(db, campaign_id, texter, 1, T0 - timedelta(hours=5))
    with db.uow() as uow:
        uow.session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(is_archived=True)
        )
        uow.commit()
    assert release_stale(db, T0, {}) == []
    assert _holders(db, ids) == {ids[0]: texter.assignment_id}
