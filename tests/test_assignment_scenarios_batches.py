"""The behaviour scenarios of shared/reference/spoke-dynamic-assignment.md, one test each.
Scenarios 1-22: batches, caps, waiting replies, texting hours, strategies, release.

Defaults unless a test says otherwise: dynamic assignment on, launched, batch size 200,
strategy finished-replies, texting hours not enforced, contacts unassigned needsMessage and
not opted out, the texter a TEXTER with no cap.
"""

from __future__ import annotations

import threading

from sqlalchemy import select, update

from core.db import Database
from core.models import Assignment, Campaign, CampaignContact
from core.refusals import RefusalReason
from core.roles import Role
from core.services.batches import can_request_more, request_batch
from core.statuses import MessageStatus as S
from tests.support.people import end_day
from tests.support.scenarios import (
    NY_DAYTIME,
    hold,
    mark_sent,
    reason,
    scenario_world,
)
from tests.support.world import (
    add_contacts,
    make_assignment,
    make_texter,
    set_status,
)


def test_01_batch_of_200_then_told_whether_more(db: Database) -> None:
    _, campaign, texter = scenario_world(db)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 200 and result.unsent == 200 and result.refusal is None
    told = can_request_more(db, campaign, texter)
    assert not told.can_request
    assert told.refusal.reason == RefusalReason.UNSENT_INITIALS_HELD
    assert "200 first texts to send" in told.refusal.message
    mark_sent(db, result.contact_ids)
    assert can_request_more(db, campaign, texter).can_request


def test_02_only_150_available(db: Database) -> None:
    _, campaign, texter = scenario_world(db, contacts=150)
    assert request_batch(db, campaign, texter).assigned == 150


def test_03_cap_zero(db: Database) -> None:
    _, campaign, texter = scenario_world(db, cap=0)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.CAP_ZERO
    assert "max amount" in result.refusal.message


def test_04_cap_250_holding_200_gets_50(db: Database) -> None:
    _, campaign, texter = scenario_world(db, cap=250)
    hold(db, campaign, texter, 150, S.MESSAGED)
    hold(db, campaign, texter, 50, S.CONVO, start=200)
    assert request_batch(db, campaign, texter).assigned == 50


def test_05_cap_reached(db: Database) -> None:
    _, campaign, texter = scenario_world(db, cap=250)
    hold(db, campaign, texter, 250, S.MESSAGED)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.CAP_REACHED
    assert "limit of 250" in result.refusal.message


def test_06_cap_lowered_below_holdings_is_cap_not_error(db: Database) -> None:
    _, campaign, texter = scenario_world(db, cap=300)
    held = hold(db, campaign, texter, 200, S.NEEDS_MESSAGE)
    mark_sent(db, held[:100])
    with db.uow() as uow:
        uow.session.execute(update(Assignment).values(max_contacts=100))
        uow.commit()
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.CAP_REACHED


def test_07_no_batch_size(db: Database) -> None:
    _, campaign, texter = scenario_world(db, batch_size=None)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.NO_BATCH_SIZE


def test_08_archived(db: Database) -> None:
    _, campaign, texter = scenario_world(db)
    with db.uow() as uow:
        uow.session.get(Campaign, campaign).is_archived = True
        uow.commit()
    assert reason(request_batch(db, campaign, texter)) == RefusalReason.CAMPAIGN_ARCHIVED
    assert not can_request_more(db, campaign, texter).can_request


def test_09_dynamic_assignment_off(db: Database) -> None:
    _, campaign, texter = scenario_world(db, dynamic=False)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.DYNAMIC_ASSIGNMENT_OFF


def test_10_waiting_reply_blocks_until_answered(db: Database) -> None:
    _, campaign, texter = scenario_world(db)
    reply = hold(db, campaign, texter, 1, S.NEEDS_RESPONSE)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.WAITING_REPLIES
    assert "Finish your 1 reply first" in result.refusal.message
    set_status(db, reply, S.CONVO)
    assert request_batch(db, campaign, texter).assigned == 200


