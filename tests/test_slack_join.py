"""The join link: /campaign link, the Join button, every refusal, workspaces and people."""

from __future__ import annotations

import pytest

from bot import ids
from core.roles import Role
from core.services.campaigns import rotate_join_token
from core.services.organizations import set_organization_setting
from tests.support.slack_harness import SlackHarness
from tests.support.world import Member, build_world, make_campaign, make_org, make_texter

ADMIN = "UADMIN"


def setup_campaign(slack: SlackHarness, **campaign: object) -> tuple[int, int]:
    w = build_world(
        slack.db,
        members=[Member(ADMIN, "Ada", Role.ADMIN, joined=False)],
        contacts=10,
        **campaign,
    )
    return w.org_id, w.campaign_id


def post_link(slack: SlackHarness, campaign_id: int) -> dict:
    """Runs /campaign link as the admin; returns the Join button from the posted message."""
    answer = slack.command("/campaign", f"link {campaign_id}", user=ADMIN, channel="C0VOLS")
    assert answer.status == 200
    posted = slack.fake.wait_for(lambda c: c.method == "chat.postMessage")[0]
    assert posted.params["channel"] == "C0VOLS"
    return posted.button(ids.JOIN)


def test_admin_posts_join_link_for_everyone(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    answer = slack.command("/campaign", f"link {campaign_id}", user=ADMIN, channel="C0VOLS")
    assert answer.status == 200
    posted = slack.fake.wait_for(lambda c: c.method == "chat.postMessage")[0]
    assert "GOTV" in posted.text() and "Get out the vote" in posted.text()
    join = posted.button(ids.JOIN)
    assert join["value"].startswith(f"{campaign_id}:")
    confirmation = slack.fake.response_to(answer.response_url)[0]
    assert confirmation.params["response_type"] == "ephemeral"
    assert "Posted the join link" in confirmation.text()


def test_bot_not_in_channel_tells_admin_to_invite_it(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    slack.fake.failures["chat.postMessage"] = "not_in_channel"
    answer = slack.command("/campaign", f"link {campaign_id}", user=ADMIN, channel="C0PRIV")
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "/invite @spokebot" in reply.text()
    assert reply.params["response_type"] == "ephemeral"


def test_texter_cannot_post_links(slack: SlackHarness) -> None:
    org, campaign_id = setup_campaign(slack)
    make_texter(slack.db, org, "UTEXT")
    answer = slack.command("/campaign", f"link {campaign_id}", user="UTEXT")
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "Only an admin" in reply.text()
    assert slack.fake.of("chat.postMessage") == []


def test_campaign_of_another_org_is_not_found(slack: SlackHarness) -> None:
    setup_campaign(slack)
    other_org = make_org(slack.db, team="T2")
    other = make_campaign(slack.db, other_org, title="Theirs")
    answer = slack.command("/campaign", f"link {other}", user=ADMIN)
    assert f"no campaign with id {other}" in slack.fake.response_to(answer.response_url)[0].text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "/campaign link CAMPAIGN_ID"),
        ("help", "/campaign link CAMPAIGN_ID"),
        ("frobnicate 3", "I don't know `/campaign frobnicate`"),
        ("link", "Usage: `/campaign link CAMPAIGN_ID`"),
        ("link abc", "Usage: `/campaign link CAMPAIGN_ID`"),
    ],
)
def test_campaign_usage(slack: SlackHarness, text: str, expected: str) -> None:
    setup_campaign(slack)
    answer = slack.command("/campaign", text, user=ADMIN)
    reply = slack.fake.response_to(answer.response_url)[0].text()
    assert expected in reply
    if text.startswith("frob"):
        assert "link" in reply and "help" in reply  # the usage line follows


def test_join_sends_private_campaign_card(slack: SlackHarness) -> None:
    _org, campaign_id = setup_campaign(slack, texting_hours="9-21")
    join = post_link(slack, campaign_id)
    slack.fake.names["UNEW"] = "Grace"
    answer = slack.click_button(join, user="UNEW")
    assert answer.status == 200
    card = slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and c.params["channel"] == "DUNEW"
    )[0]
    assert "You've joined *GOTV*" in card.text()
    assert card.params["text"] == "You've joined “GOTV”"
    assert "Get out the vote" in card.text()  # the description the DM promised
    assert "Texting hours: 9 AM\N{EN DASH}9 PM America/New_York" in card.text()
    send = card.button(ids.SEND_FIRST_TEXTS)
    assert send["value"] == str(campaign_id)
    note = slack.fake.response_to(answer.response_url)[0]
    assert note.params["response_type"] == "ephemeral" and "direct message" in note.text()
    home = slack.fake.home_for("UNEW")
    assert "GOTV" in home.text()
    # The person became a texter of the organization, named from users.info.
    from core.services.identity import identify

    me = identify(slack.db, "T1", "UNEW")
    assert me.role == Role.TEXTER and me.name == "Grace"


