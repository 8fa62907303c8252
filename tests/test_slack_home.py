"""The texter's App Home and Done for the Day (Home button and /doneforday)."""

from __future__ import annotations

from bot import ids
from core.models import Campaign, CampaignContact
from core.services.batches import can_request_more, request_batch
from core.services.organizations import set_organization_setting
from core.statuses import MessageStatus
from tests.support.slack_harness import SlackHarness
from tests.support.world import (
    build_world,
    make_assignment,
    make_campaign,
    make_org,
    make_texter,
    set_status,
)

TEXTER = "UTEXT"


def joined(slack: SlackHarness, contacts: int = 10, batch_size: int = 3, title: str = "GOTV"):
    w = build_world(
        slack.db, members=[TEXTER], contacts=contacts, batch_size=batch_size, title=title
    )
    return w.org_id, w.campaign_id, w.user(TEXTER)


def open_home(slack: SlackHarness, event_id: str = "Ev1", count: int = 1):
    answer = slack.home_opened(TEXTER, event_id=event_id)
    assert answer.status == 200 and answer.seconds < 3
    return slack.fake.home_for(TEXTER, count)


def test_home_before_the_first_batch_offers_send_first_texts(slack: SlackHarness) -> None:
    _, campaign_id, _ = joined(slack)
    home = open_home(slack)
    assert home.params["view"]["type"] == "home"
    text = home.text()
    assert "GOTV" in text and "0 first texts to send" in text and "0 replies waiting" in text
    assert "texting hours any time (no texting hours)" in text
    assert {b["action_id"] for b in home.buttons()} == {ids.SEND_FIRST_TEXTS, ids.DONE_FOR_THE_DAY}
    assert home.button(ids.SEND_FIRST_TEXTS)["text"]["text"] == "Send First Texts"
    done = home.button(ids.DONE_FOR_THE_DAY)
    assert "confirm" in done and done["value"] == str(campaign_id)


def test_home_send_first_texts_click_updates_home(slack: SlackHarness) -> None:
    _, campaign_id, user_id = joined(slack)
    home = open_home(slack)
    answer = slack.click_button(home.button(ids.SEND_FIRST_TEXTS), user=TEXTER, in_home=True)
    assert answer.status == 200
    home = slack.fake.home_for(TEXTER, 2)
    text = home.text()
    assert "You got 3 first texts in *GOTV*" in text  # the outcome, at the top
    assert "3 first texts to send" in text
    # Holding unsent first texts: no Request More, a button that brings the card back.
    assert ids.REQUEST_MORE not in {b["action_id"] for b in home.buttons()}
    back = home.button(ids.SEND_FIRST_TEXTS)
    assert back["text"]["text"] == "Send First Texts (3)"
    assert can_request_more(slack.db, campaign_id, user_id).unsent == 3
    cards = slack.fake.wait_for(lambda c: c.params.get("channel") == f"D{TEXTER}")
    slack.click_button(back, user=TEXTER, in_home=True)
    again = slack.fake.wait_for(lambda c: c.params.get("channel") == f"D{TEXTER}", count=2)
    assert len(again) == len(cards) + 1
    assert "You still have 3 first texts to send" in again[-1].text()
    assert ids.SEND_TEXT in {b["action_id"] for b in again[-1].buttons()}  # the card is back
    assert can_request_more(slack.db, campaign_id, user_id).unsent == 3  # nothing doubled


def test_request_label_and_message_on_home_and_the_end_of_batch_prompt(
    slack: SlackHarness,
) -> None:
    _, campaign_id, user_id = joined(slack, contacts=10, batch_size=2)
    with slack.db.uow() as uow:
        uow.session.get(Campaign, campaign_id).settings = {
            "request_button_label": "Give me more voters",
            "request_message": "Thanks! Ready for the next 2?",
        }
        uow.commit()
    result = request_batch(slack.db, campaign_id, user_id)
    set_status(slack.db, result.contact_ids, MessageStatus.MESSAGED)
    home = open_home(slack)
    assert home.button(ids.REQUEST_MORE)["text"]["text"] == "Give me more voters"
    assert "Thanks! Ready for the next 2?" in home.text()
    # The end-of-batch prompt (after the last Send) uses the same label and message.
    slack.command(ids.CMD_SEND_FIRST_TEXTS, user=TEXTER)
    reply = slack.fake.wait_for(lambda c: c.params.get("channel") == f"D{TEXTER}")[-1]
    for _ in range(2):
        reply = slack.fake.response_to(
            slack.click_button(reply.button(ids.SEND_TEXT), user=TEXTER).response_url
        )[0]
    assert reply.button(ids.REQUEST_MORE)["text"]["text"] == "Give me more voters"
    assert "Thanks! Ready for the next 2?" in reply.text()


def test_home_says_why_no_more(slack: SlackHarness) -> None:
    _, campaign_id, user_id = joined(slack, contacts=2, batch_size=5)
    result = request_batch(slack.db, campaign_id, user_id)
    set_status(slack.db, result.contact_ids, MessageStatus.MESSAGED)
    home = open_home(slack)
    assert "All initial messages in this campaign have been claimed" in home.text()
    assert {b["action_id"] for b in home.buttons()} == {ids.DONE_FOR_THE_DAY}


