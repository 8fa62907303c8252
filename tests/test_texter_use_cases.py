"""The texter's use cases each run in one transaction (Send in two: its claim is committed
before the provider is called), on SQLite and PostgreSQL: counted at the engine, so a helper
that opens a unit of work of its own inside one shows up here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from core.db import Database
from core.errors import NotFound
from core.messaging import FakeMessageService
from core.models import Campaign, CampaignContact
from core.services.batch_requests import CampaignQuestion, request_first_texts, request_texts
from core.services.card_sending import card_step, send_from_card
from core.services.link_joining import join_by_link
from core.services.send_card_changes import card_to_edit, opt_out_on_card, release_held
from core.services.texter_home import open_home
from tests.support.world import add_contacts, make_campaign, make_org

TEXTER = "UCASE"


@contextmanager
def transactions(db: Database) -> Iterator[list[str]]:
    """Every transaction's end (commit or rollback) on the database's engines."""
    ended: list[str] = []

    def commit(_conn: Any) -> None:
        ended.append("commit")

    def rollback(_conn: Any) -> None:
        ended.append("rollback")

    event.listen(db.engine, "commit", commit)
    event.listen(db.engine, "rollback", rollback)
    try:
        yield ended
    finally:
        event.remove(db.engine, "commit", commit)
        event.remove(db.engine, "rollback", rollback)


def campaign_to_join(db: Database) -> tuple[int, str]:
    """A campaign of six first texts in batches of two, and its join link's token."""
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=2)
    add_contacts(db, campaign_id, 6)
    with db.uow(read_only=True) as uow:
        token = uow.session.scalar(select(Campaign.join_token).where(Campaign.id == campaign_id))
    return campaign_id, str(token)


def test_each_texter_interaction_is_one_transaction(db: Database) -> None:
    campaign_id, token = campaign_to_join(db)
    with transactions(db) as ended:
        joined = join_by_link(db, "T1", TEXTER, "Ada", campaign_id, token)
    assert ended == ["commit"]
    assert joined.identity.created and not joined.result.already_joined
    assert [c.campaign_id for c in joined.home.campaigns] == [campaign_id]

    with transactions(db) as ended:
        first = request_first_texts(db, "T1", TEXTER, "Ada", "")
    assert ended == ["commit"]
    assert not isinstance(first, CampaignQuestion)
    assert first.result.assigned == 2 and first.home is not None
    assert first.next_on_card is not None and first.next_on_card.card is not None
    card = first.next_on_card.card

    service = FakeMessageService()
    with transactions(db) as ended:
        sent = send_from_card(db, "T1", TEXTER, "Ada", campaign_id, card.contact_id, service)
    assert ended == ["commit", "commit"]
    assert sent.result is not None and sent.result.sent
    assert sent.step.next_on_card.card is not None
    following = sent.step.next_on_card.card.contact_id
    with transactions(db) as ended:
        last = send_from_card(db, "T1", TEXTER, "Ada", campaign_id, following, service)
    assert ended == ["commit", "commit"]
    assert last.step.batch_done and last.step.home is not None

    with transactions(db) as ended:
        more = request_texts(db, "T1", TEXTER, "Ada", campaign_id)
    assert ended == ["commit"]
    assert more.result.assigned == 2 and more.home is not None

    with transactions(db) as ended:
        home = open_home(db, "T1", TEXTER, "Ada")
    assert ended == ["rollback"]  # read only: nothing changed
    assert home.campaigns[0].unsent == 2


def test_a_refused_send_is_one_transaction_and_moves_the_card_on(db: Database) -> None:
    campaign_id, token = campaign_to_join(db)
    join_by_link(db, "T1", TEXTER, "Ada", campaign_id, token)
    first = request_texts(db, "T1", TEXTER, "Ada", campaign_id)
    assert first.next_on_card is not None and first.next_on_card.card is not None
    contact_id = first.next_on_card.card.contact_id
    service = FakeMessageService()
    send_from_card(db, "T1", TEXTER, "Ada", campaign_id, contact_id, service)
    with transactions(db) as ended:
        again = send_from_card(db, "T1", TEXTER, "Ada", campaign_id, contact_id, service)
    assert ended == ["commit"]
    assert again.refusal is not None and "already been sent" in again.refusal
    assert again.step.next_on_card.card is not None
    assert again.step.next_on_card.card.contact_id != contact_id
    assert len(service.sent) == 1


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every statement sent on the database's engines."""
    sent: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", executed)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", executed)


def _holding_a_batch(db: Database) -> tuple[int, list[int]]:
    """A texter who joined and holds a batch of two: the campaign and the card's contacts."""
    campaign_id, token = campaign_to_join(db)
    join_by_link(db, "T1", TEXTER, "Ada", campaign_id, token)
    first = request_texts(db, "T1", TEXTER, "Ada", campaign_id)
    assert first.result.assigned == 2
    with db.uow(read_only=True) as uow:
        held = uow.session.scalars(
            select(CampaignContact.id)
            .where(CampaignContact.assignment_id.is_not(None))
            .order_by(CampaignContact.id)
        ).all()
    return campaign_id, list(held)


