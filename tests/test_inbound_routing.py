"""Inbound routing by what was sent (issue 17, reproductions 4, 5 and 8): a reply belongs to
the contact its number was last texted as, archived campaign or not, in that organization
only; a number never texted is kept as unmatched; STOP is always kept; malformed webhooks
store nothing; a redelivered reply nobody was told of is notified. Both engines."""

from __future__ import annotations

import io

from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from core.db import Database
from core.messaging import FakeMessageService
from core.messaging.twilio_webhooks import inbound_sms, status_callback
from core.models import Campaign, CampaignContact, Message, OptOut, UnmatchedInbound
from core.services.contact_import import import_contacts
from core.services.inbound import InboundResult, receive_inbound, unmatched_texts
from core.services.texting import send_first_text
from tests.support.world import Member, add_contacts, build_world, make_campaign, make_org

TOKEN = "test-auth-token"
URL = "https://bot.example.org/sms/twilio"
CELL = "+12025550000"


def _texted_then_archived(db: Database) -> tuple[int, int, int]:
    """Org 1 texts CELL in campaign A, then archives A. Returns (org, contact, texter)."""
    w = build_world(
        db, members=[Member("UTEXTER", "Ada")], contacts=1, contacts_held_by="UTEXTER", title="A"
    )
    org, campaign, texter, [contact_id] = w.org_id, w.campaign_id, w.user("UTEXTER"), w.contact_ids
    assert send_first_text(db, contact_id, texter, FakeMessageService()).sent
    with db.uow() as uow:
        uow.session.execute(
            update(Campaign).where(Campaign.id == campaign).values(is_archived=True)
        )
        uow.commit()
    return org, contact_id, texter


def _contact(db: Database, contact_id: int) -> CampaignContact:
    with db.uow(read_only=True) as uow:
        return uow.session.get(CampaignContact, contact_id)


def _opt_outs(db: Database) -> list[tuple[int, str]]:
    with db.uow(read_only=True) as uow:
        return [(o.organization_id, o.cell) for o in uow.session.scalars(select(OptOut))]


def _count(db: Database, model) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_stop_after_the_campaign_is_archived_is_kept(db: Database) -> None:
    org, contact_id, texter = _texted_then_archived(db)
    # The same number, never texted, in another organization's live campaign.
    other = make_org(db, team="T2")
    [elsewhere] = add_contacts(db, make_campaign(db, other), 1)
    result = receive_inbound(db, CELL, "STOP", service_id="SMstop")
    assert result.opted_out and result.contact_id == contact_id and result.user_id == texter
    assert _opt_outs(db) == [(org, CELL)]  # the organization that texted it, only
    assert _contact(db, contact_id).is_opted_out
    assert not _contact(db, elsewhere).is_opted_out
    # Re-imported into a new campaign of the same organization: imported opted out.
    fresh = make_campaign(db, org, title="B")
    import_contacts(db, fresh, io.StringIO(f"firstName,cell\nJamie,{CELL}\n"))
    with db.uow(read_only=True) as uow:
        again = uow.session.scalars(
            select(CampaignContact).where(CampaignContact.campaign_id == fresh)
        ).one()
        assert again.is_opted_out


def test_a_reply_never_lands_on_a_contact_never_texted(db: Database) -> None:
    org, contact_id, _ = _texted_then_archived(db)
    other = make_org(db, team="T2")
    live = make_campaign(db, other, title="Live")
    [never_texted] = add_contacts(db, live, 1)
    result = receive_inbound(db, CELL, "Who is this?", service_id="SMreply")
    assert result.contact_id == contact_id and result.organization_id == org
    untouched = _contact(db, never_texted)
    assert untouched.message_status == "needsMessage" and untouched.assignment_id is None
    assert _contact(db, contact_id).message_status == "needsResponse"


def test_a_number_never_texted_is_kept_as_unmatched(db: Database) -> None:
    org = make_org(db)
    [never_texted] = add_contacts(db, make_campaign(db, org), 1)
    for attempt in range(2):  # Twilio's retry of the same MessageSid is kept once
        answer = inbound_sms(
            db,
            URL,
            _form("Hello?", "SMunknown"),
            _sign(_form("Hello?", "SMunknown")),
            auth_token=TOKEN,
        )
        assert answer[0] == 200, attempt
    assert _count(db, Message) == 0
    assert _contact(db, never_texted).message_status == "needsMessage"
    [kept] = unmatched_texts(db)
    assert (kept.cell, kept.text, kept.service_id) == (CELL, "Hello?", "SMunknown")
    # A STOP from it opts nobody out (nobody texted it) but is kept too.
    inbound_sms(
        db, URL, _form("STOP", "SMstop2"), _sign(_form("STOP", "SMstop2")), auth_token=TOKEN
    )
    assert _opt_outs(db) == [] and len(unmatched_texts(db)) == 2


