"""The Handle replies button on a reply reminder lists the clicker's own waiting replies."""

from __future__ import annotations

from bot.ids import HANDLE_REPLIES_ACTION
from core.services.threads import save_thread
from core.statuses import MessageStatus
from tests.support.slack_harness import SlackHarness
from tests.support.world import (
    add_contacts,
    make_assignment,
    make_campaign,
    make_org,
    make_texter,
)


def test_handle_replies_lists_only_the_clickers_waiting_replies(slack: SlackHarness) -> None:
    org = make_org(slack.db)
    campaign = make_campaign(slack.db, org)
    mine = make_assignment(slack.db, campaign, make_texter(slack.db, org, "UMINE"))
    theirs = make_assignment(slack.db, campaign, make_texter(slack.db, org, "UTHEIRS"))
    waiting = add_contacts(
        slack.db, campaign, 2, status=MessageStatus.NEEDS_RESPONSE, assignment_id=mine
    )
    add_contacts(
        slack.db, campaign, 3, status=MessageStatus.NEEDS_RESPONSE, assignment_id=theirs, start=10
    )
    # Neither an opted-out contact nor a closed one is a reply waiting.
    add_contacts(
        slack.db,
        campaign,
        1,
        status=MessageStatus.NEEDS_RESPONSE,
        assignment_id=mine,
        opted_out=True,
        start=20,
    )
    add_contacts(slack.db, campaign, 1, status=MessageStatus.CLOSED, assignment_id=mine, start=30)
    user_id = make_texter(slack.db, org, "UMINE")
    save_thread(slack.db, waiting[0], user_id, "DUMINE", "1700000000.000100")
    answer = slack.click(HANDLE_REPLIES_ACTION, str(campaign), user="UMINE")
    assert answer.status == 200 and answer.seconds < 3
    [shown] = slack.fake.response_to(answer.response_url)
    assert "2 replies waiting in *GOTV*" in shown.text()
    assert "*Contact0 Test*" in shown.text() and "*Contact1 Test*" in shown.text()
    assert "Contact10" not in shown.text() and "Contact20" not in shown.text()
    # The threaded one links to its thread (chat.getPermalink).
    [opened] = [b["accessory"] for b in shown.blocks() if b.get("accessory")]
    assert opened["url"] == "https://example.slack.com/archives/DUMINE/p1700000000000100"


def test_handle_replies_for_another_workspaces_campaign_is_refused(slack: SlackHarness) -> None:
    make_org(slack.db)  # this workspace (T1 in the harness)
    other = make_org(slack.db, "T2")
    foreign = make_campaign(slack.db, other)
    add_contacts(slack.db, foreign, 1, status=MessageStatus.NEEDS_RESPONSE)
    answer = slack.click(HANDLE_REPLIES_ACTION, str(foreign), user="UMINE")
    [shown] = slack.fake.response_to(answer.response_url)
    assert f"no campaign with id {foreign}" in shown.text()
    assert "replies waiting" not in shown.text()
