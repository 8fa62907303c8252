"""The texting loop's core: rendering, sends, replies, opt-outs, texting hours, failures."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.messaging import FakeMessageService, SendOutcome
from core.models import Campaign, CampaignContact, Message, OptOut
from core.roles import Role
from core.services.batches import request_batch
from core.services.send_card import next_contact_to_send
from core.services.send_queue import held_left
from core.services.texting import (
    close_conversation,
    conversation,
    opt_out_contact,
    receive_inbound,
    render_script,
    send_first_text,
    send_reply,
)
from core.services.texting_rules import OutsideTextingHours
from core.statuses import MessageStatus
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

# 15:00 UTC on a Monday in November is 10:00 in New York and 07:00 in Los Angeles.
MORNING_NY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@dataclass
class Texting:
    db: Database
    org_id: int
    campaign_id: int
    user_id: int
    assignment_id: int
    contact_ids: list[int]


def _world(
    db: Database, contacts: int = 3, texting_hours: str | None = None, **contact_options
) -> Texting:
    org_id = make_org(db)
    campaign_id = make_campaign(db, org_id, texting_hours=texting_hours)
    user_id = make_texter(db, org_id, "UTEXTER", name="Ada Lovelace")
    assignment_id = make_assignment(db, campaign_id, user_id)
    ids = add_contacts(db, campaign_id, contacts, assignment_id=assignment_id, **contact_options)
    return Texting(db, org_id, campaign_id, user_id, assignment_id, ids)


def _contact(db: Database, contact_id: int) -> CampaignContact:
    with db.uow(read_only=True) as uow:
        contact = uow.session.get(CampaignContact, contact_id)
        assert contact is not None
        return contact


def _messages(db: Database, contact_id: int) -> list[Message]:
    with db.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(Message)
                .where(Message.campaign_contact_id == contact_id)
                .order_by(Message.id)
            )
        )


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
    world = _world(db, contacts=3)
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == world.contact_ids[0])
            .values(custom_fields={"ward": "7", "empty": ""})
        )
        uow.commit()
    card = next_contact_to_send(db, world.assignment_id, now=MORNING_NY)
    assert card is not None
    assert card.contact_id == world.contact_ids[0]
    assert card.text == "Hi Contact0, it's Ada. Can we count on your vote?"
    assert card.custom_fields == {"ward": "7"}
    assert card.textable_now and card.textable_at is None and card.hours_note is None
    assert card.remaining == 3 and card.can_edit
    skipped = next_contact_to_send(db, world.assignment_id, world.contact_ids[0], MORNING_NY)
    assert skipped is not None and skipped.contact_id == world.contact_ids[1]
    # Skip moves a contact to the end once: past the last one, only skipped ones are left.
    assert next_contact_to_send(db, world.assignment_id, world.contact_ids[2], MORNING_NY) is None
    left = held_left(db, world.assignment_id, world.contact_ids[2], MORNING_NY)
    assert (left.skipped, left.not_textable, left.total) == (3, 0, 3)
    again = next_contact_to_send(db, world.assignment_id, None, MORNING_NY)  # a fresh walk
    assert again is not None and again.contact_id == world.contact_ids[0]


def test_next_contact_is_textable_and_the_rest_says_until_when(db: Database) -> None:
    world = _world(db, contacts=1, texting_hours="9-21", timezone="America/Los_Angeles")
    ny = add_contacts(
        db, world.campaign_id, 1, assignment_id=world.assignment_id, start=50, timezone=None
    )
    card = next_contact_to_send(db, world.assignment_id, now=MORNING_NY)
    assert card is not None and card.contact_id == ny[0] and card.textable_now
    send_first_text(db, ny[0], world.user_id, FakeMessageService(), now=MORNING_NY)
    # The one left is outside its own texting hours: no card offers it; it is counted.
    assert next_contact_to_send(db, world.assignment_id, now=MORNING_NY) is None
    left = held_left(db, world.assignment_id, None, MORNING_NY)
    assert (left.skipped, left.not_textable) == (0, 1)
    assert left.opens_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_no_card_once_everything_is_sent(db: Database) -> None:
    world = _world(db, contacts=2)
    service = FakeMessageService()
    for contact_id in world.contact_ids:
        send_first_text(db, contact_id, world.user_id, service)
    assert next_contact_to_send(db, world.assignment_id) is None


# ---------------------------------------------------------------- statuses (scenario 29)


def test_scenario_29_send_reply_answer_reply(db: Database) -> None:
    world = _world(db, contacts=1)
    contact_id = world.contact_ids[0]
    service = FakeMessageService()
    sent = send_first_text(db, contact_id, world.user_id, service)
    assert sent.sent and sent.contact_status == "messaged" and sent.message_status == "delivered"
    assert service.sent[0].body == "Hi Contact0, it's Ada. Can we count on your vote?"
    cell = _contact(db, contact_id).cell

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

    closed = close_conversation(db, contact_id, world.user_id)
    assert closed.contact_status == _contact(db, contact_id).message_status == "closed"


def test_edit_of_first_text_obeys_the_campaign_setting(db: Database) -> None:
    world = _world(db, contacts=2)
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
    assert _contact(db, world.contact_ids[1]).message_status == "needsMessage"
    assert len(service.sent) == 1
    assert next_contact_to_send(db, world.assignment_id).can_edit is False


def test_empty_reply_and_reply_before_first_text_are_refused(db: Database) -> None:
    world = _world(db, contacts=1)
    with pytest.raises(InvalidInput, match="can't be empty"):
        send_reply(db, world.contact_ids[0], world.user_id, "   ", FakeMessageService())
    with pytest.raises(Conflict, match="first text before replying"):
        send_reply(db, world.contact_ids[0], world.user_id, "Hi", FakeMessageService())


# ---------------------------------------------------------------- refusals


def test_send_outside_texting_hours_is_refused_with_until_when(db: Database) -> None:
    world = _world(db, contacts=1, texting_hours="9-21", timezone="America/Los_Angeles")
    service = FakeMessageService()
    with pytest.raises(OutsideTextingHours) as refused:
        send_first_text(db, world.contact_ids[0], world.user_id, service, now=MORNING_NY)
    assert refused.value.textable_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert "You can text them from 9 AM today (America/Los_Angeles)" in refused.value.message
    assert service.sent == [] and _messages(db, world.contact_ids[0]) == []
    # Late evening in Los Angeles: the window opens tomorrow.
    late = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # 22:30 on Monday in Los Angeles
    with pytest.raises(OutsideTextingHours, match="from 9 AM Tuesday November 24"):
        send_first_text(db, world.contact_ids[0], world.user_id, service, now=late)
    at_nine = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert send_first_text(db, world.contact_ids[0], world.user_id, service, now=at_nine).sent


def test_contact_without_zone_uses_the_campaign_zone(db: Database) -> None:
    world = _world(db, contacts=1, texting_hours="9-21")  # campaign in New York
    assert send_first_text(
        db, world.contact_ids[0], world.user_id, FakeMessageService(), now=MORNING_NY
    ).sent


def test_only_the_owner_may_send(db: Database) -> None:
    world = _world(db, contacts=1)
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
    assert service.sent == [] and _contact(db, world.contact_ids[0]).message_status == (
        "needsMessage"
    )
    # Staff may read the thread and opt the contact out, not text it.
    assert conversation(db, world.contact_ids[0], admin).messages == ()
    with pytest.raises(NotAllowed):
        conversation(db, world.contact_ids[0], other)


def test_double_send_sends_once(db: Database) -> None:
    world = _world(db, contacts=1)
    service = FakeMessageService()
    send_first_text(db, world.contact_ids[0], world.user_id, service)
    with pytest.raises(Conflict, match="already been sent"):
        send_first_text(db, world.contact_ids[0], world.user_id, service)
    assert len(service.sent) == 1 and len(_messages(db, world.contact_ids[0])) == 1


class SlowService(FakeMessageService):
    """A provider that takes a while, so two clicks overlap inside the send."""

    def send(self, to_cell: str, body: str, *, from_hint: str | None = None) -> SendOutcome:
        time.sleep(0.3)
        return super().send(to_cell, body, from_hint=from_hint)


def test_two_concurrent_clicks_send_once(db: Database) -> None:
    world = _world(db, contacts=1)
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
    assert len(_messages(db, world.contact_ids[0])) == 1


# ---------------------------------------------------------------- provider failures


def test_provider_failure_keeps_the_contact_and_stores_a_failed_message(db: Database) -> None:
    world = _world(db, contacts=1)
    failing = FakeMessageService(fail_with="carrier said no")
    result = send_first_text(db, world.contact_ids[0], world.user_id, failing)
    assert not result.sent and result.error == "carrier said no"
    assert result.contact_status == "needsMessage"
    contact = _contact(db, world.contact_ids[0])
    assert contact.message_status == "needsMessage"
    assert contact.assignment_id == world.assignment_id
    [failed] = _messages(db, world.contact_ids[0])
    assert (failed.status, failed.error, failed.direction) == (
        "failed",
        "carrier said no",
        "outbound",
    )
    # The card still offers the contact, and a retry goes through.
    card = next_contact_to_send(db, world.assignment_id)
    assert card is not None and card.contact_id == world.contact_ids[0]
    retried = send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    assert retried.sent and retried.contact_status == "messaged"


def test_a_provider_that_raises_becomes_a_failed_send(db: Database, mocker) -> None:
    world = _world(db, contacts=1)
    service = FakeMessageService()
    mocker.patch.object(service, "send", side_effect=ConnectionError("network down"))
    result = send_first_text(db, world.contact_ids[0], world.user_id, service)
    assert not result.sent and "network down" in (result.error or "")
    assert _contact(db, world.contact_ids[0]).message_status == "needsMessage"
    assert [m.status for m in _messages(db, world.contact_ids[0])] == ["failed"]


# ---------------------------------------------------------------- opt-outs (scenario 28)


def _two_campaigns_with_one_cell(db: Database) -> tuple[Texting, int, int, int]:
    """Campaign A (the world) and campaign B of the same org share a cell; also an archived
    campaign C and another organization's campaign with the same cell."""
    world = _world(db, contacts=1, prefix="+1202555")
    campaign_b = make_campaign(db, world.org_id, title="B")
    [in_b] = add_contacts(db, campaign_b, 1, prefix="+1202555")
    archived = make_campaign(db, world.org_id, title="C")
    [in_archived] = add_contacts(db, archived, 1, prefix="+1202555")
    with db.uow() as uow:
        uow.session.execute(
            update(Campaign).where(Campaign.id == archived).values(is_archived=True)
        )
        uow.commit()
    other_org = make_org(db, team="T2")
    [elsewhere] = add_contacts(db, make_campaign(db, other_org), 1, prefix="+1202555")
    return world, in_b, in_archived, elsewhere


