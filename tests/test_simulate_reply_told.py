"""`spokebot sms simulate-reply` says whether the texter was told in Slack, and why not."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import ids
from bot.cli import cli
from core.db import Database
from core.statuses import MessageStatus
from tests.support.slack_harness import BOT_TOKEN
from tests.support.texting import Texting, card_contact, click, contact, first_card, world


def sent_one(t: Texting) -> int:
    card = first_card(t)
    contact_id = card_contact(card)
    click(t, card, ids.SEND_TEXT)
    return contact_id


@pytest.fixture
def reply(database_url: str, monkeypatch: pytest.MonkeyPatch, texting_slack, sms):
    t = world(texting_slack, sms, contacts=1, batch_size=1)
    contact_id = sent_one(t)
    monkeypatch.setenv("DATABASE_URL", database_url)

    def simulate(**env: str | None) -> str:
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        cell = contact(t.db, contact_id).cell
        result = CliRunner().invoke(cli, ["sms", "simulate-reply", cell, "hi"])
        assert result.exit_code == 0, result.output
        assert contact(t.db, contact_id).message_status == MessageStatus.NEEDS_RESPONSE.value
        return result.output.splitlines()[-1]

    simulate.t = t  # type: ignore[attr-defined]
    return simulate


def test_without_a_token_it_says_the_texter_was_not_told_and_why(reply) -> None:
    last = reply(SLACK_BOT_TOKEN=None)
    assert last.startswith(f"texter user {reply.t.user_id} not told in Slack:")
    assert "SLACK_BOT_TOKEN is not set" in last and "Home tab" in last


def test_a_slack_refusal_is_named(reply) -> None:
    reply.t.fake.failures["conversations.open"] = "account_inactive"
    last = reply(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=reply.t.fake.api_url)
    assert last == (
        f"texter user {reply.t.user_id} not told in Slack: Slack answered account_inactive; "
        "the reply waits on their Home tab"
    )


def test_told_in_slack_when_it_works(reply) -> None:
    last = reply(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=reply.t.fake.api_url)
    assert last == f"texter user {reply.t.user_id} notified in Slack"


def test_a_rate_limited_slack_is_waited_out(reply) -> None:
    """The CLI's client has the same retry handlers as `spokebot serve`'s: a 429 is retried."""
    reply.t.fake.rate_limited["chat.postMessage"] = 1
    last = reply(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=reply.t.fake.api_url)
    assert last == f"texter user {reply.t.user_id} notified in Slack"
    posts = reply.t.fake.of("chat.postMessage")
    assert [c.params.get("_status") for c in posts].count(429) == 1


def test_as_a_process_without_slack(db: Database, database_url: str, tmp_path: Path) -> None:
    from tests.test_startup_failures import run
    from tests.test_texting_cli import _contact, _texted_contact

    contact_id, _campaign_id, user_id = _texted_contact(db)
    cell = _contact(db, contact_id).cell
    result = run(["sms", "simulate-reply", cell, "hi"], {"DATABASE_URL": database_url}, tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[-1] == (
        f"texter user {user_id} not told in Slack: SLACK_BOT_TOKEN is not set; the reply waits "
        "on their Home tab (and holds back their next batch under finished-replies)"
    )