def test_admins_see_unmatched_texts_in_the_cli(
    db: Database, database_url: str, monkeypatch
) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    make_org(db)
    inbound_sms(db, URL, _form("Hi?", "SMu1"), _sign(_form("Hi?", "SMu1")), auth_token=TOKEN)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["sms", "unmatched"])
    assert result.exit_code == 0 and CELL in result.output and "'Hi?'" in result.output


def _form(body: str, sid: str, **more: str) -> dict[str, str]:
    return {"From": CELL, "Body": body, "MessageSid": sid, **more}


def _sign(form: dict[str, str], url: str = URL) -> str:
    return RequestValidator(TOKEN).compute_signature(url, form)


def test_malformed_signed_webhooks_get_400_and_store_nothing(db: Database) -> None:
    _texted_then_archived(db)
    before = _count(db, Message)
    bad = [
        _form("hi\x00there", "SMnul"),
        _form("hi", "SM" + "a" * 63),
        {"From": CELL + "\x00", "Body": "hi", "MessageSid": "SMfrom"},
    ]
    for form in bad:
        status, _ = inbound_sms(db, URL, form, _sign(form), auth_token=TOKEN)
        assert status == 400, form
    report = {"MessageSid": "SM\x00x", "MessageStatus": "delivered"}
    status_url = URL + "/status"
    assert (
        status_callback(db, status_url, report, _sign(report, status_url), auth_token=TOKEN)[0]
        == 400
    )
    assert _count(db, Message) == before and _count(db, UnmatchedInbound) == 0


def test_a_redelivered_reply_nobody_was_told_of_is_notified(db: Database) -> None:
    """kill -9 after the reply is stored, before Slack is told: Twilio redelivers it."""
    _texted_then_archived(db)
    receive_inbound(db, CELL, "Yes!", service_id="SMcrash")  # stored; the process died here
    told: list[InboundResult] = []
    form = _form("Yes!", "SMcrash")
    assert (
        inbound_sms(db, URL, form, _sign(form), auth_token=TOKEN, on_inbound=told.append)[0] == 200
    )
    assert [r.message_id for r in told] and told[0].duplicate
    # Once told, a further redelivery tells no one again.
    inbound_sms(db, URL, form, _sign(form), auth_token=TOKEN, on_inbound=told.append)
    assert len(told) == 1


def test_a_failed_notification_is_retried_on_redelivery(db: Database) -> None:
    _texted_then_archived(db)
    calls: list[int] = []

    def slack_down(result: InboundResult) -> None:
        calls.append(result.message_id)
        if len(calls) == 1:
            raise ConnectionError("Slack is down")

    form = _form("Are you there?", "SMretry")
    for _ in range(3):
        inbound_sms(db, URL, form, _sign(form), auth_token=TOKEN, on_inbound=slack_down)
    assert len(calls) == 2 and len(set(calls)) == 1


def test_the_migration_fills_texted_numbers_from_what_was_sent(db: Database) -> None:
    """Deployments upgrading to 0009: replies keep going where the last text went."""
    from alembic import command
    from sqlalchemy import text

    from core.migrate import _alembic_config
    from core.models import TextedNumber

    config = _alembic_config()

    def migrate(to: str) -> None:
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if to == "0007" else command.upgrade)(config, to)

    migrate("0007")
    try:
        org = make_org(db)
        older, newer = make_campaign(db, org, title="Old"), make_campaign(db, org, title="New")
        [first] = add_contacts(db, older, 1)
        [second] = add_contacts(db, newer, 1)
        [untexted] = add_contacts(db, make_campaign(db, org, title="Never"), 1)
        with db.engine.begin() as connection:
            insert = text(
                "INSERT INTO message (campaign_contact_id, direction, text, status, created_at) "
                "VALUES (:c, :d, 'x', 'delivered', CURRENT_TIMESTAMP)"
            )
            sent = ((first, "outbound"), (second, "outbound"), (first, "inbound"))
            for contact_id, direction in sent:
                connection.execute(insert, {"c": contact_id, "d": direction})
    finally:
        migrate("head")  # the database stays at head for the tests after this one
    with db.uow(read_only=True) as uow:
        [row] = uow.session.scalars(select(TextedNumber)).all()
        assert (row.cell, row.campaign_contact_id, row.organization_id) == (CELL, second, org)
        [reply] = uow.session.scalars(select(Message).where(Message.direction == "inbound"))
        assert reply.notified_at is not None  # told before the upgrade: not told again
    assert untexted != second