def _opted_out(db: Database, contact_id: int) -> bool:
    return _contact(db, contact_id).is_opted_out


@pytest.mark.parametrize("keyword", ["STOP", " stop ", "Unsubscribe", "QUIT", "stopall"])
def test_stop_keyword_opts_out_organization_wide(db: Database, keyword: str) -> None:
    world, in_b, in_archived, elsewhere = _two_campaigns_with_one_cell(db)
    service = FakeMessageService()
    send_first_text(db, world.contact_ids[0], world.user_id, service)
    cell = _contact(db, world.contact_ids[0]).cell
    result = receive_inbound(db, cell, keyword, service_id="SMstop")
    assert result.opted_out and result.user_id == world.user_id
    assert result.contact_id == world.contact_ids[0]
    assert _opted_out(db, world.contact_ids[0]) and _opted_out(db, in_b)
    assert not _opted_out(db, in_archived) and not _opted_out(db, elsewhere)
    assert _contact(db, world.contact_ids[0]).message_status == "messaged"  # status unchanged
    with db.uow(read_only=True) as uow:
        [row] = uow.session.scalars(select(OptOut)).all()
        assert (row.organization_id, row.cell) == (world.org_id, cell)
        assert keyword.strip() in row.reason
    # Campaign B: never assigned, never texted.
    texter_b = make_texter(db, world.org_id, "UTEXTERB")
    assignment_b = make_assignment(db, _contact(db, in_b).campaign_id, texter_b)
    assert request_batch(db, _contact(db, in_b).campaign_id, texter_b).assigned == 0
    with db.uow() as uow:  # even if it had been assigned before the opt-out
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == in_b)
            .values(assignment_id=assignment_b)
        )
        uow.commit()
    assert next_contact_to_send(db, assignment_b) is None
    with pytest.raises(Conflict, match="opted out"):
        send_first_text(db, in_b, texter_b, service)
    assert len(service.sent) == 1


