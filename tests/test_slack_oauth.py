"""Add to Slack: the install pages over real HTTP, the loopback Web API answering
oauth.v2.access, and what the database holds afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.models import Organization, User, UserOrganization
from core.models_slack import slack_bots, slack_installations, slack_oauth_states
from tests.slack_harness import FakeSlack, Response, SlackHarness

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-for-tests"


@pytest.fixture
def oauth(db: Database, fake_slack: FakeSlack) -> Iterator[SlackHarness]:
    harness = SlackHarness(db, fake_slack, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    yield harness
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)


def start_install(slack: SlackHarness) -> tuple[str, str]:
    """Opens the install page like a browser: the state in its Add to Slack link and the
    cookie that ties it to this browser."""
    page = slack.get("/slack/install")
    assert page.status == 200, page.body
    state = re.search(r"state=([0-9a-f-]+)", page.body)
    assert state, page.body
    cookie = page.headers["Set-Cookie"].split(";")[0]
    return state.group(1), cookie


def finish_install(slack: SlackHarness, code: str, state: str, cookie: str) -> Response:
    query = urlencode({"code": code, "state": state})
    return slack.get(f"/slack/oauth_redirect?{query}", headers={"Cookie": cookie})


def install(slack: SlackHarness, code: str) -> Response:
    return finish_install(slack, code, *start_install(slack))


def counts(db: Database) -> tuple[int, int, int]:
    with db.engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(Organization)) or 0,
            conn.scalar(select(func.count()).select_from(slack_installations)) or 0,
            conn.scalar(select(func.count()).select_from(slack_bots)) or 0,
        )


def owner_of(db: Database, team: str) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(User.slack_user_id, UserOrganization.role)
                .join(UserOrganization, UserOrganization.user_id == User.id)
                .join(Organization, Organization.id == UserOrganization.organization_id)
                .where(Organization.slack_team_id == team)
            )
        ]


def test_install_page_links_to_slack_with_the_scopes(oauth: SlackHarness) -> None:
    page = oauth.get("/slack/install")
    assert page.status == 200
    assert "Add to Slack" in page.body
    assert "client_id=1111.2222" in page.body
    assert "scope=commands,chat:write,im:write,users:read,im:history,files:read" in page.body
    assert "slack-app-oauth-state=" in page.headers["Set-Cookie"]


def test_install_creates_the_organization_and_its_owner(oauth: SlackHarness) -> None:
    code = oauth.fake.grant("c1", team="T2", team_name="Union Local 7", token="xoxb-t2", user="UADA")
    answer = install(oauth, code)
    assert answer.status == 200, answer.body
    assert "Union Local 7" in answer.body and "you are its owner" in answer.body
    assert counts(oauth.db) == (1, 1, 1)
    assert owner_of(oauth.db, "T2") == [("UADA", "OWNER")]
    exchange = oauth.fake.of("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].params["code"] == "c1"
