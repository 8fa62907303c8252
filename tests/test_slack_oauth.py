"""Add to Slack: the install pages over real HTTP, the loopback Web API answering
oauth.v2.access, and what the database holds afterwards."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from bot.cli import cli
from core.db import Database
from core.models import (
    Organization,
    User,
    UserOrganization,
    slack_bots,
    slack_installations,
    slack_oauth_states,
)
from tests.support.slack_harness import FakeSlack, Response, SlackHarness
from tests.support.world import make_org

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
    scopes = "commands,chat:write,im:write,users:read,im:history,reactions:write,files:read"
    assert f"scope={scopes}" in page.body
    assert "slack-app-oauth-state=" in page.headers["Set-Cookie"]


def test_install_creates_the_organization_and_its_owner(oauth: SlackHarness) -> None:
    code = oauth.fake.grant(
        "c1", team="T2", team_name="Union Local 7", token="xoxb-t2", user="UADA"
    )
    answer = install(oauth, code)
    assert answer.status == 200, answer.body
    assert "Union Local 7" in answer.body and "you are its owner" in answer.body
    assert counts(oauth.db) == (1, 1, 1)
    assert owner_of(oauth.db, "T2") == [("UADA", "OWNER")]
    exchange = oauth.fake.of("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].params["code"] == "c1"


def test_reinstall_updates_the_token_and_nothing_else(oauth: SlackHarness) -> None:
    install(oauth, oauth.fake.grant("c1", team="T2", token="xoxb-t2-old", user="UADA"))
    with oauth.db.engine.begin() as conn:
        conn.execute(update(Organization).values(name="Renamed by an admin"))
    answer = install(oauth, oauth.fake.grant("c2", team="T2", token="xoxb-t2-new", user="UBOB"))
    assert answer.status == 200 and "installed again" in answer.body
    assert "Renamed by an admin" in answer.body
    with oauth.db.engine.connect() as conn:
        assert conn.scalar(select(Organization.name)) == "Renamed by an admin"
    assert owner_of(oauth.db, "T2") == [("UADA", "OWNER")]  # the reinstaller gets no role
    store = oauth.app.installation_store
    assert store is not None
    found = store.find_installation(enterprise_id=None, team_id="T2")
    assert found is not None and found.bot_token == "xoxb-t2-new"
    assert counts(oauth.db)[0] == 1


def test_an_existing_organization_is_linked_not_duplicated(oauth: SlackHarness) -> None:
    """A workspace an operator connected by hand (`org create --slack-team`) keeps its org."""
    org = make_org(oauth.db, "T2")
    answer = install(oauth, oauth.fake.grant("c1", team="T2", token="xoxb-t2", user="UADA"))
    assert answer.status == 200 and "installed again" in answer.body
    assert counts(oauth.db) == (1, 1, 1)
    assert owner_of(oauth.db, "T2") == []  # its members are the operator's business
    with oauth.db.engine.connect() as conn:
        assert conn.scalar(select(Organization.id)) == org


def test_a_bad_code_stores_nothing(oauth: SlackHarness) -> None:
    answer = install(oauth, "not-a-code")
    assert answer.status == 400
    assert "Slack did not accept this installation" in answer.body
    assert counts(oauth.db) == (0, 0, 0)
    assert oauth.fake.of("oauth.v2.access")[0].params["code"] == "not-a-code"


def test_a_used_state_is_refused(oauth: SlackHarness) -> None:
    state, cookie = start_install(oauth)
    code = oauth.fake.grant("c1", team="T2", token="xoxb-t2", user="UADA")
    assert finish_install(oauth, code, state, cookie).status == 200
    oauth.fake.grant("c2", team="T3", token="xoxb-t3", user="UEVE")
    again = finish_install(oauth, "c2", state, cookie)
    assert again.status == 400
    assert "expired or was already used" in again.body
    assert counts(oauth.db) == (1, 1, 1)  # T3 was not installed
    assert len(oauth.fake.of("oauth.v2.access")) == 1  # the code was never exchanged


def test_an_expired_state_is_refused(oauth: SlackHarness) -> None:
    state, cookie = start_install(oauth)
    # Ten minutes pass: the state's expiry (naive UTC, as slack-sdk writes it) is behind us.
    with oauth.db.engine.begin() as conn:
        conn.execute(update(slack_oauth_states).values(expire_at=datetime(2000, 1, 1)))
    code = oauth.fake.grant("c1", team="T2", token="xoxb-t2", user="UADA")
    answer = finish_install(oauth, code, state, cookie)
    assert answer.status == 400 and "expired or was already used" in answer.body
    assert counts(oauth.db) == (0, 0, 0)


def test_a_state_from_another_browser_is_refused(oauth: SlackHarness) -> None:
    state, _ = start_install(oauth)
    code = oauth.fake.grant("c1", team="T2", token="xoxb-t2", user="UADA")
    answer = finish_install(oauth, code, state, "slack-app-oauth-state=someone-else")
    assert answer.status == 400 and "another browser" in answer.body
    assert counts(oauth.db) == (0, 0, 0)


def test_cancelling_in_slack_stores_nothing(oauth: SlackHarness) -> None:
    state, cookie = start_install(oauth)
    answer = oauth.get(
        f"/slack/oauth_redirect?error=access_denied&state={state}", headers={"Cookie": cookie}
    )
    assert answer.status == 200 and "cancelled" in answer.body
    assert counts(oauth.db) == (0, 0, 0)


def test_only_allowed_teams_may_install(db: Database, fake_slack: FakeSlack) -> None:
    slack = SlackHarness(
        db,
        fake_slack,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_teams=("T2",),
    )
    try:
        refused = install(slack, fake_slack.grant("c3", team="T3", token="xoxb-t3", user="UEVE"))
        assert refused.status == 403
        assert "(T3) is not one of them" in refused.body and "Nothing was stored" in refused.body
        assert counts(db) == (0, 0, 0)
        # The token Slack issued is handed back at once rather than left alive unused.
        [uninstall] = fake_slack.of("apps.uninstall")
        assert uninstall.token == "xoxb-t3"
        allowed = install(slack, fake_slack.grant("c2", team="T2", token="xoxb-t2", user="UADA"))
        assert allowed.status == 200
        assert counts(db) == (1, 1, 1)
    finally:
        slack.close()


def test_enterprise_org_wide_installs_are_refused(oauth: SlackHarness) -> None:
    code = oauth.fake.grant("c1", team="", token="xoxb-grid", user="UADA", enterprise_install=True)
    answer = install(oauth, code)
    assert answer.status == 403
    assert "whole Enterprise Grid organization" in answer.body
    assert "nothing was stored" in answer.body
    assert counts(oauth.db) == (0, 0, 0)
    assert [c.token for c in oauth.fake.of("apps.uninstall")] == ["xoxb-grid"]


def test_org_list_and_show_tell_installed_from_not(
    oauth: SlackHarness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_org(oauth.db, "T9")  # connected by hand, never installed
    install(
        oauth, oauth.fake.grant("c1", team="T2", team_name="Local 7", token="xoxb-2", user="UA")
    )
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["org", "list"], catch_exceptions=False)
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("1\tOrg T9\tT9\tnot installed")
    assert lines[1].startswith("2\tLocal 7\tT2\tinstalled 20") and lines[1].endswith("by UA")
    assert "xoxb" not in listed.stdout
    rows = json.loads(runner.invoke(cli, ["org", "list", "--json"]).stdout)
    assert [(r["slack_team_id"], r["installed"]) for r in rows] == [("T9", False), ("T2", True)]
    shown = runner.invoke(cli, ["org", "show", "2"], catch_exceptions=False).stdout
    assert shown.startswith("# Local 7: Slack team T2, installed 20")
    as_json = json.loads(runner.invoke(cli, ["org", "show", "2", "--json"]).stdout)
    assert as_json["installation"]["installed_by"] == "UA"
    assert as_json["DONE_FOR_THE_DAY_ENABLED"] is True
    # After an uninstall the organization is listed as not installed, its data still there.
    oauth.event({"type": "app_uninstalled"}, event_id="EvBye", team="T2")
    listed = runner.invoke(cli, ["org", "list"], catch_exceptions=False)
    assert listed.stdout.splitlines()[1].startswith("2\tLocal 7\tT2\tnot installed")
