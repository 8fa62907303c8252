"""Admins moving conversations: /campaign reassign, Message Review's Unassign selected and
Reassign selected to…, /campaign add-texters; and a reassign racing a texter's Send."""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from bot import ids
from core.db import Database
from core.errors import Conflict, NotAllowed, NotFound
from core.messaging import FakeMessageService
from core.models import Assignment, CampaignContact, Message
from core.roles import Role
from core.services.organizations import set_organization_setting
from core.services.reassign import reassign_contacts
from core.services.texting import send_first_text
from core.services.threads import save_thread
from core.statuses import MessageStatus
from tests.support.admin import ADMIN, run
from tests.support.conversations import FIRST_TEAM, VETTED, conversation_pool
from tests.support.slack_harness import APP_ID, TEAM, Call, SlackHarness
from tests.support.world import add_contacts, make_assignment, make_texter
from tests.test_slack_conversations import holders, roots_for


def held_by_fran(slack: SlackHarness, with_threads: bool = True):
    """Fran holds 2 waiting replies (threaded in her DMs) and 2 unsent first texts."""
    pool = conversation_pool(slack, replies=2)
    initials = add_contacts(slack.db, pool.campaign_id, 2, start=10)
    with slack.db.uow() as uow:
        fran = uow.session.scalar(
            select(Assignment.id).where(Assignment.user_id == pool.first_texter)
        )
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id.in_(pool.contact_ids + initials))
            .values(assignment_id=fran)
        )
        uow.commit()
    if with_threads:
        for n, contact_id in enumerate(pool.contact_ids):
            save_thread(slack.db, contact_id, pool.first_texter, "D" + FIRST_TEAM, f"1.{n}")
    return pool, initials


def test_reassign_moves_conversations_with_history(slack: SlackHarness) -> None:
    pool, initials = held_by_fran(slack)
    answer = run(slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}|fran> <@{VETTED}|vera>")
    text = answer.text()
    assert "Moved 4 contacts from <@UFIRST> to <@UVET>" in text
    assert "2 unsent first texts, 2 conversations" in text and "has joined it" in text
    everyone = pool.contact_ids + initials
    assert set(holders(slack.db, everyone).values()) == {pool.vetted}
    # Fran's threads now say where they went; Vera gets each conversation with its history.
    updates = slack.fake.wait_for(lambda c: c.method == "chat.update", 2)
    assert {u.params["ts"] for u in updates} == {"1.0", "1.1"}
    assert all("Moved to <@UVET>" in u.text() and not u.buttons() for u in updates)
    slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and "Reply number 1" in c.text(), 1
    )
    roots = roots_for(slack, VETTED)
    given = [r for r in roots if "moved contacts of *GOTV* to you" in r.text()]
    assert given and given[0].button(ids.SEND_FIRST_TEXTS)
    threads = [r for r in roots if "Conversation with" in r.text()]
    assert len(threads) == 2 and all("*Fran*" in r.text() for r in threads)


def test_reassign_one_status_caps_and_refusals(slack: SlackHarness) -> None:
    pool, initials = held_by_fran(slack, with_threads=False)
    vera = make_assignment(slack.db, pool.campaign_id, pool.vetted, max_contacts=1)
    text = run(
        slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}> <@{VETTED}> needs-first-message"
    ).text()
    assert "Moved 2 contacts" in text and "more than their max amount of 1" in text
    owners = holders(slack.db, pool.contact_ids + initials)
    assert all(owners[c] == pool.vetted for c in initials)
    assert all(owners[c] == pool.first_texter for c in pool.contact_ids)
    assert vera
    # Dynamic assignment off: still allowed. Nothing left of that status: said so.
    again = run(slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}> <@{VETTED}> needs-message")
    assert "holds no contacts with status needsMessage" in again.text()
    assert (
        "not a member"
        in run(slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}> <@UNOBODY>").text()
    )
    # A texter may not; a supervolunteer may.
    assert (
        "Only a supervolunteer or admin"
        in run(
            slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}> <@{VETTED}>", user=VETTED
        ).text()
    )
    make_texter(slack.db, pool.org_id, "USUPER", Role.SUPERVOLUNTEER, name="Sue")
    moved = run(slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}> <@{VETTED}>", user="USUPER")
    assert "Moved 2 contacts" in moved.text()