def test_11_opted_out_reply_does_not_block(db: Database) -> None:
    _, campaign, texter = scenario_world(db)
    hold(db, campaign, texter, 1, S.NEEDS_RESPONSE, opted_out=True)
    assert request_batch(db, campaign, texter).assigned == 200


def test_12_reply_outside_texting_hours_does_not_block(db: Database) -> None:
    _, campaign, texter = scenario_world(db, texting_hours="9-21", timezone="America/New_York")
    hold(db, campaign, texter, 1, S.NEEDS_RESPONSE, timezone="Asia/Tokyo")
    assert request_batch(db, campaign, texter, now=NY_DAYTIME).assigned == 200


def test_12b_reply_inside_texting_hours_blocks(db: Database) -> None:
    _, campaign, texter = scenario_world(db, texting_hours="9-21", timezone="America/New_York")
    hold(db, campaign, texter, 1, S.NEEDS_RESPONSE, timezone="America/Chicago")
    result = request_batch(db, campaign, texter, now=NY_DAYTIME)
    assert reason(result) == RefusalReason.WAITING_REPLIES


def test_13_tz_strategy_hands_out_only_textable_contacts(db: Database) -> None:
    _, campaign, texter = scenario_world(
        db, contacts=0, strategies=["finished-replies-tz"], texting_hours="9-21"
    )
    textable = add_contacts(db, campaign, 100, timezone="America/New_York")
    add_contacts(db, campaign, 100, timezone="Asia/Tokyo", start=100)
    result = request_batch(db, campaign, texter, requested=200, now=NY_DAYTIME)
    assert result.assigned == 100
    assert result.contact_ids == textable


def test_13b_contacts_without_zone_use_the_campaign_zone(db: Database) -> None:
    _, campaign, texter = scenario_world(
        db,
        contacts=0,
        strategies=["finished-replies-tz"],
        texting_hours="9-21",
        timezone="Asia/Tokyo",
    )
    add_contacts(db, campaign, 10)  # no zone: Tokyo, outside hours
    ny = add_contacts(db, campaign, 5, timezone="America/New_York", start=10)
    result = request_batch(db, campaign, texter, now=NY_DAYTIME)
    assert result.contact_ids == ny


def test_14_vetted_texters_one_batch_for_texters(db: Database) -> None:
    _, campaign, texter = scenario_world(
        db,
        strategies=["vetted-texters"],
        org_settings={"RELEASE_CONVERSATIONS_ALLOWED": "true"},
    )
    first = request_batch(db, campaign, texter)
    assert first.assigned == 200
    mark_sent(db, first.contact_ids)
    second = request_batch(db, campaign, texter)
    assert second.assigned == 0 and reason(second) == RefusalReason.NOT_VETTED
    assert end_day(db, campaign, texter).total == 200
    assert request_batch(db, campaign, texter).assigned == 200


def test_15_vetted_texter_keeps_getting_batches(db: Database) -> None:
    _, campaign, texter = scenario_world(db, role=Role.VETTED_TEXTER, strategies=["vetted-texters"])
    hold(db, campaign, texter, 200, S.MESSAGED)
    hold(db, campaign, texter, 5, S.NEEDS_RESPONSE, start=300)
    assert request_batch(db, campaign, texter).assigned == 200


def test_16_all_texters_ignores_waiting_replies(db: Database) -> None:
    _, campaign, texter = scenario_world(db, strategies=["all-texters"])
    hold(db, campaign, texter, 10, S.NEEDS_RESPONSE)
    assert request_batch(db, campaign, texter).assigned == 200


