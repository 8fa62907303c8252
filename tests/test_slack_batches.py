"""/sendfirsttexts, Send First Texts, Request More / Done For Now, retries and double clicks."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from bot import ids
from core.models import CampaignContact
from core.roles import Role
from core.services.batches import can_request_more
from core.services.organizations import set_organization_setting
from core.statuses import MessageStatus
from tests.support.slack_harness import SlackHarness
from tests.support.world import (
    add_contacts,
    build_world,
    make_assignment,
    make_campaign,
    make_org,
    make_texter,
    set_status,
)

TEXTER = "UTEXT"


def joined(slack: SlackHarness, contacts: int = 10, batch_size: int = 3, **kw: object):
    w = build_world(slack.db, members=[TEXTER], contacts=contacts, batch_size=batch_size, **kw)
    return w.org_id, w.campaign_id, w.user(TEXTER), w.contact_ids


def held(slack: SlackHarness, user_id: int, campaign_id: int) -> int:
    return can_request_more(slack.db, campaign_id, user_id).unsent


def command_reply(slack: SlackHarness, text: str = "", command: str = "/sendfirsttexts"):
    """The answer: the send card when one is posted in the texter's DM (the channel gets a
    private pointer to it), else the private reply."""

    def cards() -> list:
        return [c for c in slack.fake.of("chat.postMessage") if c.params["channel"] == "D" + TEXTER]

    before = len(cards())
    answer = slack.command(command, text, user=TEXTER)
    assert answer.status == 200 and answer.seconds < 3
    reply = slack.fake.response_to(answer.response_url)[0]
    if len(cards()) > before:
        assert reply.params["response_type"] == "ephemeral"
        assert "your direct messages with me" in reply.text()
        return cards()[before]
    return reply


def test_sendfirsttexts_with_one_campaign_assigns_a_batch(slack: SlackHarness) -> None:
    _, campaign_id, user_id, _ = joined(slack)
    reply = command_reply(slack)
    assert reply.method == "chat.postMessage"  # the card stays in the DM with the bot
    assert reply.params["channel"] == "D" + TEXTER
    assert "You got 3 first texts in *GOTV*." in reply.text()
    assert "You now hold" not in reply.text()  # one fact, said once
    assert held(slack, user_id, campaign_id) == 3
    home = slack.fake.home_for(TEXTER)  # Home refreshed after the change
    assert "3 first texts to send" in home.text()


def test_second_request_says_how_many_are_left(slack: SlackHarness) -> None:
    _, campaign_id, user_id, _ = joined(slack)
    command_reply(slack)
    reply = command_reply(slack)
    assert "You still have 3 first texts to send" in reply.text()
    assert held(slack, user_id, campaign_id) == 3


def test_no_campaigns(slack: SlackHarness) -> None:
    org = make_org(slack.db)
    make_texter(slack.db, org, TEXTER)
    assert "haven't joined any campaigns" in command_reply(slack).text()


def test_several_campaigns_show_a_picker(slack: SlackHarness) -> None:
    org, first, user_id, _ = joined(slack)
    second = make_campaign(slack.db, org, title="Census", batch_size=2)
    add_contacts(slack.db, second, 5, prefix="+1303555")
    make_assignment(slack.db, second, user_id)
    picker = command_reply(slack)
    values = {b["value"] for b in picker.buttons()}
    assert values == {f"send:{first}", f"send:{second}"}
    census = next(b for b in picker.buttons() if b["value"] == f"send:{second}")
    answer = slack.click_button(census, user=TEXTER)
    reply = slack.fake.response_to(answer.response_url)[0]
    assert reply.params["replace_original"] is True
    assert "You got 2 first texts in *Census*" in reply.text()
    assert held(slack, user_id, second) == 2 and held(slack, user_id, first) == 0


def test_argument_names_the_campaign_by_id_or_title(slack: SlackHarness) -> None:
    org, first, user_id, _ = joined(slack)
    second = make_campaign(slack.db, org, title="Census", batch_size=2)
    add_contacts(slack.db, second, 5, prefix="+1303555")
    make_assignment(slack.db, second, user_id)
    assert "in *Census*" in command_reply(slack, "census").text()
    assert "in *GOTV*" in command_reply(slack, str(first)).text()
    reply = command_reply(slack, "nothing like it")
    assert "haven't joined a campaign matching “nothing like it”" in reply.text()


def test_refusals_are_in_words(slack: SlackHarness) -> None:
    _org, _campaign_id, _user_id, _contact_ids = joined(slack, contacts=4, batch_size=2)
    # Replies waiting (the default strategy wants them answered first).
    first = command_reply(slack)
    assert "You got 2" in first.text()
    with slack.db.uow() as uow:
        mine = [
            c.id
            for c in uow.session.query(CampaignContact).filter(
                CampaignContact.assignment_id.is_not(None)
            )
        ]
    set_status(slack.db, mine[:1], MessageStatus.MESSAGED)
    set_status(slack.db, mine[1:], MessageStatus.NEEDS_RESPONSE)
    prompt = command_reply(slack)
    assert "Finish your 1 reply first" in prompt.text()
    # Request More could not succeed now: only Done For Now, and the reply to finish.
    assert {b["action_id"] for b in prompt.buttons()} == {ids.DONE_FOR_NOW}
    assert "*Contact1 Test*" in prompt.text()


def test_all_claimed_and_limit_reached(slack: SlackHarness) -> None:
    _org, campaign_id, _user_id, contact_ids = joined(slack, contacts=2, batch_size=5)
    assert "You got 2" in command_reply(slack).text()
    set_status(slack.db, contact_ids, MessageStatus.MESSAGED)
    prompt = command_reply(slack)
    assert "All initial messages in this campaign have been claimed" in prompt.text()
    assert [b["action_id"] for b in prompt.buttons()] == [ids.DONE_FOR_NOW]

    # A cap: "you have reached your limit of 2".
    more = add_contacts(slack.db, campaign_id, 3, start=100)
    assert more
    with slack.db.uow() as uow:
        from core.models import Assignment

        uow.session.query(Assignment).update({"max_contacts": 2})
        uow.commit()
    assert "You have reached your limit of 2 contacts" in command_reply(slack).text()


def test_finished_batch_prompt_request_more_and_done_for_now(slack: SlackHarness) -> None:
    _, campaign_id, user_id, _contact_ids = joined(slack, contacts=10, batch_size=3)
    command_reply(slack)
    with slack.db.uow() as uow:
        mine = [
            c.id
            for c in uow.session.query(CampaignContact).filter(
                CampaignContact.assignment_id.is_not(None)
            )
        ]
    set_status(slack.db, mine, MessageStatus.MESSAGED)  # they sent every first text they held
    # Sending arrives with the texting loop; the card's Send First Texts click stands in.
    from bot.render.send_card import finished_prompt

    prompt = finished_prompt(campaign_id, "GOTV", can_request_more(slack.db, campaign_id, user_id))
    buttons = {b["action_id"]: b for b in prompt.blocks[1]["elements"]}
    assert set(buttons) == {ids.REQUEST_MORE, ids.DONE_FOR_NOW}
    answer = slack.click_button(buttons[ids.REQUEST_MORE], user=TEXTER)
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "You got 3 first texts" in reply.text() and reply.params["replace_original"]
    answer = slack.click_button(buttons[ids.DONE_FOR_NOW], user=TEXTER)
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "Done for now" in reply.text() and "tab=home" in reply.text()
    assert slack.fake.home_for(TEXTER, count=2)  # Done For Now publishes Home


def test_send_first_texts_card_button(slack: SlackHarness) -> None:
    _, campaign_id, _user_id, _ = joined(slack)
    answer = slack.click(ids.SEND_FIRST_TEXTS, str(campaign_id), user=TEXTER)
    assert answer.status == 200
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "You got 3 first texts" in reply.text()


def test_double_click_never_assigns_a_second_batch(slack: SlackHarness) -> None:
    _, campaign_id, user_id, _ = joined(slack, contacts=20, batch_size=3)
    answers = []

    def click() -> None:
        answers.append(slack.click(ids.SEND_FIRST_TEXTS, str(campaign_id), user=TEXTER))

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.status == 200 for a in answers)
    replies = [slack.fake.response_to(a.response_url)[0].text() for a in answers]
    assert sum("You got 3" in r for r in replies) == 1
    assert sum("You still have 3 first texts" in r for r in replies) == 3
    assert held(slack, user_id, campaign_id) == 3


def test_retried_delivery_never_assigns_a_second_batch(slack: SlackHarness) -> None:
    _, campaign_id, user_id, _ = joined(slack, contacts=20, batch_size=3)
    first = slack.command("/sendfirsttexts", user=TEXTER)
    retry = slack.command(
        "/sendfirsttexts",
        user=TEXTER,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status == retry.status == 200
    slack.fake.response_to(first.response_url)
    slack.fake.response_to(retry.response_url)
    assert held(slack, user_id, campaign_id) == 3


def test_button_of_someone_elses_assignment_changes_nothing(slack: SlackHarness) -> None:
    org, campaign_id, user_id, _ = joined(slack)
    make_texter(slack.db, org, "UOTHER")  # a member who never joined this campaign
    answer = slack.click(ids.REQUEST_MORE, str(campaign_id), user="UOTHER")
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "You haven't joined this campaign" in reply.text()
    assert held(slack, user_id, campaign_id) == 0


def test_button_from_another_workspace_changes_nothing(slack: SlackHarness) -> None:
    _org, campaign_id, user_id, _ = joined(slack)
    other = make_org(slack.db, team="T2")
    make_texter(slack.db, other, "UOTHER")
    answer = slack.click(ids.SEND_FIRST_TEXTS, str(campaign_id), user="UOTHER", team="T2")
    reply = slack.fake.response_to(answer.response_url)[0]
    assert f"no campaign with id {campaign_id}" in reply.text()
    # Even the campaign's own texter, clicking from another workspace, acts there, not here.
    answer = slack.click(ids.SEND_FIRST_TEXTS, str(campaign_id), user=TEXTER, team="T2")
    assert (
        f"no campaign with id {campaign_id}"
        in slack.fake.response_to(answer.response_url)[0].text()
    )
    assert held(slack, user_id, campaign_id) == 0


def test_suspended_texter_is_told(slack: SlackHarness) -> None:
    org, campaign_id, _user_id, _ = joined(slack)
    from core.services.organizations import add_member

    add_member(slack.db, org, TEXTER, "", Role.SUSPENDED)
    reply = command_reply(slack, str(campaign_id))
    assert "suspended" in reply.text()


def test_tampered_button_value(slack: SlackHarness) -> None:
    joined(slack)
    answer = slack.click(ids.REQUEST_MORE, "1; DROP TABLE", user=TEXTER)
    assert "out of date" in slack.fake.response_to(answer.response_url)[0].text()


def test_unexpected_error_tells_the_user_with_a_reference(slack: SlackHarness, monkeypatch) -> None:
    import bot.listeners.first_texts

    _, campaign_id, _, _ = joined(slack)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.listeners.first_texts, "request_texts", broken)
    answer = slack.click(ids.SEND_FIRST_TEXTS, str(campaign_id), user=TEXTER)
    reply = slack.fake.response_to(answer.response_url)[0]
    assert "something went wrong on our side" in reply.text() and "reference" in reply.text()
    assert "fire" not in reply.text()  # internals are logged, not shown


def test_org_setting_is_respected_for_max_contacts(slack: SlackHarness) -> None:
    org, _campaign_id, _user_id, _ = joined(slack)
    set_organization_setting(slack.db, org, "MAX_CONTACTS_PER_TEXTER", "0")
    # The setting applies on join; this texter joined before, so they still get texts.
    assert "You got 3" in command_reply(slack).text()


def test_sendfirsttexts_typed_in_the_dm_needs_no_pointer(slack: SlackHarness) -> None:
    joined(slack)
    answer = slack.command("/sendfirsttexts", "", user=TEXTER, channel="D" + TEXTER)
    assert answer.status == 200
    card = slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and c.params["channel"] == "D" + TEXTER
    )[0]
    assert "You got 3 first texts" in card.text()
    path = urlsplit(answer.response_url).path
    assert not [c for c in slack.fake.calls if c.method == "response" and c.path == path]
