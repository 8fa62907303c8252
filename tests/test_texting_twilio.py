"""The Twilio path: the SDK against a loopback stand-in, and signed / forged webhooks."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from core.db import Database
from core.errors import ConfigurationError
from core.messaging import FakeMessageService, SendStatus, message_service_from_env
from core.messaging.twilio_service import TwilioMessageService
from core.messaging.twilio_webhooks import EMPTY_TWIML, inbound_sms, status_callback
from core.models import CampaignContact, Message
from core.services.texting import InboundResult, send_first_text
from tests.support.twilio import TwilioStandIn, twilio_standin
from tests.support.world import Member, build_world

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token"
SERVICE = "MG" + "2" * 32
INBOUND_URL = "https://bot.example.org/sms/twilio"
STATUS_URL = "https://bot.example.org/sms/twilio/status"


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    with twilio_standin() as server:
        yield server


def _env(standin: TwilioStandIn) -> dict[str, str]:
    return {
        "MESSAGE_SERVICE": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE,
        "TWILIO_API_BASE_URL": standin.base_url,
    }


def _sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


# ---------------------------------------------------------------- the factory


def test_factory_defaults_to_fake_and_names_missing_twilio_settings() -> None:
    assert isinstance(message_service_from_env({}), FakeMessageService)
    assert isinstance(message_service_from_env({"MESSAGE_SERVICE": "FAKE"}), FakeMessageService)
    with pytest.raises(ConfigurationError) as missing:
        message_service_from_env({"MESSAGE_SERVICE": "twilio", "TWILIO_AUTH_TOKEN": "x"})
    assert "TWILIO_ACCOUNT_SID" in missing.value.message
    assert "TWILIO_MESSAGING_SERVICE_SID" in missing.value.message
    assert "TWILIO_AUTH_TOKEN" not in missing.value.message
    with pytest.raises(ConfigurationError, match="'carrier-pigeon'"):
        message_service_from_env({"MESSAGE_SERVICE": "carrier-pigeon"})


# ---------------------------------------------------------------- sending through the SDK


def test_twilio_send_posts_to_the_messages_api(standin: TwilioStandIn) -> None:
    service = message_service_from_env(_env(standin))
    assert isinstance(service, TwilioMessageService)
    outcome = service.send("+12025550123", "Hi Jamie")
    assert outcome.status == SendStatus.QUEUED and not outcome.failed
    assert outcome.service_id is not None and outcome.service_id.startswith("SM")
    [request] = standin.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.basic_auth == (ACCOUNT, TOKEN)
    assert request.form["To"] == "+12025550123"
    assert request.form["Body"] == "Hi Jamie"
    assert request.form["MessagingServiceSid"] == SERVICE


def test_twilio_send_passes_the_status_callback_and_sender(standin: TwilioStandIn) -> None:
    env = {**_env(standin), "TWILIO_STATUS_CALLBACK_URL": STATUS_URL}
    message_service_from_env(env).send("+12025550123", "Hi", from_hint="+15005550006")
    [request] = standin.requests
    assert request.form["StatusCallback"] == STATUS_URL
    assert request.form["From"] == "+15005550006"


def test_twilio_error_answer_is_a_failed_outcome(standin: TwilioStandIn) -> None:
    standin.error = (400, 21211, "The 'To' number +1202 is not a valid phone number.")
    outcome = message_service_from_env(_env(standin)).send("+1202", "Hi")
    assert outcome.failed and outcome.service_id is None
    assert "21211" in (outcome.error or "") and "not a valid phone number" in (outcome.error or "")


def test_twilio_failed_status_in_the_answer_is_a_failed_outcome(standin: TwilioStandIn) -> None:
    standin.answer_status = "failed"
    outcome = message_service_from_env(_env(standin)).send("+12025550123", "Hi")
    assert outcome.failed and outcome.service_id is not None


def test_twilio_unreachable_is_a_failed_outcome() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "MESSAGE_SERVICE": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}",
    }
    outcome = message_service_from_env(env).send("+12025550123", "Hi")
    assert outcome.failed and "could not be reached" in (outcome.error or "")


# ---------------------------------------------------------------- the loop with Twilio


def _one_contact(db: Database) -> tuple[int, int, str]:
    w = build_world(db, members=[Member("UTEXTER", "Ada")], contacts=1, contacts_held_by="UTEXTER")
    [contact_id], user_id = w.contact_ids, w.user("UTEXTER")
    with db.uow(read_only=True) as uow:
        cell = uow.session.get(CampaignContact, contact_id).cell
    return contact_id, user_id, cell


def _message_count(db: Database) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Message)) or 0


def _contact_status(db: Database, contact_id: int) -> str:
    with db.uow(read_only=True) as uow:
        return uow.session.get(CampaignContact, contact_id).message_status


def test_first_text_through_twilio_then_delivery_report(db: Database, standin) -> None:
    contact_id, user_id, _ = _one_contact(db)
    service = message_service_from_env(_env(standin))
    result = send_first_text(db, contact_id, user_id, service)
    assert result.sent and result.message_status == "queued" and result.contact_status == "messaged"
    assert standin.requests[0].form["Body"] == "Hi Contact0, it's Ada. Can we count on your vote?"
    with db.uow(read_only=True) as uow:
        message = uow.session.get(Message, result.message_id)
        sid = message.service_id
    assert sid and sid.startswith("SM")

    report = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT}
    forged = status_callback(
        db, STATUS_URL, report, _sign(STATUS_URL, report, "wrong-token"), auth_token=TOKEN
    )
    assert forged[0] == 403
    assert status_callback(db, STATUS_URL, report, _sign(STATUS_URL, report), auth_token=TOKEN) == (
        200,
        "",
    )
    # Out of order: a late "sent" report does not move a delivered message back.
    late = {"MessageSid": sid, "MessageStatus": "sent"}
    status_callback(db, STATUS_URL, late, _sign(STATUS_URL, late), auth_token=TOKEN)
    with db.uow(read_only=True) as uow:
        assert uow.session.get(Message, result.message_id).status == "delivered"


def test_undelivered_report_marks_the_message_failed(db: Database, standin) -> None:
    contact_id, user_id, _ = _one_contact(db)
    result = send_first_text(db, contact_id, user_id, message_service_from_env(_env(standin)))
    with db.uow(read_only=True) as uow:
        sid = uow.session.get(Message, result.message_id).service_id
    report = {
        "MessageSid": sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "ErrorMessage": "Unreachable destination handset",
    }
    status_callback(db, STATUS_URL, report, _sign(STATUS_URL, report), auth_token=TOKEN)
    with db.uow(read_only=True) as uow:
        message = uow.session.get(Message, result.message_id)
        assert message.status == "failed"
        assert message.error == "Twilio error 30003: Unreachable destination handset"


def test_twilio_refusal_keeps_the_contact_with_the_texter(db: Database, standin) -> None:
    contact_id, user_id, _ = _one_contact(db)
    standin.error = (400, 21610, "Attempt to send to unsubscribed recipient")
    result = send_first_text(db, contact_id, user_id, message_service_from_env(_env(standin)))
    assert not result.sent and "21610" in (result.error or "")
    assert _contact_status(db, contact_id) == "needsMessage"
    with db.uow(read_only=True) as uow:
        assert uow.session.get(Message, result.message_id).status == "failed"


# ---------------------------------------------------------------- inbound webhook


def _inbound(cell: str, body: str, sid: str = "SM" + "a" * 32) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT,
        "MessagingServiceSid": SERVICE,
        "From": cell,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


def test_signed_inbound_is_stored_once_and_notifies_once(db: Database) -> None:
    contact_id, user_id, cell = _one_contact(db)
    send_first_text(db, contact_id, user_id, FakeMessageService())
    notified: list[InboundResult] = []
    params = _inbound(cell, "Yes I'll vote")
    signature = _sign(INBOUND_URL, params)
    for _ in range(2):  # Twilio retries with the same MessageSid
        answer = inbound_sms(
            db, INBOUND_URL, params, signature, auth_token=TOKEN, on_inbound=notified.append
        )
        assert answer == (200, EMPTY_TWIML)
    assert _message_count(db) == 2  # the first text and one reply
    assert _contact_status(db, contact_id) == "needsResponse"
    [note] = notified
    assert note.user_id == user_id and note.contact_id == contact_id and not note.opted_out


@pytest.mark.parametrize(
    "tamper",
    ["wrong token", "changed body", "other url", "no signature", "no token configured"],
)
def test_badly_signed_inbound_is_refused_and_nothing_stored(db: Database, tamper: str) -> None:
    contact_id, user_id, cell = _one_contact(db)
    send_first_text(db, contact_id, user_id, FakeMessageService())
    params = _inbound(cell, "STOP")
    signature: str | None = _sign(INBOUND_URL, params)
    token: str | None = TOKEN
    if tamper == "wrong token":
        signature = _sign(INBOUND_URL, params, "another-token")
    elif tamper == "changed body":
        params = {**params, "Body": "Yes"}
    elif tamper == "other url":
        signature = _sign("https://evil.example.org/sms/twilio", params)
    elif tamper == "no signature":
        signature = None
    else:
        token = ""
    notified: list[InboundResult] = []
    answer = inbound_sms(
        db, INBOUND_URL, params, signature, auth_token=token, on_inbound=notified.append
    )
    assert answer[0] == 403
    assert _message_count(db) == 1 and notified == []
    assert _contact_status(db, contact_id) == "messaged"
    with db.uow(read_only=True) as uow:
        assert not uow.session.get(CampaignContact, contact_id).is_opted_out


def test_signed_stop_opts_out(db: Database) -> None:
    contact_id, user_id, cell = _one_contact(db)
    send_first_text(db, contact_id, user_id, FakeMessageService())
    params = _inbound(cell, "Stop")
    notified: list[InboundResult] = []
    inbound_sms(
        db,
        INBOUND_URL,
        params,
        _sign(INBOUND_URL, params),
        auth_token=TOKEN,
        on_inbound=notified.append,
    )
    assert notified[0].opted_out
    with db.uow(read_only=True) as uow:
        assert uow.session.get(CampaignContact, contact_id).is_opted_out


def test_signed_inbound_from_an_unknown_number_is_accepted_and_dropped(db: Database) -> None:
    _one_contact(db)
    params = _inbound("+12025559999", "who is this?")
    answer = inbound_sms(db, INBOUND_URL, params, _sign(INBOUND_URL, params), auth_token=TOKEN)
    assert answer == (200, EMPTY_TWIML) and _message_count(db) == 0


def test_auth_token_comes_from_the_environment(db: Database, monkeypatch) -> None:
    contact_id, user_id, cell = _one_contact(db)
    send_first_text(db, contact_id, user_id, FakeMessageService())
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    params = _inbound(cell, "hello")
    assert inbound_sms(db, INBOUND_URL, params, _sign(INBOUND_URL, params))[0] == 200
    assert _message_count(db) == 2
