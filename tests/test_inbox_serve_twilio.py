"""SIGTERM and SIGKILL with texts on their way to Twilio (issue 17, reproduction 2: 20 thread
answers acked, SIGTERM 1.5 s later: 10 answers never processed and 5 SMS sent but never
stored). A real `spokebot serve` with MESSAGE_SERVICE=twilio pointed at a stand-in that answers
slowly, on SQLite and PostgreSQL: after the next process has worked what was left, no number
got two Messages.creates, every answer is stored once and settled as Twilio has it (none left
`sending`), and each one that went out was confirmed to the texter. After SIGTERM every text
went out; after SIGKILL a text whose request had not left when the process died is given
back as failed by the reconciler, which reads Twilio's record first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.serve_process import ServeProcess
from core.db import Database
from core.messaging import message_service_from_env
from core.models import CampaignContact, Message
from core.services.outbox import GIVE_UP_AFTER, reconcile_outbox
from tests.support.inbox import (
    conversations,
    inbox_serve_env,
    inbox_statuses,
    replies_per_contact,
    thread_answer,
)
from tests.support.slack_harness import SIGNING_SECRET, FakeSlack
from tests.support.texting import wait_until
from tests.support.twilio import twilio_standin

ANSWERS = 12


def _cells(db: Database, contact_ids: list[int]) -> list[str]:
    with db.uow(read_only=True) as uow:
        return [uow.session.get(CampaignContact, i).cell for i in contact_ids]


def _outbound_by_cell(db: Database) -> dict[str, str]:
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(CampaignContact.cell, Message.status)
            .join(CampaignContact, CampaignContact.id == Message.campaign_contact_id)
            .where(Message.direction == "outbound")
        ).all()
        return {cell: status for cell, status in rows}


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_texts_in_flight_to_twilio_survive_the_process(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path, stop: str
) -> None:
    convo = conversations(db, ANSWERS)
    cells = _cells(db, convo.contact_ids)
    with twilio_standin() as standin:
        standin.delay = 0.5  # each create is answered late: texts are in flight at the signal
        env = inbox_serve_env(
            database_url,
            fake_slack,
            MESSAGE_SERVICE="twilio",
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_AUTH_TOKEN="test-auth-token",
            TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32,
            TWILIO_API_BASE_URL=standin.base_url,
        )
        first = ServeProcess(env, SIGNING_SECRET, tmp_path / "first.log")
        first.wait_ready()
        for i, ts in enumerate(convo.thread_ts):
            assert first.post(thread_answer(ts, f"answer {i}", f"Ev{stop}{i:04d}")) == 200
        wait_until(lambda: len(standin.created) >= 2)  # texts are on their way
        if stop == "SIGTERM":
            first.terminate()
            assert first.wait(timeout=30) == 0, first.output()[-3000:]
            assert "running" not in inbox_statuses(db)
        else:
            first.kill()
            first.wait(timeout=10)
        assert sum(inbox_statuses(db).values()) == ANSWERS  # every acked answer was recorded
        second = ServeProcess(env, SIGNING_SECRET, tmp_path / "second.log")
        try:
            second.wait_ready()
            wait_until(lambda: inbox_statuses(db) == {"done": ANSWERS}, timeout=25)
        finally:
            second.terminate()
            second.wait(timeout=30)
        created = {cell: standin.creates_to(cell) for cell in cells}
        if stop == "SIGKILL":
            # kill -9 can land between a send's claim (committed `sending`) and its request
            # reaching Twilio: nothing went out, and nothing may go out until Twilio's record
            # has been read. The reconciler's pass once GIVE_UP_AFTER has passed gives those
            # back as failed (the texter is told, with Retry); the rest went out once.
            late = datetime.now(UTC) + GIVE_UP_AFTER + timedelta(seconds=1)
            reconcile_outbox(db, message_service_from_env(env), late)  # production's timeout
        else:  # SIGTERM lets every text in flight finish: none is left to check
            assert created == {cell: 1 for cell in cells}
        # What reached the provider: no number twice.
        assert set(created.values()) <= {0, 1}
        # What the database holds: each answer once, settled as what Twilio has.
        assert replies_per_contact(db) == {contact_id: 1 for contact_id in convo.contact_ids}
        assert _outbound_by_cell(db) == {
            cell: "queued" if created[cell] else "failed" for cell in cells
        }
        # What Slack shows: each answer that went out confirmed with a ✅.
        confirmed = {c.params.get("timestamp") for c in fake_slack.of("reactions.add")}
        assert len(confirmed) == sum(created.values())
