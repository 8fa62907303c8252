"""A database backend killed in the middle of a Slack request: the texter is told to try
again, nothing is half-assigned, and the next request works on the same pool."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from core.models import CampaignContact
from tests.support.pg_faults import kill_backend_waiting_on_lock
from tests.support.slack_harness import SlackHarness
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter


def assigned(slack: SlackHarness) -> int:
    with slack.db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).where(CampaignContact.assignment_id.is_not(None))
        )


def test_killed_backend_mid_batch_request(slack: SlackHarness, engine_name: str) -> None:
    if engine_name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    org = make_org(slack.db)
    campaign = make_campaign(slack.db, org)
    add_contacts(slack.db, campaign, 300)
    assignment = make_assignment(slack.db, campaign, make_texter(slack.db, org, "UKILL"))
    blocker = create_engine(slack.db.engine.url.render_as_string(hide_password=False))
    with blocker.connect() as hold:
        hold.execute(text("SELECT id FROM assignment WHERE id = :a FOR UPDATE"), {"a": assignment})
        answer = slack.command("/sendfirsttexts", user="UKILL")
        assert answer.status == 200
        kill_backend_waiting_on_lock(hold)
        hold.rollback()
    blocker.dispose()
    [told] = slack.fake.response_to(answer.response_url)
    assert "Please try again in a minute" in told.text()
    assert "Traceback" not in told.text()
    assert assigned(slack) == 0
    retry = slack.command("/sendfirsttexts", user="UKILL")
    [got] = slack.fake.response_to(retry.response_url)
    assert "You got 200 first texts" in got.text()
    assert assigned(slack) == 200
