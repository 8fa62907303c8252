"""The Slack front door: The authorization matrix: every role against every entry point.

Through HTTP to the real WSGI app (tests/support/slack_harness.py) with signed requests and
FakeSlack behind it; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import ids
from core.models import Assignment, CampaignContact
from core.roles import Role
from tests.support.reliability import (
    World,
    private_replies,
    world,
)
from tests.support.slack_harness import TEAM, SlackHarness
from tests.support.world import make_assignment, make_org, make_texter

ROLES = ["SUSPENDED", "TEXTER", "VETTED_TEXTER", "SUPERVOLUNTEER", "ADMIN", "OWNER", "FOREIGN"]
ACTING = "UACTOR"


def matrix_world(slack: SlackHarness, role: str) -> tuple[World, str]:
    """The actor joined the campaign with `role`; FOREIGN is a texter of workspace T2."""
    w = world(slack)
    if role == "FOREIGN":
        foreign = make_org(slack.db, team="T2")
        make_texter(slack.db, foreign, ACTING)
        return w, "T2"
    user_id = make_texter(slack.db, w.org_id, ACTING, Role.TEXTER)
    make_assignment(slack.db, w.campaign_id, user_id)
    if role != "TEXTER":
        from core.services.organizations import add_member

        add_member(slack.db, w.org_id, ACTING, "", Role(role))
    return w, TEAM


def actor_holds(slack: SlackHarness, w: World) -> int:
    with slack.db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count())
            .select_from(CampaignContact)
            .join(Assignment, CampaignContact.assignment_id == Assignment.id)
            .where(Assignment.user_id != w.texter_user_id)
        )


# What each role gets: "ok" = the action happens; otherwise a phrase of the refusal.
MATRIX: dict[str, dict[str, str]] = {
    "/sendfirsttexts": {
        "SUSPENDED": "suspended",
        "FOREIGN": "haven't joined any campaigns",
    },
    "send_first_texts button": {"SUSPENDED": "suspended", "FOREIGN": "no campaign with id"},
    "/campaign link": {
        "SUSPENDED": "Only an admin",
        "TEXTER": "Only an admin",
        "VETTED_TEXTER": "Only an admin",
        "SUPERVOLUNTEER": "Only an admin",
        "FOREIGN": "Only an admin",  # in T2 they are a texter; T1's campaign stays unseen
    },
    "/campaign help": {},
    "/doneforday": {"FOREIGN": "haven't joined any campaigns"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("entry", list(MATRIX))
def test_authorization_matrix(slack: SlackHarness, role: str, entry: str) -> None:
    w, team = matrix_world(slack, role)
    expected = MATRIX[entry].get(role, "ok")
    if entry == "/sendfirsttexts":
        answer = slack.command("/sendfirsttexts", str(w.campaign_id), user=ACTING, team=team)
        ok_phrase = "You got 3"
    elif entry == "send_first_texts button":
        answer = slack.click(ids.SEND_FIRST_TEXTS, str(w.campaign_id), user=ACTING, team=team)
        ok_phrase = "You got 3"
    elif entry == "/campaign link":
        answer = slack.command("/campaign", f"link {w.campaign_id}", user=ACTING, team=team)
        ok_phrase = "Posted the join link"
    elif entry == "/campaign help":
        answer = slack.command("/campaign", "help", user=ACTING, team=team)
        ok_phrase = "/campaign link"
    else:
        answer = slack.command("/doneforday", str(w.campaign_id), user=ACTING, team=team)
        ok_phrase = "Done for the Day"
    assert answer.status == 200
    text = private_replies(slack, answer.response_url)[0]
    if expected == "ok":
        assert ok_phrase in text, text
    else:
        assert expected in text, text
        assert ok_phrase not in text
    if entry in ("/sendfirsttexts", "send_first_texts button"):
        assert actor_holds(slack, w) == (3 if expected == "ok" else 0)
    if entry == "/campaign link":
        posted = [c for c in slack.fake.of("chat.postMessage") if c.button(ids.JOIN)]
        assert len(posted) == (1 if expected == "ok" else 0)
