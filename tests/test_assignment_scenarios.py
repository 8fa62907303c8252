"""The behaviour scenarios of shared/reference/spoke-dynamic-assignment.md, one test each.

Defaults unless a test says otherwise: dynamic assignment on, launched, batch size 200,
strategy finished-replies, texting hours not enforced, contacts unassigned needsMessage and
not opted out, the texter a TEXTER with no cap.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.errors import Conflict
from core.models import Assignment, Campaign, CampaignContact, User, UserOrganization
from core.refusals import RefusalReason
from core.roles import Role
from core.services.admin import assign_manually, set_max_contacts
from core.services.batches import can_request_more, request_batch
from core.services.campaigns import rotate_join_token
from core.services.joining import JoinRefusal, JoinRefused, join_campaign
from core.services.release import release_contacts
from core.statuses import MessageStatus as S
from tests.support.world import (
    add_contacts,
    make_assignment,
    make_campaign,
    make_org,
    make_texter,
    set_status,
)

# 15:00 UTC: 10:00 in New York (inside 9-21), midnight in Tokyo (outside).
NY_DAYTIME = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def setup(
    db: Database,
    contacts: int = 1000,
    role: Role = Role.TEXTER,
    cap: int | None = None,
    org_settings: dict | None = None,
    **campaign: object,
) -> tuple[int, int, int]:
    org = make_org(db, **(org_settings or {}))
    campaign_id = make_campaign(db, org, **campaign)  # type: ignore[arg-type]
    if contacts:
        add_contacts(db, campaign_id, contacts)
    texter = make_texter(db, org, "UTEXTER", role)
    make_assignment(db, campaign_id, texter, cap)
    return org, campaign_id, texter


def assignment_of(db: Database, campaign_id: int, user_id: int) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(Assignment.id).where(
                Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
            )
        )


def hold(db: Database, campaign_id: int, user_id: int, count: int, status: S, **kw) -> list[int]:
    """Give the texter `count` contacts already in `status` (fresh cells, no pool change)."""
    start = 5000 + kw.pop("start", 0)
    return add_contacts(
        db,
        campaign_id,
        count,
        status=status,
        assignment_id=assignment_of(db, campaign_id, user_id),
        start=start,
        **kw,
    )


def mark_sent(db: Database, contact_ids: list[int]) -> None:
    set_status(db, contact_ids, S.MESSAGED)


def reason(result) -> RefusalReason | None:  # type: ignore[no-untyped-def]
    return result.refusal.reason if result.refusal else None


def join_token(db: Database, campaign_id: int) -> str:
    with db.uow(read_only=True) as uow:
        return uow.session.get(Campaign, campaign_id).join_token


def test_01_batch_of_200_then_told_whether_more(db: Database) -> None:
    _, campaign, texter = setup(db)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 200 and result.unsent == 200 and result.refusal is None
    told = can_request_more(db, campaign, texter)
    assert not told.can_request
    assert told.refusal.reason == RefusalReason.UNSENT_INITIALS_HELD
    assert "200 first texts to send" in told.refusal.message
    mark_sent(db, result.contact_ids)
    assert can_request_more(db, campaign, texter).can_request


def test_02_only_150_available(db: Database) -> None:
    _, campaign, texter = setup(db, contacts=150)
    assert request_batch(db, campaign, texter).assigned == 150


def test_03_cap_zero(db: Database) -> None:
    _, campaign, texter = setup(db, cap=0)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.CAP_ZERO
    assert "max amount" in result.refusal.message


def test_04_cap_250_holding_200_gets_50(db: Database) -> None:
    _, campaign, texter = setup(db, cap=250)
    hold(db, campaign, texter, 150, S.MESSAGED)
    hold(db, campaign, texter, 50, S.CONVO, start=200)
    assert request_batch(db, campaign, texter).assigned == 50


def test_05_cap_reached(db: Database) -> None:
    _, campaign, texter = setup(db, cap=250)
    hold(db, campaign, texter, 250, S.MESSAGED)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.CAP_REACHED
    assert "limit of 250" in result.refusal.message


def test_06_cap_lowered_below_holdings_is_cap_not_error(db: Database) -> None:
    _, campaign, texter = setup(db, cap=300)
    held = hold(db, campaign, texter, 200, S.NEEDS_MESSAGE)
    mark_sent(db, held[:100])
    with db.uow() as uow:
        uow.session.execute(update(Assignment).values(max_contacts=100))
        uow.commit()
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.CAP_REACHED


def test_07_no_batch_size(db: Database) -> None:
    _, campaign, texter = setup(db, batch_size=None)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.NO_BATCH_SIZE


def test_08_archived(db: Database) -> None:
    _, campaign, texter = setup(db)
    with db.uow() as uow:
        uow.session.get(Campaign, campaign).is_archived = True
        uow.commit()
    assert reason(request_batch(db, campaign, texter)) == RefusalReason.CAMPAIGN_ARCHIVED
    assert not can_request_more(db, campaign, texter).can_request


def test_09_dynamic_assignment_off(db: Database) -> None:
    _, campaign, texter = setup(db, dynamic=False)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.DYNAMIC_ASSIGNMENT_OFF


def test_10_waiting_reply_blocks_until_answered(db: Database) -> None:
    _, campaign, texter = setup(db)
    reply = hold(db, campaign, texter, 1, S.NEEDS_RESPONSE)
    result = request_batch(db, campaign, texter)
    assert result.assigned == 0 and reason(result) == RefusalReason.WAITING_REPLIES
    assert "Finish your 1 reply first" in result.refusal.message
    set_status(db, reply, S.CONVO)
    assert request_batch(db, campaign, texter).assigned == 200


def test_11_opted_out_reply_does_not_block(db: Database) -> None:
    _, campaign, texter = setup(db)
    hold(db, campaign, texter, 1, S.NEEDS_RESPONSE, opted_out=True)
    assert request_batch(db, campaign, texter).assigned == 200


def test_12_reply_outside_texting_hours_does_not_block(db: Database) -> None:
    _, campaign, texter = setup(db, texting_hours="9-21", timezone="America/New_York")
    hold(db, campaign, texter, 1, S.NEEDS_RESPONSE, timezone="Asia/Tokyo")
    assert request_batch(db, campaign, texter, now=NY_DAYTIME).assigned == 200


def test_12b_reply_inside_texting_hours_blocks(db: Database) -> None:
    _, campaign, texter = setup(db, texting_hours="9-21", timezone="America/New_York")
    hold(db, campaign, texter, 1, S.NEEDS_RESPONSE, timezone="America/Chicago")
    result = request_batch(db, campaign, texter, now=NY_DAYTIME)
    assert reason(result) == RefusalReason.WAITING_REPLIES


def test_13_tz_strategy_hands_out_only_textable_contacts(db: Database) -> None:
    _, campaign, texter = setup(
        db, contacts=0, strategies=["finished-replies-tz"], texting_hours="9-21"
    )
    textable = add_contacts(db, campaign, 100, timezone="America/New_York")
    add_contacts(db, campaign, 100, timezone="Asia/Tokyo", start=100)
    result = request_batch(db, campaign, texter, requested=200, now=NY_DAYTIME)
    assert result.assigned == 100
    assert result.contact_ids == textable


def test_13b_contacts_without_zone_use_the_campaign_zone(db: Database) -> None:
    _, campaign, texter = setup(
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
    _, campaign, texter = setup(
        db,
        strategies=["vetted-texters"],
        org_settings={"RELEASE_CONVERSATIONS_ALLOWED": "true"},
    )
    first = request_batch(db, campaign, texter)
    assert first.assigned == 200
    mark_sent(db, first.contact_ids)
    second = request_batch(db, campaign, texter)
    assert second.assigned == 0 and reason(second) == RefusalReason.NOT_VETTED
    assert release_contacts(db, campaign, texter).total == 200
    assert request_batch(db, campaign, texter).assigned == 200


def test_15_vetted_texter_keeps_getting_batches(db: Database) -> None:
    _, campaign, texter = setup(db, role=Role.VETTED_TEXTER, strategies=["vetted-texters"])
    hold(db, campaign, texter, 200, S.MESSAGED)
    hold(db, campaign, texter, 5, S.NEEDS_RESPONSE, start=300)
    assert request_batch(db, campaign, texter).assigned == 200


def test_16_all_texters_ignores_waiting_replies(db: Database) -> None:
    _, campaign, texter = setup(db, strategies=["all-texters"])
    hold(db, campaign, texter, 10, S.NEEDS_RESPONSE)
    assert request_batch(db, campaign, texter).assigned == 200


def test_17_vetted_takeconversations(db: Database) -> None:
    org, campaign, vetted = setup(
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
    _, campaign, texter = setup(
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
    _, campaign, texter = setup(db)
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
    org, campaign, first = setup(db, contacts=300)
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
    _, campaign, texter = setup(db, contacts=0)
    hold(db, campaign, texter, 150, S.MESSAGED)
    unsent = hold(db, campaign, texter, 50, S.NEEDS_MESSAGE, start=150)
    released = release_contacts(db, campaign, texter)
    assert (released.initials, released.conversations) == (50, 0)
    with db.uow(read_only=True) as uow:
        free = uow.session.scalars(
            select(CampaignContact.id).where(CampaignContact.assignment_id.is_(None))
        ).all()
    assert sorted(free) == sorted(unsent)
    assert request_batch(db, campaign, texter).contact_ids == sorted(unsent)


def test_22_release_including_conversations(db: Database) -> None:
    _, campaign, texter = setup(
        db, contacts=0, org_settings={"RELEASE_CONVERSATIONS_ALLOWED": "true"}
    )
    hold(db, campaign, texter, 150, S.MESSAGED)
    hold(db, campaign, texter, 50, S.NEEDS_MESSAGE, start=150)
    released = release_contacts(db, campaign, texter)
    assert (released.initials, released.conversations, released.total) == (50, 150, 200)


def test_23_join_creates_membership_and_one_assignment(db: Database) -> None:
    org = make_org(db, MAX_CONTACTS_PER_TEXTER=300)
    campaign = make_campaign(db, org)
    token = join_token(db, campaign)
    joined = join_campaign(db, campaign, token, "UNEW", "New Person")
    assert not joined.already_joined and joined.max_contacts == 300
    again = join_campaign(db, campaign, token, "UNEW", "New Person")
    assert again.already_joined and again.assignment_id == joined.assignment_id
    with db.uow(read_only=True) as uow:
        roles = uow.session.scalars(select(UserOrganization.role)).all()
        assignments = uow.session.scalar(select(func.count()).select_from(Assignment))
    assert roles == ["TEXTER"] and assignments == 1
    other_org = make_org(db, "T2")
    uncapped = make_campaign(db, other_org)
    assert join_campaign(db, uncapped, join_token(db, uncapped), "UNEW").max_contacts is None


@pytest.mark.parametrize(
    ("case", "expected", "words"),
    [
        ("not_launched", JoinRefusal.NOT_LAUNCHED, "hasn't been launched"),
        ("wrong_token", JoinRefusal.INVALID_LINK, "not valid"),
        ("rotated_token", JoinRefusal.INVALID_LINK, "not valid"),
        ("dynamic_off", JoinRefusal.DYNAMIC_ASSIGNMENT_OFF, "dynamic assignment"),
        ("no_campaign", JoinRefusal.INVALID_LINK, "not valid"),
    ],
)
def test_24_join_refusals_each_with_its_reason(
    db: Database, case: str, expected: JoinRefusal, words: str
) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=case != "not_launched", dynamic=case != "dynamic_off")
    token = join_token(db, campaign)
    if case == "wrong_token":
        token = token[:-2] + "xx"
    if case == "rotated_token":
        rotate_join_token(db, campaign)
    target = campaign + 99 if case == "no_campaign" else campaign
    with pytest.raises(JoinRefused) as refused:
        join_campaign(db, target, token, "UJOINER")
    assert refused.value.reason == expected
    assert words in refused.value.message
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 0


def test_25_max_texters_refuses_new_but_not_returning(db: Database) -> None:
    org = make_org(db, MAX_TEXTERS_PER_CAMPAIGN=2)
    campaign = make_campaign(db, org)
    token = join_token(db, campaign)
    join_campaign(db, campaign, token, "UA")
    join_campaign(db, campaign, token, "UB")
    with pytest.raises(JoinRefused) as refused:
        join_campaign(db, campaign, token, "UC")
    assert refused.value.reason == JoinRefusal.TOO_MANY_TEXTERS
    assert "maximum of 2 texters" in refused.value.message
    assert join_campaign(db, campaign, token, "UA").already_joined


def test_25b_concurrent_joins_never_overshoot_the_limit(db: Database) -> None:
    org = make_org(db, MAX_TEXTERS_PER_CAMPAIGN=3)
    campaign = make_campaign(db, org)
    token = join_token(db, campaign)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def join(n: int) -> None:
        barrier.wait()
        try:
            join_campaign(db, campaign, token, f"URACE{n}")
            outcomes.append("joined")
        except JoinRefused as exc:
            outcomes.append(exc.reason.value)

    threads = [threading.Thread(target=join, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("joined") == 3
    assert outcomes.count(JoinRefusal.TOO_MANY_TEXTERS.value) == 5
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Assignment)) == 3


def test_26_members_only_refuses_non_members_writing_nothing(db: Database) -> None:
    org = make_org(db, CAMPAIGN_INVITES_CURRENT_USERS_ONLY="true")
    campaign = make_campaign(db, org)
    with pytest.raises(JoinRefused) as refused:
        join_campaign(db, campaign, join_token(db, campaign), "UOUTSIDER")
    assert refused.value.reason == JoinRefusal.MEMBERS_ONLY
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 0
    make_texter(db, org, "UMEMBER")
    assert not join_campaign(db, campaign, join_token(db, campaign), "UMEMBER").already_joined


def test_27_suspended_member_refused_writing_nothing(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org)
    make_texter(db, org, "USUSP", Role.SUSPENDED)
    with pytest.raises(JoinRefused) as refused:
        join_campaign(db, campaign, join_token(db, campaign), "USUSP")
    assert refused.value.reason == JoinRefusal.SUSPENDED
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_28_opted_out_contacts_are_never_assigned(db: Database) -> None:
    _, campaign, texter = setup(db, contacts=0)
    add_contacts(db, campaign, 5, opted_out=True)
    fine = add_contacts(db, campaign, 3, start=5)
    result = request_batch(db, campaign, texter)
    assert result.contact_ids == fine
    mark_sent(db, fine)
    assert reason(request_batch(db, campaign, texter)) == RefusalReason.NO_INITIALS_LEFT


def test_30_manual_assignment_refused_while_dynamic_and_max_amount_parsing(
    db: Database,
) -> None:
    org, campaign, texter = setup(db)
    admin = make_texter(db, org, "UADMIN", Role.ADMIN)
    with pytest.raises(Conflict) as refused:
        assign_manually(db, admin, campaign, texter, 5)
    assert "Turn dynamic assignment off, assign the texts, then turn it back on" in str(
        refused.value
    )
    for raw, stored in [("", None), ("0", 0), ("15", 15)]:
        assert set_max_contacts(db, admin, campaign, texter, raw) == stored
        with db.uow(read_only=True) as uow:
            assert uow.session.scalar(select(Assignment.max_contacts)) == stored
    with db.uow() as uow:
        uow.session.get(Campaign, campaign).use_dynamic_assignment = False
        uow.commit()
    assert assign_manually(db, admin, campaign, texter, 5) == 5


def test_31_more_available_until_the_last_initial_is_claimed(db: Database) -> None:
    org, campaign, texter = setup(db, contacts=1)
    assert can_request_more(db, campaign, texter).can_request
    other = make_texter(db, org, "UOTHER")
    make_assignment(db, campaign, other)
    assert request_batch(db, campaign, other).assigned == 1
    told = can_request_more(db, campaign, texter)
    assert not told.can_request
    assert told.refusal.reason == RefusalReason.NO_INITIALS_LEFT
    assert told.refusal.message == "All initial messages in this campaign have been claimed."


@pytest.mark.parametrize("requested", [0, -5])
def test_requesting_fewer_than_one_is_bad_input(db: Database, requested: int) -> None:
    from core.errors import InvalidInput

    _, campaign, texter = setup(db, contacts=10)
    with pytest.raises(InvalidInput, match="1 or more"):
        request_batch(db, campaign, texter, requested=requested)
    assert request_batch(db, campaign, texter, requested=3).assigned == 3
