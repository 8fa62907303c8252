"""Claims resume where the last one stopped, and never lose a contact released below that."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.db import Database
from core.models import CampaignContact
from core.refusals import RefusalReason
from core.services import claim_floor
from core.services.batches import can_request_more, request_batch
from core.services.claim_floor import RESCAN_SECONDS, ClaimFloors, claim_floors
from core.statuses import MessageStatus as S
from tests.support.people import end_day
from tests.support.world import build_world, set_status

INITIALS = frozenset({S.NEEDS_MESSAGE})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_floor_only_rises_and_lapses_after_the_rescan_interval() -> None:
    clock = FakeClock()
    floors = ClaimFloors(clock)
    assert floors.floor(1, INITIALS) is None
    floors.reached(1, INITIALS, 400)
    floors.reached(1, INITIALS, 200)  # a slower concurrent claim finishing late
    assert floors.floor(1, INITIALS) == 400
    assert floors.floor(2, INITIALS) is None
    clock.now += RESCAN_SECONDS - 1
    floors.reached(1, INITIALS, 600)
    assert floors.floor(1, INITIALS) == 600
    clock.now += 1  # the interval counts from when the floor was first set
    assert floors.floor(1, INITIALS) is None


def test_forgetting_a_campaign_leaves_the_others() -> None:
    floors = ClaimFloors(FakeClock())
    floors.reached(1, INITIALS, 10)
    floors.reached(1, frozenset({S.NEEDS_RESPONSE}), 10)
    floors.reached(2, INITIALS, 10)
    floors.forget(1)
    assert floors.floor(1, INITIALS) is None
    assert floors.floor(1, frozenset({S.NEEDS_RESPONSE})) is None
    assert floors.floor(2, INITIALS) == 10


def test_claims_in_flight_start_after_each_other() -> None:
    """Concurrent claims take consecutive shares past the floor instead of all starting at
    it and skipping each other's locked rows; what they report moves the floor."""
    floors = ClaimFloors(FakeClock())
    assert floors.starts(1, INITIALS, 10) == (None, None)  # no floor: from the start
    floors.reached(1, INITIALS, 100)
    assert floors.starts(1, INITIALS, 10) == (100, 100)
    assert floors.starts(1, INITIALS, 10) == (100, 110)  # the first is still in flight
    assert floors.starts(2, INITIALS, 10) == (None, None)  # other campaigns unaffected
    floors.reached(1, INITIALS, 110)
    floors.reached(1, INITIALS, 140)  # the second found gaps and went further
    assert floors.floor(1, INITIALS) == 140
    assert floors.starts(1, INITIALS, 10) == (140, 140)


def test_a_claim_that_overshot_sends_the_next_back_to_the_floor() -> None:
    clock = FakeClock()
    floors = ClaimFloors(clock)
    floors.reached(1, INITIALS, 100)
    floors.starts(1, INITIALS, 50)
    assert floors.starts(1, INITIALS, 50) == (100, 150)
    floors.overshot(1, INITIALS)
    assert floors.starts(1, INITIALS, 50) == (100, 100)
    floors.forget(1)
    assert floors.starts(1, INITIALS, 50) == (None, None)
    floors.reached(1, INITIALS, 100)
    floors.starts(1, INITIALS, 50)
    clock.now += RESCAN_SECONDS  # a lapsed floor takes the claims in flight with it
    assert floors.starts(1, INITIALS, 50) == (None, None)
    floors.reached(1, INITIALS, 100)
    assert floors.starts(1, INITIALS, 50) == (100, 100)


def _campaign(db: Database, contacts: int) -> tuple[int, list[int], list[int]]:
    w = build_world(db, members=["UFLOOR0", "UFLOOR1"], contacts=contacts, batch_size=10)
    return w.campaign_id, w.contact_ids, [w.user("UFLOOR0"), w.user("UFLOOR1")]


def test_claims_start_after_the_last_claimed_contact(db: Database) -> None:
    campaign_id, ids, (first, second) = _campaign(db, 30)
    assert request_batch(db, campaign_id, first).contact_ids == ids[:10]
    assert claim_floors(db.engine).floor(campaign_id, INITIALS) == ids[9]
    assert request_batch(db, campaign_id, second).contact_ids == ids[10:20]
    assert claim_floors(db.engine).floor(campaign_id, INITIALS) == ids[19]


def test_contacts_released_in_this_process_are_handed_out_next(db: Database) -> None:
    campaign_id, ids, (first, second) = _campaign(db, 30)
    request_batch(db, campaign_id, first)
    request_batch(db, campaign_id, second)
    assert end_day(db, campaign_id, first).initials == 10
    assert request_batch(db, campaign_id, first).contact_ids == ids[:10]


def _release_elsewhere(db: Database, contact_ids: list[int]) -> None:
    # Another bot process (or the scheduler) releasing: this process's floors don't hear of it.
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id.in_(contact_ids))
            .values(assignment_id=None)
        )
        uow.commit()


def test_contacts_released_elsewhere_are_found_once_the_floor_lapses(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id, ids, (first, second) = _campaign(db, 40)
    clock = FakeClock()
    monkeypatch.setattr(claim_floor, "_BY_POOL", claim_floor.weakref.WeakKeyDictionary())
    monkeypatch.setattr(claim_floor, "ClaimFloors", lambda: ClaimFloors(clock))
    request_batch(db, campaign_id, first)
    request_batch(db, campaign_id, second)
    _release_elsewhere(db, ids[:10])
    assert request_batch(db, campaign_id, first).contact_ids == ids[20:30]  # above the floor
    clock.now += RESCAN_SECONDS
    _release_elsewhere(db, ids[20:30])
    assert request_batch(db, campaign_id, first).contact_ids == ids[:10]  # rescanned from 0


def test_nothing_below_the_floor_is_lost_when_the_rest_is_claimed(db: Database) -> None:
    campaign_id, ids, (first, second) = _campaign(db, 25)
    request_batch(db, campaign_id, first)
    request_batch(db, campaign_id, second)
    _release_elsewhere(db, ids[:10])
    # 5 left above the floor, 10 below it: one request gets all it asked for.
    result = request_batch(db, campaign_id, first)
    assert result.contact_ids == sorted(ids[:5] + ids[20:25])
    set_status(db, ids[10:20], S.MESSAGED)  # the second texter sends their batch
    assert can_request_more(db, campaign_id, second).can_request
    assert request_batch(db, campaign_id, second).contact_ids == ids[5:10]
    set_status(db, ids[5:10], S.MESSAGED)
    refused = can_request_more(db, campaign_id, second).refusal
    assert refused is not None and refused.reason == RefusalReason.NO_INITIALS_LEFT
