"""The outbox: a text reaches the provider at most once, whatever happens to its answer.

Reproductions of issue 17 (1): Twilio answering after the client's timeout, a process dying
between recording the send and calling Twilio, the database lost after Twilio answered. Each
asserts how many messages Twilio created for the number (what the voter received), what the
database holds and what the texter may do next; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from core.db import Database
from core.errors import Conflict
from core.messaging import FakeMessageService, message_service_from_env
from core.models import CampaignContact, Message
from core.services import outbox
from core.services.outbox import GIVE_UP_AFTER, SETTLE_SENDING_AFTER, claim_send, reconcile_outbox
from core.services.texting import send_first_text, send_reply
from tests.support.card import card_offered
from tests.support.twilio import PRODUCTION_TIMEOUT, TwilioStandIn, twilio_standin
from tests.support.world import Member, build_world

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token"
SERVICE = "MG" + "2" * 32


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    with twilio_standin() as server:
        yield server


# The timeout of a send meant to time out (the stand-in answers after 1 s or more). Every
# other call waits as long as production does (PRODUCTION_TIMEOUT).
IMPATIENT = "0.3"


def _twilio(standin: TwilioStandIn, timeout: str = PRODUCTION_TIMEOUT):
    return message_service_from_env(
        {
            "MESSAGE_SERVICE": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE,
            "TWILIO_API_BASE_URL": standin.base_url,
            "TWILIO_TIMEOUT_SECONDS": timeout,
        }
    )


def _one_contact(db: Database) -> tuple[int, int, int, str]:
    w = build_world(db, members=[Member("UTEXTER", "Ada")], contacts=1, contacts_held_by="UTEXTER")
    [contact_id], user_id = w.contact_ids, w.user("UTEXTER")
    with db.uow(read_only=True) as uow:
        cell = uow.session.get(CampaignContact, contact_id).cell
    return contact_id, user_id, w.campaign_id, cell


def _outbound(db: Database, contact_id: int) -> list[Message]:
    with db.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(Message)
                .where(Message.campaign_contact_id == contact_id, Message.direction == "outbound")
                .order_by(Message.id)
            )
        )


def _status(db: Database, contact_id: int) -> str:
    with db.uow(read_only=True) as uow:
        return uow.session.get(CampaignContact, contact_id).message_status


def _creates(standin: TwilioStandIn) -> int:
    return sum(1 for r in standin.requests if r.method == "POST")


def test_twilio_answering_after_the_timeout_is_never_sent_twice(
    db: Database, standin: TwilioStandIn
) -> None:
    contact_id, user_id, campaign_id, cell = _one_contact(db)
    service = _twilio(standin)
    standin.delay = 1.5  # Twilio creates the message, then answers after our 0.3 s timeout
    result = send_first_text(db, contact_id, user_id, _twilio(standin, IMPATIENT))
    assert not result.sent and result.pending and result.message_status == "unknown"
    assert "didn't answer" in (result.error or "")
    [message] = _outbound(db, contact_id)
    assert message.status == "unknown" and message.idempotency_key
    assert _status(db, contact_id) == "messaged"  # not offered again meanwhile
    assert card_offered(db, campaign_id, "UTEXTER") is None
    # The texter clicks again (the old Retry): refused, nothing sent.
    with pytest.raises(Conflict, match="Checking whether the last text"):
        send_first_text(db, contact_id, user_id, service)
    assert _creates(standin) == 1
    # Reconciliation finds it in Twilio's record: sent, with Twilio's id.
    report = reconcile_outbox(db, service)
    assert (report.sent, report.failed) == (1, 0)
    [message] = _outbound(db, contact_id)
    assert message.status == "queued" and message.service_id == standin.created[0]["sid"]
    assert _status(db, contact_id) == "messaged"
    assert standin.creates_to(cell) == 1 and _creates(standin) == 1


def test_a_request_twilio_never_created_is_given_back_after_checking(
    db: Database, standin: TwilioStandIn
) -> None:
    contact_id, user_id, campaign_id, cell = _one_contact(db)
    service = _twilio(standin)
    standin.delay, standin.drop = 1.0, True  # no answer, and nothing was created
    assert send_first_text(db, contact_id, user_id, _twilio(standin, IMPATIENT)).pending
    attempted = _outbound(db, contact_id)[0].created_at.replace(tzinfo=UTC)
    # Too early to give up: Twilio's record might lag behind.
    soon = reconcile_outbox(db, service, attempted + timedelta(seconds=5))
    assert (soon.sent, soon.failed, soon.unknown) == (0, 0, 1)
    assert _outbound(db, contact_id)[0].status == "unknown"
    later = reconcile_outbox(db, service, attempted + GIVE_UP_AFTER + timedelta(seconds=1))
    assert (later.sent, later.failed) == (0, 1)
    [failed] = _outbound(db, contact_id)
    assert failed.status == "failed" and "did not go out" in (failed.error or "")
    assert _status(db, contact_id) == "needsMessage"
    card = card_offered(db, campaign_id, "UTEXTER")
    assert card is not None and card.contact_id == contact_id
    standin.delay, standin.drop = 0.0, False
    assert send_first_text(db, contact_id, user_id, service).sent
    assert standin.creates_to(cell) == 1


def test_a_process_dead_between_claim_and_twilio_sends_nothing_twice(
    db: Database, standin: TwilioStandIn
) -> None:
    """kill -9 while the request is on its way: the `sending` message is the only trace."""
    contact_id, user_id, campaign_id, cell = _one_contact(db)
    service = _twilio(standin)
    with db.uow() as uow:
        contact = uow.session.get(CampaignContact, contact_id)
        claim_send(uow.session, contact, 1, user_id, "Hi there", datetime.now(UTC))
        uow.commit()
    assert card_offered(db, campaign_id, "UTEXTER") is None  # the restarted card offers nothing
    with pytest.raises(Conflict, match="Checking whether"):
        send_first_text(db, contact_id, user_id, service)
    # A live process may still be waiting for Twilio: left alone at first.
    assert reconcile_outbox(db, service) == outbox.ReconcileReport(0, 0, 0)
    late = datetime.now(UTC) + GIVE_UP_AFTER + timedelta(seconds=1)
    assert reconcile_outbox(db, service, late).failed == 1
    assert _status(db, contact_id) == "needsMessage"
    assert standin.creates_to(cell) == 0
    assert send_first_text(db, contact_id, user_id, service).sent
    assert standin.creates_to(cell) == 1


def test_a_process_dead_after_twilio_created_it_is_settled_as_sent(
    db: Database, standin: TwilioStandIn
) -> None:
    contact_id, user_id, _, cell = _one_contact(db)
    service = _twilio(standin)
    with db.uow() as uow:
        contact = uow.session.get(CampaignContact, contact_id)
        claim = claim_send(uow.session, contact, 1, user_id, "Hi there", datetime.now(UTC))
        uow.commit()
    service.send(claim.cell, claim.text)  # Twilio took it; the process died before recording
    report = reconcile_outbox(db, service, datetime.now(UTC) + SETTLE_SENDING_AFTER)
    assert report.sent == 1
    assert _outbound(db, contact_id)[0].status == "queued"
    assert _status(db, contact_id) == "messaged" and standin.creates_to(cell) == 1


def test_the_database_lost_after_the_provider_answered(db: Database, monkeypatch) -> None:
    """pg_ctl restart mid-send: the answer can't be recorded; the reconciler records it."""
    contact_id, user_id, _, cell = _one_contact(db)
    service = FakeMessageService()

    def outage(*_args, **_kwargs):
        raise OperationalError("UPDATE message", {}, Exception("server closed the connection"))

    monkeypatch.setattr(outbox, "settle", outage)
    result = send_first_text(db, contact_id, user_id, service)
    monkeypatch.undo()
    assert result.pending and not result.sent
    assert _outbound(db, contact_id)[0].status == "sending"
    with pytest.raises(Conflict, match="Checking whether"):
        send_first_text(db, contact_id, user_id, service)
    assert reconcile_outbox(db, service, datetime.now(UTC) + SETTLE_SENDING_AFTER).sent == 1
    [message] = _outbound(db, contact_id)
    assert message.status == "delivered" and message.service_id == service.sent[0].service_id
    assert [s.to_cell for s in service.sent] == [cell]


