"""Every admin payload stays within Block Kit's limits, whatever people typed or however
large the team is."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.render import admin, admin_modals
from core.services.campaign_settings import CampaignSettingsForm
from core.services.campaigns import CampaignSummary
from core.services.contact_import import ImportReport, SkippedRow
from core.services.release import ReleaseResult
from core.services.stats import CampaignStats, ContactRow, TexterRow
from core.statuses import MessageStatus
from tests.test_slack_render import LONG, check, check_message


def stats(campaign_id: int = 1) -> CampaignStats:
    summary = CampaignSummary(campaign_id, 1, LONG, True, False, True, 200)
    by_status = {s.value: 10**6 for s in MessageStatus}
    return CampaignStats(summary, by_status, 5, 10**6, 5 * 10**6 + 5, 10**4)


def texter(n: int) -> TexterRow:
    return TexterRow(n, f"U{n:09d}", LONG, 10**6, 10**6, 10**6, 0, 10**6)


def contact(n: int) -> ContactRow:
    return ContactRow(n, LONG, LONG, "+12025550100", "needsMessage", True, n)


MESSAGES = {
    "list": lambda: admin.campaign_list([stats(n) for n in range(500)], 500),
    "stats": lambda: admin.campaign_stats(stats(), 10**4),
    "texters first page": lambda: admin.texters_panel(
        1, LONG, [texter(n) for n in range(admin.TEXTERS_PER_PAGE)], 10**4, 0, notice=LONG
    ),
    "texters middle page": lambda: admin.texters_panel(
        1, LONG, [texter(n) for n in range(admin.TEXTERS_PER_PAGE)], 10**4, 36, notice=LONG
    ),
    "review": lambda: admin.review(
        1,
        LONG,
        [contact(n) for n in range(admin.REVIEW_ROWS_SHOWN)],
        10**6,
        texter_user_id=3,
        texter_label=LONG,
        status=MessageStatus.NEEDS_MESSAGE,
        slack_ids={n: f"U{n}" for n in range(admin.REVIEW_ROWS_SHOWN)},
    ),
    "unassigned": lambda: admin.unassigned(ReleaseResult(10**6, 10**6)),
    "import": lambda: admin.import_report(
        LONG,
        ImportReport(10**6, 3, [SkippedRow(n, "invalid cell number", LONG) for n in range(10**4)]),
    ),
}


@pytest.mark.parametrize("name", MESSAGES)
def test_messages_within_limits(name: str) -> None:
    check_message(MESSAGES[name]())


def check_modal(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    assert len(view["title"]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    check(view["blocks"], 100)


def test_modals_within_limits() -> None:
    check_modal(admin_modals.max_amount_modal(1, 2, LONG, 10**6))
    form = CampaignSettingsForm(
        1,
        LONG,
        True,
        10**6,
        ["finished-replies-tz", "vetted-takeconversations"],
        LONG[:75],
        LONG,
        True,
        False,
        10**4,
    )
    check_modal(admin_modals.settings_modal(form))
    check_modal(admin_modals.done_modal(LONG, LONG))


def test_admin_home_blocks_within_limits() -> None:
    blocks = admin.admin_home_blocks([stats(n) for n in range(100)], 100, can_manage=True)
    check([b.to_dict() for b in blocks], 100)
    assert len(blocks) <= 25  # leaves room for the texter part of Home
