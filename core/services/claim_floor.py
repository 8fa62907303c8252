"""Where the next claim in a campaign should start looking.

Claims take the lowest claimable ids first, so every claimed contact leaves a dead entry at the
front of the claimable partial index until vacuum removes it, and a claim that starts from the
campaign's first id walks all of them: at a million claimed contacts that is several
milliseconds a request. Each process remembers the highest id its claims have reached per
campaign and starts there. Contacts below that floor can become claimable again (released,
or a claim rolled back), so the floor is dropped when this process releases contacts, when a
claim above it comes up short, and every RESCAN_SECONDS, which bounds how long another process's
releases wait. A floor is only a hint: a claim is correct from any floor.

Claims running at the same time would all start at the floor and wade through each other's
locked rows (SKIP LOCKED still visits each one: with 50 texters asking at once, about 10,000
rows and 15-25 ms a claim). So each claim also starts after the ids the claims already in
flight are expected to take, a campaign's contacts being imported with consecutive ids; a
claim that finds too little there looks again from the floor.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from core.statuses import MessageStatus

RESCAN_SECONDS = 30.0

FloorKey = tuple[int, frozenset[MessageStatus]]


class ClaimFloors:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._floors: dict[FloorKey, tuple[int, float]] = {}
        # Per key, the id up to which claims in flight are expected to take contacts.
        self._ahead: dict[FloorKey, int] = {}

    def floor(self, campaign_id: int, statuses: frozenset[MessageStatus]) -> int | None:
        """The id claims may start after, or None to scan from the campaign's start."""
        with self._lock:
            known = self._floors.get((campaign_id, statuses))
            if known is None:
                return None
            floor, since = known
            if self._clock() - since >= RESCAN_SECONDS:
                del self._floors[(campaign_id, statuses)]
                self._ahead.pop((campaign_id, statuses), None)
                return None
            return floor

    def starts(
        self, campaign_id: int, statuses: frozenset[MessageStatus], count: int
    ) -> tuple[int | None, int | None]:
        """(the floor, where a claim of `count` contacts should start): after the floor and
        after what the claims in flight are expected to take. The claim's own share is
        counted as taken until it reports what it reached."""
        floor = self.floor(campaign_id, statuses)
        if floor is None:
            return None, None
        with self._lock:
            key = (campaign_id, statuses)
            start = max(floor, self._ahead.get(key, floor))
            self._ahead[key] = start + count
            return floor, start

    def reached(self, campaign_id: int, statuses: frozenset[MessageStatus], top_id: int) -> None:
        """A claim took contacts up to `top_id`; the floor never moves back on its own."""
        with self._lock:
            key = (campaign_id, statuses)
            known = self._floors.get(key)
            if known is None:
                self._floors[key] = (top_id, self._clock())
            elif top_id > known[0]:
                self._floors[key] = (top_id, known[1])
            if top_id > self._ahead.get(key, top_id):
                self._ahead[key] = top_id

    def overshot(self, campaign_id: int, statuses: frozenset[MessageStatus]) -> None:
        """A claim found too little where the claims in flight left it: expect no more than
        the floor next time (ids are not consecutive here, or the campaign is nearly done)."""
        with self._lock:
            self._ahead.pop((campaign_id, statuses), None)

    def forget(self, campaign_id: int) -> None:
        """Contacts in the campaign became claimable again: look from the start next time."""
        with self._lock:
            for key in [k for k in self._floors if k[0] == campaign_id]:
                del self._floors[key]
            for key in [k for k in self._ahead if k[0] == campaign_id]:
                del self._ahead[key]


# One set of floors per connection pool, i.e. per database this process talks to (a reader
# engine made with execution_options shares its parent's pool).
_BY_POOL: weakref.WeakKeyDictionary[Pool, ClaimFloors] = weakref.WeakKeyDictionary()
_BY_POOL_LOCK = threading.Lock()


def claim_floors(bind: Engine | Connection | Session) -> ClaimFloors:
    if isinstance(bind, Session):
        engine = bind.get_bind()
    elif isinstance(bind, Connection):
        engine = bind.engine
    else:
        engine = bind
    pool = engine.pool  # type: ignore[union-attr]
    with _BY_POOL_LOCK:
        floors = _BY_POOL.get(pool)
        if floors is None:
            floors = _BY_POOL[pool] = ClaimFloors()
        return floors
