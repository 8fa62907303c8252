"""Campaign progress, the Texters panel rows, Message Review search, the texter overview."""

from __future__ import annotations

from core.db import Database
from core.models import Campaign
from core.refusals import RefusalReason
from core.roles import Role
from core.services.batches import request_batch
from core.services.stats import campaign_stats, search_contacts, texter_rows
from core.services.texter_home import texter_campaigns
from core.statuses import MessageStatus as S
from tests.support.world import (
    add_contacts,
    make_assignment,
    make_campaign,
    make_org,
    make_texter,
    set_status,
)


def test_progress_counts_and_texter_rows(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org)
    add_contacts(db, campaign, 90)
    add_contacts(db, campaign, 10, opted_out=True, start=90)
    ann = make_texter(db, org, "UANN", name="Ann")
    bob = make_texter(db, org, "UBOB", name="Bob")
    make_assignment(db, campaign, ann, 40)
    make_assignment(db, campaign, bob)
    ann_ids = request_batch(db, campaign, ann, requested=30).contact_ids
    bob_ids = request_batch(db, campaign, bob, requested=15).contact_ids
    set_status(db, ann_ids[:20], S.MESSAGED)
    set_status(db, ann_ids[20:23], S.NEEDS_RESPONSE)
    set_status(db, bob_ids, S.CONVO)

    stats = campaign_stats(db, campaign)
    assert stats.total == 100 and stats.opted_out == 10
    assert stats.by_status["needsMessage"] == 90 - 38
    assert stats.unassigned_initials == 45
    assert abs(stats.progress - 38 / 90) < 1e-9
    assert not stats.all_initials_sent and stats.texters == 2

    rows, total = texter_rows(db, campaign)
    assert total == 2
    by_name = {r.name: r for r in rows}
    ann_row = by_name["Ann"]
    assert (ann_row.assigned, ann_row.unsent, ann_row.replies_waiting, ann_row.messaged) == (
        30,
        7,
        3,
        23,
    )
    assert ann_row.max_contacts == 40
    assert (by_name["Bob"].assigned, by_name["Bob"].unsent, by_name["Bob"].messaged) == (15, 0, 15)
    page, _ = texter_rows(db, campaign, offset=1, limit=1)
    assert [r.name for r in page] == ["Bob"]


def test_all_initials_sent(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org)
    ids = add_contacts(db, campaign, 5)
    set_status(db, ids, S.MESSAGED)
    stats = campaign_stats(db, campaign)
    assert stats.all_initials_sent and stats.progress == 1.0


def test_message_review_search(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org)
    add_contacts(db, campaign, 30)
    ann = make_texter(db, org, "UANN")
    make_assignment(db, campaign, ann)
    mine = request_batch(db, campaign, ann, requested=10).contact_ids
    rows, total = search_contacts(db, campaign, texter_user_id=ann, limit=3)
    assert total == 10 and [r.id for r in rows] == mine[:3]
    assert all(r.texter_user_id == ann for r in rows)
    _, unassigned_total = search_contacts(db, campaign)
    assert unassigned_total == 30  # status filter only: needsMessage, any owner
    _, replies = search_contacts(db, campaign, status=S.NEEDS_RESPONSE)
    assert replies == 0


def test_texter_overview_lists_joined_live_campaigns(db: Database) -> None:
    org = make_org(db)
    live = make_campaign(db, org, title="Live")
    archived = make_campaign(db, org, title="Old")
    add_contacts(db, live, 3)
    texter = make_texter(db, org, "UT", Role.TEXTER)
    make_assignment(db, live, texter)
    make_assignment(db, archived, texter)
    with db.uow() as uow:
        uow.session.get(Campaign, archived).is_archived = True
        uow.commit()
    [view] = texter_campaigns(db, org, texter)
    assert view.title == "Live" and view.eligibility.can_request
    request_batch(db, live, texter)
    [view] = texter_campaigns(db, org, texter)
    assert view.unsent == 3
    assert view.eligibility.refusal.reason == RefusalReason.UNSENT_INITIALS_HELD


def test_a_contact_texted_then_opted_out_counts_as_sent(db: Database) -> None:
    # Issue 14: 5 first texts went out, 2 of those people opted out; 3 more were imported
    # opted out and never texted. Stats said "3 of 46"; it is 5 of 48.
    from core.models import CampaignContact

    org = make_org(db)
    campaign = make_campaign(db, org)
    add_contacts(db, campaign, 48)
    add_contacts(db, campaign, 3, opted_out=True, start=48)
    texter = make_texter(db, org, "UANN", name="Ann")
    make_assignment(db, campaign, texter)
    sent = request_batch(db, campaign, texter, requested=5).contact_ids
    set_status(db, sent, S.MESSAGED)
    with db.uow() as uow:
        for contact_id in sent[:2]:
            uow.session.get(CampaignContact, contact_id).is_opted_out = True
        uow.commit()
    stats = campaign_stats(db, campaign)
    assert (stats.sent, stats.textable, stats.opted_out) == (5, 48, 5)
    assert stats.opted_out_after_text == 2
    assert abs(stats.progress - 5 / 48) < 1e-9
