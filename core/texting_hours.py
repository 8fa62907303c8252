"""Texting hours: a contact may be texted when its local hour is within [start, end).

Contacts without a time zone use the campaign's. Hours of None mean no restriction.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

# Every UTC offset in use is a multiple of 15 minutes, so within one 15-minute slot the set of
# zones inside texting hours cannot change.
SLOT_MINUTES = 15

# Working out a slot's zones takes a while (the first time, listing the zone database from
# disk). Without this lock every request that arrives before the first one finishes works it
# out too: 50 texters starting at once each walked the zone database, 4-9 s for their first
# batch, and again (briefly) at every new slot. One computes; the others wait for its answer.
_COMPUTING = threading.Lock()


def is_textable_now(start: int | None, end: int | None, zone_name: str, now: datetime) -> bool:
    if start is None or end is None:
        return True
    local = now.astimezone(ZoneInfo(zone_name))
    return start <= local.hour < end


def next_window_start(start: int, end: int, zone_name: str, now: datetime) -> datetime:
    """When the contact can next be texted (now, if inside hours)."""
    zone = ZoneInfo(zone_name)
    local = now.astimezone(zone)
    if start <= local.hour < end:
        return now
    day = local.date() if local.hour < start else local.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, start, tzinfo=zone)


def _slot(now: datetime) -> datetime:
    minute = now.minute - now.minute % SLOT_MINUTES
    return now.replace(minute=minute, second=0, microsecond=0)


@lru_cache(maxsize=1)
def _all_zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=256)
def _textable_zones_in_slot(start: int, end: int, slot: datetime) -> frozenset[str]:
    return frozenset(z for z in _all_zones() if start <= slot.astimezone(ZoneInfo(z)).hour < end)


def textable_zones(start: int, end: int, now: datetime) -> frozenset[str]:
    """IANA zone names whose local hour is within texting hours right now (cached per slot)."""
    with _COMPUTING:
        return _textable_zones_in_slot(start, end, _slot(now))
