"""kill -9 of `spokebot serve` while Twilio holds a Send's Messages.create (issue 17,
reproduction 1): before the outbox the contact stayed `needsMessage` with no message, and after
the restart the same card's Send texted the voter a second time. A real process
(MESSAGE_SERVICE=twilio, pointed at the stand-in) on SQLite and PostgreSQL: the restarted
process works the acked click again and refuses to send, a stale card's Send is refused too,
and once reconciled there is exactly one Messages.create for the number, the message settled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bench.serve_process import ServeProcess
from bot import ids
from core.db import Database
from core.messaging import message_service_from_env
from core.models import CampaignContact, Message
from core.services.outbox import SETTLE_SENDING_AFTER, reconcile_outbox
from tests.support.card import card_offered
from tests.support.inbox import inbox_statuses
from tests.support.slack_harness import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support.texting import wait_until
from tests.support.twilio import TwilioStandIn, twilio_standin
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter
from tests.test_inbox_clicks_serve import TEXTER, send_click

FORM = "application/x-www-form-urlencoded"
TWILIO = {
    "MESSAGE_SERVICE": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
    "TWILIO_TIMEOUT_SECONDS": "20",  # the process is still waiting when it is killed
}


def _env(database_url: str, fake_slack: FakeSlack, standin: TwilioStandIn) -> dict[str, str]:
    return {
        **TWILIO,
        "TWILIO_API_BASE_URL": standin.base_url,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "INBOX_WORKERS": "2",
        "INBOX_LEASE_SECONDS": "3",
        "SHUTDOWN_DRAIN_SECONDS": "5",
    }


def _outbound(db: Database, contact_id: int) -> list[tuple[str, str | None]]:
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(Message.status, Message.service_id)
            .where(Message.campaign_contact_id == contact_id, Message.direction == "outbound")
            .order_by(Message.id)
        )
        return [(status, sid) for status, sid in rows]


def _contact_status(db: Database, contact_id: int) -> str:
    with db.uow(read_only=True) as uow:
        return uow.session.get(CampaignContact, contact_id).message_status


def _offered(call) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(b.get("value")) for b in call.buttons()}


def test_serve_killed_while_twilio_holds_the_send_texts_once(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, batch_size=2)
    assignment = make_assignment(db, campaign, make_texter(db, org, TEXTER, name="Ada"))
    held, other = add_contacts(db, campaign, 2, assignment_id=assignment)
    with db.uow(read_only=True) as uow:
        cell = uow.session.get(CampaignContact, held).cell
    with twilio_standin() as standin:
        standin.delay = 15.0  # Twilio creates the message and holds the answer
        env = _env(database_url, fake_slack, standin)
        first = ServeProcess(env, SIGNING_SECRET, tmp_path / "first.log")
        first.wait_ready()
        clicked = f"{fake_slack.url}/response/send"
        assert first.post(send_click(campaign, held, clicked), FORM) == 200
        wait_until(lambda: standin.creates_to(cell) == 1, timeout=15)
        first.kill()
        first.wait(timeout=10)
        standin.delay = 0.0
        # The only trace is the message committed before Twilio was called.
        assert _outbound(db, held) == [("sending", None)]
        assert _contact_status(db, held) == "messaged"
        card = card_offered(db, campaign, TEXTER)  # what a restarted card offers
        assert card is not None and card.contact_id == other
        assert not fake_slack.of("response")  # the dead process answered nothing

        second = ServeProcess(env, SIGNING_SECRET, tmp_path / "second.log")
        try:
            second.wait_ready()
            # The acked click is worked again once the dead process's lease ends: refused.
            wait_until(lambda: inbox_statuses(db) == {"done": 1}, timeout=20)
            [retried] = fake_slack.response_to(clicked)
            assert "Checking whether the last text" in retried.text()
            assert ids.contact_value(campaign, held) not in _offered(retried)
            # The texter clicks the stale card's Send again: refused, nothing sent.
            again = f"{fake_slack.url}/response/again"
            assert second.post(send_click(campaign, held, again), FORM) == 200
            [refused] = fake_slack.response_to(again)
            assert "Checking whether the last text" in refused.text()
            assert ids.contact_value(campaign, held) not in _offered(refused)
            assert standin.creates_to(cell) == 1
            # The outbox job (any process on this database), once the attempt is old enough.
            service = message_service_from_env({**env})
            later = datetime.now(UTC) + SETTLE_SENDING_AFTER
            assert reconcile_outbox(db, service, later).sent == 1
            [(status, sid)] = _outbound(db, held)
            assert status == "queued" and sid == standin.created[0]["sid"]
            assert _contact_status(db, held) == "messaged"
            # A Send on the stale card after that is still refused (already sent).
            last = f"{fake_slack.url}/response/last"
            assert second.post(send_click(campaign, held, last), FORM) == 200
            fake_slack.response_to(last)
        finally:
            second.terminate()
            second.wait(timeout=30)
        assert standin.creates_to(cell) == 1
        assert sum(1 for r in standin.requests if r.method == "POST") == 1
