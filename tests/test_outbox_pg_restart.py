"""PostgreSQL restarted mid-send (issue 17, reproduction 1): the database went away while
Twilio held a first text's Messages.create, so its answer couldn't be recorded; the contact
stayed `needsMessage` and the next Send texted the voter again. On a PostgreSQL server of the
test's own, stopped while the stand-in holds the request and started again: the send is
pending, refused again meanwhile, and reconciled to exactly one Messages.create."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest

from core.db import Database
from core.errors import Conflict
from core.migrate import upgrade
from core.services.outbox import SETTLE_SENDING_AFTER, SendResult, reconcile_outbox
from core.services.texting import send_first_text
from tests.support.card import card_offered
from tests.support.pg_faults import throwaway_postgres
from tests.support.texting import wait_until
from tests.support.twilio import twilio_standin
from tests.test_outbox import _creates, _one_contact, _outbound, _status, _twilio


@pytest.mark.heavy
def test_the_database_restarted_while_twilio_holds_the_send() -> None:
    if not os.environ.get("SPOKEBOT_TEST_POSTGRES_URL"):
        pytest.skip("no PostgreSQL binaries configured for this run")
    with throwaway_postgres() as server, twilio_standin() as standin:
        db = Database.from_url(server.url)
        upgrade(db.engine)
        contact_id, user_id, campaign_id, cell = _one_contact(db)
        service = _twilio(standin, timeout="10")
        standin.delay = 3.0  # Twilio creates the message and holds the answer meanwhile
        results: list[SendResult | BaseException] = []

        def send() -> None:
            try:
                results.append(send_first_text(db, contact_id, user_id, service))
            except BaseException as error:
                results.append(error)

        sender = threading.Thread(target=send)
        sender.start()
        wait_until(lambda: standin.creates_to(cell) == 1)
        server.stop()  # the answer comes while the database is down
        sender.join(timeout=30)
        server.start()
        [result] = results
        assert isinstance(result, SendResult), result
        assert result.pending and not result.sent
        standin.delay = 0.0
        [message] = _outbound(db, contact_id)
        assert message.status == "sending" and message.service_id is None
        assert _status(db, contact_id) == "messaged"
        assert card_offered(db, campaign_id, "UTEXTER") is None  # the card offers nothing
        with pytest.raises(Conflict, match="Checking whether"):
            send_first_text(db, contact_id, user_id, service)
        report = reconcile_outbox(db, service, datetime.now(UTC) + SETTLE_SENDING_AFTER)
        assert report.sent == 1
        [message] = _outbound(db, contact_id)
        assert message.status == "queued" and message.service_id == standin.created[0]["sid"]
        assert _status(db, contact_id) == "messaged"
        assert standin.creates_to(cell) == 1 and _creates(standin) == 1
        db.dispose()