def review_click(
    slack: SlackHarness, action: dict[str, Any], ticked: list[int], user: str = ADMIN
) -> Call:
    """A block_actions click in a review message, carrying the ticked boxes' state."""
    response_url = slack.new_response_url()
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": APP_ID,
        "team": {"id": TEAM, "domain": "test"},
        "trigger_id": "trigger.9",
        "container": {"type": "message", "message_ts": "1.9", "channel_id": "C0GENERAL"},
        "channel": {"id": "C0GENERAL", "name": "general"},
        "response_url": response_url,
        "state": {
            "values": {
                "boxes": {
                    f"{ids.REVIEW_PICK}0": {
                        "type": "checkboxes",
                        "selected_options": [{"value": str(c)} for c in ticked],
                    }
                }
            }
        },
        "actions": [action],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    answer = slack.post(body, "application/x-www-form-urlencoded", response_url=response_url)
    assert answer.status == 200 and answer.seconds < 3
    return slack.fake.response_to(response_url)[0]


def test_review_selection_unassigns_and_reassigns_the_ticked(slack: SlackHarness) -> None:
    pool, initials = held_by_fran(slack)
    review = run(slack, f"review {pool.campaign_id} all")
    boxes = [
        e
        for b in review.blocks()
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "checkboxes"
    ]
    assert sum(len(e["options"]) for e in boxes) == 4
    picker_block = next(
        b for b in review.blocks() if str(b.get("block_id", "")).startswith("review_selected")
    )
    unassign = next(e for e in picker_block["elements"] if e["type"] == "button")
    picker = next(e for e in picker_block["elements"] if e["type"] == "users_select")
    assert unassign["confirm"] and picker["confirm"]

    done = review_click(
        slack,
        {"type": "button", "action_id": unassign["action_id"], "value": unassign["value"]},
        [initials[0]],
    )
    assert "Unassigned 1 contact" in done.text()
    assert holders(slack.db, [initials[0]])[initials[0]] is None

    moved = review_click(
        slack,
        {
            "type": "users_select",
            "action_id": picker["action_id"],
            "block_id": picker_block["block_id"],
            "selected_user": VETTED,
        },
        [pool.contact_ids[0], initials[1]],
    )
    assert "Moved 2 contacts to <@UVET>" in moved.text()
    owners = holders(slack.db, pool.contact_ids + initials)
    assert owners[pool.contact_ids[0]] == pool.vetted and owners[initials[1]] == pool.vetted
    assert owners[pool.contact_ids[1]] == pool.first_texter
    [update_] = slack.fake.wait_for(lambda c: c.method == "chat.update")
    assert update_.params["ts"] == "1.0" and "Moved to <@UVET>" in update_.text()
    nothing = review_click(
        slack,
        {"type": "button", "action_id": unassign["action_id"], "value": unassign["value"]},
        [],
    )
    assert "Tick the contacts first" in nothing.text()


def test_add_texters_joins_and_sends_the_card(slack: SlackHarness) -> None:
    pool, _ = held_by_fran(slack, with_threads=False)
    set_organization_setting(slack.db, pool.org_id, "MAX_TEXTERS_PER_CAMPAIGN", "1")
    set_organization_setting(slack.db, pool.org_id, "MAX_CONTACTS_PER_TEXTER", "50")
    answer = run(slack, f"add-texters {pool.campaign_id} <@UNEW1|nia> <@{FIRST_TEAM}>")
    text = answer.text()
    assert "Added <@UNEW1>" in text and "Already in *GOTV*: <@UFIRST>" in text
    assert "more than the organization's limit of 1" in text
    card = slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and c.params.get("channel") == "DUNEW1"
    )[0]
    assert card.button(ids.SEND_FIRST_TEXTS)
    with slack.db.uow(read_only=True) as uow:
        from core.models import User, UserOrganization

        user = uow.session.scalar(select(User).where(User.slack_user_id == "UNEW1"))
        role = uow.session.scalar(
            select(UserOrganization.role).where(UserOrganization.user_id == user.id)
        )
        cap = uow.session.scalar(
            select(Assignment.max_contacts).where(Assignment.user_id == user.id)
        )
        held = uow.session.scalar(
            select(CampaignContact.id)
            .join(Assignment, Assignment.id == CampaignContact.assignment_id)
            .where(Assignment.user_id == user.id)
        )
    assert role == Role.TEXTER.value and cap == 50 and held is None
    make_texter(slack.db, pool.org_id, "USUPER", Role.SUPERVOLUNTEER, name="Sue")
    refused = run(slack, f"add-texters {pool.campaign_id} <@UNEW2>", user="USUPER")
    assert "Only an admin can do that" in refused.text()
    assert "Usage" in run(slack, f"add-texters {pool.campaign_id}").text()


