"""When the outbox reconciler settles a text whose provider answer was lost, the texter is
told in the contact's DM thread (issue 17): it went out, or it didn't (with Retry). The
notice is queued with the settlement and retried until Slack accepts it. Through the real
app, a Twilio stand-in answering late, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import ids
from bot.app import workspaces_of
from bot.notify import SlackTexterNotifier
from bot.texter_notices import NoticeSender
from core.services.outbox import GIVE_UP_AFTER, reconcile_outbox
from core.services.texter_notices import notice_statuses
from core.services.threads import thread_for
from tests.support.conversations import VETTED, conversation_pool
from tests.support.inbox import TEXTER as INBOX_TEXTER
from tests.support.inbox import conversations
from tests.support.slack_harness import SlackHarness
from tests.support.texting import (
    TEXTER,
    card_contact,
    click,
    contact,
    first_card,
    messages_of,
    world,
)
from tests.support.twilio import TwilioStandIn
from tests.test_outbox_slack import (  # noqa: F401  (harness, slow_twilio: fixtures)
    harness,
    patient,
    slow_twilio,
)


def _user_of(db, slack_user_id: str) -> int:
    from sqlalchemy import select

    from core.models import User

    with db.uow(read_only=True) as uow:
        return uow.session.scalar(select(User.id).where(User.slack_user_id == slack_user_id))


def _thread_posts(app: SlackHarness) -> list:
    return [c for c in app.fake.of("chat.postMessage") if c.params.get("thread_ts")]


def test_a_text_found_by_the_reconciler_is_told_once_in_the_thread(
    harness: SlackHarness,  # noqa: F811
    slow_twilio: TwilioStandIn,  # noqa: F811
) -> None:
    t = world(harness, None, contacts=2, batch_size=2)  # type: ignore[arg-type]
    card = first_card(t)
    contact_id = card_contact(card)
    assert "Checking whether this went out" in click(t, card, ids.SEND_TEXT).text()
    assert notice_statuses(t.db) == {}  # nothing to tell yet
    assert reconcile_outbox(t.db, patient(slow_twilio)).sent == 1
    assert notice_statuses(t.db) == {"pending": 1}
    sender = NoticeSender(t.db, workspaces_of(harness.app))
    assert sender.deliver_due() == 1
    [told] = _thread_posts(harness)
    assert "went out" in told.text()
    # In the contact's thread, started for it (its root shows the conversation so far).
    ref = thread_for(t.db, contact_id, t.user_id)
    assert ref is not None and told.params["thread_ts"] == ref.thread_ts
    assert sender.deliver_due() == 0 and notice_statuses(t.db) == {"done": 1}  # told once
    assert slow_twilio.creates_to(contact(t.db, contact_id).cell) == 1


def test_a_text_that_did_not_go_out_is_told_with_retry_until_slack_takes_it(
    harness: SlackHarness,  # noqa: F811
    slow_twilio: TwilioStandIn,  # noqa: F811
) -> None:
    t = world(harness, None, contacts=2, batch_size=2)  # type: ignore[arg-type]
    card = first_card(t)
    contact_id = card_contact(card)
    cell = contact(t.db, contact_id).cell
    slow_twilio.drop = True  # answers late, and creates nothing: it never went out
    assert "Checking whether this went out" in click(t, card, ids.SEND_TEXT).text()
    slow_twilio.drop, slow_twilio.delay = False, 0.0
    attempted = messages_of(t.db, contact_id)[0].created_at.replace(tzinfo=UTC)
    late = attempted + GIVE_UP_AFTER + timedelta(seconds=1)
    assert reconcile_outbox(t.db, patient(slow_twilio), late).failed == 1
    # Slack refuses at first: the notice waits and is tried again, never dropped.
    harness.fake.failures["chat.postMessage"] = "internal_error"
    sender = NoticeSender(t.db, workspaces_of(harness.app))
    now = datetime.now(UTC)
    assert sender.deliver_due(now) == 0
    assert notice_statuses(t.db) == {"pending": 1}
    assert sender.deliver_due(now + timedelta(seconds=1)) == 0  # backing off
    del harness.fake.failures["chat.postMessage"]
    assert sender.deliver_due(now + timedelta(minutes=1)) == 1
    [told] = _thread_posts(harness)
    assert "not sent" in told.text()
    retry = told.button(ids.RETRY_SEND)
    assert retry["value"] == ids.contact_value(t.campaign_id, contact_id)
    # Retry sends it: one text reached the number in all.
    answer = harness.click_button(retry, user=TEXTER)
    assert answer.status == 200
    harness.fake.response_to(answer.response_url)
    assert slow_twilio.creates_to(cell) == 1
    assert [m.status for m in messages_of(t.db, contact_id)] == ["failed", "queued"]


def test_a_moved_thread_slack_refused_is_redrawn_later(
    texting_slack: SlackHarness,
) -> None:
    convo = conversations(texting_slack.db, 1)
    db, fake = texting_slack.db, texting_slack.fake
    ref = thread_for(db, convo.contact_ids[0], _user_of(db, INBOX_TEXTER))
    assert ref is not None
    notifier = SlackTexterNotifier(db, workspaces=workspaces_of(texting_slack.app))
    fake.failures["chat.update"] = "internal_error"
    notifier.update_root(ref, moved_to="UOTHER")  # an admin's reassign goes on regardless
    assert notice_statuses(db) == {"pending": 1}
    del fake.failures["chat.update"]
    sender = NoticeSender(db, workspaces_of(texting_slack.app))
    assert sender.deliver_due(datetime.now(UTC) + timedelta(minutes=1)) == 1
    _refused, redrawn = fake.of("chat.update")  # the refused call, then the retry
    assert redrawn.params["ts"] == ref.thread_ts and "UOTHER" in redrawn.text()
    assert notice_statuses(db) == {"done": 1}


def test_a_taken_conversation_slack_refused_is_threaded_later(
    texting_slack: SlackHarness,
) -> None:
    db, fake = texting_slack.db, texting_slack.fake
    pool = conversation_pool(texting_slack, replies=2)
    taken = pool.contact_ids
    fake.failures["chat.postMessage"] = "internal_error"
    answer = texting_slack.command(ids.CMD_TAKE_CONVERSATIONS, "", user=VETTED)
    assert answer.status == 200
    [told] = fake.response_to(answer.response_url)
    assert "You took 2 conversations" in told.text()
    # Posted at once, refused: each waits for the job, its thread not started.
    assert len(fake.of("chat.postMessage")) == 2
    assert notice_statuses(db) == {"pending": 2}
    assert all(thread_for(db, c, pool.vetted) is None for c in taken)
    del fake.failures["chat.postMessage"]
    sender = NoticeSender(db, workspaces_of(texting_slack.app))
    assert sender.deliver_due(datetime.now(UTC) + timedelta(minutes=1)) == 2
    assert all(thread_for(db, c, pool.vetted) is not None for c in taken)
    assert notice_statuses(db) == {"done": 2}