def test_a_reply_with_a_lost_outcome_is_not_resent(db: Database, standin) -> None:
    contact_id, user_id, _, cell = _one_contact(db)
    service = _twilio(standin)
    assert send_first_text(db, contact_id, user_id, service).sent
    standin.delay = 1.0
    assert send_reply(db, contact_id, user_id, "Great!", _twilio(standin, IMPATIENT)).pending
    with pytest.raises(Conflict, match="Checking whether"):
        send_reply(db, contact_id, user_id, "Great!", service)
    assert reconcile_outbox(db, service).sent == 1
    assert standin.creates_to(cell) == 2  # the first text and one reply
    assert [m.status for m in _outbound(db, contact_id)] == ["queued", "queued"]


def test_the_same_body_sent_earlier_is_not_taken_for_the_lost_one(
    db: Database, standin: TwilioStandIn
) -> None:
    """Reconciliation never claims a provider message another stored text already is."""
    contact_id, user_id, _, cell = _one_contact(db)
    service = _twilio(standin)
    assert send_first_text(db, contact_id, user_id, service).sent
    standin.delay, standin.drop = 1.0, True
    impatient = _twilio(standin, IMPATIENT)
    assert send_reply(
        db, contact_id, user_id, "Hi Contact0, it's Ada. Can we count on your vote?", impatient
    ).pending
    late = datetime.now(UTC) + GIVE_UP_AFTER + timedelta(seconds=1)
    assert reconcile_outbox(db, service, late).failed == 1
    assert standin.creates_to(cell) == 1


def test_connection_refused_is_a_sure_failure_not_unknown(db: Database) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    contact_id, user_id, _, _ = _one_contact(db)
    dead = TwilioStandIn(base_url=f"http://127.0.0.1:{port}")
    result = send_first_text(db, contact_id, user_id, _twilio(dead))
    assert not result.sent and not result.pending and result.message_status == "failed"
    assert _status(db, contact_id) == "needsMessage"
