"""A reply stored but never shown (issue 17, reproduction 4): `spokebot serve` was killed with
SIGKILL after Twilio's webhook stored the reply and before Slack was told; Twilio's redelivery
was answered as a duplicate and nobody was ever told. A real process on SQLite and
PostgreSQL: the reply's notice, claimed by the dead process, is posted by the restarted one
once that claim's lease ends (moved forward here, not waited for); the texter is told exactly
once, redeliveries tell no one again, and the reply is stored once."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from bench.serve_process import ServeProcess
from core.db import Database, as_utc
from core.models import CampaignContact, Message, TexterNotice
from core.services.texter_notices import DONE, RUNNING
from tests.support.inbox import conversations
from tests.support.slack_harness import SIGNING_SECRET, FakeSlack, serve_env
from tests.support.texting import wait_until
from tests.support.twilio import twilio_standin

TOKEN = "test-auth-token"
TEXT = "Is the polling place still the library?"
SID = "SM" + "c" * 32


def _webhook(serve: ServeProcess, cell: str) -> int:
    """Twilio's signed POST of the reply; the HTTP status (0 when nobody answered)."""
    url = serve.url + "/sms/twilio"
    form = {"From": cell, "To": "+12025559999", "Body": TEXT, "MessageSid": SID}
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    request = urllib.request.Request(
        url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _inbound_stored(db: Database, contact_id: int) -> int:
    with db.uow(read_only=True) as uow:
        return (
            uow.session.scalar(
                select(func.count()).where(
                    Message.campaign_contact_id == contact_id, Message.direction == "inbound"
                )
            )
            or 0
        )


def _notice(db: Database) -> tuple[str, bool]:
    """The reply's notice: its status, and whether its lease (due_at) is still ahead."""
    with db.uow(read_only=True) as uow:
        [notice] = uow.session.scalars(select(TexterNotice))
        return notice.status, as_utc(notice.due_at) > datetime.now(UTC)


def _lease_ends(db: Database) -> None:
    """Time passes: the dead process's claim on the notice runs out."""
    with db.uow() as uow:
        uow.session.execute(
            update(TexterNotice).values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        uow.commit()


def _told(fake_slack: FakeSlack) -> list:  # type: ignore[type-arg]
    return [c for c in fake_slack.of("chat.postMessage") if TEXT in c.text()]


def test_a_reply_stored_by_a_killed_process_is_told_once_after_the_restart(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    convo = conversations(db, 1)
    [contact_id], [thread_ts] = convo.contact_ids, convo.thread_ts
    with db.uow(read_only=True) as uow:
        cell = uow.session.get(CampaignContact, contact_id).cell
    with twilio_standin() as standin:
        env = serve_env(
            database_url,
            fake_slack,
            MESSAGE_SERVICE="twilio",
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32,
            TWILIO_API_BASE_URL=standin.base_url,
            TEXTER_NOTICES_SECONDS="0.5",
        )
        # Slack is slow to take the post: the process is killed while it waits.
        fake_slack.delays["chat.postMessage"] = 30.0
        first = ServeProcess(env, SIGNING_SECRET, tmp_path / "first.log")
        first.wait_ready()
        statuses: list[int] = []
        twilio = threading.Thread(target=lambda: statuses.append(_webhook(first, cell)))
        twilio.start()
        wait_until(lambda: _inbound_stored(db, contact_id) == 1, timeout=15)
        time.sleep(0.5)  # the stored reply's post to Slack is under way
        first.kill()
        first.wait(timeout=10)
        twilio.join(timeout=10)
        assert statuses == [0]  # Twilio got no answer, so it redelivers
        fake_slack.delays.clear()
        assert not _told(fake_slack)

        # The dead process had claimed the reply's notice: it is taken again when its lease ends.
        assert _notice(db) == (RUNNING, True)

        second = ServeProcess(env, SIGNING_SECRET, tmp_path / "second.log")
        try:
            second.wait_ready()
            assert _webhook(second, cell) == 200  # Twilio's redelivery, while the lease runs
            _lease_ends(db)  # (LEASE later)
            fake_slack.wait_for(lambda c: c.method == "chat.postMessage" and TEXT in c.text())
            assert _webhook(second, cell) == 200  # a further redelivery tells no one again
            time.sleep(2.0)  # several runs of the notices' job: nothing more is posted
            assert _notice(db)[0] == DONE
        finally:
            second.terminate()
            second.wait(timeout=30)
        [told] = _told(fake_slack)
        assert told.params["thread_ts"] == thread_ts
        assert _inbound_stored(db, contact_id) == 1
        assert not [r for r in standin.requests if r.method == "POST"]  # nothing texted
