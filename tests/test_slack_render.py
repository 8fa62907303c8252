"""Every rendered payload stays within Block Kit's limits, whatever people typed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot import ids
from bot.render import messages, send_card
from bot.render.common import Reply
from bot.render.home import home_view
from core.refusals import Refusal, RefusalReason
from core.services.batches import BatchResult, Eligibility
from core.services.campaign_lifecycle import JoinLink
from core.services.release import ReleaseResult
from core.services.texter_home import TexterCampaign

LONG = "Ü<&>*" * 2000  # 10,000 characters with everything that needs escaping
TOKEN = "t" * 32


def eligibility(campaign_id: int = 1, refusal: Refusal | None = None, unsent: int = 0):
    return Eligibility(campaign_id, 1, "finished-replies", refusal, unsent, 2, None)


def campaign(campaign_id: int, refusal: Refusal | None = None) -> TexterCampaign:
    return TexterCampaign(campaign_id, LONG, LONG, {}, eligibility(campaign_id, refusal, 7))


def check(blocks: list[dict[str, Any]], max_blocks: int) -> None:
    assert len(blocks) <= max_blocks
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk's own checks
        assert len(block.get("block_id", "")) <= 255
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= 75
                    assert len(element.get("value", "")) <= 2000
                if element["type"] == "checkboxes":
                    assert len(element["options"]) <= 10
                    assert all(len(o["text"]["text"]) <= 75 for o in element["options"])
                assert len(element["action_id"]) <= 255
        if block["type"] == "context":
            assert len(block["elements"]) <= 10


def check_message(reply: Reply) -> None:
    check(reply.blocks, 50)
    assert len(reply.as_kwargs()["text"]) <= 4000


MESSAGES = {
    "join_link": lambda: messages.join_link(JoinLink(1, LONG, LONG, TOKEN, True, True, False)),
    "card": lambda: messages.campaign_card(1, LONG, LONG, already_joined=False),
    "batch": lambda: send_card.batch_result(LONG, BatchResult(eligibility(), [1, 2, 3])),
    "refused": lambda: send_card.batch_result(
        LONG,
        BatchResult(eligibility(refusal=Refusal(RefusalReason.WAITING_REPLIES, LONG, 2)), []),
    ),
    "prompt": lambda: send_card.finished_prompt(1, LONG, eligibility()),
    "picker": lambda: messages.pick_campaign(
        ids.PICK_FOR_SEND, [campaign(i) for i in range(2000)], LONG
    ),
    "no_such": lambda: messages.no_such_campaign(LONG, [campaign(i) for i in range(50)]),
    "confirm": lambda: messages.confirm_done_for_the_day(1, LONG, 5, 3, True),
    "released": lambda: messages.released(LONG, ReleaseResult(5, 3)),
    "help": lambda: messages.campaign_help([(LONG, LONG)] * 30),
    "unknown": lambda: messages.unknown_subcommand(LONG, LONG),
    "error": lambda: messages.error(LONG),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_messages_within_limits(name: str) -> None:
    check_message(MESSAGES[name]())


def test_picker_offers_every_campaign_it_can() -> None:
    reply = messages.pick_campaign(ids.PICK_FOR_SEND, [campaign(i) for i in range(30)], "Which?")
    values = [e["value"] for b in reply.blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == [f"send:{i}" for i in range(30)]


@pytest.mark.parametrize("count", [0, 1, 18, 19, 500])
def test_home_within_limits(count: int) -> None:
    refusal = Refusal(RefusalReason.UNSENT_INITIALS_HELD, LONG, 7)
    view = home_view(
        [campaign(i, refusal if i % 2 else None) for i in range(count)],
        done_for_the_day_enabled=True,
        notice=LONG,
    )
    check(view["blocks"], 100)
    assert len(json.dumps(view)) < 250_000  # Slack's size limit for a Home view
    if count > 18:
        assert "more campaign" in str(view["blocks"][-1])


def test_escaping_keeps_people_from_injecting_mentions() -> None:
    reply = messages.campaign_card(1, "<!channel> hi", "", already_joined=False)
    assert "<!channel>" not in str(reply.blocks)