@pytest.mark.heavy
def test_reassign_racing_sends_never_texts_from_two(database_url: str, engine_name: str) -> None:
    db = Database.from_url(database_url, **({"pool_size": 10} if engine_name != "sqlite" else {}))
    try:
        pool = conversation_pool(db, replies=0)
        contacts = add_contacts(db, pool.campaign_id, 40, start=100)
        with db.uow() as uow:
            fran = uow.session.scalar(
                select(Assignment.id).where(Assignment.user_id == pool.first_texter)
            )
            uow.session.execute(
                update(CampaignContact)
                .where(CampaignContact.id.in_(contacts))
                .values(assignment_id=fran)
            )
            uow.commit()
        admin = make_texter(db, pool.org_id, "UADMIN", Role.ADMIN, name="Ada")
        service = FakeMessageService()
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def sender(user_id: int) -> None:
            barrier.wait()
            for contact_id in contacts:
                try:
                    send_first_text(db, contact_id, user_id, service)
                except (Conflict, NotAllowed, NotFound):
                    pass  # reassigned away, or already sent
                except BaseException as exc:
                    errors.append(exc)

        def mover() -> None:
            barrier.wait()
            try:
                reassign_contacts(
                    db, admin, pool.org_id, pool.campaign_id, VETTED, from_slack_user_id=FIRST_TEAM
                )
            except BaseException as exc:
                errors.append(exc)

        workers = [
            threading.Thread(target=sender, args=(pool.first_texter,)),
            threading.Thread(target=sender, args=(pool.vetted,)),
            threading.Thread(target=mover),
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert not errors, errors[:3]
        # Whatever Vera holds and hasn't sent, she sends now.
        for contact_id in contacts:
            with contextlib.suppress(Conflict, NotAllowed, NotFound):
                send_first_text(db, contact_id, pool.vetted, service)
        with db.uow(read_only=True) as uow:
            rows = uow.session.execute(
                select(Message.campaign_contact_id, Message.user_id).where(
                    Message.campaign_contact_id.in_(contacts)
                )
            ).all()
            statuses = set(
                uow.session.scalars(
                    select(CampaignContact.message_status).where(CampaignContact.id.in_(contacts))
                )
            )
        per_contact = Counter(contact_id for contact_id, _ in rows)
        assert set(per_contact.values()) == {1}, "a contact was texted twice"
        assert len(per_contact) == 40 and len(service.sent) == 40
        assert statuses == {MessageStatus.MESSAGED.value}
    finally:
        db.dispose()


def test_reassign_usage_errors_name_the_subcommand(slack: SlackHarness) -> None:
    pool, _ = held_by_fran(slack, with_threads=False)
    for text in (
        "reassign",
        f"reassign {pool.campaign_id} <@{FIRST_TEAM}>",
        f"reassign {pool.campaign_id} fran vera",
        f"reassign {pool.campaign_id} <@{FIRST_TEAM}> <@{VETTED}> sometimes",
    ):
        assert (
            "Usage: `/campaign reassign CAMPAIGN_ID @from @to [status]`" in run(slack, text).text()
        )
    assert "Usage: `/campaign add-texters" in run(slack, "add-texters x").text()
    assert (
        "same person"
        in run(slack, f"reassign {pool.campaign_id} <@{FIRST_TEAM}> <@{FIRST_TEAM}>").text()
    )
