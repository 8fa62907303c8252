"""`spokebot sms simulate-reply`: a reply delivered exactly as a real one arrives."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from core.db import Database
from core.messaging import FakeMessageService
from core.models import CampaignContact, Message
from core.services.texting import send_first_text
from tests.support.world import build_world


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def _texted_contact(db: Database) -> tuple[int, int, int]:
    w = build_world(db, members=["UTEXTER"], contacts=1, contacts_held_by="UTEXTER")
    [contact_id], user_id = w.contact_ids, w.user("UTEXTER")
    send_first_text(db, contact_id, user_id, FakeMessageService())
    return contact_id, w.campaign_id, user_id


def _contact(db: Database, contact_id: int) -> CampaignContact:
    with db.uow(read_only=True) as uow:
        return uow.session.get(CampaignContact, contact_id)


def test_simulated_reply_is_stored_and_needs_a_response(run, db: Database) -> None:
    contact_id, campaign_id, user_id = _texted_contact(db)
    result = run(
        "sms",
        "simulate-reply",
        "(202) 555-0000",
        "Yes, count me in",
        "--campaign",
        str(campaign_id),
    )
    assert result.exit_code == 0, result.output
    assert f"contact {contact_id}" in result.stdout and f"texter user {user_id}" in result.stdout
    assert _contact(db, contact_id).message_status == "needsResponse"
    with db.uow(read_only=True) as uow:
        inbound = uow.session.scalars(select(Message).where(Message.direction == "inbound")).one()
        assert inbound.text == "Yes, count me in" and inbound.service_id.startswith("SMsim")


def test_simulated_stop_opts_out(run, db: Database) -> None:
    contact_id, _, _ = _texted_contact(db)
    result = run("sms", "simulate-reply", "+12025550000", "STOP")
    assert result.exit_code == 0 and "opted out" in result.stdout
    assert _contact(db, contact_id).is_opted_out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-a-number", "hi"], "not a valid phone number"),
        (["+12025550000", "   "], "can't be empty"),
        (["+12025559999", "hi"], "No contact with the number +12025559999"),
        (["+12025550000", "hi", "--campaign", "999"], "in campaign 999"),
    ],
)
def test_bad_input_exits_2_with_a_message(run, db: Database, args, message) -> None:
    _texted_contact(db)
    result = run("sms", "simulate-reply", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    with db.uow(read_only=True) as uow:
        assert (
            uow.session.scalars(select(Message).where(Message.direction == "inbound")).all() == []
        )


def test_sms_is_listed_in_help(run) -> None:
    result = run("sms", "--help")
    assert result.exit_code == 0 and "simulate-reply" in result.stdout