def test_skip_and_restart_are_one_read_of_two_statements(db: Database) -> None:
    campaign_id, held = _holding_a_batch(db)
    with transactions(db) as ended, statements(db) as sent:
        skipped = card_step(db, "T1", TEXTER, "Ada", campaign_id, held[0])
    assert ended == ["rollback"]  # read only: nothing changed
    # Identity, campaign and assignment in one statement; the texter's unsent contacts.
    assert len(sent) == 2, sent
    assert skipped.next_on_card.card is not None
    assert skipped.next_on_card.card.contact_id == held[1]

    with transactions(db) as ended:
        restarted = card_step(db, "T1", TEXTER, "Ada", campaign_id, None)
    assert ended == ["rollback"]
    assert restarted.next_on_card.card is not None
    assert restarted.next_on_card.card.contact_id == held[0]

    with transactions(db) as ended:
        renamed = card_step(db, "T1", TEXTER, "Ada L.", campaign_id, held[1])
    # A new name is found by the read, then written with the step in one write transaction.
    assert ended == ["rollback", "commit"]
    assert renamed.identity.name == "Ada L." and renamed.next_on_card.card is None
    assert renamed.next_on_card.left is not None and renamed.next_on_card.left.skipped == 2


def test_opt_out_on_the_card_is_one_transaction(db: Database) -> None:
    campaign_id, held = _holding_a_batch(db)
    with transactions(db) as ended:
        opted_out = opt_out_on_card(db, "T1", TEXTER, "Ada", campaign_id, held[0])
    assert ended == ["commit"]
    assert opted_out.contact_name
    assert opted_out.step.next_on_card.card is not None
    assert opted_out.step.next_on_card.card.contact_id == held[1]
    with db.uow(read_only=True) as uow:
        assert uow.session.get(CampaignContact, held[0]).is_opted_out  # type: ignore[union-attr]


def test_release_held_is_one_transaction_with_the_home_it_changed(db: Database) -> None:
    campaign_id, _ = _holding_a_batch(db)
    with transactions(db) as ended:
        released = release_held(db, "T1", TEXTER, "Ada", campaign_id)
    assert ended == ["commit"]
    assert released.released.initials == 2 and released.released.conversations == 0
    assert released.eligibility.refusal is None  # nothing held: more can be had
    assert [c.unsent for c in released.home.campaigns] == [0]


def test_edit_and_a_refused_edit_are_one_transaction_each(db: Database) -> None:
    campaign_id, held = _holding_a_batch(db)
    with transactions(db) as ended:
        edit = card_to_edit(db, "T1", TEXTER, "Ada", campaign_id, held[1])
    assert ended == ["rollback"]
    assert edit.card is not None and edit.card.contact_id == held[1] and edit.step is None

    service = FakeMessageService()
    with transactions(db) as ended:
        empty = send_from_card(db, "T1", TEXTER, "Ada", campaign_id, held[1], service, " ")
    assert ended == ["commit"]  # the edit refused: nothing claimed, nothing sent
    assert empty.edit_refused and empty.refusal and "can't be empty" in empty.refusal
    assert empty.edit_again is not None and empty.edit_again.contact_id == held[1]
    assert service.sent == []

    send_from_card(db, "T1", TEXTER, "Ada", campaign_id, held[1], service)
    with transactions(db) as ended:
        gone = card_to_edit(db, "T1", TEXTER, "Ada", campaign_id, held[1])
    assert ended == ["rollback"]
    assert gone.card is None and gone.step is not None  # already sent: the next step
    assert gone.step.next_on_card.card is None and gone.step.next_on_card.left is not None


def test_a_card_click_in_a_campaign_not_joined_is_refused_in_one_transaction(
    db: Database,
) -> None:
    joined, _ = _holding_a_batch(db)
    with db.uow(read_only=True) as uow:
        org_id = uow.session.scalar(select(Campaign.organization_id).where(Campaign.id == joined))
    other = make_campaign(db, org_id, batch_size=2, title="Other")
    for campaign_id in (other, other + 1000):  # not joined; no such campaign
        for click in (
            lambda c=campaign_id: card_step(db, "T1", TEXTER, "Ada", c, None),
            lambda c=campaign_id: card_to_edit(db, "T1", TEXTER, "Ada", c, 1),
        ):
            with transactions(db) as ended, pytest.raises(NotFound):
                click()
            assert ended == ["rollback"]
        with transactions(db) as ended, pytest.raises(NotFound):
            opt_out_on_card(db, "T1", TEXTER, "Ada", campaign_id, 1)
        assert ended == ["rollback"]


@pytest.mark.parametrize("texting_hours", [None, "0-24"])
def test_a_batchs_home_is_the_home_opened_after_it(db: Database, texting_hours: str | None) -> None:
    """The Home a batch returns counts what the texter holds in the campaign from the batch's
    own counts (no texting hours, no cap) or reads it: either way, the Home opened next."""
    org = make_org(db)
    other = make_campaign(db, org, batch_size=2, title="Other")
    add_contacts(db, other, 3, start=100)
    campaign_id = make_campaign(db, org, batch_size=2, texting_hours=texting_hours)
    add_contacts(db, campaign_id, 6)
    for joined in (other, campaign_id):
        with db.uow(read_only=True) as uow:
            token = uow.session.scalar(select(Campaign.join_token).where(Campaign.id == joined))
        join_by_link(db, "T1", TEXTER, "Ada", joined, str(token))

    first = request_first_texts(db, "T1", TEXTER, "Ada", str(campaign_id))
    assert not isinstance(first, CampaignQuestion) and first.result.assigned == 2
    assert first.home is not None
    assert first.home.campaigns == open_home(db, "T1", TEXTER, "Ada").campaigns

    more = request_texts(db, "T1", TEXTER, "Ada", other)
    assert more.result.assigned == 2 and more.home is not None
    assert more.home.campaigns == open_home(db, "T1", TEXTER, "Ada").campaigns
