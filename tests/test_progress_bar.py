"""One progress bar, rounded down everywhere: 99.6% reads 99%, 100% only when all are sent."""

from __future__ import annotations

from datetime import date

from bot.render import notices
from bot.render.progress import progress_bar
from core.progress import whole_percent
from core.services.digest import CampaignDigest, OrgDigest


def test_progress_bar() -> None:
    assert progress_bar(48, 100) == "▓▓▓▓░░░░░░ 48%"
    assert progress_bar(0, 100) == "░░░░░░░░░░ 0%"
    assert progress_bar(100, 100) == "▓▓▓▓▓▓▓▓▓▓ 100%"
    assert progress_bar(999, 1000) == "▓▓▓▓▓▓▓▓▓░ 99%"  # 100% only when every text went out


def test_nothing_to_send_is_zero_and_counts_are_clamped() -> None:
    assert progress_bar(0, 0) == "░░░░░░░░░░ 0%"
    assert progress_bar(12, 10) == "▓▓▓▓▓▓▓▓▓▓ 100%"
    assert progress_bar(-1, 10) == "░░░░░░░░░░ 0%"


def test_percent_is_exact_where_floats_are_not() -> None:
    # math.floor(0.29 * 100) is 28: the percent is computed in integers.
    assert whole_percent(29, 100) == 29
    assert progress_bar(29, 100) == "▓▓░░░░░░░░ 29%"
    assert all(whole_percent(n, 100) == n for n in range(101))


def _digest_text(sent: int, textable: int) -> str:
    campaign = CampaignDigest(1, "GOTV", textable, sent, 1, 0, 0)
    message = notices.digest(OrgDigest(1, "Org", date(2026, 3, 10), (campaign,)))
    return message["blocks"][1]["text"]["text"]


def test_the_digest_rounds_down_like_campaign_list() -> None:
    # 996 of 1,000 is 99.6%: the digest used to round it up to a full bar and 100%.
    assert "`▓▓▓▓▓▓▓▓▓░` 99% of first texts sent (996 of 1,000)" in _digest_text(996, 1000)
    assert progress_bar(996, 1000) == "▓▓▓▓▓▓▓▓▓░ 99%"
    assert "`▓▓▓▓▓▓▓▓▓▓` 100%" in _digest_text(1000, 1000)


def test_every_place_draws_the_same_bar_and_100_only_when_all_are_sent() -> None:
    for total in range(1, 120):
        for sent in range(total + 1):
            bar = progress_bar(sent, total)
            cells, percent = bar.rsplit(" ", 1)
            assert f"`{cells}` {percent}" in _digest_text(sent, total)
            assert (percent == "100%") == (sent == total)
