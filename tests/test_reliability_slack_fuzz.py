"""The Slack front door: Fuzzed slash-command text always gets a clear private reply.

Through HTTP to the real WSGI app (tests/support/slack_harness.py) with signed requests and
FakeSlack behind it; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import ids
from tests.support.reliability import (
    TEXTER,
    no_more_calls_after,
    world,
)
from tests.support.slack_harness import SlackHarness

INJECTIONS = [
    "'; DROP TABLE campaign_contact; --",
    "1 OR 1=1",
    "<@U0ADMIN> <!channel> <!here> <#C0GENERAL|general>",
    "{{7*7}} ${jndi:ldap://x/a} %s %n %x",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "link 1; link 2",
    "link 99999999999999999999999999",
    "link -1",
    "link ١٢",  # Arabic-Indic digits: isdigit() is True, int() works; must not crash
    "link ²",  # superscript two: isdigit() is True but int() raises
    "payload=%7B%7D",
    "\x00\x01\x02",
    "🚀" * 500,
    "x" * 40_000,
    "   ",
    "help",
    "0",
    "-5",
    "3.5",
    "1e9",
]
COMMAND_TEXT = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.from_regex(r"(link|help|frobnicate)? ?[0-9\-]{0,30}", fullmatch=True),
    st.integers().map(str),
)


def fuzz_command(slack: SlackHarness, command: str, text: str) -> None:
    # Slack never sends NUL or lone surrogates in a form field; urlencode can't either.
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    answer = slack.command(command, text, user=TEXTER)
    assert answer.status == 200, answer.body
    assert answer.seconds < 3.0, f"ack took {answer.seconds:.2f}s"  # Slack's limit
    replies = slack.fake.response_to(answer.response_url)
    for reply in replies:
        assert reply.params.get("response_type") == "ephemeral"
        shown = reply.text()
        assert shown.strip(), "an empty reply"
        assert "Traceback" not in shown and 'File "' not in shown
        for block in reply.blocks():
            text_object = block.get("text")
            if isinstance(text_object, dict):
                assert len(text_object.get("text", "")) <= 3000  # Slack rejects longer sections


@pytest.mark.parametrize("command", list(ids.COMMANDS))
def test_fuzzed_command_text_always_gets_a_clear_private_reply(
    slack: SlackHarness, command: str
) -> None:
    world(slack, contacts=400, batch_size=1)

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(text=COMMAND_TEXT)
    def run(text: str) -> None:
        fuzz_command(slack, command, text)

    run()
    for text in INJECTIONS:  # and every hand-written one, whatever Hypothesis picked
        fuzz_command(slack, command, text)
    assert no_more_calls_after(slack) > 0