def test_a_plain_reply_mentioning_stop_is_not_an_opt_out(db: Database) -> None:
    world = _world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    cell = _contact(db, world.contact_ids[0]).cell
    result = receive_inbound(db, cell, "please don't stop texting me")
    assert not result.opted_out and not _opted_out(db, world.contact_ids[0])


def test_opt_out_button_is_organization_wide(db: Database) -> None:
    world, in_b, _, elsewhere = _two_campaigns_with_one_cell(db)
    other = make_texter(db, world.org_id, "UOTHER")
    with pytest.raises(NotAllowed):
        opt_out_contact(db, world.contact_ids[0], other, "rude")
    result = opt_out_contact(db, world.contact_ids[0], world.user_id, "asked to stop")
    assert result.contacts_flagged == 2
    assert _opted_out(db, world.contact_ids[0]) and _opted_out(db, in_b)
    assert not _opted_out(db, elsewhere)
    with pytest.raises(Conflict, match="opted out"):
        send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    # A second opt-out (keyword after button) keeps one list entry.
    opt_out_contact(db, world.contact_ids[0], world.user_id, "again")
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(OptOut)) == 1


def test_org_opt_out_list_blocks_a_contact_not_yet_flagged(db: Database) -> None:
    world = _world(db, contacts=1)
    cell = _contact(db, world.contact_ids[0]).cell
    with db.uow() as uow:
        uow.session.add(OptOut(organization_id=world.org_id, cell=cell, reason="imported"))
        uow.commit()
    with pytest.raises(Conflict, match="opted out"):
        send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())


