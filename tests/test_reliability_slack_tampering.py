"""The Slack front door: Tampered button values are refused, logged, and change nothing.

Through HTTP to the real WSGI app (tests/support/slack_harness.py) with signed requests and
FakeSlack behind it; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot import ids
from core.services.campaigns import get_campaign
from tests.support.reliability import (
    FORM,
    TEXTER,
    World,
    click_payload,
    database_state,
    form_payload,
    world,
)
from tests.support.slack_harness import BOT_TOKEN, SIGNING_SECRET, TEAM, SlackHarness
from tests.support.world import add_contacts, make_campaign, make_org, make_texter


@dataclass(frozen=True)
class Tampering:
    action_id: str
    value: Callable[[World, int], Any]  # (world, foreign campaign id) -> button value
    expected: str
    user: str = TEXTER
    team: str = TEAM


TAMPERINGS = {
    "request more in a campaign the clicker never joined": Tampering(
        ids.REQUEST_MORE,
        lambda w, f: str(w.campaign_id),
        "You haven't joined this campaign",
        "UOTHER",
    ),
    "send first texts for another workspace's campaign": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(f), "no campaign with id"
    ),
    "done for the day on a campaign the clicker never joined": Tampering(
        ids.DONE_FOR_THE_DAY_CONFIRM, lambda w, f: str(w.campaign_id), "haven't joined", "UOTHER"
    ),
    "done for the day on another workspace's campaign": Tampering(
        ids.DONE_FOR_THE_DAY_CONFIRM, lambda w, f: str(f), "no campaign with id"
    ),
    "picker for another workspace's campaign": Tampering(
        ids.PICK_CAMPAIGN, lambda w, f: f"send:{f}", "no campaign with id"
    ),
    "picker with an unknown purpose": Tampering(
        ids.PICK_CAMPAIGN, lambda w, f: f"steal:{w.campaign_id}", "out of date"
    ),
    "join with a forged token": Tampering(
        ids.JOIN, lambda w, f: f"{w.campaign_id}:forged-token", "not valid", "UNEW"
    ),
    "join another workspace's campaign": Tampering(
        ids.JOIN, lambda w, f: f"{f}:whatever", "another workspace", "UNEW"
    ),
    "our campaign clicked from another workspace": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(w.campaign_id), "no campaign with id", team="T2"
    ),
    "SQL in the value": Tampering(ids.REQUEST_MORE, lambda w, f: "1; DROP TABLE x", "out of date"),
    "negative id": Tampering(ids.REQUEST_MORE, lambda w, f: "-1", "out of date"),
    "huge id": Tampering(ids.SEND_FIRST_TEXTS, lambda w, f: "9" * 40, "out of date"),
    "id past the integer range": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(2**31), "out of date"
    ),
    "largest id": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(2**31 - 1), "no campaign with id"
    ),
    "unicode digits": Tampering(ids.SEND_FIRST_TEXTS, lambda w, f: "²", "out of date"),
    "empty value": Tampering(ids.REQUEST_MORE, lambda w, f: "", "out of date"),
    "missing value": Tampering(ids.REQUEST_MORE, lambda w, f: None, "out of date"),
    "value is an object": Tampering(ids.REQUEST_MORE, lambda w, f: {"id": 1}, "out of date"),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS.values()), ids=list(TAMPERINGS))
def test_tampered_button_values_are_refused_logged_and_change_nothing(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, tampering: Tampering
) -> None:
    caplog.set_level(logging.INFO)
    w = world(slack)
    make_texter(slack.db, w.org_id, "UOTHER")  # a member of the org who joined nothing
    foreign_org = make_org(slack.db, team="T2")
    foreign_campaign = make_campaign(slack.db, foreign_org, title="Theirs")
    add_contacts(slack.db, foreign_campaign, 5, prefix="+1303555")
    make_texter(slack.db, foreign_org, TEXTER)  # the same person is also in T2
    before = database_state(slack.db)

    payload = click_payload(tampering.action_id, "", tampering.user, tampering.team)
    value = tampering.value(w, foreign_campaign)
    if value is None:
        del payload["actions"][0]["value"]
    else:
        payload["actions"][0]["value"] = value
    response_url = slack.new_response_url()
    payload["response_url"] = response_url
    answer = slack.post(form_payload(payload), FORM)
    assert answer.status == 200
    reply = slack.fake.response_to(response_url)[0]
    assert tampering.expected in reply.text()
    assert "You got" not in reply.text() and "Traceback" not in reply.text()
    assert database_state(slack.db) == before
    refusals = [r.getMessage() for r in caplog.records if r.name == "spokebot.bot"]
    assert any(m.startswith("refused:") for m in refusals), refusals
    assert SIGNING_SECRET not in caplog.text and BOT_TOKEN not in caplog.text
    with slack.db.uow(read_only=True) as uow:
        token = get_campaign(uow.session, w.campaign_id).join_token
    assert token not in caplog.text
