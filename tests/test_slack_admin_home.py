"""The admin part of App Home: campaigns with progress bars and quick actions."""

from __future__ import annotations

from bot import ids
from core.roles import Role
from core.statuses import MessageStatus
from tests.support.admin import ADMIN, team
from tests.support.slack_harness import Call, SlackHarness
from tests.support.world import add_contacts, make_assignment, make_campaign, set_status


def open_home(slack: SlackHarness, user: str, event_id: str = "EvHome") -> Call:
    answer = slack.home_opened(user, event_id=event_id)
    assert answer.status == 200
    return slack.fake.home_for(user)


def test_admin_home_shows_campaigns_with_progress_and_actions(slack: SlackHarness) -> None:
    world = team(slack, contacts=10)
    contacts = add_contacts(slack.db, world.campaign_id, 10, start=100)
    set_status(slack.db, contacts, MessageStatus.MESSAGED)
    home = open_home(slack, ADMIN)
    text = home.text()
    assert "Your campaigns" in text  # the texter part stays
    assert "Campaigns you run" in text and "GOTV" in text and "▓▓▓▓▓░░░░░ 50%" in text
    actions = {b["action_id"] for b in home.buttons()}
    assert {ids.ADMIN_HOME_STATS, ids.ADMIN_HOME_TEXTERS, ids.ADMIN_HOME_SETTINGS} <= actions
    assert len(home.blocks()) <= 100


def test_texter_home_unchanged(slack: SlackHarness) -> None:
    team(slack)
    text = open_home(slack, "UT000").text()
    assert "Campaigns you run" not in text
    assert "GOTV" in text  # their joined campaign, as before


def test_supervolunteer_home_has_no_settings(slack: SlackHarness) -> None:
    team(slack, admin_role=Role.SUPERVOLUNTEER)
    home = open_home(slack, ADMIN)
    actions = {b["action_id"] for b in home.buttons()}
    assert ids.ADMIN_HOME_STATS in actions and ids.ADMIN_HOME_SETTINGS not in actions


def test_home_quick_actions(slack: SlackHarness) -> None:
    world = team(slack)
    home = open_home(slack, ADMIN)
    slack.click_button(home.button(ids.ADMIN_HOME_STATS), user=ADMIN, in_home=True)
    stats = slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and c.params.get("channel") == "DUADMIN"
    )[0]
    assert "Progress:" in stats.text()
    slack.click_button(home.button(ids.ADMIN_HOME_TEXTERS), user=ADMIN, in_home=True)
    panel = slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and c.params.get("channel") == "DUADMIN", 2
    )[1]
    assert "Texters: GOTV" in panel.text()
    slack.click_button(home.button(ids.ADMIN_HOME_SETTINGS), user=ADMIN, in_home=True)
    opened = slack.fake.wait_for(lambda c: c.method == "views.open")[0]
    assert str(world.campaign_id) in str(opened.params["view"])


def test_home_settings_click_refused_shows_on_home(slack: SlackHarness) -> None:
    world = team(slack)
    home = open_home(slack, ADMIN)
    from core.services.organizations import add_member

    add_member(slack.db, world.org_id, ADMIN, "Ada", Role.TEXTER)  # demoted since
    slack.click_button(home.button(ids.ADMIN_HOME_SETTINGS), user=ADMIN, in_home=True)
    refreshed = slack.fake.home_for(ADMIN, 2)
    assert "Only an admin can do that." in refreshed.text()
    assert "Campaigns you run" not in refreshed.text()
    assert slack.fake.of("views.open") == []


def test_home_within_limits_with_many_campaigns(slack: SlackHarness) -> None:
    world = team(slack)
    for n in range(25):
        campaign_id = make_campaign(slack.db, world.org_id, title=f"C{n}")
        make_assignment(slack.db, campaign_id, world.admin_id)  # the admin texts too
    home = open_home(slack, ADMIN)
    assert len(home.blocks()) <= 100
    assert "more campaign" in home.text()
