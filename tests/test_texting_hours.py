"""Texting-hours helpers: local-hour windows, when the next window opens, zones inside hours."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.texting_hours import is_textable_now, next_window_start, textable_zones

MONDAY_15_UTC = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 New York, 07:00 Los Angeles


def test_window_is_start_inclusive_end_exclusive() -> None:
    ny = "America/New_York"
    assert is_textable_now(9, 21, ny, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # 09:00
    assert not is_textable_now(9, 21, ny, datetime(2026, 11, 23, 13, 59, tzinfo=UTC))  # 08:59
    assert not is_textable_now(9, 21, ny, datetime(2026, 11, 24, 2, 0, tzinfo=UTC))  # 21:00
    assert is_textable_now(None, None, ny, datetime(2026, 11, 24, 8, 0, tzinfo=UTC))


def test_next_window_start_today_tomorrow_and_now() -> None:
    la = "America/Los_Angeles"
    assert next_window_start(9, 21, la, MONDAY_15_UTC) == datetime(2026, 11, 23, 17, tzinfo=UTC)
    late = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # 22:30 Monday in Los Angeles
    assert next_window_start(9, 21, la, late) == datetime(2026, 11, 24, 17, tzinfo=UTC)
    assert next_window_start(9, 21, "America/New_York", MONDAY_15_UTC) == MONDAY_15_UTC


def test_next_window_across_the_dst_change() -> None:
    # 2026-03-08 02:00 New York springs forward: 9 AM that day is 13:00 UTC, not 14:00.
    night = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST
    assert next_window_start(9, 21, "America/New_York", night) == datetime(
        2026, 3, 8, 13, tzinfo=UTC
    )


def test_textable_zones_match_the_per_zone_answer_and_are_cached() -> None:
    zones = textable_zones(9, 21, MONDAY_15_UTC)
    assert "America/New_York" in zones and "Europe/London" in zones
    assert "America/Los_Angeles" not in zones and "Asia/Tokyo" not in zones  # 00:00 in Tokyo
    later_same_slot = MONDAY_15_UTC + timedelta(minutes=14, seconds=59)
    assert textable_zones(9, 21, later_same_slot) is zones  # one computation per slot


@settings(max_examples=60, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    start=st.integers(0, 23),
    length=st.integers(1, 24),
    zone=st.sampled_from(["America/New_York", "Asia/Kolkata", "Australia/Eucla", "UTC"]),
)
def test_zone_set_agrees_with_is_textable_now(
    moment: datetime, start: int, length: int, zone: str
) -> None:
    end = min(start + length, 24)
    assert (zone in textable_zones(start, end, moment)) == is_textable_now(start, end, zone, moment)
    opens = next_window_start(start, end, zone, moment)
    assert opens >= moment
    assert is_textable_now(start, end, zone, opens.astimezone(ZoneInfo(zone)))


def test_texters_asking_at_once_work_out_a_slot_once(mocker) -> None:
    # 50 texters' first requests used to each list the zone database and work out the slot's
    # zones themselves, 4-9 s for the first batch; one now does it and the others wait for it.
    from core import texting_hours

    texting_hours._all_zones.cache_clear()
    texting_hours._textable_zones_in_slot.cache_clear()
    listed = texting_hours.available_timezones

    def slow_listing() -> set[str]:
        time.sleep(0.05)  # as on a loaded machine: long enough for the others to arrive
        return listed()

    listing = mocker.patch.object(texting_hours, "available_timezones", side_effect=slow_listing)
    now = datetime(2026, 11, 23, 15, 7, tzinfo=UTC)
    start = threading.Barrier(8)
    answers: list[frozenset[str]] = []

    def ask() -> None:
        start.wait()
        answers.append(textable_zones(9, 21, now))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert listing.call_count == 1
    assert texting_hours._textable_zones_in_slot.cache_info().misses == 1
    assert len(answers) == 8 and len(set(answers)) == 1 and "America/New_York" in answers[0]
