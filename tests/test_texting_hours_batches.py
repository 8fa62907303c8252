"""A batch never hands out a contact that can't be texted now, whatever the strategy; when
nobody can be texted, the request assigns nothing and says when texting opens. Controlled
clock at the edges: opening, closing, a contact in another time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.db import Database
from core.models import CampaignContact, Organization
from core.refusals import RefusalReason
from core.services.batches import can_request_more, request_batch
from core.services.texting_window import duration_words
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

# Monday 2026-11-23 (EST = UTC-5, PST = UTC-8).
NY_0545 = datetime(2026, 11, 23, 10, 45, tzinfo=UTC)
NY_0859 = datetime(2026, 11, 23, 13, 59, tzinfo=UTC)
NY_0900 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 06:00 in Los Angeles
NY_2059 = datetime(2026, 11, 23, 1, 59, tzinfo=UTC).replace(day=24)
NY_2100 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 18:00 in Los Angeles
LA_2100 = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # 00:00 in New York


def world(
    db: Database, strategy: str = "finished-replies"
) -> tuple[int, int, list[int], list[int]]:
    org = make_org(db)
    campaign = make_campaign(db, org, texting_hours="9-21", strategies=[strategy], batch_size=10)
    ny = add_contacts(db, campaign, 3)  # no zone of their own: the campaign's
    la = add_contacts(db, campaign, 2, timezone="America/Los_Angeles", start=100)
    user = make_texter(db, org, "UT1")
    make_assignment(db, campaign, user)
    return campaign, user, ny, la


def held(db: Database, campaign_id: int) -> set[int]:
    with db.uow(read_only=True) as uow:
        return set(
            uow.session.scalars(
                select(CampaignContact.id).where(
                    CampaignContact.campaign_id == campaign_id,
                    CampaignContact.assignment_id.is_not(None),
                )
            )
        )


@pytest.mark.parametrize("strategy", ["finished-replies", "all-texters", "finished-replies-tz"])
def test_before_opening_nothing_is_assigned_and_the_texter_is_told_when(
    db: Database, strategy: str
) -> None:
    campaign, user, _, _ = world(db, strategy)
    result = request_batch(db, campaign, user, now=NY_0545)
    assert result.contact_ids == []
    assert held(db, campaign) == set()
    assert result.refusal is not None
    assert result.refusal.reason == RefusalReason.OUTSIDE_TEXTING_HOURS
    assert result.refusal.message == (
        "Texting hours for GOTV are 9 AM\N{EN DASH}9 PM America/New_York: "
        "you can send from 9 AM, in 3 h 15 min."
    )
    eligibility = can_request_more(db, campaign, user, now=NY_0859)
    assert eligibility.refusal is not None
    assert eligibility.refusal.message.endswith("you can send from 9 AM, in 1 min.")


def test_at_opening_only_contacts_inside_their_own_hours_are_handed_out(db: Database) -> None:
    campaign, user, ny, _la = world(db)
    result = request_batch(db, campaign, user, now=NY_0900)
    assert sorted(result.contact_ids) == ny  # 06:00 in Los Angeles: not yet
    assert held(db, campaign) == set(ny)


@pytest.mark.parametrize(
    ("now", "zones"), [(NY_2059, {"ny", "la"}), (NY_2100, {"la"})], ids=["20:59", "21:00"]
)
def test_at_closing_the_other_zone_is_still_open(
    db: Database, now: datetime, zones: set[str]
) -> None:
    campaign, user, ny, la = world(db)
    result = request_batch(db, campaign, user, now=now)
    expected = (ny if "ny" in zones else []) + (la if "la" in zones else [])
    assert sorted(result.contact_ids) == expected  # 21:00 New York is 18:00 in Los Angeles
    assert held(db, campaign) == set(expected)


def test_after_every_zone_closed_it_says_tomorrow(db: Database) -> None:
    campaign, user, _, _ = world(db)
    result = request_batch(db, campaign, user, now=LA_2100)
    assert result.contact_ids == []
    assert result.refusal is not None
    assert result.refusal.message.endswith("you can send from 9 AM, in 9 h.")  # 00:00 in NY


def test_after_closing_it_says_tomorrow(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, texting_hours="9-21", batch_size=10)
    add_contacts(db, campaign, 2)
    user = make_texter(db, org, "UT1")
    make_assignment(db, campaign, user)
    result = request_batch(db, campaign, user, now=NY_2100)
    assert result.contact_ids == []
    assert result.refusal is not None
    assert result.refusal.message.endswith("you can send from 9 AM tomorrow, in 12 h.")


def test_no_hours_means_any_time(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, batch_size=10)
    ids = add_contacts(db, campaign, 2)
    user = make_texter(db, org, "UT1")
    make_assignment(db, campaign, user)
    assert sorted(request_batch(db, campaign, user, now=NY_0545).contact_ids) == ids


def test_nothing_left_at_all_is_not_an_hours_problem(db: Database) -> None:
    campaign, user, _, _ = world(db)
    other = make_texter(db, org_id(db), "UT9")
    make_assignment(db, campaign, other)
    request_batch(db, campaign, other, now=LA_2100.replace(hour=21))  # 13:00 LA: all five
    result = request_batch(db, campaign, user, now=NY_0545)
    assert result.refusal is not None
    assert result.refusal.reason == RefusalReason.NO_INITIALS_LEFT


def org_id(db: Database) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalars(select(Organization.id)).first()


def test_duration_words() -> None:
    assert duration_words(3 * 3600 + 15 * 60) == "3 h 15 min"
    assert duration_words(59) == "1 min"
    assert duration_words(7200) == "2 h"


def test_the_card_at_closing_offers_only_the_zone_still_open(db: Database) -> None:
    from tests.support.card import card_offered, held_on_card

    campaign, user, ny, la = world(db)
    result = request_batch(db, campaign, user, now=NY_2059)  # everyone, just before closing
    assignment = result.eligibility.assignment_id
    assert assignment is not None and sorted(result.contact_ids) == ny + la
    assert card_offered(db, campaign, "UT1", now=NY_2059).contact_id == ny[0]
    card = card_offered(db, campaign, "UT1", now=NY_2100)
    assert card is not None and card.contact_id == la[0]  # 18:00 in Los Angeles
    left = held_on_card(db, campaign, "UT1", la[-1], now=NY_2100)
    assert (left.skipped, left.not_textable) == (2, 3)  # LA ones passed, NY ones closed
    assert left.opens_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 9 AM New York