def test_home_without_done_for_the_day(slack: SlackHarness) -> None:
    org, _, _ = joined(slack)
    set_organization_setting(slack.db, org, "DONE_FOR_THE_DAY_ENABLED", "false")
    home = open_home(slack)
    assert {b["action_id"] for b in home.buttons()} == {ids.SEND_FIRST_TEXTS}


def test_home_counts_replies_and_hides_archived(slack: SlackHarness) -> None:
    org, campaign_id, user_id = joined(slack)
    old = make_campaign(slack.db, org, title="Old news")
    make_assignment(slack.db, old, user_id)
    with slack.db.uow() as uow:
        uow.session.get(Campaign, old).is_archived = True
        uow.commit()
    result = request_batch(slack.db, campaign_id, user_id)
    set_status(slack.db, result.contact_ids[:2], MessageStatus.NEEDS_RESPONSE)
    text = open_home(slack).text()
    assert "1 first text to send" in text and "2 replies waiting" in text
    assert "Old news" not in text


def test_home_for_newcomer_and_unknown_workspace(slack: SlackHarness) -> None:
    org = make_org(slack.db)
    make_texter(slack.db, org, TEXTER)
    assert "haven't joined any campaigns" in open_home(slack).text()
    answer = slack.home_opened("USTRANGER", event_id="Ev2", team="T9")
    assert answer.status == 200
    home = slack.fake.home_for("USTRANGER")
    assert "not connected to a spokebot organization" in home.text()


