"""Many texters asking for batches at the same moment (PostgreSQL; SQLite serialises)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.models import CampaignContact
from core.services.batches import request_batch
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter


@pytest.mark.heavy
@pytest.mark.parametrize("supply", [3_000, 20_000], ids=["scarce", "plenty"])
def test_fifty_threads_request_at_once(database_url: str, engine_name: str, supply: int) -> None:
    threads_count = 50
    db = Database.from_url(database_url, **({"pool_size": 60} if engine_name != "sqlite" else {}))
    try:
        org = make_org(db)
        campaign = make_campaign(db, org)
        add_contacts(db, campaign, supply, prefix="+1202")
        users = [make_texter(db, org, f"U{n:03d}") for n in range(threads_count)]
        for user in users:
            make_assignment(db, campaign, user)
        barrier = threading.Barrier(threads_count)
        got: dict[int, list[int]] = {}
        errors: list[BaseException] = []

        def ask(user: int) -> None:
            barrier.wait()
            try:
                got[user] = request_batch(db, campaign, user).contact_ids
            except BaseException as exc:  # surfaced below, never swallowed
                errors.append(exc)

        workers = [threading.Thread(target=ask, args=(u,)) for u in users]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert not errors, errors[:3]
        assert all(not w.is_alive() for w in workers), "a request never finished (deadlock?)"
        owners = Counter(cid for ids in got.values() for cid in ids)
        assert all(n == 1 for n in owners.values()), "a contact was given to two texters"
        demand = threads_count * 200
        assert sum(owners.values()) == min(supply, demand)
        with db.uow(read_only=True) as uow:
            assigned = uow.session.scalar(
                select(func.count()).where(CampaignContact.assignment_id.is_not(None))
            )
        assert assigned == min(supply, demand)
    finally:
        db.dispose()
