"""Split assignments (Spoke's outbound-unassign handler) and the campaign settings behind
conversations: conversations per take and "Replies go to the conversation team"."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot import ids
from core.cli.main import cli as core_cli
from core.models import Campaign
from core.roles import Role
from core.statuses import MessageStatus
from tests.support.admin import checked, modal_values, submit, team, text_value
from tests.support.conversations import TAKE, VETTED, set_campaign_settings
from tests.support.slack_harness import SlackHarness
from tests.support.texting import (
    card_contact,
    click,
    contact,
    dm_event,
    first_card,
    wait_until,
    world,
)
from tests.support.world import make_texter
from tests.test_slack_admin_settings import campaign_row, open_settings
from tests.test_slack_conversations import holders, take
from tests.test_slack_texting_threads import DM


def test_split_unassigns_on_first_text_and_replies_go_to_takers(
    texting_slack: SlackHarness, sms, simulate
) -> None:
    t = world(texting_slack, sms, contacts=2, batch_size=2, strategies=TAKE)
    set_campaign_settings(t.db, t.campaign_id, split_assignments=True)
    make_texter(t.db, t.org_id, VETTED, Role.VETTED_TEXTER)
    card = first_card(t)
    sent_to = card_contact(card)
    after = click(t, card, ids.SEND_TEXT)
    # The text went out, the contact left the sender in the same transaction, the card
    # moved on to the next contact.
    assert "Sent to Contact" in after.text() and card_contact(after) != sent_to
    row = contact(t.db, sent_to)
    assert row.message_status == MessageStatus.MESSAGED.value and row.assignment_id is None
    assert len(sms.sent) == 1
    # The reply waits in the pool: the first-text sender is not told and not blocked.
    output = simulate(row.cell, "Sure, tell me more")
    assert "no texter" in output
    # (the send card itself is posted in the DM: only the reply must not reach it)
    to_sender = [c for c in t.fake.of("chat.postMessage") if c.params.get("channel") == DM]
    assert not [c for c in to_sender if "tell me more" in c.text()]
    last = click(t, after, ids.SEND_TEXT)
    assert "Replies waiting" not in last.text() and "Finish your" not in last.text()
    # A vetted texter takes it and gets its thread.
    answer = take(texting_slack)
    assert "You took 1 conversation" in answer.text()
    assert holders(t.db, [sent_to])[sent_to] is not None
    posted = texting_slack.fake.wait_for(
        lambda c: (
            c.method == "chat.postMessage"
            and c.params.get("channel") == "D" + VETTED
            and "Sure, tell me more" in c.text()
            and bool(c.params.get("thread_ts"))
        )
    )[0]
    # Then it works like the taker's own: an answer in the thread goes out as a text.
    dm_event(
        t,
        "Happy to! I'm Vera.",
        channel="D" + VETTED,
        thread_ts=posted.params["thread_ts"],
        user=VETTED,
    )
    wait_until(lambda: contact(t.db, sent_to).message_status == MessageStatus.CONVO.value)
    assert sms.sent[-1].body == "Happy to! I'm Vera." and sms.sent[-1].to_cell == row.cell


def test_settings_form_saves_per_take_and_split(slack: SlackHarness) -> None:
    world_ = team(slack)
    view = open_settings(slack, world_.campaign_id)
    values = modal_values(view)
    assert values[ids.ADMIN_SETTING_PER_TAKE]["value"] == "10"
    split_block = next(b for b in view["blocks"] if b.get("block_id") == ids.ADMIN_SETTING_SPLIT)
    assert "Valid only with the secondary strategy" in split_block["hint"]["text"]
    # Split without the take strategy: refused under the field, nothing saved.
    values[ids.ADMIN_SETTING_SPLIT] = checked("on")
    values[ids.ADMIN_SETTING_PER_TAKE] = text_value("25")
    refused = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world_.campaign_id), values)
    assert refused["response_action"] == "errors"
    assert "vetted-takeconversations" in refused["errors"][ids.ADMIN_SETTING_SPLIT]
    assert "split_assignments" not in campaign_row(slack, world_.campaign_id)["settings"]
    values[ids.ADMIN_SETTING_TAKE_CONVERSATIONS] = checked("vetted-takeconversations")
    saved = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world_.campaign_id), values)
    assert saved["response_action"] == "update", json.dumps(saved)
    settings = campaign_row(slack, world_.campaign_id)["settings"]
    assert settings["split_assignments"] is True and settings["conversations_per_take"] == 25
    values[ids.ADMIN_SETTING_PER_TAKE] = text_value("zero")
    bad = submit(slack, ids.ADMIN_SETTINGS_MODAL, str(world_.campaign_id), values)
    assert ids.ADMIN_SETTING_PER_TAKE in bad["errors"]


def test_cli_create_with_per_take_and_split(database_url: str, db, monkeypatch) -> None:
    from tests.support.world import make_org

    org = make_org(db)
    monkeypatch.setenv("DATABASE_URL", database_url)
    base = ["campaign", "create", "--org", str(org), "--title", "Split", "--script", "Hi"]
    refused = CliRunner().invoke(core_cli, [*base, "--split-assignments"])
    assert refused.exit_code == 2 and "vetted-takeconversations" in refused.output
    made = CliRunner().invoke(
        core_cli,
        [
            *base,
            "--strategy",
            "finished-replies",
            "--strategy",
            "vetted-takeconversations",
            "--conversations-per-take",
            "5",
            "--split-assignments",
        ],
    )
    assert made.exit_code == 0, made.output
    with db.uow(read_only=True) as uow:
        campaign = uow.session.get(Campaign, int(made.output.splitlines()[0]))  # the id first
        assert campaign.settings == {"conversations_per_take": 5, "split_assignments": True}
