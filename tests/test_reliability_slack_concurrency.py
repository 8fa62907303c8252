"""The Slack front door: fifty texters clicking at once, with double clicks.

Through HTTP to the real WSGI app (tests/support/slack_harness.py) with signed requests and
FakeSlack behind it; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from bot import ids
from core.models import Assignment, CampaignContact
from tests.support.reliability import (
    held,
)
from tests.support.slack_harness import SlackHarness
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter


def test_fifty_texters_clicking_at_once_with_double_clicks(slack: SlackHarness) -> None:
    batch_size = 4
    org = make_org(slack.db)
    campaign_id = make_campaign(slack.db, org, batch_size=batch_size)
    add_contacts(slack.db, campaign_id, 1000)
    texters = [f"U{n:03d}" for n in range(50)]
    user_ids = {t: make_texter(slack.db, org, t) for t in texters}
    for user_id in user_ids.values():
        make_assignment(slack.db, campaign_id, user_id)

    clicks = [
        (texter, action)
        for texter in texters
        for action in (ids.SEND_FIRST_TEXTS, ids.REQUEST_MORE)  # the double click
    ]
    barrier = threading.Barrier(len(clicks))

    def click(texter_action: tuple[str, str]) -> tuple[str, Any]:
        texter, action = texter_action
        barrier.wait()
        return texter, slack.click(action, str(campaign_id), user=texter)

    with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
        answers = list(pool.map(click, clicks))
    assert all(answer.status == 200 for _, answer in answers)
    got_a_batch: Counter[str] = Counter()
    for texter, answer in answers:
        text = slack.fake.response_to(answer.response_url)[0].text()
        assert "You got" in text or "You still have" in text, text
        got_a_batch[texter] += "You got" in text
    assert all(got_a_batch[t] == 1 for t in texters), got_a_batch
    for user_id in user_ids.values():
        assert held(slack.db, campaign_id, user_id) == batch_size
    with slack.db.uow(read_only=True) as uow:
        owners = uow.session.execute(
            select(Assignment.user_id, func.count())
            .join(CampaignContact, CampaignContact.assignment_id == Assignment.id)
            .group_by(Assignment.user_id)
        ).all()
    assert sorted(count for _, count in owners) == [batch_size] * len(texters)
