"""The texting loop's core, sending: rendering, the send card, statuses, refusals (texting
hours, owner, double sends) and provider failures."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from core.db import Database
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.messaging import FakeMessageService, SendOutcome
from core.models import Campaign, CampaignContact
from core.roles import Role
from core.services.conversation_changes import close_conversation_as
from core.services.texting import (
    conversation,
    receive_inbound,
    render_script,
    send_first_text,
    send_reply,
)
from core.services.texting_rules import OutsideTextingHours
from tests.support.card import card_offered, held_on_card
from tests.support.texting_service import (
    MORNING_NY,
    contact_row,
    service_world,
    stored_messages,
)
from tests.support.world import add_contacts, make_org, make_texter

TEXTER = "UTEXTER"  # service_world's texter

# ---------------------------------------------------------------- rendering (no database)


def test_render_fills_standard_texter_and_custom_fields() -> None:
    text = render_script(
        "Hi {firstName} {lastName} ({zip}, {cell}), it's {texterFirstName} {texterLastName}. "
        "Ward {ward}!",
        {"firstName": "Jamie", "lastName": "Doe", "zip": "10001", "cell": "+1202", "ward": "7"},
        "Ada King Lovelace",
    )
    assert text == "Hi Jamie Doe (10001, +1202), it's Ada King Lovelace. Ward 7!"


def test_render_missing_fields_are_empty_never_raw_braces() -> None:
    text = render_script("Hi {firstName}, ward {ward}, {texterLastName}.", {}, "Ada")
    assert text == "Hi , ward , ."
    assert "{" not in text and "}" not in text


def test_render_leaves_braces_that_are_not_fields() -> None:
    script = "Hi {firstName} :-{ } {not a field} {{ }} {} {9lives}"
    assert render_script(script, {"firstName": "Jo"}, "") == (
        "Hi Jo :-{ } {not a field} {{ }} {} {9lives}"
    )


def test_render_custom_fields_match_any_letter_case() -> None:
    assert render_script("{Ward}/{ward}", {"ward": "3"}, "") == "3/3"


# ---------------------------------------------------------------- the send card


def test_next_contact_card_renders_and_walks_with_skip(db: Database) -> None:
    world = service_world(db, contacts=3)
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == world.contact_ids[0])
            .values(custom_fields={"ward": "7", "empty": ""})
        )
        uow.commit()
    card = card_offered(db, world.campaign_id, TEXTER, now=MORNING_NY)
    assert card is not None
    assert card.contact_id == world.contact_ids[0]
    assert card.text == "Hi Contact0, it's Ada. Can we count on your vote?"
    assert card.custom_fields == {"ward": "7"}
    assert card.textable_now and card.textable_at is None and card.hours_note is None
    assert card.remaining == 3 and card.can_edit
    skipped = card_offered(db, world.campaign_id, TEXTER, world.contact_ids[0], MORNING_NY)
    assert skipped is not None and skipped.contact_id == world.contact_ids[1]
    # Skip moves a contact to the end once: past the last one, only skipped ones are left.
    assert card_offered(db, world.campaign_id, TEXTER, world.contact_ids[2], MORNING_NY) is None
    left = held_on_card(db, world.campaign_id, TEXTER, world.contact_ids[2], MORNING_NY)
    assert (left.skipped, left.not_textable, left.total) == (3, 0, 3)
    again = card_offered(db, world.campaign_id, TEXTER, None, MORNING_NY)  # a fresh walk
    assert again is not None and again.contact_id == world.contact_ids[0]


def test_next_contact_is_textable_and_the_rest_says_until_when(db: Database) -> None:
    world = service_world(db, contacts=1, texting_hours="9-21", timezone="America/Los_Angeles")
    ny = add_contacts(
        db, world.campaign_id, 1, assignment_id=world.assignment_id, start=50, timezone=None
    )
    card = card_offered(db, world.campaign_id, TEXTER, now=MORNING_NY)
    assert card is not None and card.contact_id == ny[0] and card.textable_now
    send_first_text(db, ny[0], world.user_id, FakeMessageService(), now=MORNING_NY)
    # The one left is outside its own texting hours: no card offers it; it is counted.
    assert card_offered(db, world.campaign_id, TEXTER, now=MORNING_NY) is None
    left = held_on_card(db, world.campaign_id, TEXTER, None, MORNING_NY)
    assert (left.skipped, left.not_textable) == (0, 1)
    assert left.opens_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_no_card_once_everything_is_sent(db: Database) -> None:
    world = service_world(db, contacts=2)
    service = FakeMessageService()
    for contact_id in world.contact_ids:
        send_first_text(db, contact_id, world.user_id, service)
    assert card_offered(db, world.campaign_id, TEXTER) is None


# ---------------------------------------------------------------- statuses (scenario 29)


def test_scenario_29_send_reply_answer_reply(db: Database) -> None:
    world = service_world(db, contacts=1)
    contact_id = world.contact_ids[0]
    service = FakeMessageService()
    sent = send_first_text(db, contact_id, world.user_id, service)
    assert sent.sent and sent.contact_status == "messaged" and sent.message_status == "delivered"
    assert service.sent[0].body == "Hi Contact0, it's Ada. Can we count on your vote?"
    cell = contact_row(db, contact_id).cell

    inbound = receive_inbound(db, cell, "Yes!", service_id="SM1")
    assert inbound.contact_status == "needsResponse"
    assert (inbound.user_id, inbound.assignment_id) == (world.user_id, world.assignment_id)
    assert not inbound.opted_out and not inbound.duplicate

    answered = send_reply(db, contact_id, world.user_id, "Great, thank you!", service)
    assert answered.contact_status == "convo"
    again = receive_inbound(db, cell, "See you there", service_id="SM2")
    assert again.contact_status == "needsResponse"

    thread = conversation(db, contact_id, world.user_id)
    assert [(m.direction, m.text) for m in thread.messages] == [
        ("outbound", "Hi Contact0, it's Ada. Can we count on your vote?"),
        ("inbound", "Yes!"),
        ("outbound", "Great, thank you!"),
        ("inbound", "See you there"),
    ]
    assert thread.messages[0].user_id == world.user_id
    assert thread.messages[0].status == "delivered"

    closed = close_conversation_as(db, "T1", TEXTER, None, contact_id)
    assert (
        closed.state.thread.contact_status == contact_row(db, contact_id).message_status == "closed"
    )


def test_edit_of_first_text_obeys_the_campaign_setting(db: Database) -> None:
    world = service_world(db, contacts=2)
    service = FakeMessageService()
    edited = send_first_text(
        db, world.contact_ids[0], world.user_id, service, text_override="  Hello there  "
    )
    assert edited.text == "Hello there" and service.sent[-1].body == "Hello there"
    with db.uow() as uow:
        campaign = uow.session.get(Campaign, world.campaign_id)
        assert campaign is not None
        campaign.settings = {"allow_edit_initial": False}
        uow.commit()
    with pytest.raises(NotAllowed, match="doesn't allow editing"):
        send_first_text(db, world.contact_ids[1], world.user_id, service, text_override="Hi")
    assert contact_row(db, world.contact_ids[1]).message_status == "needsMessage"
    assert len(service.sent) == 1
    assert card_offered(db, world.campaign_id, TEXTER).can_edit is False


def test_empty_reply_and_reply_before_first_text_are_refused(db: Database) -> None:
    world = service_world(db, contacts=1)
    with pytest.raises(InvalidInput, match="can't be empty"):
        send_reply(db, world.contact_ids[0], world.user_id, "   ", FakeMessageService())
    with pytest.raises(Conflict, match="first text before replying"):
        send_reply(db, world.contact_ids[0], world.user_id, "Hi", FakeMessageService())


# ---------------------------------------------------------------- refusals


def test_send_outside_texting_hours_is_refused_with_until_when(db: Database) -> None:
    world = service_world(db, contacts=1, texting_hours="9-21", timezone="America/Los_Angeles")
    service = FakeMessageService()
    with pytest.raises(OutsideTextingHours) as refused:
        send_first_text(db, world.contact_ids[0], world.user_id, service, now=MORNING_NY)
    assert refused.value.textable_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert "You can text them from 9 AM today (America/Los_Angeles)" in refused.value.message
    assert service.sent == [] and stored_messages(db, world.contact_ids[0]) == []
    # Late evening in Los Angeles: the window opens tomorrow.
    late = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # 22:30 on Monday in Los Angeles
    with pytest.raises(OutsideTextingHours, match="from 9 AM Tuesday November 24"):
        send_first_text(db, world.contact_ids[0], world.user_id, service, now=late)
    at_nine = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert send_first_text(db, world.contact_ids[0], world.user_id, service, now=at_nine).sent


def test_contact_without_zone_uses_the_campaign_zone(db: Database) -> None:
    world = service_world(db, contacts=1, texting_hours="9-21")  # campaign in New York
    assert send_first_text(
        db, world.contact_ids[0], world.user_id, FakeMessageService(), now=MORNING_NY
    ).sent


def test_only_the_owner_may_send(db: Database) -> None:
    world = service_world(db, contacts=1)
    other = make_texter(db, world.org_id, "UOTHER")
    admin = make_texter(db, world.org_id, "UADMIN", role=Role.ADMIN)
    service = FakeMessageService()
    for user_id in (other, admin):
        with pytest.raises(NotAllowed, match="not assigned to you"):
            send_first_text(db, world.contact_ids[0], user_id, service)
    stranger_org = make_org(db, team="T2")
    stranger = make_texter(db, stranger_org, "USTRANGER")
    with pytest.raises(NotAllowed, match="not an active member"):
        send_first_text(db, world.contact_ids[0], stranger, service)
    with pytest.raises(NotFound):
        send_first_text(db, 999_999, world.user_id, service)
    assert service.sent == [] and contact_row(db, world.contact_ids[0]).message_status == (
        "needsMessage"
    )
    # Staff may read the thread and opt the contact out, not text it.
    assert conversation(db, world.contact_ids[0], admin).messages == ()
    with pytest.raises(NotAllowed):
        conversation(db, world.contact_ids[0], other)


def test_double_send_sends_once(db: Database) -> None:
    world = service_world(db, contacts=1)
    service = FakeMessageService()
    send_first_text(db, world.contact_ids[0], world.user_id, service)
    with pytest.raises(Conflict, match="already been sent"):
        send_first_text(db, world.contact_ids[0], world.user_id, service)
    assert len(service.sent) == 1 and len(stored_messages(db, world.contact_ids[0])) == 1


class SlowService(FakeMessageService):
    """A provider that takes a while, so two clicks overlap inside the send."""

    def send(self, to_cell: str, body: str, *, from_hint: str | None = None) -> SendOutcome:
        time.sleep(0.3)
        return super().send(to_cell, body, from_hint=from_hint)


def test_two_concurrent_clicks_send_once(db: Database) -> None:
    world = service_world(db, contacts=1)
    service = SlowService()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(send_first_text(db, world.contact_ids[0], world.user_id, service))
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(service.sent) == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "SendResult"]
    assert len(stored_messages(db, world.contact_ids[0])) == 1


# ---------------------------------------------------------------- provider failures


def test_provider_failure_keeps_the_contact_and_stores_a_failed_message(db: Database) -> None:
    world = service_world(db, contacts=1)
    failing = FakeMessageService(fail_with="carrier said no")
    result = send_first_text(db, world.contact_ids[0], world.user_id, failing)
    assert not result.sent and result.error == "carrier said no"
    assert result.contact_status == "needsMessage"
    contact = contact_row(db, world.contact_ids[0])
    assert contact.message_status == "needsMessage"
    assert contact.assignment_id == world.assignment_id
    [failed] = stored_messages(db, world.contact_ids[0])
    assert (failed.status, failed.error, failed.direction) == (
        "failed",
        "carrier said no",
        "outbound",
    )
    # The card still offers the contact, and a retry goes through.
    card = card_offered(db, world.campaign_id, TEXTER)
    assert card is not None and card.contact_id == world.contact_ids[0]
    retried = send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    assert retried.sent and retried.contact_status == "messaged"


def test_a_provider_that_raises_becomes_a_failed_send(db: Database, mocker) -> None:
    world = service_world(db, contacts=1)
    service = FakeMessageService()
    mocker.patch.object(service, "send", side_effect=ConnectionError("network down"))
    result = send_first_text(db, world.contact_ids[0], world.user_id, service)
    assert not result.sent and "network down" in (result.error or "")
    assert contact_row(db, world.contact_ids[0]).message_status == "needsMessage"
    assert [m.status for m in stored_messages(db, world.contact_ids[0])] == ["failed"]
