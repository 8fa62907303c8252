"""The texter's use cases each run in one transaction (Send in two: its claim is committed
before the provider is called), on SQLite and PostgreSQL: counted at the engine, so a helper
that opens a unit of work of its own inside one shows up here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from core.db import Database
from core.messaging import FakeMessageService
from core.models import Campaign
from core.services.batch_requests import CampaignQuestion, request_first_texts, request_texts
from core.services.card_sending import send_from_card
from core.services.link_joining import join_by_link
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


def _campaign(db: Database) -> tuple[int, str]:
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=2)
    add_contacts(db, campaign_id, 6)
    with db.uow(read_only=True) as uow:
        token = uow.session.scalar(select(Campaign.join_token).where(Campaign.id == campaign_id))
    return campaign_id, str(token)


def test_each_texter_interaction_is_one_transaction(db: Database) -> None:
    campaign_id, token = _campaign(db)
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
    campaign_id, token = _campaign(db)
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