def test_17_vetted_takeconversations(db: Database) -> None:
    org, campaign, vetted = scenario_world(
        db,
        contacts=0,
        role=Role.VETTED_TEXTER,
        strategies=["finished-replies", "vetted-takeconversations"],
    )
    replies = add_contacts(db, campaign, 10, status=S.NEEDS_RESPONSE)
    convos = add_contacts(db, campaign, 10, status=S.CONVO, start=10)
    add_contacts(db, campaign, 10, status=S.MESSAGED, start=20)
    result = request_batch(
        db, campaign, vetted, requested=20, strategy_name="vetted-takeconversations"
    )
    assert sorted(result.contact_ids) == sorted(replies + convos)
    plain = make_texter(db, org, "UPLAIN")
    make_assignment(db, campaign, plain)
    refused = request_batch(db, campaign, plain, 20, "vetted-takeconversations")
    assert refused.assigned == 0 and reason(refused) == RefusalReason.NOT_VETTED


def test_18_organization_list_uses_only_its_first_strategy(db: Database) -> None:
    _, campaign, texter = scenario_world(
        db, org_settings={"DYNAMICASSIGNMENT_BATCHES": "vetted-texters,finished-replies"}
    )
    first = request_batch(db, campaign, texter)
    assert first.eligibility.strategy == "vetted-texters"
    mark_sent(db, first.contact_ids)
    assert reason(request_batch(db, campaign, texter)) == RefusalReason.NOT_VETTED
    by_name = request_batch(db, campaign, texter, strategy_name="finished-replies")
    assert by_name.assigned == 0 and reason(by_name) == RefusalReason.STRATEGY_NOT_ENABLED


def test_19_unsent_first_texts_block_a_new_batch(db: Database) -> None:
    # Spoke applies this only when bulk send is disabled, and then only when the texter holds
    # at least a batch. Slack commands can be typed any time, so spokebot always refuses a
    # new batch while any first text is unsent (the rule); 200 and 199 both refuse.
    _, campaign, texter = scenario_world(db)
    held = hold(db, campaign, texter, 200, S.NEEDS_MESSAGE)
    refused = request_batch(db, campaign, texter)
    assert refused.assigned == 0 and reason(refused) == RefusalReason.UNSENT_INITIALS_HELD
    mark_sent(db, held[:1])
    still = request_batch(db, campaign, texter)
    assert reason(still) == RefusalReason.UNSENT_INITIALS_HELD
    assert "199 first texts" in still.refusal.message
    mark_sent(db, held)
    assert request_batch(db, campaign, texter).assigned == 200


def test_20_two_texters_at_once_share_the_pool(db: Database) -> None:
    org, campaign, first = scenario_world(db, contacts=300)
    second = make_texter(db, org, "USECOND")
    make_assignment(db, campaign, second)
    barrier = threading.Barrier(2)
    results: dict[int, list[int]] = {}

    def ask(user_id: int) -> None:
        barrier.wait()
        results[user_id] = request_batch(db, campaign, user_id).contact_ids

    threads = [threading.Thread(target=ask, args=(u,)) for u in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = results[first], results[second]
    assert len(a) + len(b) == 300
    assert not set(a) & set(b)
    assert sorted(len(x) for x in (a, b)) == [100, 200]


def test_21_done_for_the_day_releases_unsent(db: Database) -> None:
    _, campaign, texter = scenario_world(db, contacts=0)
    hold(db, campaign, texter, 150, S.MESSAGED)
    unsent = hold(db, campaign, texter, 50, S.NEEDS_MESSAGE, start=150)
    released = end_day(db, campaign, texter)
    assert (released.initials, released.conversations) == (50, 0)
    with db.uow(read_only=True) as uow:
        free = uow.session.scalars(
            select(CampaignContact.id).where(CampaignContact.assignment_id.is_(None))
        ).all()
    assert sorted(free) == sorted(unsent)
    assert request_batch(db, campaign, texter).contact_ids == sorted(unsent)


def test_22_release_including_conversations(db: Database) -> None:
    _, campaign, texter = scenario_world(
        db, contacts=0, org_settings={"RELEASE_CONVERSATIONS_ALLOWED": "true"}
    )
    hold(db, campaign, texter, 150, S.MESSAGED)
    hold(db, campaign, texter, 50, S.NEEDS_MESSAGE, start=150)
    released = end_day(db, campaign, texter)
    assert (released.initials, released.conversations, released.total) == (50, 150, 200)
