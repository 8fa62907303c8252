"""/campaign help, list, stats, and the usage messages of every admin subcommand."""

from __future__ import annotations

import pytest

from bot.listeners.admin import campaign_subcommands
from core.statuses import MessageStatus
from tests.support.admin import run, team
from tests.support.slack_harness import SlackHarness
from tests.support.world import add_contacts, make_campaign, set_status

CAMPAIGN_SUBCOMMANDS = campaign_subcommands()
ADMIN_SUBCOMMANDS = {
    "list",
    "stats",
    "texters",
    "settings",
    "rotate-link",
    "review",
    "assign",
    "launch",
    "archive",
    "vet",
    "unvet",
}


def test_help_lists_every_subcommand_with_one_line(slack: SlackHarness) -> None:
    team(slack)
    text = run(slack, "help").params["text"]
    assert set(CAMPAIGN_SUBCOMMANDS) >= ADMIN_SUBCOMMANDS
    for name, sub in CAMPAIGN_SUBCOMMANDS.items():
        lines = [line for line in text.splitlines() if f"`/campaign {sub.usage}`" in line]
        assert len(lines) == 1, name
        assert sub.description in lines[0]


def test_list_shows_status_and_progress(slack: SlackHarness) -> None:
    world = team(slack, contacts=10)
    contacts = add_contacts(slack.db, world.campaign_id, 10, start=100)
    set_status(slack.db, contacts, MessageStatus.MESSAGED)  # 10 of 20 sent
    make_campaign(slack.db, world.org_id, title="Census", started=False)
    reply = run(slack, "list")
    assert reply.params["response_type"] == "ephemeral"
    text = reply.text()
    assert "GOTV" in text and "launched" in text
    assert "▓▓▓▓▓░░░░░ 50%" in text
    assert "Census" in text and "not launched" in text


def test_stats(slack: SlackHarness) -> None:
    from core.services.batches import request_batch

    world = team(slack, contacts=10, batch_size=3)
    first = next(iter(world.texters.values()))
    batch = request_batch(slack.db, world.campaign_id, first)
    set_status(slack.db, batch.contact_ids[:1], MessageStatus.MESSAGED)
    add_contacts(slack.db, world.campaign_id, 2, opted_out=True, start=50)
    text = run(slack, f"stats {world.campaign_id}").text()
    assert "▓░░░░░░░░░ 10%" in text  # 1 of 10 textable contacts
    assert "(1 of 10)" in text
    assert "9 first texts still to send: 7 unassigned, 2 held by 1 texter" in text
    assert "Messaged: 1" in text and "Needs First Message: 9" in text
    assert "Opted out: 2" in text
    assert "All first texts have been sent" not in text


def test_stats_says_all_initials_sent(slack: SlackHarness) -> None:
    world = team(slack, contacts=0)
    contacts = add_contacts(slack.db, world.campaign_id, 4)
    set_status(slack.db, contacts, MessageStatus.MESSAGED)
    text = run(slack, f"stats {world.campaign_id}").text()
    assert "All first texts have been sent." in text and "100%" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stats", "Which campaign? Give its id.\nUsage: `/campaign stats CAMPAIGN_ID`"),
        ("stats abc", "`abc` is not a campaign id (a number).\nUsage: `/campaign stats"),
        ("stats 1 2", "Unexpected `2`.\nUsage: `/campaign stats CAMPAIGN_ID`"),
        ("stats ²", "`²` is not a campaign id (a number)."),
        ("texters 99999999999999999999", "is not a campaign id (a number)."),
        ("assign 1 <@UT000> 99999999999999999999", "How many first texts?"),
        ("list extra", "Unexpected `extra`.\nUsage: `/campaign list`"),
        ("texters", "Usage: `/campaign texters CAMPAIGN_ID`"),
        ("settings x", "Usage: `/campaign settings CAMPAIGN_ID`"),
        ("rotate-link", "Usage: `/campaign rotate-link CAMPAIGN_ID`"),
        ("review 1 sent", "`sent` is not a status; use one of needs-first-message"),
        ("review 1 @ada", "`@ada` is not a mention"),
        ("assign 1 <@UT000|t> many", "How many first texts? Give a whole number."),
        ("assign 1 ada 3", "`ada` is not a mention"),
        ("launch", "Usage: `/campaign launch CAMPAIGN_ID`"),
        ("archive 1 now", "Unexpected `now`."),
        ("vet", "Whom? Mention them with @.\nUsage: `/campaign vet @user`"),
        ("unvet bob", "Usage: `/campaign unvet @user`"),
        ("lsit", "I don't know `/campaign lsit`"),
    ],
)
def test_usage_messages(slack: SlackHarness, text: str, expected: str) -> None:
    team(slack)
    assert expected in run(slack, text).text()


def test_campaign_of_another_workspace_is_not_found(slack: SlackHarness) -> None:
    from tests.support.world import make_org

    team(slack)
    other_org = make_org(slack.db, team="T2")
    theirs = make_campaign(slack.db, other_org, title="Theirs")
    for command in ("stats", "texters", "review", "launch", "archive", "rotate-link"):
        reply = run(slack, f"{command} {theirs}").text()
        assert f"no campaign with id {theirs}" in reply, command


def test_unconnected_workspace_is_told_so(slack: SlackHarness) -> None:
    team(slack)
    reply = run(slack, "list", user="UX", team="T9").text()
    assert "not connected to a spokebot organization" in reply