# ---------------------------------------------------------------- inbound routing


def test_inbound_is_idempotent_on_the_provider_id(db: Database) -> None:
    world = _world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    cell = _contact(db, world.contact_ids[0]).cell
    first = receive_inbound(db, cell, "Yes", service_id="SMdup")
    second = receive_inbound(db, cell, "Yes", service_id="SMdup")
    assert not first.duplicate and second.duplicate
    assert second.message_id == first.message_id
    assert [m.direction for m in _messages(db, world.contact_ids[0])] == ["outbound", "inbound"]


def test_inbound_goes_to_the_most_recently_texted_contact(db: Database) -> None:
    world = _world(db, contacts=1)
    campaign_b = make_campaign(db, world.org_id, title="B")
    assignment_b = make_assignment(db, campaign_b, world.user_id)
    [in_b] = add_contacts(db, campaign_b, 1, assignment_id=assignment_b)
    [never_texted] = add_contacts(db, make_campaign(db, world.org_id, title="C"), 1)
    service = FakeMessageService()
    send_first_text(db, in_b, world.user_id, service)
    send_first_text(db, world.contact_ids[0], world.user_id, service)
    cell = _contact(db, in_b).cell
    assert receive_inbound(db, cell, "hi").contact_id == world.contact_ids[0]
    send_reply(db, in_b, world.user_id, "one more", service)
    assert receive_inbound(db, cell, "hi again").contact_id == in_b
    narrowed = receive_inbound(db, cell, "hi C", campaign_id=_contact(db, never_texted).campaign_id)
    assert narrowed.contact_id == never_texted and narrowed.user_id is None


def test_inbound_for_an_unknown_number_is_refused(db: Database) -> None:
    _world(db, contacts=1)
    with pytest.raises(NotFound, match=r"\+12025559999"):
        receive_inbound(db, "+12025559999", "hello?")


def test_reply_from_an_unassigned_contact_waits_for_an_owner(db: Database) -> None:
    world = _world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    with db.uow() as uow:
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == world.contact_ids[0])
            .values(assignment_id=None)
        )
        uow.commit()
    result = receive_inbound(db, _contact(db, world.contact_ids[0]).cell, "anyone there?")
    assert result.assignment_id is None and result.user_id is None
    assert result.contact_status == MessageStatus.NEEDS_RESPONSE.value


def test_the_same_provider_id_delivered_twice_at_once_is_stored_once(db: Database) -> None:
    world = _world(db, contacts=1)
    send_first_text(db, world.contact_ids[0], world.user_id, FakeMessageService())
    cell = _contact(db, world.contact_ids[0]).cell
    barrier = threading.Barrier(4)
    results: list[object] = []

    def deliver() -> None:
        barrier.wait()
        results.append(receive_inbound(db, cell, "Yes", service_id="SMrace"))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    assert len({r.message_id for r in results}) == 1
    assert [m.direction for m in _messages(db, world.contact_ids[0])] == ["outbound", "inbound"]
