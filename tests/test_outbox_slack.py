"""The outbox through the real app: Twilio answering after the timeout. The texter's card says
it is being checked and never offers Send or Retry for that contact again; one
Messages.create for the number (issue 17, reproduction 1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import ids
from core.db import Database
from core.messaging import message_service_from_env
from core.messaging.base import MessageService
from core.services.outbox import reconcile_outbox
from core.statuses import MessageStatus
from tests.support.slack_harness import FakeSlack, SlackHarness
from tests.support.texting import card_contact, click, contact, first_card, messages_of, world
from tests.support.twilio import PRODUCTION_TIMEOUT, TwilioStandIn, twilio_standin

ENV = {
    "MESSAGE_SERVICE": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
    "TWILIO_TIMEOUT_SECONDS": "0.3",
}


def patient(standin: TwilioStandIn) -> MessageService:
    """The stand-in as the reconciler calls it, with production's timeout: only the send is
    meant to time out, and a loaded machine can take over 0.3 s to answer a list call."""
    return message_service_from_env(
        {
            **ENV,
            "TWILIO_API_BASE_URL": standin.base_url,
            "TWILIO_TIMEOUT_SECONDS": PRODUCTION_TIMEOUT,
        }
    )


@pytest.fixture
def slow_twilio() -> Iterator[TwilioStandIn]:
    with twilio_standin() as server:
        server.delay = 1.5
        yield server


@pytest.fixture
def harness(
    db: Database, fake_slack: FakeSlack, slow_twilio: TwilioStandIn
) -> Iterator[SlackHarness]:
    service = message_service_from_env({**ENV, "TWILIO_API_BASE_URL": slow_twilio.base_url})
    harness = SlackHarness(db, fake_slack, message_service=service)
    yield harness
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)


def test_a_late_twilio_answer_is_checked_not_offered_again(
    harness: SlackHarness, slow_twilio: TwilioStandIn
) -> None:
    t = world(harness, None, contacts=2, batch_size=2)  # type: ignore[arg-type]
    card = first_card(t)
    contact_id = card_contact(card)
    cell = contact(t.db, contact_id).cell
    after = click(t, card, ids.SEND_TEXT)
    assert "Checking whether this went out" in after.text()
    assert "not sent" not in after.text()
    # The card moved on: no Send or Retry for this contact.
    offered = {b.get("value") for b in after.buttons()}
    assert ids.contact_value(t.campaign_id, contact_id) not in offered
    # The stale card's Send, clicked again: refused while it is checked, nothing sent.
    again = click(t, card, ids.SEND_TEXT)
    assert "Checking whether the last text" in again.text()
    assert contact(t.db, contact_id).message_status == MessageStatus.MESSAGED.value
    assert slow_twilio.creates_to(cell) == 1
    assert reconcile_outbox(t.db, patient(slow_twilio)).sent == 1
    [message] = messages_of(t.db, contact_id)
    assert message.status == "queued" and message.service_id
    assert slow_twilio.creates_to(cell) == 1
