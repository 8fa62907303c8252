"""The behaviour scenarios of shared/reference/spoke-dynamic-assignment.md, one test each.
Scenarios 23-31: joining and its refusals, texter limits, opt-outs, manual assignment.

Defaults unless a test says otherwise: dynamic assignment on, launched, batch size 200,
strategy finished-replies, texting hours not enforced, contacts unassigned needsMessage and
not opted out, the texter a TEXTER with no cap.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.errors import Conflict
from core.models import Assignment, Campaign, User, UserOrganization
from core.refusals import RefusalReason
from core.roles import Role
from core.services.admin import assign_manually, set_max_contacts
from core.services.batches import can_request_more, request_batch
from core.services.campaigns import rotate_join_token
from core.services.joining import JoinRefusal, JoinRefused, JoinResult
from core.services.link_joining import join_by_link
from tests.support.scenarios import (
    join_token,
    mark_sent,
    reason,
    scenario_world,
)
from tests.support.world import (
    add_contacts,
    make_assignment,
    make_campaign,
    make_org,
    make_texter,
)


def click_join(
    db: Database, campaign: int, token: str, slack_user_id: str, name: str = "", team: str = "T1"
) -> JoinResult:
    """The Join button's use case, by the workspace the click came from."""
    return join_by_link(db, team, slack_user_id, name or None, campaign, token).result


def test_23_join_creates_membership_and_one_assignment(db: Database) -> None:
    org = make_org(db, MAX_CONTACTS_PER_TEXTER=300)
    campaign = make_campaign(db, org)
    token = join_token(db, campaign)
    joined = click_join(db, campaign, token, "UNEW", "New Person")
    assert not joined.already_joined and joined.max_contacts == 300
    again = click_join(db, campaign, token, "UNEW", "New Person")
    assert again.already_joined and again.assignment_id == joined.assignment_id
    with db.uow(read_only=True) as uow:
        roles = uow.session.scalars(select(UserOrganization.role)).all()
        assignments = uow.session.scalar(select(func.count()).select_from(Assignment))
    assert roles == ["TEXTER"] and assignments == 1
    other_org = make_org(db, "T2")
    uncapped = make_campaign(db, other_org)
    elsewhere = click_join(db, uncapped, join_token(db, uncapped), "UNEW", team="T2")
    assert elsewhere.max_contacts is None


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
        click_join(db, target, token, "UJOINER")
    assert refused.value.reason == expected
    assert words in refused.value.message
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 0


def test_25_max_texters_refuses_new_but_not_returning(db: Database) -> None:
    org = make_org(db, MAX_TEXTERS_PER_CAMPAIGN=2)
    campaign = make_campaign(db, org)
    token = join_token(db, campaign)
    click_join(db, campaign, token, "UA")
    click_join(db, campaign, token, "UB")
    with pytest.raises(JoinRefused) as refused:
        click_join(db, campaign, token, "UC")
    assert refused.value.reason == JoinRefusal.TOO_MANY_TEXTERS
    assert "maximum of 2 texters" in refused.value.message
    assert click_join(db, campaign, token, "UA").already_joined


def test_25b_concurrent_joins_never_overshoot_the_limit(db: Database) -> None:
    org = make_org(db, MAX_TEXTERS_PER_CAMPAIGN=3)
    campaign = make_campaign(db, org)
    token = join_token(db, campaign)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def join(n: int) -> None:
        barrier.wait()
        try:
            click_join(db, campaign, token, f"URACE{n}")
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
        click_join(db, campaign, join_token(db, campaign), "UOUTSIDER")
    assert refused.value.reason == JoinRefusal.MEMBERS_ONLY
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 0
    make_texter(db, org, "UMEMBER")
    assert not click_join(db, campaign, join_token(db, campaign), "UMEMBER").already_joined


def test_27_suspended_member_refused_writing_nothing(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org)
    make_texter(db, org, "USUSP", Role.SUSPENDED)
    with pytest.raises(JoinRefused) as refused:
        click_join(db, campaign, join_token(db, campaign), "USUSP")
    assert refused.value.reason == JoinRefusal.SUSPENDED
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_28_opted_out_contacts_are_never_assigned(db: Database) -> None:
    _, campaign, texter = scenario_world(db, contacts=0)
    add_contacts(db, campaign, 5, opted_out=True)
    fine = add_contacts(db, campaign, 3, start=5)
    result = request_batch(db, campaign, texter)
    assert result.contact_ids == fine
    mark_sent(db, fine)
    assert reason(request_batch(db, campaign, texter)) == RefusalReason.NO_INITIALS_LEFT


def test_30_manual_assignment_refused_while_dynamic_and_max_amount_parsing(
    db: Database,
) -> None:
    org, campaign, texter = scenario_world(db)
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
    org, campaign, texter = scenario_world(db, contacts=1)
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

    _, campaign, texter = scenario_world(db, contacts=10)
    with pytest.raises(InvalidInput, match="1 or more"):
        request_batch(db, campaign, texter, requested=requested)
    assert request_batch(db, campaign, texter, requested=3).assigned == 3