def test_joining_twice_says_already_joined(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    join = post_link(slack, campaign_id)
    slack.click_button(join, user="UNEW")
    slack.fake.wait_for(lambda c: c.params.get("channel") == "DUNEW")
    slack.click_button(join, user="UNEW")
    cards = slack.fake.wait_for(lambda c: c.params.get("channel") == "DUNEW", count=2)
    assert "already in *GOTV*" in cards[1].text()
    assert cards[1].params["text"] == "You're already in “GOTV”"  # the notification too
    assert len(slack.fake.of("conversations.open")) == 1  # the DM channel id is cached
    assert len(slack.fake.of("users.info")) <= 2  # names are cached too (admin + texter)


def test_join_falls_back_to_ephemeral_card_without_dm(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    join = post_link(slack, campaign_id)
    slack.fake.failures["conversations.open"] = "cannot_dm_bot"
    answer = slack.click_button(join, user="UNEW")
    card = slack.fake.response_to(answer.response_url)[0]
    assert card.button(ids.SEND_FIRST_TEXTS)["value"] == str(campaign_id)


def refusal_for(slack: SlackHarness, value: str, user: str = "UNEW") -> str:
    answer = slack.click(ids.JOIN, value, user=user)
    reply = slack.fake.response_to(answer.response_url)[0]
    assert reply.params["response_type"] == "ephemeral"
    return reply.text()


def test_invalid_link_refused(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    assert "not valid" in refusal_for(slack, f"{campaign_id}:wrong-token")
    assert "not valid" in refusal_for(slack, "999:whatever")
    assert "out of date" in refusal_for(slack, "garbage")


def test_rotated_link_refused(slack: SlackHarness) -> None:
    org, campaign_id = setup_campaign(slack)
    join = post_link(slack, campaign_id)
    rotate_join_token(slack.db, campaign_id, org)
    assert "not valid" in refusal_for(slack, join["value"])


def test_not_launched_refused(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack, started=False)
    answer = slack.command("/campaign", f"link {campaign_id}", user=ADMIN, channel="C0VOLS")
    # The admin is warned the link will refuse texters for now.
    assert "isn't launched yet" in slack.fake.response_to(answer.response_url)[0].text()
    join = slack.fake.wait_for(lambda c: c.method == "chat.postMessage")[0].button(ids.JOIN)
    assert "hasn't been launched" in refusal_for(slack, join["value"])


def test_dynamic_assignment_off_refused(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack, dynamic=False)
    join = post_link(slack, campaign_id)
    assert "dynamic assignment turned on" in refusal_for(slack, join["value"])


def test_too_many_texters_refused(slack: SlackHarness) -> None:
    org, campaign_id = setup_campaign(slack)
    set_organization_setting(slack.db, org, "MAX_TEXTERS_PER_CAMPAIGN", "1")
    join = post_link(slack, campaign_id)
    slack.click_button(join, user="UFIRST")
    slack.fake.wait_for(lambda c: c.params.get("channel") == "DUFIRST")
    assert "maximum of 1 texters" in refusal_for(slack, join["value"])


def test_members_only_refused(slack: SlackHarness) -> None:
    org, campaign_id = setup_campaign(slack)
    set_organization_setting(slack.db, org, "CAMPAIGN_INVITES_CURRENT_USERS_ONLY", "true")
    join = post_link(slack, campaign_id)
    assert "only admits people who are already members" in refusal_for(slack, join["value"])


def test_suspended_refused(slack: SlackHarness) -> None:
    org, campaign_id = setup_campaign(slack)
    make_texter(slack.db, org, "USUSP", Role.SUSPENDED)
    join = post_link(slack, campaign_id)
    assert "suspended" in refusal_for(slack, join["value"], user="USUSP")


def test_archived_refused(slack: SlackHarness) -> None:
    from core.models import Campaign

    _, campaign_id = setup_campaign(slack)
    join = post_link(slack, campaign_id)
    with slack.db.uow() as uow:
        uow.session.get(Campaign, campaign_id).is_archived = True
        uow.commit()
    assert "archived" in refusal_for(slack, join["value"])


def test_unknown_workspace_gets_a_clear_message(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    join = post_link(slack, campaign_id)
    answer = slack.click(ids.JOIN, join["value"], user="UX", team="T9")
    reply = slack.fake.response_to(answer.response_url)[0].text()
    assert "not connected to a spokebot organization" in reply


def test_join_link_from_another_workspace_refused(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    join = post_link(slack, campaign_id)
    make_org(slack.db, team="T2")
    answer = slack.click(ids.JOIN, join["value"], user="UOTHER", team="T2")
    reply = slack.fake.response_to(answer.response_url)[0].text()
    assert "another workspace" in reply


def test_sendfirsttexts_names_an_archived_campaign(slack: SlackHarness) -> None:
    _, campaign_id = setup_campaign(slack)
    join = post_link(slack, campaign_id)
    slack.click_button(join, user="UNEW")
    slack.fake.wait_for(lambda c: c.params.get("channel") == "DUNEW")
    from core.services.admin import set_archived
    from core.services.identity import identify

    set_archived(slack.db, identify(slack.db, "T1", ADMIN).user_id, campaign_id)
    answer = slack.command(ids.CMD_SEND_FIRST_TEXTS, user="UNEW")
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "*GOTV* is archived" in reply.text()
    assert "haven't joined" not in reply.text()
