"""The Twilio path end to end on the app's own server: the send card through the Twilio SDK
(against the loopback stand-in), signed and forged webhooks at /sms/twilio(/status), and a
reply reaching the texter's DM thread."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot import ids
from core.db import Database
from core.messaging import message_service_from_env
from core.messaging.twilio_webhooks import EMPTY_TWIML
from core.models import Message
from core.statuses import MessageStatus
from tests.support.slack_harness import FakeSlack, Response, SlackHarness
from tests.support.texting import (
    TEXTER,
    card_contact,
    click,
    contact,
    first_card,
    messages_of,
    world,
)
from tests.support.twilio import TwilioStandIn, twilio_standin

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token"
SERVICE = "MG" + "2" * 32
PUBLIC = "https://texting.example.org"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    with twilio_standin() as server:
        yield server


@pytest.fixture
def twilio_slack(
    db: Database,
    fake_slack: FakeSlack,
    standin: TwilioStandIn,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[SlackHarness]:
    env = {
        "MESSAGE_SERVICE": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE,
        "TWILIO_API_BASE_URL": standin.base_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    public = getattr(request, "param", None)
    if public:
        monkeypatch.setenv("PUBLIC_BASE_URL", public)
    else:
        monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    harness = SlackHarness(db, fake_slack, message_service=message_service_from_env())
    yield harness
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)


def webhook(
    slack: SlackHarness, path: str, params: dict[str, str], *, signed_url: str | None = None
) -> Response:
    url = signed_url if signed_url is not None else slack.url + path
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    return slack.post(
        urlencode(params).encode(),
        FORM,
        sign=False,
        path=path,
        headers={"X-Twilio-Signature": signature},
    )


def _texted(db: Database, cell: str, contact_id: int, org_id: int) -> None:
    from datetime import UTC, datetime

    from core.services.outbox import remember_texted

    with db.uow() as uow:
        remember_texted(uow.session, cell, contact_id, org_id, datetime.now(UTC))
        uow.commit()


def message_count(db: Database) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Message)) or 0


def test_send_report_and_reply_through_the_real_server(
    twilio_slack: SlackHarness, standin: TwilioStandIn
) -> None:
    t = world(twilio_slack, None, contacts=1, batch_size=1)  # type: ignore[arg-type]
    card = first_card(t)
    contact_id = card_contact(card)
    done = click(t, card, ids.SEND_TEXT)
    assert "Sent to Contact0" in done.text()
    [sent] = standin.requests
    assert sent.form["Body"] == "Hi Contact0, it's Ada. Are you in ward ?"
    assert sent.form["MessagingServiceSid"] == SERVICE
    [message] = messages_of(t.db, contact_id)
    assert message.status == "queued" and message.service_id

    report = {"MessageSid": message.service_id, "MessageStatus": "delivered"}
    answer = webhook(twilio_slack, "/sms/twilio/status", report)
    assert answer.status == 200
    assert messages_of(t.db, contact_id)[0].status == "delivered"

    cell = contact(t.db, contact_id).cell
    inbound = {"From": cell, "Body": "Who's this?", "MessageSid": "SM" + "9" * 32}
    answer = webhook(twilio_slack, "/sms/twilio", inbound)
    assert answer.status == 200 and answer.body == EMPTY_TWIML
    posted = t.fake.wait_for(lambda c: "Contact0 replied:" in c.text())[0]
    assert posted.params["channel"] == "D" + TEXTER and posted.params.get("thread_ts")
    assert contact(t.db, contact_id).message_status == MessageStatus.NEEDS_RESPONSE.value
    # Twilio retries the same MessageSid: stored once, notified once.
    assert webhook(twilio_slack, "/sms/twilio", inbound).status == 200
    assert len(messages_of(t.db, contact_id)) == 2
    assert len(t.fake.wait_for(lambda c: "Contact0 replied:" in c.text())) == 1


@pytest.mark.parametrize(
    "forgery", ["wrong token", "no signature", "other URL", "tampered body", "wrong path"]
)
def test_badly_signed_webhooks_are_403_and_store_nothing(
    twilio_slack: SlackHarness, forgery: str
) -> None:
    t = world(twilio_slack, None, contacts=1, batch_size=1)  # type: ignore[arg-type]
    cell = contact(t.db, t.contact_ids[0]).cell
    params = {"From": cell, "Body": "hello", "MessageSid": "SM" + "7" * 32}
    url = twilio_slack.url + "/sms/twilio"
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    body = dict(params)
    headers = {"X-Twilio-Signature": signature}
    if forgery == "wrong token":
        headers["X-Twilio-Signature"] = RequestValidator("nope").compute_signature(url, params)
    elif forgery == "no signature":
        headers = {}
    elif forgery == "other URL":
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(
            "https://elsewhere.example.org/sms/twilio", params
        )
    elif forgery == "tampered body":
        body["Body"] = "STOP"
    path = "/sms/twilio/status" if forgery == "wrong path" else "/sms/twilio"
    answer = twilio_slack.post(
        urlencode(body).encode(), FORM, sign=False, path=path, headers=headers
    )
    assert answer.status == 403
    assert message_count(t.db) == 0
    assert not contact(t.db, t.contact_ids[0]).is_opted_out
    assert not t.fake.of("chat.postMessage")


@pytest.mark.parametrize("twilio_slack", [PUBLIC + "/"], indirect=True)
def test_public_base_url_is_what_the_signature_covers(twilio_slack: SlackHarness) -> None:
    t = world(twilio_slack, None, contacts=1, batch_size=1)  # type: ignore[arg-type]
    cell = contact(t.db, t.contact_ids[0]).cell
    _texted(t.db, cell, t.contact_ids[0], t.org_id)  # a reply answers a text we sent
    params = {"From": cell, "Body": "hi", "MessageSid": "SM" + "5" * 32}
    # Signed for the local address the server listens on: not the URL Twilio called.
    assert webhook(twilio_slack, "/sms/twilio", params).status == 403
    assert message_count(t.db) == 0
    signed = webhook(twilio_slack, "/sms/twilio", params, signed_url=PUBLIC + "/sms/twilio")
    assert signed.status == 200
    assert message_count(t.db) == 1


def test_twilio_refusal_shows_retry_and_keeps_the_contact(
    twilio_slack: SlackHarness, standin: TwilioStandIn
) -> None:
    t = world(twilio_slack, None, contacts=1, batch_size=1)  # type: ignore[arg-type]
    standin.error = (400, 21610, "Attempt to send to unsubscribed recipient")
    card = first_card(t)
    contact_id = card_contact(card)
    failed = click(t, card, ids.SEND_TEXT)
    assert "not sent" in failed.text() and "21610" in failed.text()
    assert card_contact(failed) == contact_id
    assert contact(t.db, contact_id).message_status == MessageStatus.NEEDS_MESSAGE.value
    standin.error = None
    sent = click(t, failed, ids.RETRY_SEND)
    assert "Sent to Contact0" in sent.text()
    assert contact(t.db, contact_id).message_status == MessageStatus.MESSAGED.value


def test_get_on_the_webhook_is_405(twilio_slack: SlackHarness) -> None:
    assert twilio_slack.get("/sms/twilio").status == 405


def test_serve_names_missing_twilio_settings_before_starting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.setenv("MESSAGE_SERVICE", "twilio")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "TWILIO_ACCOUNT_SID" in result.output and "TWILIO_AUTH_TOKEN" in result.output
