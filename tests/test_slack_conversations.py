"""Taking conversations (/takeconversations and the Take conversations button) through
Slack's protocol: who gets which contact, their threads with history, and the refusals."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from bot import ids
from core.db import Database
from core.models import Assignment, Campaign, CampaignContact
from core.roles import Role
from core.services.conversation_requests import take_conversations_as
from core.statuses import MessageStatus
from tests.support.conversations import (
    VETTED,
    conversation_pool,
    set_campaign_settings,
)
from tests.support.slack_harness import Call, SlackHarness
from tests.support.world import make_assignment, make_texter


def holders(db: Database, contact_ids: list[int]) -> dict[int, int | None]:
    """contact id -> the user holding it (None: unassigned)."""
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(CampaignContact.id, Assignment.user_id)
            .outerjoin(Assignment, Assignment.id == CampaignContact.assignment_id)
            .where(CampaignContact.id.in_(contact_ids))
        ).all()
    return dict(rows)


def take(slack: SlackHarness, text: str = "", user: str = VETTED) -> Call:
    answer = slack.command(ids.CMD_TAKE_CONVERSATIONS, text, user=user)
    assert answer.status == 200 and answer.seconds < 3
    return slack.fake.response_to(answer.response_url)[0]


def roots_for(slack: SlackHarness, user: str) -> list[Call]:
    return [
        c
        for c in slack.fake.of("chat.postMessage")
        if c.params.get("channel") == "D" + user and not c.params.get("thread_ts")
    ]


def test_take_hands_out_oldest_replies_first_with_history(slack: SlackHarness) -> None:
    pool = conversation_pool(slack, replies=3, convos=1)
    set_campaign_settings(slack.db, pool.campaign_id, conversations_per_take=2)
    answer = take(slack)
    # Later ids replied earlier: the two longest waiting are the 3rd and 2nd reply.
    oldest = [pool.contact_ids[2], pool.contact_ids[1]]
    owners = holders(slack.db, pool.contact_ids)
    assert {c for c, u in owners.items() if u == pool.vetted} == set(oldest)
    assert owners[pool.contact_ids[0]] is None and owners[pool.contact_ids[3]] is None
    assert "You took 2 conversations in *GOTV*" in answer.text()
    # Each taken contact: a thread in the taker's DMs, history marked with who sent it.
    slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and "Reply number 1" in c.text(), 1
    )
    roots = roots_for(slack, VETTED)
    assert len(roots) == 2
    assert all("*Fran*" in r.text() and "<!date^" in r.text() for r in roots)
    assert all("Waiting for your answer" in r.text() for r in roots)
    # The answer links each thread (chat.getPermalink's url on an Open button).
    links = [b for b in _accessories(answer) if b.get("action_id") == ids.OPEN_THREAD]
    assert len(links) == 2 and all(b["url"].startswith("https://example.slack.com/") for b in links)

    # Then the convo once the replies are gone; then nothing is left.
    assert "Answer your 2 waiting replies first" in take(slack, "GOTV").text()
    answered(slack.db, oldest)
    second = take(slack, str(pool.campaign_id))
    assert "You took 2 conversations" in second.text()
    # The convo (answered already) is threaded with its history and nothing posted in it.
    convo_root = slack.fake.wait_for(
        lambda c: (
            c.method == "chat.postMessage"
            and not c.params.get("thread_ts")
            and "Reply number 3" in c.text()
        )
    )[0]
    assert "Answered" in convo_root.text()
    assert all(u == pool.vetted for u in holders(slack.db, pool.contact_ids).values())
    answered(slack.db, pool.contact_ids)
    last = take(slack)
    assert "No conversations are waiting to be taken in “GOTV”" in last.text()


def answered(db: Database, contact_ids: list[int]) -> None:
    with db.uow() as uow:
        uow.session.execute(
            CampaignContact.__table__.update()
            .where(CampaignContact.id.in_(contact_ids))
            .values(message_status=MessageStatus.CONVO.value)
        )
        uow.commit()


def _accessories(call: Call) -> list[dict]:
    return [b["accessory"] for b in call.blocks() if b.get("accessory")]


def test_take_refusals_say_why(slack: SlackHarness) -> None:
    pool = conversation_pool(slack, replies=2)
    make_texter(slack.db, pool.org_id, "UNEW", Role.TEXTER, name="Nat")
    refused = take(slack, user="UNEW")
    assert "Only vetted texters can take conversations" in refused.text()
    assert "Ada" in refused.text() and "/campaign vet" in refused.text()
    assert set(holders(slack.db, pool.contact_ids).values()) == {None}

    # Holding waiting replies: answer those first, with links to them.
    set_campaign_settings(slack.db, pool.campaign_id, conversations_per_take=1)
    take(slack)
    again = take(slack)
    assert "Answer your 1 waiting reply first" in again.text()
    assert any(b.get("url") for b in _accessories(again))

    # A campaign that doesn't allow it, and an archived one (old buttons).
    with slack.db.uow() as uow:
        campaign = uow.session.get(Campaign, pool.campaign_id)
        campaign.batch_strategies = ["finished-replies"]
        uow.commit()
    assert "No campaign of this organization lets texters take" in take(slack).text()
    answer = slack.click(ids.TAKE_CONVERSATIONS, str(pool.campaign_id), user=VETTED)
    [clicked] = slack.fake.response_to(answer.response_url)
    assert "doesn't let texters take conversations" in clicked.text()
    with slack.db.uow() as uow:
        campaign = uow.session.get(Campaign, pool.campaign_id)
        campaign.batch_strategies = ["vetted-takeconversations"]
        campaign.is_archived = True
        uow.commit()
    answer = slack.click(ids.TAKE_CONVERSATIONS, str(pool.campaign_id), user=VETTED)
    [clicked] = slack.fake.response_to(answer.response_url)
    assert "has been archived" in clicked.text()


def test_home_offers_take_conversations_to_vetted_texters(slack: SlackHarness) -> None:
    pool = conversation_pool(slack, replies=1, convos=2)
    set_campaign_settings(slack.db, pool.campaign_id, conversations_per_take=1)
    # The vetted texter never joined by link: taking joins them.
    slack.home_opened(VETTED, event_id="EvH1")
    assert "haven't joined" in slack.fake.home_for(VETTED).text()
    take(slack)
    home = slack.fake.home_for(VETTED, 2)
    [button] = [b for b in home.buttons() if b["action_id"] == ids.TAKE_CONVERSATIONS]
    assert button["text"]["text"] == "Take conversations (2 waiting)"
    assert "Reply number 0" in home.text()  # the reply just taken, listed with its link
    # A plain texter in the same campaign sees no such button.
    slack.home_opened("UFIRST", event_id="EvH2")
    first = slack.fake.home_for("UFIRST")
    assert ids.TAKE_CONVERSATIONS not in {b["action_id"] for b in first.buttons()}
    assert pool.campaign_id


@pytest.mark.heavy
def test_twenty_vetted_texters_take_at_once(database_url: str, engine_name: str) -> None:
    db = Database.from_url(database_url, **({"pool_size": 30} if engine_name != "sqlite" else {}))
    try:
        pool = conversation_pool(db, replies=50)
        slack_ids = {
            make_texter(db, pool.org_id, f"UV{n:02d}", Role.VETTED_TEXTER): f"UV{n:02d}"
            for n in range(20)
        }
        barrier = threading.Barrier(len(slack_ids))
        got: dict[int, list[int]] = {}
        errors: list[BaseException] = []

        def run(user: int) -> None:
            barrier.wait()
            try:
                taken = take_conversations_as(db, "T1", slack_ids[user], None, pool.campaign_id)
                got[user] = taken.result.contact_ids
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        workers = [threading.Thread(target=run, args=(u,)) for u in slack_ids]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert not errors, errors[:3]
        owners = Counter(c for taken in got.values() for c in taken)
        assert set(owners.values()) == {1}, "a contact was given to two texters"
        assert sum(owners.values()) == 50  # 5 texters x 10: none lost
        held = holders(db, pool.contact_ids)
        assert all(held[c] == u for u, taken in got.items() for c in taken)
        assert None not in held.values()
    finally:
        db.dispose()


@pytest.mark.heavy
def test_twenty_takes_through_the_front_door(slack: SlackHarness) -> None:
    """20 signed /takeconversations at once, 50 replies waiting: each contact one owner,
    none lost, and every texter told what they got."""
    pool = conversation_pool(slack, replies=50)
    people = [f"UV{n:02d}" for n in range(20)]
    users = {p: make_texter(slack.db, pool.org_id, p, Role.VETTED_TEXTER) for p in people}
    barrier = threading.Barrier(len(people))
    answers: dict[str, str] = {}

    def run(person: str) -> None:
        barrier.wait()
        answer = slack.command(ids.CMD_TAKE_CONVERSATIONS, str(pool.campaign_id), user=person)
        assert answer.status == 200 and answer.seconds < 3
        answers[person] = answer.response_url

    workers = [threading.Thread(target=run, args=(p,)) for p in people]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    told = {p: slack.fake.response_to(url)[0].text() for p, url in answers.items()}
    assert len(told) == 20
    held = holders(slack.db, pool.contact_ids)
    assert None not in held.values()  # none lost
    counts = Counter(held.values())
    assert sum(counts.values()) == 50 and set(counts) <= set(users.values())
    for person, text in told.items():
        got = counts.get(users[person], 0)
        if got:
            assert f"You took {got} conversation" in text
        else:
            assert "No conversations are waiting" in text


def test_done_for_now_offers_take_conversations(slack: SlackHarness) -> None:
    pool = conversation_pool(slack, replies=2)
    make_assignment(slack.db, pool.campaign_id, pool.vetted)
    answer = slack.click(ids.DONE_FOR_NOW, str(pool.campaign_id), user=VETTED)
    [done] = slack.fake.response_to(answer.response_url)
    assert "No replies are waiting for you" in done.text()
    offered = done.button(ids.TAKE_CONVERSATIONS)
    taken = slack.click_button(offered, user=VETTED)
    [result] = slack.fake.response_to(taken.response_url)
    assert "You took 2 conversations" in result.text() and result.params["replace_original"]
    # Fran (a plain texter) is offered no such thing.
    answer = slack.click(ids.DONE_FOR_NOW, str(pool.campaign_id), user="UFIRST")
    [plain] = slack.fake.response_to(answer.response_url)
    assert ids.TAKE_CONVERSATIONS not in {b["action_id"] for b in plain.buttons()}