def test_retried_event_is_handled_once(slack: SlackHarness) -> None:
    joined(slack)
    open_home(slack, event_id="EvSame")
    retry = slack.home_opened(
        TEXTER,
        event_id="EvSame",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry.status == 200
    open_home(slack, event_id="EvOther", count=2)  # a new event is handled...
    assert len(slack.fake.of("views.publish")) == 2  # ...the redelivery was not


def test_messages_tab_is_ignored(slack: SlackHarness) -> None:
    joined(slack)
    event = {"type": "app_home_opened", "user": TEXTER, "channel": "D1", "tab": "messages"}
    assert slack.event(event, event_id="EvM").status == 200
    open_home(slack, event_id="EvH")
    assert len(slack.fake.of("views.publish")) == 1


def unsent_of(slack: SlackHarness, user_id: int, campaign_id: int) -> int:
    return can_request_more(slack.db, campaign_id, user_id).unsent


def test_done_for_the_day_from_home(slack: SlackHarness) -> None:
    _, campaign_id, user_id = joined(slack)
    request_batch(slack.db, campaign_id, user_id)
    home = open_home(slack)
    done = home.button(ids.DONE_FOR_THE_DAY)
    assert done["confirm"]["confirm"]["text"] == "Yes, release them"  # Slack asks first
    slack.click_button(done, user=TEXTER, in_home=True)
    home = slack.fake.home_for(TEXTER, 2)
    assert "released 3 unsent first texts" in home.text()
    assert unsent_of(slack, user_id, campaign_id) == 0
    with slack.db.uow() as uow:
        free = uow.session.query(CampaignContact).filter(CampaignContact.assignment_id.is_(None))
        assert free.count() == 10


def test_doneforday_command_confirms_first(slack: SlackHarness) -> None:
    _, campaign_id, user_id = joined(slack)
    request_batch(slack.db, campaign_id, user_id)
    answer = slack.command("/doneforday", user=TEXTER)
    assert answer.status == 200
    question = slack.fake.response_to(answer.response_url)[0]
    assert "releases your 3 unsent first texts" in question.text()
    assert unsent_of(slack, user_id, campaign_id) == 3  # nothing released yet

    cancel = slack.click_button(question.button(ids.DONE_FOR_THE_DAY_CANCEL), user=TEXTER)
    assert "nothing was released" in slack.fake.response_to(cancel.response_url)[0].text()
    assert unsent_of(slack, user_id, campaign_id) == 3

    yes = slack.click_button(question.button(ids.DONE_FOR_THE_DAY_CONFIRM), user=TEXTER)
    reply = slack.fake.response_to(yes.response_url)[0]
    assert reply.params["replace_original"] is True
    assert "released 3 unsent first texts" in reply.text()
    assert unsent_of(slack, user_id, campaign_id) == 0
    assert slack.fake.home_for(TEXTER)  # Home refreshed


def test_doneforday_releases_conversations_when_allowed(slack: SlackHarness) -> None:
    org, campaign_id, user_id = joined(slack)
    set_organization_setting(slack.db, org, "RELEASE_CONVERSATIONS_ALLOWED", "true")
    result = request_batch(slack.db, campaign_id, user_id)
    set_status(slack.db, result.contact_ids[:1], MessageStatus.NEEDS_RESPONSE)
    yes = slack.click(ids.DONE_FOR_THE_DAY_CONFIRM, str(campaign_id), user=TEXTER)
    text = slack.fake.response_to(yes.response_url)[0].text()
    assert "released 2 unsent first texts and 1 conversation" in text


def test_doneforday_with_several_campaigns_picks(slack: SlackHarness) -> None:
    org, _first, user_id = joined(slack)
    second = make_campaign(slack.db, org, title="Census")
    make_assignment(slack.db, second, user_id)
    answer = slack.command("/doneforday", user=TEXTER)
    picker = slack.fake.response_to(answer.response_url)[0]
    census = next(b for b in picker.buttons() if b["value"] == f"done:{second}")
    chosen = slack.click_button(census, user=TEXTER)
    question = slack.fake.response_to(chosen.response_url)[0]
    assert "Done for the Day in Census?" in question.text()
    assert "nothing to release" in question.text()  # they hold nothing in Census


def test_doneforday_turned_off(slack: SlackHarness) -> None:
    org, campaign_id, user_id = joined(slack)
    set_organization_setting(slack.db, org, "DONE_FOR_THE_DAY_ENABLED", "false")
    request_batch(slack.db, campaign_id, user_id)
    answer = slack.command("/doneforday", user=TEXTER)
    assert "turned off" in slack.fake.response_to(answer.response_url)[0].text()
    # A stale confirm button is checked again by core.
    yes = slack.click(ids.DONE_FOR_THE_DAY_CONFIRM, str(campaign_id), user=TEXTER)
    assert "turned off" in slack.fake.response_to(yes.response_url)[0].text()
    assert unsent_of(slack, user_id, campaign_id) == 3


def test_done_for_the_day_on_someone_elses_campaign(slack: SlackHarness) -> None:
    org, campaign_id, user_id = joined(slack)
    request_batch(slack.db, campaign_id, user_id)
    make_texter(slack.db, org, "UOTHER")
    yes = slack.click(ids.DONE_FOR_THE_DAY_CONFIRM, str(campaign_id), user="UOTHER")
    assert "You haven't joined “GOTV”" in slack.fake.response_to(yes.response_url)[0].text()
    assert unsent_of(slack, user_id, campaign_id) == 3


def test_home_click_refused_shows_reason_on_home(slack: SlackHarness) -> None:
    org, campaign_id, user_id = joined(slack)
    request_batch(slack.db, campaign_id, user_id)
    home = open_home(slack)
    set_organization_setting(slack.db, org, "DONE_FOR_THE_DAY_ENABLED", "false")
    slack.click_button(home.button(ids.DONE_FOR_THE_DAY), user=TEXTER, in_home=True)
    home = slack.fake.home_for(TEXTER, 2)
    assert "Done for the Day is turned off in this organization." in home.text()
    assert ids.DONE_FOR_THE_DAY not in {b["action_id"] for b in home.buttons()}
    assert unsent_of(slack, user_id, campaign_id) == 3


def test_doneforday_offers_spokes_two_buttons_with_counts(slack: SlackHarness) -> None:
    org, campaign_id, user_id = joined(slack)
    result = request_batch(slack.db, campaign_id, user_id)
    set_status(slack.db, result.contact_ids[:1], MessageStatus.NEEDS_RESPONSE)
    # Without RELEASE_CONVERSATIONS_ALLOWED: one button, no word of conversations.
    answer = slack.command("/doneforday", user=TEXTER)
    question = slack.fake.response_to(answer.response_url)[0]
    assert "conversation" not in question.text().lower()
    assert [b["text"]["text"] for b in question.buttons()] == ["Release first texts (2)", "Cancel"]
    # With it: both, each with its count; the first releases first texts only.
    set_organization_setting(slack.db, org, "RELEASE_CONVERSATIONS_ALLOWED", "true")
    answer = slack.command("/doneforday", user=TEXTER)
    question = slack.fake.response_to(answer.response_url)[0]
    labels = [b["text"]["text"] for b in question.buttons()]
    assert labels == [
        "Release first texts (2)",
        "Release first texts and conversations (3)",
        "Cancel",
    ]
    first = slack.click_button(question.buttons()[0], user=TEXTER)
    text = slack.fake.response_to(first.response_url)[0].text()
    assert "released 2 unsent first texts for other texters" in text
    assert "conversation" not in text
    # Only the conversation left: no "0 first texts" offered or reported.
    answer = slack.command("/doneforday", user=TEXTER)
    question = slack.fake.response_to(answer.response_url)[0]
    assert [b["text"]["text"] for b in question.buttons()] == [
        "Release conversations (1)",
        "Cancel",
    ]
    assert "0 " not in question.text()
    both = slack.click_button(question.buttons()[0], user=TEXTER)
    text = slack.fake.response_to(both.response_url)[0].text()
    assert "released 1 conversation for other texters" in text and "0 unsent" not in text
    # Nothing held: nothing offered.
    answer = slack.command("/doneforday", user=TEXTER)
    question = slack.fake.response_to(answer.response_url)[0]
    assert "nothing to release" in question.text() and not question.buttons()
