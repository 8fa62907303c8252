"""The conversation, thread and end-of-shift use cases each run in one transaction (Retry in
two: its claim is committed before the provider is called), on SQLite and PostgreSQL, counted
at the engine as in test_texter_use_cases: a helper that opens a unit of work of its own
inside one shows up here."""

from __future__ import annotations

from core.db import Database
from core.messaging import FakeMessageService
from core.refusals import RefusalReason
from core.roles import Role
from core.services.batch_requests import request_texts
from core.services.campaign_choice import CampaignQuestion
from core.services.conversation_changes import (
    close_conversation_as,
    opt_out_contact_as,
    retry_failed_text_as,
)
from core.services.conversation_requests import (
    TakeAnswer,
    TakeQuestion,
    replies_to_handle,
    take_conversations_as,
    take_conversations_by_campaign_name,
    waiting_replies_as,
)
from core.services.end_of_shift import (
    DayToConfirm,
    day_question_by_campaign_name,
    day_question_for_campaign,
    done_for_now,
    end_the_day,
)
from core.services.link_joining import join_by_link
from core.services.texter_home import open_home
from core.services.texting import send_reply
from core.services.threads import save_thread
from core.statuses import MessageStatus
from tests.support.conversations import VETTED, conversation_pool, set_campaign_settings
from tests.test_texter_use_cases import campaign_to_join, transactions

TEXTER = "UCASE"


def test_each_conversation_interaction_is_one_transaction(db: Database) -> None:
    pool = conversation_pool(db, replies=3)
    with transactions(db) as ended:
        question = take_conversations_by_campaign_name(db, "T1", VETTED, "Vera", "no such campaign")
    assert ended == ["commit"]
    assert isinstance(question, TakeQuestion) and [c.campaign_id for c in question.campaigns]
    with transactions(db) as ended:
        took = take_conversations_by_campaign_name(db, "T1", VETTED, "Vera", "")
    assert ended == ["commit"]
    assert isinstance(took, TakeAnswer) and took.result.refusal is None
    assert sorted(took.result.contact_ids) == sorted(pool.contact_ids)
    assert {r.contact_id for r in took.replies} == set(pool.contact_ids)
    assert len(took.result.notices) == 3  # their threads, for the caller to post
    assert took.home is not None and [c.campaign_id for c in took.home.campaigns] == [
        pool.campaign_id
    ]
    with transactions(db) as ended:
        refused = take_conversations_as(db, "T1", VETTED, "Vera", pool.campaign_id)
    assert ended == ["rollback"]  # refused, and the identity unchanged: nothing kept
    assert refused.result.refusal is not None
    assert refused.result.refusal.reason == RefusalReason.WAITING_REPLIES
    assert len(refused.replies) == 3
    with transactions(db) as ended:
        newcomer = take_conversations_as(db, "T1", "UNEW", "Newt", pool.campaign_id)
    assert ended == ["commit"]  # the new user is kept, though not a member: refused
    assert newcomer.identity.created and newcomer.result.refusal is not None
    assert newcomer.result.refusal.reason == RefusalReason.SUSPENDED
    again = take_conversations_as(db, "T1", "UNEW", "Newt", pool.campaign_id)
    assert again.identity.user_id == newcomer.identity.user_id and not again.identity.created

    with transactions(db) as ended:
        shown = waiting_replies_as(db, "T1", VETTED, "Vera", None)
    assert ended == ["rollback"] and len(shown.replies) == 3
    with transactions(db) as ended:
        handled = replies_to_handle(db, "T1", VETTED, "Vera", pool.campaign_id)
    assert ended == ["rollback"] and handled.title == "GOTV" and len(handled.replies) == 3

    first, second, third = pool.contact_ids
    with transactions(db) as ended:
        closed = close_conversation_as(db, "T1", VETTED, "Vera", first)
    assert ended == ["commit"]
    assert closed.state.thread.contact_status == MessageStatus.CLOSED.value
    assert closed.state.campaign_title == "GOTV" and "Fran" in closed.state.names.values()
    with transactions(db) as ended:
        opted_out = opt_out_contact_as(db, "T1", VETTED, "Vera", second)
    assert ended == ["commit"]
    assert opted_out.state.thread.is_opted_out

    failed = send_reply(db, third, pool.vetted, "Sorry!", FakeMessageService(fail_with="busy"))
    assert not failed.sent
    save_thread(db, third, pool.vetted, "DVET", "1.0")
    with transactions(db) as ended:
        retried = retry_failed_text_as(
            db, "T1", VETTED, "Vera", third, failed.message_id, FakeMessageService()
        )
    assert ended == ["commit", "commit"]  # the claim, then the provider's answer
    assert retried.result.sent and retried.ref is not None and retried.state is not None
    assert [m.text for m in retried.state.thread.messages][-2:] == ["Sorry!", "Sorry!"]


def test_each_end_of_shift_interaction_is_one_transaction(db: Database) -> None:
    campaign_id, token = campaign_to_join(db)
    join_by_link(db, "T1", TEXTER, "Ada", campaign_id, token)
    assert request_texts(db, "T1", TEXTER, "Ada", campaign_id).result.assigned == 2
    with transactions(db) as ended:
        done = done_for_now(db, "T1", TEXTER, "Ada")
    assert ended == ["rollback"]
    assert done.home.campaigns[0].unsent == 2 and done.replies == [] and done.takers == []

    with transactions(db) as ended:
        choice = day_question_by_campaign_name(db, "T1", TEXTER, "Ada", "nothing like it")
    assert ended == ["rollback"]
    assert isinstance(choice, CampaignQuestion) and [c.campaign_id for c in choice.campaigns]
    with transactions(db) as ended:
        confirm = day_question_by_campaign_name(db, "T1", TEXTER, "Ada", "")
    assert ended == ["rollback"]
    assert isinstance(confirm, DayToConfirm) and confirm.held.initials == 2
    with transactions(db) as ended:
        picked = day_question_for_campaign(db, "T1", TEXTER, "Ada", campaign_id)
    assert ended == ["rollback"] and picked.held.initials == 2

    with transactions(db) as ended:
        day = end_the_day(db, "T1", TEXTER, "Ada", campaign_id, with_conversations=False)
    assert ended == ["commit"]
    assert day.result.initials == 2 and day.home.campaigns[0].unsent == 0


def test_home_with_conversations_to_take_and_campaigns_run_is_one_transaction(
    db: Database,
) -> None:
    pool = conversation_pool(db, replies=2, vetted_role=Role.ADMIN)
    set_campaign_settings(db, pool.campaign_id, conversations_per_take=1)
    take_conversations_by_campaign_name(db, "T1", VETTED, "Vera", "")  # joins Vera to the campaign
    with transactions(db) as ended:
        home = open_home(db, "T1", VETTED, "Vera")
    assert ended == ["rollback"]
    [campaign] = home.campaigns
    assert campaign.can_take_conversations and campaign.waiting_to_take == 1
    assert home.campaigns_run is not None and home.campaigns_run.can_manage
    assert [s.campaign.title for s in home.campaigns_run.campaigns] == ["GOTV"]
